/**
 * The longest Bearer token read (a JWT with a large claim set stays far below it).
 *
 * @example
 * ```ts
 * if (token.length > MAX_BEARER_TOKEN_LENGTH) throw new Error('too long');
 * ```
 */
export const MAX_BEARER_TOKEN_LENGTH = 8192;

// RFC 6750 §2.1: "Bearer" (case-insensitive, RFC 7235), one space, a b64token. The scheme is
// compared by character code and the token checked on its own, without a capture over the whole
// header value.
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const SCHEME_LENGTH = 'Bearer '.length;
// OR 0x20 lowercases an ASCII letter and maps no other character onto one.
const LOWER = 0x20;

function hasBearerScheme(value: string): boolean {
  return (
    (value.charCodeAt(0) | LOWER) === 0x62 && // b
    (value.charCodeAt(1) | LOWER) === 0x65 && // e
    (value.charCodeAt(2) | LOWER) === 0x61 && // a
    (value.charCodeAt(3) | LOWER) === 0x72 && // r
    (value.charCodeAt(4) | LOWER) === 0x65 && // e
    (value.charCodeAt(5) | LOWER) === 0x72 && // r
    value.charCodeAt(6) === 0x20
  );
}

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
  if (!hasBearerScheme(authorization)) return undefined;
  const token = authorization.slice(SCHEME_LENGTH);
  return B64TOKEN.test(token) ? token : undefined;
}
