import { isTenantkitError, type TenantkitError } from '@tenantkit/core';
import { rateLimitErrorForDecision, rateLimitResponseForError, type RateLimitRefusal } from '../http/rate-limit-response.js';
import type { RateLimitDecision } from '../limiter/rate-limit-decision.js';
import type { RateLimitCheckOptions } from '../limiter/rate-limiter.js';
import type { HttpRateLimitBinding, RouteRateLimit } from './http-rate-limit-options.js';
import { requestSubject, type RequestFacts } from './request-subject.js';

/*
 * One request through the limiter, the same for every framework: the binding hands over its
 * request and the facts it read off it, and gets back what to send. No decision is made here
 * that the limiter does not make.
 */

/**
 * What a binding does with one request:
 * - `skipped`: the binding's `skip` said so; nothing was counted and no header is sent.
 * - `admitted`: continue, with `headers` on the response.
 * - `refused`: answer with `refusal` (429 `RATE_LIMITED`, 403 `CLIENT_DENIED`, or 503
 *   `STORE_UNAVAILABLE` when the store is down and a policy fails closed, in which case there
 *   is no decision). `error` is the same refusal as a coded error, for a response that has
 *   already started and can only be handed to the framework's error handling.
 *
 * @example
 * ```ts
 * const result = await limitRequest(binding, route, req, facts);
 * if (result.kind === 'refused') res.status(result.refusal.status).set(result.refusal.headers).json(result.refusal.body);
 * ```
 */
export type RequestLimitResult =
  | { readonly kind: 'skipped' }
  | { readonly kind: 'admitted'; readonly decision: RateLimitDecision; readonly headers: Readonly<Record<string, string>> }
  | {
      readonly kind: 'refused';
      readonly decision: RateLimitDecision | undefined;
      readonly refusal: RateLimitRefusal;
      readonly error: TenantkitError;
    };

const SKIPPED: RequestLimitResult = Object.freeze({ kind: 'skipped' });
const IETF_HEADERS = ['RateLimit', 'RateLimit-Policy'] as const;

/** The headers the binding's options ask for; `Retry-After` is always kept on a refusal. */
function responseHeaders<Request>(binding: HttpRateLimitBinding<Request>, decision: RateLimitDecision): Record<string, string> {
  if (!binding.headers && !binding.legacyHeaders && decision.allowed) return {};
  const headers = binding.rateLimitHeaders(decision);
  if (!binding.headers) for (const name of IETF_HEADERS) delete headers[name];
  return headers;
}

/** Whether a callback answered with a promise (most answer synchronously: no await, no microtask). */
function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}

function checkOptions(policies: readonly string[] | undefined, cost: number): RateLimitCheckOptions | undefined {
  if (policies === undefined) return cost === 1 ? undefined : { cost };
  return cost === 1 ? { policies } : { policies, cost };
}

/**
 * Limits one request: skips it if the binding's `skip` says so, derives its subject (see
 * `requestSubject`), works out its cost, asks the limiter and turns the answer into headers
 * or a refusal. The limiter's `STORE_UNAVAILABLE` (a closed policy with the store down)
 * becomes a 503 refusal; every other error (a callback throwing, `TENANT_SCOPE_REQUIRED`, a
 * subject field the limiter rejects) rejects the promise, for the framework's error handling.
 *
 * @example
 * ```ts
 * limitRequest(binding, route, req, facts).then((result) => {
 *   if (result.kind !== 'refused') return next();
 *   res.status(result.refusal.status).set(result.refusal.headers).json(result.refusal.body);
 * }, next);
 * ```
 */
export async function limitRequest<Request>(
  binding: HttpRateLimitBinding<Request>,
  route: RouteRateLimit<Request>,
  request: Request,
  facts: RequestFacts,
): Promise<RequestLimitResult> {
  if (binding.skip !== undefined) {
    const skip = binding.skip(request);
    if ((isPromiseLike(skip) ? await skip : skip) === true) return SKIPPED;
  }
  let custom = binding.subject === undefined ? undefined : binding.subject(request);
  if (isPromiseLike(custom)) custom = await custom;
  const subject = requestSubject(facts, binding.resolveClientIp, custom);
  let cost = typeof route.cost === 'function' ? route.cost(request) : route.cost;
  if (isPromiseLike(cost)) cost = await cost;

  let decision: RateLimitDecision;
  try {
    decision = await binding.limiter.check(subject, checkOptions(route.policies, cost));
  } catch (error) {
    // Fail closed is an answer, not a crash: a 503 with a fixed message, never a 429.
    if (isTenantkitError(error, 'STORE_UNAVAILABLE')) {
      return { kind: 'refused', decision: undefined, refusal: rateLimitResponseForError(error), error };
    }
    throw error;
  }

  const headers = responseHeaders(binding, decision);
  const error = rateLimitErrorForDecision(decision);
  if (error === undefined) return { kind: 'admitted', decision, headers };
  const refusal = rateLimitResponseForError(error);
  return {
    kind: 'refused',
    decision,
    refusal: { ...refusal, headers: { ...headers, ...refusal.headers } },
    error,
  };
}
