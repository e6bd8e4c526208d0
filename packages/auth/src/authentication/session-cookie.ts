/**
 * The longest session cookie value read (browsers keep at most about 4 KiB per cookie).
 *
 * @example
 * ```ts
 * if (value.length > MAX_SESSION_COOKIE_LENGTH) return INVALID;
 * ```
 */
export const MAX_SESSION_COOKIE_LENGTH = 4096;

/**
 * What a `Cookie` header says about one cookie name:
 * - `absent`: not there (or present with an empty value, what a cleared cookie leaves);
 * - `present`: its value, surrounding double quotes removed;
 * - `invalid`: there more than once (a sibling domain or path can plant a second one, so
 *   which one is "the" session is ambiguous), too long, or with characters RFC 6265 forbids.
 *
 * @example
 * ```ts
 * const read: SessionCookieRead = { kind: 'present', value: 'b64url-secret' };
 * ```
 */
export type SessionCookieRead =
  | { readonly kind: 'absent' }
  | { readonly kind: 'present'; readonly value: string }
  | { readonly kind: 'invalid' };

const ABSENT: SessionCookieRead = Object.freeze({ kind: 'absent' });
const INVALID: SessionCookieRead = Object.freeze({ kind: 'invalid' });

// RFC 6265 §4.1.1 cookie-octet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E.
const COOKIE_VALUE = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/;

function isOptionalWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

/**
 * Reads the cookie `name` from a `Cookie` header value (RFC 6265 §4.2.1 / §5.4: pairs separated
 * by `;` and optional whitespace, the name up to the first `=`). Only that cookie is parsed;
 * the others are skipped without being decoded. No percent-decoding: session secrets are
 * base64url.
 *
 * @example
 * ```ts
 * readSessionCookie('theme=dark; tk_session=abc123', 'tk_session'); // { kind: 'present', value: 'abc123' }
 * readSessionCookie('tk_session=a; tk_session=b', 'tk_session'); // { kind: 'invalid' }
 * ```
 */
export function readSessionCookie(header: string, name: string): SessionCookieRead {
  // Most requests carry no session cookie: skip the scan when the name does not occur at all.
  if (!header.includes(name)) return ABSENT;
  let found: string | undefined;
  let start = 0;
  const length = header.length;
  while (start < length) {
    let end = header.indexOf(';', start);
    if (end === -1) end = length;
    let pairStart = start;
    while (pairStart < end && isOptionalWhitespace(header.charCodeAt(pairStart))) pairStart += 1;
    const equals = header.indexOf('=', pairStart);
    if (equals !== -1 && equals < end) {
      let nameEnd = equals;
      while (nameEnd > pairStart && isOptionalWhitespace(header.charCodeAt(nameEnd - 1))) nameEnd -= 1;
      if (nameEnd - pairStart === name.length && header.startsWith(name, pairStart)) {
        if (found !== undefined) return INVALID;
        let valueStart = equals + 1;
        let valueEnd = end;
        while (valueStart < valueEnd && isOptionalWhitespace(header.charCodeAt(valueStart))) valueStart += 1;
        while (valueEnd > valueStart && isOptionalWhitespace(header.charCodeAt(valueEnd - 1))) valueEnd -= 1;
        found = header.slice(valueStart, valueEnd);
      }
    }
    start = end + 1;
  }
  if (found === undefined) return ABSENT;
  if (found.length >= 2 && found.startsWith('"') && found.endsWith('"')) found = found.slice(1, -1);
  if (found.length > MAX_SESSION_COOKIE_LENGTH || !COOKIE_VALUE.test(found)) return INVALID;
  return found.length === 0 ? ABSENT : { kind: 'present', value: found };
}
