import type { AuthPrincipal } from './principal.js';

/**
 * The credentials of one request, as a binding extracts them (raw header values).
 *
 * @example
 * ```ts
 * const credentials: RequestCredentials = { authorization: req.headers.authorization, cookie: req.headers.cookie, apiKey: req.headers['x-api-key'] };
 * ```
 */
export interface RequestCredentials {
  readonly authorization?: string | undefined;
  readonly cookie?: string | undefined;
  readonly apiKey?: string | string[] | undefined;
}

/**
 * Turns request credentials into an {@link AuthPrincipal}: a Bearer access token, a session cookie
 * or an API key header (exactly one kind may be presented; two is `TOKEN_INVALID`, so a request
 * cannot mix an attacker's and a victim's credentials).
 *
 * @example
 * ```ts
 * const principal = await auth.authenticator.authenticate({ authorization: 'Bearer eyJ...' }, { tenantId: 'tnt_acme' });
 * ```
 */
export interface Authenticator {
  /**
   * @param options.tenantId the request's tenant (when resolved): the credential must be bound to it.
   * @returns the principal, or `null` when no credential was presented.
   * @throws `TOKEN_INVALID`, `TOKEN_EXPIRED`, `TOKEN_REVOKED`, `SESSION_INVALID`, `API_KEY_INVALID`, `RATE_LIMITED` (per-key limit)
   */
  authenticate(credentials: RequestCredentials, options?: { readonly tenantId?: string | null }): Promise<AuthPrincipal | null>;
  /** The `WWW-Authenticate` header value for a 401 with this error code (RFC 6750 for Bearer). */
  challenge(code?: string): string;
  /** The session cookie name the authenticator reads. */
  readonly sessionCookieName: string;
  /** The API key header name (lowercase). */
  readonly apiKeyHeader: string;
}
