import { isTenantkitError, toErrorResponse, type ErrorResponseBody } from '@tenantkit/core';
import { RateLimitError } from '../errors.js';
import type { RateLimitDecision } from '../limiter/rate-limit-decision.js';

/**
 * A refusal ready to send: status, the headers it needs (`Retry-After` when a wait is known)
 * and the coded JSON body of `@tenantkit/core`.
 *
 * @example
 * ```ts
 * const refusal: RateLimitRefusal = {
 *   status: 429,
 *   headers: { 'Retry-After': '30' },
 *   body: { error: { code: 'RATE_LIMITED', message: 'Too many requests', details: { policy: 'ip', retryAfterSeconds: 30, limit: 300 } } },
 * };
 * ```
 */
export interface RateLimitRefusal {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: ErrorResponseBody;
}

const RATE_LIMITED_MESSAGE = 'Too many requests';
const CLIENT_DENIED_MESSAGE = 'Access denied';
// Fixed, because a store error's message may name hosts or driver internals.
const STORE_UNAVAILABLE_MESSAGE = 'Rate limiting is temporarily unavailable';

/** Whole seconds, rounded up, at least 1 (a client told 0 would retry in a hot loop). */
function retrySeconds(ms: number): number {
  return ms > 0 && Number.isFinite(ms) ? Math.max(1, Math.ceil(ms / 1000)) : 1;
}

function rateLimitedDetails(policy: unknown, retryAfterSeconds: number, limit: unknown): Record<string, unknown> {
  return {
    ...(typeof policy === 'string' ? { policy } : {}),
    retryAfterSeconds,
    ...(typeof limit === 'number' && Number.isFinite(limit) ? { limit } : {}),
  };
}

/**
 * The coded error `enforce` throws for a refused decision: `RATE_LIMITED` (429) with
 * `details: { policy, retryAfterSeconds, limit }` of the deciding policy, or `CLIENT_DENIED`
 * (403) for a deny-listed client; undefined when the decision admits the request (shadow
 * refusals included).
 *
 * @example
 * ```ts
 * const decision = await limiter.check(subject);
 * const error = rateLimitErrorForDecision(decision);
 * if (error) throw error;
 * ```
 */
export function rateLimitErrorForDecision(decision: RateLimitDecision): RateLimitError | undefined {
  if (decision.allowed) return undefined;
  if (decision.reason === 'deny-listed') return new RateLimitError('CLIENT_DENIED', CLIENT_DENIED_MESSAGE);
  const deciding = decision.deciding;
  return new RateLimitError('RATE_LIMITED', RATE_LIMITED_MESSAGE, {
    details: rateLimitedDetails(deciding?.policy, retrySeconds(decision.retryAfterMs), deciding?.limit),
  });
}

/**
 * The response for a refused decision: 429 `RATE_LIMITED` with `Retry-After` and
 * `details: { policy, retryAfterSeconds, limit }`, or 403 `CLIENT_DENIED` for a deny-listed
 * client. Undefined when the decision admits the request. Send {@link rateLimitHeaders}
 * alongside.
 *
 * @example
 * ```ts
 * const refusal = rateLimitResponseForDecision(decision);
 * if (refusal) return reply.status(refusal.status).headers(refusal.headers).send(refusal.body);
 * ```
 */
export function rateLimitResponseForDecision(decision: RateLimitDecision): RateLimitRefusal | undefined {
  const error = rateLimitErrorForDecision(decision);
  return error === undefined ? undefined : rateLimitResponseForError(error);
}

/**
 * The response for anything a limiter call threw:
 * - `RATE_LIMITED` → 429 with `Retry-After` and `details: { policy, retryAfterSeconds, limit }`
 *   (`retryAfterSeconds` rounded up, at least 1; fields the error lacks are left out).
 * - `CLIENT_DENIED` → 403, no details.
 * - `STORE_UNAVAILABLE` → 503 with a fixed message (never the driver's), never a 429: a
 *   client that was not over any limit must not be told it was.
 * - any other tenantkit error → its own status and body; anything else → a generic 500.
 *
 * @example
 * ```ts
 * try {
 *   await limiter.enforce(subject);
 * } catch (error) {
 *   const { status, headers, body } = rateLimitResponseForError(error);
 *   res.status(status).set(headers).json(body);
 * }
 * ```
 */
export function rateLimitResponseForError(error: unknown): RateLimitRefusal {
  if (isTenantkitError(error, 'RATE_LIMITED')) {
    const details = error.details ?? {};
    const seconds = typeof details.retryAfterSeconds === 'number' ? retrySeconds(details.retryAfterSeconds * 1000) : 1;
    return refusal(
      429,
      { 'Retry-After': String(seconds) },
      { code: 'RATE_LIMITED', message: RATE_LIMITED_MESSAGE, details: rateLimitedDetails(details.policy, seconds, details.limit) },
    );
  }
  if (isTenantkitError(error, 'CLIENT_DENIED')) {
    return refusal(403, {}, { code: 'CLIENT_DENIED', message: CLIENT_DENIED_MESSAGE });
  }
  if (isTenantkitError(error, 'STORE_UNAVAILABLE')) {
    return refusal(503, {}, { code: 'STORE_UNAVAILABLE', message: STORE_UNAVAILABLE_MESSAGE });
  }
  const { status, body } = toErrorResponse(error);
  return refusal(status, {}, body.error);
}

function refusal(status: number, headers: Record<string, string>, error: ErrorResponseBody['error']): RateLimitRefusal {
  return Object.freeze({ status, headers: Object.freeze(headers), body: { error } });
}
