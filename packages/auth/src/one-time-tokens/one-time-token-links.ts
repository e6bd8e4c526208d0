import { AuthError } from '../errors.js';
import type { OneTimeTokenPurpose } from '../store.js';

/**
 * The path each purpose's link points at, below the base URL, when `links.paths` does not say.
 *
 * @example
 * ```ts
 * defaultOneTimeTokenPaths['password-reset']; // '/reset-password'
 * ```
 */
export const defaultOneTimeTokenPaths: Readonly<Record<OneTimeTokenPurpose, string>> = Object.freeze({
  'password-reset': '/reset-password',
  'email-verification': '/verify-email',
  invitation: '/accept-invitation',
});

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

// Non-empty segments of unreserved and sub-delimiter characters; no `?`, `#`, `\`, `//`, and no
// `%` (the URL parser reads `%2e%2e` as `..`). `.`/`..` segments are refused separately.
const PATH = /^(?:\/[A-Za-z0-9\-._~!$&'()*+,;=:@]+)+\/?$|^\/$/;

/**
 * Checks a configured base URL and returns it parsed: an absolute `https:` URL, or `http:` for a
 * loopback host only (`localhost`, `*.localhost`, `127.0.0.1`, `[::1]`), with no credentials,
 * query or fragment. Anything else is `CONFIGURATION_INVALID`: a link must never point at a host
 * nobody configured, or travel in clear text.
 *
 * @example
 * ```ts
 * parseLinkBaseUrl('https://app.example.com/portal', 'links.baseUrl').href; // 'https://app.example.com/portal'
 * parseLinkBaseUrl('http://app.example.com', 'links.baseUrl'); // throws CONFIGURATION_INVALID
 * ```
 */
export function parseLinkBaseUrl(value: unknown, what: string): URL {
  const refuse = (reason: string): never => {
    throw new AuthError('CONFIGURATION_INVALID', `Invalid ${what}: ${reason}`, { details: { issues: [{ path: what, message: reason }] } });
  };
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) return refuse('must be an absolute URL string');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return refuse('must be an absolute URL');
  }
  const loopback = LOOPBACK_HOSTS.has(url.hostname) || url.hostname.endsWith('.localhost');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    return refuse('must use https (http only for localhost)');
  }
  if (url.username !== '' || url.password !== '') return refuse('must not contain credentials');
  if (url.search !== '' || url.hash !== '' || value.includes('?') || value.includes('#')) return refuse('must not have a query or fragment');
  return url;
}

/**
 * Checks a configured link path: absolute (`/…`), plain segments, no query or fragment.
 *
 * @example
 * ```ts
 * assertLinkPath('/account/reset', 'links.paths.password-reset');
 * ```
 */
export function assertLinkPath(value: unknown, what: string): asserts value is string {
  const ok = typeof value === 'string' && value.length <= 512 && PATH.test(value) && !/\/\.{1,2}(?:\/|$)/.test(value);
  if (!ok) {
    const reason = 'must be an absolute path of plain segments (no query, fragment, "." or "..")';
    throw new AuthError('CONFIGURATION_INVALID', `Invalid ${what}: ${reason}`, { details: { issues: [{ path: what, message: reason }] } });
  }
}

/**
 * The link of a token: the base URL's path joined with `path`, and the token as the `token`
 * query parameter, all through the URL API (the token is percent-encoded as needed; nothing is
 * concatenated into the origin).
 *
 * @example
 * ```ts
 * buildOneTimeTokenLink(new URL('https://app.example.com/portal/'), '/reset-password', token);
 * // 'https://app.example.com/portal/reset-password?token=...'
 * ```
 */
export function buildOneTimeTokenLink(base: URL, path: string, token: string): string {
  const url = new URL(base.href);
  url.pathname = `${base.pathname.replace(/\/+$/, '')}${path}`;
  url.search = '';
  url.searchParams.set('token', token);
  return url.href;
}
