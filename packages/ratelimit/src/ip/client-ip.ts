import { RateLimitError } from '../errors.js';
import { forwardedForValues } from './forwarded-header.js';
import { compileIpRanges } from './ip-range-matcher.js';
import { parseIpHop, type ParsedIpAddress } from './parse-ip-address.js';

/** The `trustedProxies` entry that trusts connections without a peer address (a Unix socket). */
const UNIX_SOCKET_PRESET = 'unix';

/**
 * Options of {@link createClientIpResolver}.
 *
 * @example
 * ```ts
 * const options: ClientIpResolverOptions = { trustedProxies: ['loopback', '10.0.0.0/8'] };
 * ```
 */
export interface ClientIpResolverOptions {
  /**
   * The proxies whose forwarding header is believed: addresses, CIDR ranges (IPv4 and IPv6)
   * and the presets `loopback`, `linklocal`, `uniquelocal`, `private` (see `IpRangePreset`).
   * Empty: the header is never read and the client is the direct peer. Trust only proxies
   * you run: anyone inside a trusted range can claim any client address.
   *
   * `'unix'` trusts the header of a connection without a peer address: the app listens on a
   * Unix socket behind a local proxy (nginx `proxy_pass http://unix:/run/app.sock`). A TCP
   * connection that closed before the check has no address either; the bindings tell the two
   * apart (they pass `''` for it), so when calling the resolver yourself with `'unix'`, listen
   * on the Unix socket only or do the same.
   */
  readonly trustedProxies: readonly string[];
  /**
   * Which header the second argument of the resolver holds: `X-Forwarded-For` (default) or
   * RFC 7239 `Forwarded` (its `for=` values are read).
   */
  readonly header?: 'x-forwarded-for' | 'forwarded';
}

/**
 * Returns the client IP of one request from the socket's peer address and the raw
 * forwarding header (a string, or the array Node gives for repeated lines). IPv4-mapped IPv6
 * comes back as IPv4. Undefined when no client address is known: the peer address is
 * unreadable (a destroyed socket), or missing (a Unix socket) without the `'unix'` preset, or
 * the header of such a connection gives no readable hop.
 *
 * @example
 * ```ts
 * const ip = resolveClientIp(req.socket.remoteAddress, req.headers['x-forwarded-for']);
 * ```
 */
export type ClientIpResolver = (
  remoteAddress: string | undefined,
  forwardedFor: string | string[] | undefined,
) => string | undefined;

/**
 * Builds a {@link ClientIpResolver} that reads the forwarding header only from trusted
 * proxies, so a client cannot pick its own rate-limit key by sending `X-Forwarded-For`.
 *
 * How it walks:
 * 1. The direct peer is the starting hop. If it is not a trusted proxy, it is the client and
 *    the header is ignored entirely (whatever it says was written by the client).
 * 2. Otherwise the header is read from the right (each proxy appends the address it saw).
 *    The first hop that is not a trusted proxy is the client. Entries left of it were
 *    written by the client (or proxies we do not know) and are never read, so a spoofed
 *    leftmost entry has no effect.
 * 3. If every hop is trusted, the leftmost one is the answer.
 * 4. At an entry that is not an IP address (`unknown`, `_hidden`, a host name, an empty
 *    element, garbage), the walk stops and answers the last valid hop, which is a trusted
 *    proxy. It never skips over the bad entry: what lies left of it was written by someone
 *    we have not vouched for, and reading past garbage is exactly how a client would slip a
 *    chosen address in. A client cannot make the entries our proxies append unreadable (a
 *    `Forwarded` header is split at every comma, so an unclosed quote swallows nothing), so
 *    this happens only when a trusted proxy itself writes such an entry. Such requests then
 *    share their proxy's key (limited more, not less), a deny list cannot see their client,
 *    and an allow-listed proxy address would admit them all unlimited: never allow-list
 *    proxy addresses.
 * 5. With the `'unix'` preset, a connection without a peer address starts the walk at the
 *    header's last entry; if that cannot be read, the client is unknown (undefined).
 *
 * Entries may carry spaces, ports (`203.0.113.7:5678`, `[2001:db8::1]:443`) and zone ids;
 * several header lines are read as one list in order.
 *
 * @throws `CONFIGURATION_INVALID` when `trustedProxies` is not an array of addresses, CIDR
 *   ranges or preset names (the message lists the bad entries) or `header` is unknown.
 * @example
 * ```ts
 * const resolveClientIp = createClientIpResolver({ trustedProxies: ['loopback', '10.0.0.0/8'] });
 * resolveClientIp('10.0.0.2', '198.51.100.7, 10.0.0.9');  // '198.51.100.7'
 * resolveClientIp('203.0.113.5', '198.51.100.7');         // '203.0.113.5' (peer not trusted)
 * ```
 */
export function createClientIpResolver(options: ClientIpResolverOptions): ClientIpResolver {
  if (typeof options !== 'object' || options === null || !Array.isArray(options.trustedProxies)) {
    throw new RateLimitError(
      'CONFIGURATION_INVALID',
      'createClientIpResolver() needs { trustedProxies: string[] } (an empty array trusts no proxy)',
    );
  }
  const header = options.header ?? 'x-forwarded-for';
  if (header !== 'x-forwarded-for' && header !== 'forwarded') {
    throw new RateLimitError('CONFIGURATION_INVALID', 'The client IP header must be "x-forwarded-for" or "forwarded"', {
      details: { header: String(header) },
    });
  }
  const isUnixPreset = (entry: unknown): boolean => typeof entry === 'string' && entry.trim() === UNIX_SOCKET_PRESET;
  const trustsUnixSocket = options.trustedProxies.some(isUnixPreset);
  const ranges = trustsUnixSocket ? options.trustedProxies.filter((entry) => !isUnixPreset(entry)) : options.trustedProxies;
  const { matcher: trusted, invalid } = compileIpRanges(ranges, { presets: true });
  if (invalid.length > 0) {
    throw new RateLimitError(
      'CONFIGURATION_INVALID',
      `trustedProxies has entries that are not addresses, CIDR ranges or presets (loopback, linklocal, uniquelocal, private, unix): ${invalid.map((entry) => JSON.stringify(entry)).join(', ')}`,
      { details: { invalid } },
    );
  }

  const hopsOf =
    header === 'forwarded'
      ? forwardedForValues
      : (value: string | readonly string[]): string[] => (typeof value === 'string' ? value : value.join(',')).split(',');

  return function resolveClientIp(remoteAddress, forwardedFor) {
    // The last valid trusted hop; undefined while walking from a Unix socket's missing peer.
    let last: ParsedIpAddress | undefined;
    if (typeof remoteAddress === 'string') {
      last = parseIpHop(remoteAddress);
      if (last === undefined) return undefined;
      if (trusted.empty || !trusted.matches(last)) return last.address;
    } else if (remoteAddress !== undefined || !trustsUnixSocket) {
      return undefined;
    }
    if (typeof forwardedFor !== 'string' && !Array.isArray(forwardedFor)) return last?.address;

    const hops = hopsOf(forwardedFor);
    for (let index = hops.length - 1; index >= 0; index -= 1) {
      const hop = parseIpHop(hops[index]!);
      if (hop === undefined) return last?.address;
      if (!trusted.matches(hop)) return hop.address;
      last = hop;
    }
    return last?.address;
  };
}
