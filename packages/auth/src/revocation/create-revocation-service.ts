import { type Clock, systemClock } from '@tenantkit/core';
import { z } from 'zod';
import { AuthError } from '../errors.js';
import type { RevocationChannel, RevocationEvent, RevocationState, RevocationStore } from '../store.js';
import { createInProcessRevocationChannel } from './in-process-revocation-channel.js';
import { revocationEventSchema } from './revocation-event-schema.js';
import type { RevocationService, RevocationSubject } from './revocation-service.js';
import { createRevocationView } from './revocation-view.js';
import { parseAuthInput as parseOrThrow } from '../parse-auth-input.js';

/**
 * Options of {@link createRevocationService}, validated when it is called
 * (`CONFIGURATION_INVALID`).
 *
 * @example
 * ```ts
 * const options: RevocationServiceOptions = {
 *   store: stores.revocations,
 *   channel: redisRevocationChannel({ publisher: redis, subscriber: redis.duplicate() }),
 *   maxStalenessMs: 5_000,
 * };
 * ```
 */
export interface RevocationServiceOptions {
  readonly store: RevocationStore;
  /**
   * Carries revocations to every process. Default: a new in-process channel (one process only;
   * the service owns it and closes it in `close()`). A channel you pass stays yours.
   */
  readonly channel?: RevocationChannel;
  /**
   * How long a "not revoked" answer of the store is trusted before the store is asked again: the
   * bound on how long a revocation whose message was lost goes unnoticed. An answer is
   * remembered per subject `(sub, tid, sid)` and vouches for the token it named and for the
   * subject's tokens issued after it (so a new token of a user this process has seen needs no
   * round trip); see `createRevocationService`. Default 5 000; `0` asks the store on every check.
   * At most 300 000.
   */
  readonly maxStalenessMs?: number;
  /** Entries per in-memory map (revoked jtis, sessions, epochs, subject and token answers). Default 100 000. */
  readonly maxEntries?: number;
  readonly clock?: Clock;
  /**
   * Told about failures no caller can be told of (the channel subscription failed, a listener
   * threw). Default: ignore.
   */
  readonly onError?: (error: unknown) => void;
}


const hasMethods = (value: unknown, names: readonly string[]) =>
  typeof value === 'object' && value !== null && names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function');

const optionsSchema = z.strictObject({
  store: z.custom<RevocationStore>(
    (value) => hasMethods(value, ['revokeToken', 'revokeSession', 'raiseEpoch', 'check']),
    'must be a RevocationStore',
  ),
  channel: z.custom<RevocationChannel>((value) => hasMethods(value, ['publish', 'subscribe', 'close']), 'must be a RevocationChannel').optional(),
  maxStalenessMs: z.int().min(0).max(300_000).optional(),
  maxEntries: z.int().min(1).max(10_000_000).optional(),
  clock: z.custom<Clock>((value) => hasMethods(value, ['now']), 'must have now()').optional(),
  onError: z.custom<(error: unknown) => void>((value) => typeof value === 'function', 'must be a function').optional(),
});

const idSchema = z.string().min(1).max(512);
const untilSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

function invalidInput(message: string): AuthError {
  return new AuthError('VALIDATION_FAILED', message);
}

function assertId(value: unknown, what: string): asserts value is string {
  if (!idSchema.safeParse(value).success) throw invalidInput(`${what} must be a string of 1-512 characters`);
}

function assertUntil(value: unknown): asserts value is number {
  if (!untilSchema.safeParse(value).success) throw invalidInput('until must be epoch milliseconds (a non-negative integer)');
}

// Cheap checks only: isRevoked is on the request path of every verify.
function assertSubject(subject: RevocationSubject): void {
  if (
    typeof subject !== 'object' ||
    subject === null ||
    typeof subject.jti !== 'string' ||
    typeof subject.sub !== 'string' ||
    typeof subject.issuedAtMs !== 'number' ||
    (subject.sid !== null && typeof subject.sid !== 'string') ||
    (subject.tid !== null && typeof subject.tid !== 'string')
  ) {
    throw invalidInput('isRevoked() takes { jti, sid, sub, tid, issuedAtMs }');
  }
}

function revokedBy(subject: RevocationSubject, state: RevocationState): boolean {
  return state.jtiRevoked || state.sessionRevoked || subject.issuedAtMs < state.userEpoch || subject.issuedAtMs < state.tenantEpoch;
}

/**
 * Creates the {@link RevocationService}: revocation by jti, session, user epoch and tenant
 * epoch, effective at once in this process and, through the channel, in every other.
 *
 * - Revoking writes the store first, applies the event to this process's view, then publishes
 *   it; when it resolves, every verify in this process already fails.
 * - `isRevoked` answers from memory (a boolean, synchronously) when the view revokes the
 *   subject, or when a store check less than `maxStalenessMs` old vouches for it: a check names
 *   one token's jti and its subject `(sub, tid, sid)`, and vouches for that token and for every
 *   token of the subject issued after the check (a new token of a user seen recently costs no
 *   round trip). Otherwise it asks the store once (a promise), naming the token's own jti. A
 *   store failure then rejects with `STORE_UNAVAILABLE`: it fails closed.
 * - A revocation whose message is lost is noticed at most `maxStalenessMs` after it was stored
 *   (up to the clock skew between processes); the argument is on `createRevocationView`.
 * - Epochs revoke what was issued strictly before them (`issuedAtMs < epoch`, milliseconds).
 *   `revokeUser` / `revokeTenant` raise the epoch to `now + 1`, so a token issued in the very
 *   millisecond of the revocation (a refresh racing a password reset) is revoked too. Across
 *   processes an epoch protects only up to the clock skew: a minting process whose clock runs
 *   ahead by Δ issues tokens that survive a revocation made up to Δ before.
 * - When the channel reports that messages may have been lost (`onResync`), every remembered
 *   store answer is dropped, so the next check of every token asks the store.
 *
 * The factory is synchronous; the channel subscription completes in the background, and until
 * it does no store answer is trusted from memory.
 *
 * @throws AuthError `CONFIGURATION_INVALID` for invalid options.
 * @example
 * ```ts
 * const revocation = createRevocationService({ store: memoryRevocationStore() });
 * await revocation.revokeSession('ses_1', session.absoluteExpiresAt);
 * await revocation.isRevoked({ jti: 'jti_1', sid: 'ses_1', sub: 'usr_1', tid: 'tnt_acme', issuedAtMs: Date.now() }); // true
 * ```
 */
export function createRevocationService(options: RevocationServiceOptions): RevocationService {
  const parsed = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'createRevocationService options');
  const { store, onError } = parsed;
  const clock = parsed.clock ?? systemClock;
  const maxStalenessMs = parsed.maxStalenessMs ?? 5_000;
  const ownsChannel = parsed.channel === undefined;
  const channel = parsed.channel ?? createInProcessRevocationChannel();
  const view = createRevocationView({ maxEntries: parsed.maxEntries ?? 100_000 });
  const listeners = new Set<(event: RevocationEvent) => void>();
  let closed = false;
  /** Store answers are trusted from memory only while the channel would tell us of changes. */
  let subscribed = false;

  const report = (error: unknown) => {
    try {
      onError?.(error);
    } catch {
      // An error reporter that throws has nowhere left to report to.
    }
  };

  const receive = (event: RevocationEvent) => {
    view.apply(event, clock.now());
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (error) {
        report(error);
      }
    }
  };

  const resync = () => {
    view.forgetAnswers();
  };

  const subscription = channel.subscribe(receive, resync).then(
    (unsubscribe) => {
      // Answers remembered before the subscription existed may predate a lost message.
      view.forgetAnswers();
      subscribed = true;
      return unsubscribe;
    },
    (error: unknown) => {
      report(new AuthError('STORE_UNAVAILABLE', 'Could not subscribe to the revocation channel', { cause: error }));
      return undefined;
    },
  );

  const assertOpen = () => {
    if (closed) throw new AuthError('STORE_UNAVAILABLE', 'The revocation service is closed');
  };

  const unavailable = (cause: unknown) =>
    new AuthError('STORE_UNAVAILABLE', 'The revocation store cannot be reached; the credential is refused', { cause });

  /** Stores, applies here, then tells the other processes. */
  const revoke = async (write: () => Promise<RevocationEvent>): Promise<void> => {
    assertOpen();
    let event: RevocationEvent;
    try {
      event = await write();
    } catch (error) {
      throw unavailable(error);
    }
    receive(event);
    try {
      await channel.publish(event);
    } catch (error) {
      throw new AuthError(
        'STORE_UNAVAILABLE',
        'The revocation is stored and applied in this process, but could not be announced; other processes see it within maxStalenessMs',
        { cause: error },
      );
    }
  };

  // An async function rather than a promise chain with a closure per call: this runs for every
  // token no memo vouches for (a new user's first token, say).
  const checkStore = async (subject: RevocationSubject, checkedAt: number): Promise<boolean> => {
    let state: RevocationState;
    try {
      // Always the jti of the token being checked: only then does the answer vouch for it.
      state = await store.check({ jti: subject.jti, sessionId: subject.sid, userId: subject.sub, tenantId: subject.tid }, checkedAt);
    } catch (error) {
      throw unavailable(error);
    }
    const revoked = revokedBy(subject, state);
    view.learn(subject, state, checkedAt);
    if (subscribed && !revoked) view.remember(subject, checkedAt);
    // An event that arrived during the round trip is in the view already.
    return revoked || view.revokedLocally(subject, clock.now());
  };

  /** The epoch that revokes everything issued at or before `now` (whole milliseconds, as `iat_ms`). */
  const epochAfterNow = () => Math.floor(clock.now()) + 1;

  return {
    async revokeToken(jti, untilMs) {
      assertId(jti, 'jti');
      assertUntil(untilMs);
      return revoke(async () => {
        await store.revokeToken(jti, untilMs);
        return { kind: 'jti', id: jti, until: untilMs };
      });
    },

    async revokeSession(sessionId, untilMs) {
      assertId(sessionId, 'sessionId');
      assertUntil(untilMs);
      return revoke(async () => {
        await store.revokeSession(sessionId, untilMs);
        return { kind: 'session', id: sessionId, until: untilMs };
      });
    },

    async revokeUser(userId) {
      assertId(userId, 'userId');
      return revoke(async () => ({ kind: 'user-epoch', id: userId, epoch: await store.raiseEpoch('user', userId, epochAfterNow()) }));
    },

    async revokeTenant(tenantId) {
      assertId(tenantId, 'tenantId');
      return revoke(async () => ({ kind: 'tenant-epoch', id: tenantId, epoch: await store.raiseEpoch('tenant', tenantId, epochAfterNow()) }));
    },

    async announce(event) {
      assertOpen();
      const checked = revocationEventSchema.safeParse(event);
      if (!checked.success) throw invalidInput('announce() takes a RevocationEvent');
      receive(checked.data);
      try {
        await channel.publish(checked.data);
      } catch (error) {
        throw new AuthError('STORE_UNAVAILABLE', 'The event is applied in this process, but could not be announced', { cause: error });
      }
    },

    isRevoked(subject) {
      assertSubject(subject);
      const now = clock.now();
      if (view.revokedLocally(subject, now)) return true;
      if (view.vouchedFor(subject, now, maxStalenessMs)) return false;
      return checkStore(subject, now);
    },

    onEvent(listener) {
      if (typeof listener !== 'function') throw invalidInput('onEvent() takes a function');
      const wrapper = (event: RevocationEvent) => listener(event);
      listeners.add(wrapper);
      return () => {
        listeners.delete(wrapper);
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      subscribed = false;
      listeners.clear();
      const unsubscribe = await subscription;
      if (unsubscribe !== undefined) {
        await unsubscribe().catch(report);
      }
      if (ownsChannel) await channel.close().catch(report);
    },
  };
}
