/**
 * Builds the `WWW-Authenticate` value of a 401 for an auth error code (RFC 6750 §3):
 *
 * - no credential (`AUTHENTICATION_REQUIRED`, or no code): `Bearer realm="api"`, without an
 *   error attribute, as §3.1 asks for requests that carried no authentication;
 * - a rejected access token (`TOKEN_INVALID`, `TOKEN_EXPIRED`, `TOKEN_REVOKED`):
 *   `Bearer realm="api", error="invalid_token"`, with an `error_description` for expired and
 *   revoked tokens so a client knows to refresh or sign in again;
 * - anything else (a rejected session or API key): `Bearer realm="api"`, naming the scheme a
 *   client may use without describing the failed credential.
 *
 * @example
 * ```ts
 * const challenge = wwwAuthenticateChallenge('api');
 * challenge('TOKEN_EXPIRED'); // 'Bearer realm="api", error="invalid_token", error_description="The access token expired"'
 * ```
 */
export function wwwAuthenticateChallenge(realm: string): (code?: string) => string {
  // The realm is validated to hold no `"` or `\`, so it needs no escaping.
  const base = `Bearer realm="${realm}"`;
  const invalid = `${base}, error="invalid_token"`;
  const expired = `${invalid}, error_description="The access token expired"`;
  const revoked = `${invalid}, error_description="The access token was revoked"`;
  return (code?: string): string => {
    switch (code) {
      case 'TOKEN_INVALID':
        return invalid;
      case 'TOKEN_EXPIRED':
        return expired;
      case 'TOKEN_REVOKED':
        return revoked;
      default:
        return base;
    }
  };
}
