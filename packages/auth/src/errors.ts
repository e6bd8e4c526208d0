import { TenantkitError, type ErrorCode, type TenantkitErrorOptions } from '@tenantkit/core';

/**
 * The codes {@link AuthError} carries. Every credential failure a client can cause maps to a
 * 401/403/400/429 with one of these; the message never says which part of a credential was wrong
 * (no "unknown email" vs "wrong password").
 *
 * - `AUTHENTICATION_REQUIRED` (401): no credential was presented.
 * - `TOKEN_INVALID` (401): malformed, bad signature, wrong algorithm, issuer, audience, `typ`,
 *   tenant, unknown or retired `kid`, unsupported `crit`.
 * - `TOKEN_EXPIRED` (401): `exp` passed (beyond the clock tolerance) or `nbf` not reached.
 * - `TOKEN_REVOKED` (401): revoked by jti, session, user epoch or tenant epoch.
 * - `SIGNING_KEY_UNAVAILABLE` (500): the keyset has no active key to sign with.
 * - `SESSION_INVALID` (401): unknown, expired or revoked session.
 * - `REFRESH_TOKEN_INVALID` (401): unknown, expired or revoked refresh token or family.
 * - `REFRESH_TOKEN_REUSED` (401): a rotated refresh token came back after the grace window; its
 *   whole family is revoked.
 * - `CREDENTIALS_INVALID` (401): wrong email or password (the same answer for both).
 * - `ACCOUNT_ALREADY_EXISTS` (409), `ACCOUNT_NOT_FOUND` (404, administrative calls only),
 *   `ACCOUNT_DISABLED` (403).
 * - `PASSWORD_POLICY_VIOLATION` (400): `details.violations` lists every failed rule.
 * - `PASSWORD_REUSED` (400): the password is one of the last N.
 * - `ONE_TIME_TOKEN_INVALID` (400): reset / verification / invitation token unknown, used,
 *   expired, voided or for another purpose.
 * - `API_KEY_INVALID` (401), `API_KEY_NOT_FOUND` (404), `API_KEY_SCOPE_FORBIDDEN` (403: a scope the
 *   creator does not hold).
 * - `SECOND_FACTOR_REQUIRED` (401): reserved for multi-factor sign-in.
 * - `RATE_LIMITED` (429): too many attempts; `details.retryAfterSeconds`.
 * - `MEMBERSHIP_NOT_FOUND`, `MEMBERSHIP_INACTIVE`, `TENANT_SUSPENDED`, `TENANT_NOT_READY`: from a
 *   tenant switch checked against memberships.
 * - `VALIDATION_FAILED` (400), `CONFIGURATION_INVALID` (500), `STORE_CONFLICT` (409),
 *   `STORE_UNAVAILABLE` (503), `TENANT_SCOPE_REQUIRED`, `TENANT_SCOPE_CONFLICT` (500).
 *
 * @example
 * ```ts
 * const code: AuthErrorCode = 'TOKEN_REVOKED';
 * ```
 */
export type AuthErrorCode = Extract<
  ErrorCode,
  | 'VALIDATION_FAILED'
  | 'CONFIGURATION_INVALID'
  | 'STORE_CONFLICT'
  | 'STORE_UNAVAILABLE'
  | 'TENANT_SCOPE_REQUIRED'
  | 'TENANT_SCOPE_CONFLICT'
  | 'MEMBERSHIP_NOT_FOUND'
  | 'MEMBERSHIP_INACTIVE'
  | 'TENANT_SUSPENDED'
  | 'TENANT_NOT_READY'
  | 'TENANT_NOT_FOUND'
  | 'RATE_LIMITED'
  | 'AUTHENTICATION_REQUIRED'
  | 'TOKEN_INVALID'
  | 'TOKEN_EXPIRED'
  | 'TOKEN_REVOKED'
  | 'SIGNING_KEY_UNAVAILABLE'
  | 'SESSION_INVALID'
  | 'REFRESH_TOKEN_INVALID'
  | 'REFRESH_TOKEN_REUSED'
  | 'CREDENTIALS_INVALID'
  | 'ACCOUNT_ALREADY_EXISTS'
  | 'ACCOUNT_NOT_FOUND'
  | 'ACCOUNT_DISABLED'
  | 'PASSWORD_POLICY_VIOLATION'
  | 'PASSWORD_REUSED'
  | 'ONE_TIME_TOKEN_INVALID'
  | 'API_KEY_INVALID'
  | 'API_KEY_NOT_FOUND'
  | 'API_KEY_SCOPE_FORBIDDEN'
  | 'SECOND_FACTOR_REQUIRED'
>;

/**
 * Every error @tenantkit/auth throws or rejects with.
 *
 * @example
 * ```ts
 * try {
 *   await auth.tokens.verify(bearer, { tenantId: 'tnt_acme' });
 * } catch (err) {
 *   if (err instanceof AuthError && err.code === 'TOKEN_EXPIRED') reply.status(401);
 * }
 * ```
 */
export class AuthError extends TenantkitError<AuthErrorCode> {
  constructor(code: AuthErrorCode, message: string, options?: TenantkitErrorOptions) {
    super(code, message, options);
  }
}
