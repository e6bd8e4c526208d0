import { isTenantkitError, type ErrorResponseBody } from '@tenantkit/core';
import type { Authenticator } from '../authenticator.js';
import { AuthError } from '../errors.js';

/**
 * A refusal the bindings answer themselves: status, headers and the coded JSON body of
 * `@tenantkit/core` (`{ error: { code, message, details? } }`).
 *
 * @example
 * ```ts
 * const refusal: AuthRefusal = { status: 401, headers: { 'www-authenticate': 'Bearer realm="api"' }, body };
 * ```
 */
export interface AuthRefusal {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: ErrorResponseBody;
}

/** Credential failures: answered 401 with a challenge. Anything else goes to the app's error handling. */
const CREDENTIAL_CODES: ReadonlySet<string> = new Set([
  'AUTHENTICATION_REQUIRED',
  'TOKEN_INVALID',
  'TOKEN_EXPIRED',
  'TOKEN_REVOKED',
  'SESSION_INVALID',
  'API_KEY_INVALID',
]);

/**
 * Builds the refusals of one authenticator: `required()` for a request that presented nothing
 * on a route that needs a principal, `of(error)` for an error `authenticate()` rejected with —
 * a credential failure (401 with `WWW-Authenticate`) or `RATE_LIMITED` (429 with `Retry-After`
 * from `details.retryAfterSeconds`), and `undefined` for anything else (a store down, a bug),
 * which the binding hands to the app's error handling.
 *
 * @example
 * ```ts
 * const refusals = authRefusals(authenticator);
 * const refusal = refusals.of(error);
 * if (refusal === undefined) next(error);
 * else res.status(refusal.status).set(refusal.headers).json(refusal.body);
 * ```
 */
export function authRefusals(authenticator: Pick<Authenticator, 'challenge'>): {
  readonly required: AuthRefusal;
  of(error: unknown): AuthRefusal | undefined;
} {
  const requiredError = new AuthError('AUTHENTICATION_REQUIRED', 'Authentication required');
  const required: AuthRefusal = Object.freeze({
    status: requiredError.status,
    headers: Object.freeze({ 'www-authenticate': authenticator.challenge('AUTHENTICATION_REQUIRED') }),
    body: requiredError.toResponseBody(),
  });
  return Object.freeze({
    required,
    of(error: unknown): AuthRefusal | undefined {
      if (!isTenantkitError(error)) return undefined;
      if (CREDENTIAL_CODES.has(error.code)) {
        return { status: 401, headers: { 'www-authenticate': authenticator.challenge(error.code) }, body: error.toResponseBody() };
      }
      if (error.code === 'RATE_LIMITED') {
        const retryAfter = error.details?.retryAfterSeconds;
        const headers: Record<string, string> =
          typeof retryAfter === 'number' && Number.isFinite(retryAfter) && retryAfter >= 0 ? { 'retry-after': String(Math.ceil(retryAfter)) } : {};
        return { status: 429, headers, body: error.toResponseBody() };
      }
      return undefined;
    },
  });
}
