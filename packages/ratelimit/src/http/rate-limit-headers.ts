import { createHmac, randomBytes } from 'node:crypto';
import { RateLimitError } from '../errors.js';
import type { PolicyOutcome, RateLimitDecision } from '../limiter/rate-limit-decision.js';
import { serializeSfByteSequence, serializeSfNonNegativeInteger, serializeSfString } from './structured-field-values.js';

/**
 * Options of {@link rateLimitHeaders}.
 *
 * @example
 * ```ts
 * const options: RateLimitHeadersOptions = { legacy: true, partitionKeySecret: process.env.RATE_LIMIT_PK_SECRET };
 * ```
 */
export interface RateLimitHeadersOptions {
  /** Also send `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds from now). Default false. */
  readonly legacy?: boolean;
  /**
   * The HMAC key of the `pk` partition keys, at least 16 bytes (a string counts its UTF-8
   * bytes). Default: 32 random bytes drawn once per process, which keeps keys unguessable
   * but makes them differ between processes; give every process the same secret when a
   * client talks to several of them and should see one `pk` per partition.
   */
  readonly partitionKeySecret?: string | Uint8Array;
  /** Send `pk` parameters at all. Default true. */
  readonly partitionKeys?: boolean;
}

// Drawn once and never changed: it carries no tenant data, only makes partition keys
// unconfirmable by someone who guesses the raw key (an IPv4 space is 2^32 candidates).
const PROCESS_PARTITION_KEY_SECRET = randomBytes(32);
const MIN_SECRET_BYTES = 16;
// 96 bits: collision-free for any one client's partitions, short on the wire.
const PARTITION_KEY_BYTES = 12;
// Counters whose header parts one builder keeps; past it the cache starts over (bounded
// memory whatever the key space, and the hot keys are back after one request each).
const MAX_CACHED_COUNTERS = 10_000;

function partitionKeySecretOf(options: RateLimitHeadersOptions): string | Uint8Array {
  const secret = options.partitionKeySecret;
  if (secret === undefined) return PROCESS_PARTITION_KEY_SECRET;
  const bytes =
    typeof secret === 'string' ? Buffer.byteLength(secret, 'utf8') : secret instanceof Uint8Array ? secret.byteLength : -1;
  if (bytes < MIN_SECRET_BYTES) {
    throw new RateLimitError(
      'CONFIGURATION_INVALID',
      `partitionKeySecret must be a string or Uint8Array of at least ${MIN_SECRET_BYTES} bytes`,
    );
  }
  return secret;
}

function partitionKey(secret: string | Uint8Array, key: string): string {
  return serializeSfByteSequence(createHmac('sha256', secret).update(key, 'utf8').digest().subarray(0, PARTITION_KEY_BYTES));
}

/** What the headers say of one counter that does not change from request to request. */
interface CounterHeaderParts {
  readonly policy: string;
  readonly limit: number;
  readonly windowSeconds: number;
  /** The policy name as a structured-field string. */
  readonly name: string;
  /** `;pk=:…:`, or `''` without partition keys. */
  readonly pk: string;
  /** The counter's `RateLimit-Policy` list member. */
  readonly policyItem: string;
}

function isVisible(outcome: PolicyOutcome): boolean {
  return !outcome.shadow && outcome.degraded !== 'open';
}

/** Whole seconds, rounded up, never negative. */
function secondsFromMs(ms: number): number {
  return ms > 0 ? Math.ceil(ms / 1000) : 0;
}

/**
 * The outcome a client should pace itself by when the limiter's own choice is not shown: a
 * refusal with the longest wait, else the fewest points left relative to the limit.
 */
function mostRestrictive(outcomes: readonly PolicyOutcome[]): PolicyOutcome | undefined {
  let chosen: PolicyOutcome | undefined;
  for (const outcome of outcomes) {
    if (chosen === undefined) {
      chosen = outcome;
    } else if (!outcome.allowed) {
      if (chosen.allowed || outcome.resetMs > chosen.resetMs) chosen = outcome;
    } else if (chosen.allowed) {
      const ratio = outcome.limit > 0 ? outcome.remaining / outcome.limit : 0;
      const chosenRatio = chosen.limit > 0 ? chosen.remaining / chosen.limit : 0;
      if (ratio < chosenRatio) chosen = outcome;
    }
  }
  return chosen;
}

/**
 * The response headers of one decision, per draft-ietf-httpapi-ratelimit-headers (-08 and
 * later; Structured Field syntax, RFC 9651):
 *
 * - `RateLimit-Policy`: every applied policy, `"name";q=<limit>;w=<window seconds>;pk=:<key>:`.
 * - `RateLimit`: the deciding policy, `"name";r=<remaining>;t=<seconds until reset>;pk=:<key>:`.
 * - `Retry-After`: whole seconds (rounded up, at least 1) when a policy refused the request.
 * - `X-RateLimit-Limit` / `-Remaining` / `-Reset` (seconds from now) with `legacy: true`.
 *
 * The partition key `pk` identifies the counter without revealing it: the raw store key holds
 * tenant ids, user ids and IPs, so `pk` is the first 96 bits of HMAC-SHA-256 over that key,
 * under {@link RateLimitHeadersOptions.partitionKeySecret} (default: a per-process random
 * secret). A plain hash would let anyone confirm a guessed IP or user id offline.
 *
 * Shadow policies and outcomes a failure policy admitted with `'open'` are left out: the
 * first only report to the operator, the second have no counter behind their numbers.
 * Insurance outcomes are shown (their limit is the reduced one being enforced). A decision
 * that no visible policy took part in (an allow-listed or deny-listed client) gets no
 * rate-limit headers; a refusal still gets `Retry-After`.
 *
 * @throws `CONFIGURATION_INVALID` for a `partitionKeySecret` shorter than 16 bytes;
 *   `VALIDATION_FAILED` for a policy name that is not printable ASCII (limiter-validated
 *   names always are).
 * @example
 * ```ts
 * const decision = await limiter.check(subject);
 * for (const [name, value] of Object.entries(rateLimitHeaders(decision))) res.setHeader(name, value);
 * // RateLimit-Policy: "tenant";q=1000;w=3600;pk=:x6s2...:, "ip";q=300;w=60;pk=:Qm9v...:
 * // RateLimit: "tenant";r=12;t=1766;pk=:x6s2...:
 * ```
 */
export function rateLimitHeaders(decision: RateLimitDecision, options: RateLimitHeadersOptions = {}): Record<string, string> {
  return createRateLimitHeaders(options)(decision);
}

/**
 * Builds the headers of one decision, as {@link rateLimitHeaders} does with the options given
 * to {@link createRateLimitHeaders}.
 *
 * @example
 * ```ts
 * const headersOf: RateLimitHeadersBuilder = createRateLimitHeaders({ legacy: true });
 * res.set(headersOf(decision));
 * ```
 */
export type RateLimitHeadersBuilder = (decision: RateLimitDecision) => Record<string, string>;

/**
 * {@link rateLimitHeaders} for repeated use with one set of options: the secret is checked
 * once, here, and what the headers say of a counter that only changes with its policy or
 * limit (the HMAC partition key, the `RateLimit-Policy` member) is computed once per counter
 * and kept by this builder (at most 10,000 counters; the cache then starts over). Nothing is
 * shared between builders, so builders with different secrets never see each other's keys.
 * The bindings build one per middleware or plugin.
 *
 * @throws `CONFIGURATION_INVALID` for a `partitionKeySecret` shorter than 16 bytes. The builder
 *   throws `VALIDATION_FAILED` for a policy name that is not printable ASCII.
 * @example
 * ```ts
 * const headersOf = createRateLimitHeaders({ partitionKeySecret: process.env.RATE_LIMIT_PK_SECRET });
 * app.use(async (req, res, next) => {
 *   const decision = await limiter.check({ ip: req.socket.remoteAddress });
 *   res.set(headersOf(decision));
 *   next();
 * });
 * ```
 */
export function createRateLimitHeaders(options: RateLimitHeadersOptions = {}): RateLimitHeadersBuilder {
  const legacy = options.legacy === true;
  const secret = options.partitionKeys !== false ? partitionKeySecretOf(options) : undefined;
  // By store key: the key names one counter, and holds what its pk is derived from.
  const counters = new Map<string, CounterHeaderParts>();

  function partsOf(outcome: PolicyOutcome): CounterHeaderParts {
    const cached = counters.get(outcome.key);
    if (
      cached !== undefined &&
      cached.policy === outcome.policy &&
      cached.limit === outcome.limit &&
      cached.windowSeconds === outcome.windowSeconds
    ) {
      return cached;
    }
    const pk = cached !== undefined ? cached.pk : secret === undefined ? '' : `;pk=${partitionKey(secret, outcome.key)}`;
    const name = serializeSfString(outcome.policy);
    const parts: CounterHeaderParts = {
      policy: outcome.policy,
      limit: outcome.limit,
      windowSeconds: outcome.windowSeconds,
      name,
      pk,
      policyItem: `${name};q=${serializeSfNonNegativeInteger(outcome.limit)};w=${serializeSfNonNegativeInteger(outcome.windowSeconds)}${pk}`,
    };
    if (cached === undefined && counters.size >= MAX_CACHED_COUNTERS) counters.clear();
    counters.set(outcome.key, parts);
    return parts;
  }

  return (decision) => {
    const headers: Record<string, string> = {};
    const { outcomes } = decision;
    const decidingPolicy = decision.deciding?.policy;
    let policyHeader: string | undefined;
    let current: PolicyOutcome | undefined;
    let currentParts: CounterHeaderParts | undefined;
    for (let index = 0; index < outcomes.length; index += 1) {
      const outcome = outcomes[index]!;
      if (!isVisible(outcome)) continue;
      const parts = partsOf(outcome);
      policyHeader = policyHeader === undefined ? parts.policyItem : `${policyHeader}, ${parts.policyItem}`;
      if (current === undefined && outcome.policy === decidingPolicy) {
        current = outcome;
        currentParts = parts;
      }
    }

    if (policyHeader !== undefined) {
      headers['RateLimit-Policy'] = policyHeader;
      if (current === undefined) {
        current = mostRestrictive(outcomes.filter(isVisible))!;
        currentParts = partsOf(current);
      }
      const remaining = serializeSfNonNegativeInteger(current.remaining);
      const reset = serializeSfNonNegativeInteger(secondsFromMs(current.resetMs));
      headers['RateLimit'] = `${currentParts!.name};r=${remaining};t=${reset}${currentParts!.pk}`;

      if (legacy) {
        headers['X-RateLimit-Limit'] = serializeSfNonNegativeInteger(current.limit);
        headers['X-RateLimit-Remaining'] = remaining;
        headers['X-RateLimit-Reset'] = reset;
      }
    }

    if (!decision.allowed && decision.reason === 'limited') {
      headers['Retry-After'] = String(Math.max(1, secondsFromMs(decision.retryAfterMs)));
    }
    return headers;
  };
}
