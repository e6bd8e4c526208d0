import { TenantkitError, type ErrorCode, type TenantkitErrorOptions } from '@tenantkit/core';

/**
 * The codes {@link RateLimitError} carries.
 *
 * - `RATE_LIMITED` (429): a policy refused the request; `details` holds the deciding policy
 *   and `retryAfterSeconds`.
 * - `CLIENT_DENIED` (403): the client is on a deny list.
 * - `RATE_LIMIT_KEY_INVALID` (400): a key part (user id, API key id, custom key, IP) is empty,
 *   too long or not a string.
 * - `RATE_LIMIT_POLICY_NOT_FOUND` (500): code asked for a policy the limiter does not have.
 * - `STORE_UNAVAILABLE` (503): the store failed and the policy fails closed.
 * - `CONFIGURATION_INVALID` (500), `VALIDATION_FAILED` (400): bad options or arguments.
 * - `TENANT_SCOPE_REQUIRED` (500): a tenant-keyed policy ran with no tenant in scope or given.
 * - `TENANT_SCOPE_CONFLICT` (500): the subject names a tenant other than the one in scope.
 * - `PLAN_NOT_FOUND` (400): the tenant's plan is not in the catalog.
 *
 * @example
 * ```ts
 * const code: RateLimitErrorCode = 'RATE_LIMITED';
 * ```
 */
export type RateLimitErrorCode = Extract<
  ErrorCode,
  | 'VALIDATION_FAILED'
  | 'CONFIGURATION_INVALID'
  | 'STORE_UNAVAILABLE'
  | 'TENANT_SCOPE_REQUIRED'
  | 'TENANT_SCOPE_CONFLICT'
  | 'PLAN_NOT_FOUND'
  | 'RATE_LIMITED'
  | 'CLIENT_DENIED'
  | 'RATE_LIMIT_KEY_INVALID'
  | 'RATE_LIMIT_POLICY_NOT_FOUND'
>;

/**
 * Every error @tenantkit/ratelimit throws or rejects with. A store outage is always one of
 * these (never a bare driver error, never a rejection with a non-Error).
 *
 * @example
 * ```ts
 * try {
 *   await limiter.enforce({ ip: '203.0.113.7' });
 * } catch (err) {
 *   if (err instanceof RateLimitError && err.code === 'RATE_LIMITED') console.log(err.details?.retryAfterSeconds);
 * }
 * ```
 */
export class RateLimitError extends TenantkitError<RateLimitErrorCode> {
  constructor(code: RateLimitErrorCode, message: string, options?: TenantkitErrorOptions) {
    super(code, message, options);
  }
}
