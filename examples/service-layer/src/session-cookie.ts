/**
 * The session cookie as the example sets it: `HttpOnly` (scripts never see the secret),
 * `SameSite=Lax` (not sent on cross-site POSTs, the CSRF that matters for a cookie-authenticated
 * JSON API), `Path=/`, `Secure` unless the app runs on plain http on localhost, and a `Max-Age`
 * of the session's absolute lifetime (the server slides the idle expiry itself).
 *
 * @example
 * ```ts
 * sessionCookieHeader({ name: 'tk_session', value: issued.token, maxAgeSeconds: 604_800, secure: true });
 * // 'tk_session=...; Path=/; Max-Age=604800; HttpOnly; SameSite=Lax; Secure'
 * ```
 */
export function sessionCookieHeader(cookie: { name: string; value: string; maxAgeSeconds: number; secure: boolean }): string {
  const maxAge = Math.max(0, Math.floor(cookie.maxAgeSeconds));
  return `${cookie.name}=${cookie.value}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${cookie.secure ? '; Secure' : ''}`;
}

/**
 * The `Set-Cookie` value that makes the browser forget the session cookie (after logout).
 *
 * @example
 * ```ts
 * clearedSessionCookieHeader({ name: 'tk_session', secure: false }); // 'tk_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax'
 * ```
 */
export function clearedSessionCookieHeader(cookie: { name: string; secure: boolean }): string {
  return sessionCookieHeader({ name: cookie.name, value: '', maxAgeSeconds: 0, secure: cookie.secure });
}
