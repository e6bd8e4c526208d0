/**
 * The longest Bearer token read (a JWT with a large claim set stays far below it).
 *
 * @example
 * ```ts
 * if (token.length > MAX_BEARER_TOKEN_LENGTH) throw new Error('too long');
 * ```
 */
export const MAX_BEARER_TOKEN_LENGTH = 8192;

// RFC 6750 §2.1: "Bearer" (case-insensitive, RFC 7235), one space, a b64token.
const BEARER = /^[Bb][Ee][Aa][Rr][Ee][Rr] ([A-Za-z0-9\-._~+/]+=*)$/;
const SCHEME_LENGTH = 'Bearer '.length;

/**
 * The token of an `Authorization: Bearer <token>` header value (RFC 6750 §2.1): the scheme in
 * any case, exactly one space, a token68 / b64token of at most `MAX_BEARER_TOKEN_LENGTH`
 * characters. `undefined` for anything else (another scheme, extra spaces, a comma-joined
 * duplicate header, a bad character), which the authenticator refuses as `TOKEN_INVALID`.
 *
 * @example
 * ```ts
 * parseBearerToken('Bearer eyJhbGciOi...'); // 'eyJhbGciOi...'
 * parseBearerToken('Basic dXNlcjpwYXNz'); // undefined
 * ```
 */
export function parseBearerToken(authorization: string): string | undefined {
  if (authorization.length <= SCHEME_LENGTH || authorization.length > SCHEME_LENGTH + MAX_BEARER_TOKEN_LENGTH) return undefined;
  return BEARER.exec(authorization)?.[1];
}
