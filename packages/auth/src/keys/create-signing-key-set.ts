import type { KeyObject } from 'node:crypto';
import { type Clock, systemClock } from '@tenantkit/core';
import type { JWK } from 'jose';
import { AuthError } from '../errors.js';
import { type ImportedSigningKey, importSigningKey } from './import-signing-key.js';
import type { SigningAlgorithm, SigningKeyInfo, SigningKeyInput, SigningKeySet } from './signing-key-set.js';

/**
 * Options of {@link createSigningKeySet}.
 *
 * @example
 * ```ts
 * const options: CreateSigningKeySetOptions = {
 *   keys: [
 *     { kid: '2026-12', alg: 'EdDSA', privateKey: process.env.JWT_KEY_2026_12! },
 *     { kid: '2026-06', alg: 'EdDSA', publicKey: process.env.JWT_PUBLIC_2026_06!, status: 'verify-only', verifyUntil: Date.parse('2027-01-01') },
 *   ],
 * };
 * ```
 */
export interface CreateSigningKeySetOptions {
  /** Exactly one key is active (a key without `status` is active); kids are unique. */
  readonly keys: readonly SigningKeyInput[];
  /** The clock grace windows and `verifyUntil` are read against. Default `systemClock`. */
  readonly clock?: Clock;
}

/** One key as the set holds it; `status` and `verifyUntil` change on rotation. */
interface KeyEntry {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  status: 'active' | 'verify-only';
  verifyUntil: number | null;
  /** Stable objects: callers (the token cache) may compare them by identity. */
  readonly verification: { readonly alg: SigningAlgorithm; readonly key: KeyObject | Uint8Array };
  readonly signing: { readonly kid: string; readonly alg: SigningAlgorithm; readonly key: KeyObject | Uint8Array } | undefined;
  readonly publicJwk: Readonly<JWK> | undefined;
}

/** setTimeout's longest delay; later deadlines are re-armed when it fires. */
const MAX_TIMER_DELAY_MS = 2_147_483_647;
/** When the injected clock lags real time (a manual clock), re-check no more often than this. */
const MIN_RECHECK_DELAY_MS = 1_000;

function configurationError(message: string): AuthError {
  return new AuthError('CONFIGURATION_INVALID', message);
}

function toEntry(imported: ImportedSigningKey): KeyEntry {
  const { kid, alg, signingKey, verificationKey } = imported;
  return {
    kid,
    alg,
    status: imported.status,
    verifyUntil: imported.verifyUntil,
    verification: Object.freeze({ alg, key: verificationKey }),
    signing: signingKey === undefined ? undefined : Object.freeze({ kid, alg, key: signingKey }),
    publicJwk: imported.publicJwk,
  };
}

/**
 * Creates a {@link SigningKeySet} from configured keys. Every key is imported and checked once,
 * here: exactly one active key, unique opaque kids, key types that fit their algorithm
 * (`CONFIGURATION_INVALID` otherwise).
 *
 * A verify-only key stops verifying at its `verifyUntil` (at the keyset's clock): the set
 * retires it and calls `onRetired` listeners the first time it is looked up past that time, or
 * when its timer fires (an unref'd timer, so it never keeps the process alive).
 *
 * @throws AuthError `CONFIGURATION_INVALID`
 * @example
 * ```ts
 * const keys = await createSigningKeySet({ keys: [await generateSigningKey({ kid: 'k1' })] });
 * await keys.rotate(await generateSigningKey({ kid: 'k2' }), { graceMs: 15 * 60_000 });
 * keys.list(); // k2 active, k1 verify-only until now + 15 min
 * ```
 */
export async function createSigningKeySet(options: CreateSigningKeySetOptions): Promise<SigningKeySet> {
  if (typeof options !== 'object' || options === null) throw configurationError('createSigningKeySet: options must be an object');
  const unknownOption = Object.keys(options).find((key) => key !== 'keys' && key !== 'clock');
  if (unknownOption !== undefined) throw configurationError(`createSigningKeySet: unknown option "${unknownOption}"`);
  const clock = options.clock ?? systemClock;
  if (typeof clock?.now !== 'function') throw configurationError('createSigningKeySet: clock must have now()');
  if (!Array.isArray(options.keys) || options.keys.length === 0) throw configurationError('createSigningKeySet: keys must be a non-empty array');
  if (options.keys.length > 100) throw configurationError('createSigningKeySet: at most 100 keys');

  const entries = new Map<string, KeyEntry>();
  for (const input of options.keys) {
    const entry = toEntry(importSigningKey(input));
    if (entries.has(entry.kid)) throw configurationError(`createSigningKeySet: kid "${entry.kid}" appears twice`);
    entries.set(entry.kid, entry);
  }
  const actives = [...entries.values()].filter((entry) => entry.status === 'active');
  if (actives.length !== 1) throw configurationError(`createSigningKeySet: exactly one key must be active, found ${actives.length}`);
  let active = actives[0]!;
  /** Kids never come back: a retired kid reused for another key would confuse every verifier's cache. */
  const retiredKids = new Set<string>();
  const listeners = new Set<(kid: string) => void>();
  let nextDeadline = Number.POSITIVE_INFINITY;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const announceRetired = (kid: string) => {
    for (const listener of [...listeners]) {
      try {
        listener(kid);
      } catch {
        // A listener that throws must not keep the others from flushing their caches.
      }
    }
  };

  const remove = (entry: KeyEntry) => {
    entries.delete(entry.kid);
    retiredKids.add(entry.kid);
    announceRetired(entry.kid);
  };

  const schedule = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (nextDeadline === Number.POSITIVE_INFINITY) return;
    const wait = nextDeadline - clock.now();
    const delay = Math.min(Math.max(wait, MIN_RECHECK_DELAY_MS), MAX_TIMER_DELAY_MS);
    timer = setTimeout(sweep, delay);
    timer.unref?.();
  };

  /** Retires every verify-only key whose window is over, then re-arms the timer. */
  function sweep(): void {
    const now = clock.now();
    let earliest = Number.POSITIVE_INFINITY;
    const expired: KeyEntry[] = [];
    for (const entry of entries.values()) {
      if (entry.status !== 'verify-only' || entry.verifyUntil === null) continue;
      if (entry.verifyUntil <= now) expired.push(entry);
      else earliest = Math.min(earliest, entry.verifyUntil);
    }
    nextDeadline = earliest;
    for (const entry of expired) remove(entry);
    schedule();
  }

  sweep();

  const ordered = (): KeyEntry[] => {
    if (clock.now() >= nextDeadline) sweep();
    return [active, ...[...entries.values()].filter((entry) => entry !== active)];
  };

  return {
    get activeKid() {
      return active.kid;
    },

    async rotate(next, rotateOptions) {
      const graceMs = (rotateOptions as { graceMs?: unknown } | undefined)?.graceMs;
      if (typeof graceMs !== 'number' || !Number.isInteger(graceMs) || graceMs < 0 || graceMs > MAX_TIMER_DELAY_MS * 16) {
        throw new AuthError('VALIDATION_FAILED', 'rotate(): graceMs must be a non-negative whole number of milliseconds');
      }
      if ((next as { status?: unknown } | null)?.status === 'verify-only') {
        throw configurationError('rotate(): the next key becomes the active key; it cannot be verify-only');
      }
      const entry = toEntry(importSigningKey({ ...next, status: 'active' }));
      if (entries.has(entry.kid) || retiredKids.has(entry.kid)) throw configurationError(`rotate(): kid "${entry.kid}" is already used in this set`);
      const previous = active;
      previous.status = 'verify-only';
      previous.verifyUntil = clock.now() + graceMs;
      entries.set(entry.kid, entry);
      active = entry;
      sweep();
    },

    retire(kid) {
      const entry = typeof kid === 'string' ? entries.get(kid) : undefined;
      if (entry === undefined) return false;
      if (entry === active) throw new AuthError('VALIDATION_FAILED', 'retire(): the active key cannot be retired; rotate first');
      remove(entry);
      sweep();
      return true;
    },

    jwks() {
      const keys = ordered()
        .map((entry) => entry.publicJwk)
        .filter((jwk): jwk is Readonly<JWK> => jwk !== undefined);
      return Object.freeze({ keys: Object.freeze(keys) });
    },

    list() {
      return Object.freeze(
        ordered().map((entry): SigningKeyInfo => Object.freeze({ kid: entry.kid, alg: entry.alg, status: entry.status, verifyUntil: entry.verifyUntil })),
      );
    },

    verificationKey(kid) {
      // A Map keyed by the raw string: no kid is ever a path, a URL or a query.
      if (clock.now() >= nextDeadline) sweep();
      return typeof kid === 'string' ? entries.get(kid)?.verification : undefined;
    },

    signingKey() {
      const signing = active.signing;
      if (signing === undefined) throw new AuthError('SIGNING_KEY_UNAVAILABLE', 'The active signing key cannot sign');
      return signing;
    },

    onRetired(listener) {
      if (typeof listener !== 'function') throw new AuthError('VALIDATION_FAILED', 'onRetired() takes a function');
      const wrapper = (kid: string) => listener(kid);
      listeners.add(wrapper);
      return () => {
        listeners.delete(wrapper);
      };
    },
  };
}
