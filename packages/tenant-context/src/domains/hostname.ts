import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';

const LABEL_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * ASCII characters other than letters, digits, `-` and `.`. `domainToASCII` runs the URL host
 * parser, which cuts the input at `/`, `?` or `#`, percent-decodes and drops tabs and newlines
 * (`'acme.com/x'` and `'ex%61mple.com'` would come back as valid hosts), so they are refused first.
 */
const FORBIDDEN_ASCII = /[\u0000-\u002c\u002f\u003a-\u0040\u005b-\u0060\u007b-\u007f]/;

/**
 * Normalises a host name for comparison and storage: Unicode to punycode, lower case, no
 * trailing dot. Returns `undefined` for anything that is not a valid DNS host name of at least
 * two labels (IP addresses, empty labels, bad characters, over 253 characters, numeric TLDs).
 *
 * @example
 * ```ts
 * normalizeHostname('App.Bücher.example.'); // 'app.xn--bcher-kva.example'
 * normalizeHostname('10.0.0.1');            // undefined
 * ```
 */
export function normalizeHostname(value: string): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 255) return undefined;
  const trimmed = value.endsWith('.') ? value.slice(0, -1) : value;
  if (FORBIDDEN_ASCII.test(trimmed) || isIP(trimmed) !== 0) return undefined;
  const ascii = domainToASCII(trimmed.toLowerCase());
  if (ascii === '' || ascii.length > 253) return undefined;
  const labels = ascii.split('.');
  if (labels.length < 2) return undefined;
  for (const label of labels) if (!LABEL_PATTERN.test(label)) return undefined;
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) return undefined;
  return ascii;
}

/**
 * Whether `hostname` is `parent` itself or one of its subdomains (both normalised).
 *
 * @example
 * ```ts
 * isSameOrSubdomain('a.app.example.com', 'example.com'); // true
 * isSameOrSubdomain('badexample.com', 'example.com');    // false
 * ```
 */
export function isSameOrSubdomain(hostname: string, parent: string): boolean {
  return hostname === parent || hostname.endsWith(`.${parent}`);
}
