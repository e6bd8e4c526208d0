import { BlockList, isIP } from 'node:net';
import { TenantContextError } from '../errors.js';
import { headerValue, type TenantRequest } from './request-info.js';

/**
 * A header through which a reverse proxy passes on the host the client asked for.
 *
 * @example
 * ```ts
 * const headers: ForwardedHostHeader[] = ['forwarded', 'x-forwarded-host'];
 * ```
 */
export type ForwardedHostHeader = 'forwarded' | 'x-forwarded-host';

/**
 * Options of {@link createTrustedProxies}.
 *
 * @example
 * ```ts
 * createTrustedProxies(['10.0.0.0/8'], { hostHeaders: ['forwarded'] });
 * ```
 */
export interface TrustedProxiesOptions {
  /**
   * The forwarded-host headers to honour, in order of preference. List only headers your proxy
   * sets or overwrites on every request: a header it passes through unchanged still carries
   * whatever the client sent. Default: `['x-forwarded-host']`.
   */
  hostHeaders?: readonly ForwardedHostHeader[];
}

/**
 * The set of reverse proxies whose forwarding headers may be believed.
 *
 * @example
 * ```ts
 * const proxies = createTrustedProxies(['loopback', '10.0.0.0/8', '2001:db8::/32']);
 * proxies.isTrusted('10.1.2.3'); // true
 * ```
 */
export interface TrustedProxies {
  /** Whether `address` (an IPv4, IPv6 or IPv4-mapped IPv6 address) is a trusted proxy. */
  isTrusted(address: string | undefined): boolean;
  /** The forwarded-host headers honoured from a trusted peer, in order of preference. */
  readonly hostHeaders: readonly ForwardedHostHeader[];
}

/** Named ranges, as Express (proxy-addr) spells them, so configuration ports over unchanged. */
const namedRanges: Readonly<Record<string, readonly string[]>> = Object.freeze({
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
});

const PREFIX_PATTERN = /^(?:0|[1-9][0-9]{0,2})$/;
const PORT_PATTERN = /^[0-9]{1,5}$/;
const FORWARDED_HOST_PAIR = /(?:^|;)\s*host\s*=\s*("[^"]*"|[^;,\s]*)/i;

/**
 * Creates the set of trusted reverse proxies from IP addresses, CIDR ranges (IPv4, IPv6 and
 * IPv4-mapped IPv6 such as `::ffff:10.0.0.0/104`) and the names `loopback`, `linklocal` and
 * `uniquelocal`. An IPv4 entry also matches the IPv4-mapped form of the address (what a server
 * listening on `::` sees), and the other way round.
 *
 * Only the direct peer's trust is checked: forwarding headers are believed when the socket's
 * peer is in this set, and never otherwise.
 *
 * @throws `CONFIGURATION_INVALID` for an entry that is not an address, range or known name.
 * @example
 * ```ts
 * const trustedProxies = createTrustedProxies(['10.0.0.0/8', 'fd00::/8']);
 * const resolver = createTenantResolver({ registry, sources, trustedProxies });
 * ```
 */
export function createTrustedProxies(
  proxies: readonly string[],
  options: TrustedProxiesOptions = {},
): TrustedProxies {
  if (!Array.isArray(proxies)) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'createTrustedProxies() takes an array of addresses or ranges');
  }
  if (typeof options !== 'object' || options === null) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'createTrustedProxies() options must be an object');
  }
  const hostHeaders = options.hostHeaders ?? ['x-forwarded-host'];
  if (
    !Array.isArray(hostHeaders) ||
    hostHeaders.some((header) => header !== 'forwarded' && header !== 'x-forwarded-host')
  ) {
    throw new TenantContextError(
      'CONFIGURATION_INVALID',
      'hostHeaders may only contain "forwarded" and "x-forwarded-host"',
    );
  }
  const blockList = new BlockList();
  let entries = 0;
  for (const entry of proxies) {
    if (typeof entry !== 'string') {
      throw new TenantContextError('CONFIGURATION_INVALID', 'Each trusted proxy must be a string');
    }
    // Own keys only: 'constructor' or '__proto__' must not reach Object.prototype.
    const named = Object.hasOwn(namedRanges, entry) ? namedRanges[entry] : undefined;
    for (const range of named ?? [entry]) {
      addRange(blockList, range);
      entries += 1;
    }
  }
  const frozenHeaders = Object.freeze([...new Set(hostHeaders)]);
  return Object.freeze({
    hostHeaders: frozenHeaders,
    isTrusted(address: string | undefined): boolean {
      if (entries === 0 || address === undefined) return false;
      const family = ipFamily(address);
      return family !== undefined && blockList.check(address, family);
    },
  });
}

function addRange(blockList: BlockList, range: string): void {
  const slash = range.indexOf('/');
  const address = slash === -1 ? range : range.slice(0, slash);
  const family = isIP(address);
  if (family === 0) {
    throw new TenantContextError(
      'CONFIGURATION_INVALID',
      `"${range}" is not an IP address, a CIDR range or one of loopback, linklocal, uniquelocal`,
    );
  }
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (slash === -1) {
    blockList.addAddress(address, type);
    return;
  }
  const prefixText = range.slice(slash + 1);
  const prefix = Number(prefixText);
  if (!PREFIX_PATTERN.test(prefixText) || prefix > (family === 4 ? 32 : 128)) {
    throw new TenantContextError('CONFIGURATION_INVALID', `"${range}" has an invalid prefix length`);
  }
  blockList.addSubnet(address, prefix, type);
}

/** The BlockList family of an address, or `undefined` for anything else (zone ids included). */
function ipFamily(address: string): 'ipv4' | 'ipv6' | undefined {
  const family = isIP(address);
  if (family === 4) return 'ipv4';
  // A zone id (`fe80::1%eth0`) passes isIP but is not something a proxy list can name.
  if (family === 6 && !address.includes('%')) return 'ipv6';
  return undefined;
}

/**
 * Normalises a Host header value: lower case, no port, no trailing dot. IPv6 literals keep
 * their brackets (`[::1]`). Returns `undefined` for anything that is not a syntactically valid
 * host, so garbage never reaches a lookup.
 *
 * @example
 * ```ts
 * normalizeRequestHost('Acme.Example.com.:8443'); // 'acme.example.com'
 * normalizeRequestHost('[::1]:3000');             // '[::1]'
 * normalizeRequestHost('evil.com/x');             // undefined
 * ```
 */
export function normalizeRequestHost(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const length = value.length;
  if (length === 0 || length > 300) return undefined;
  if (value.charCodeAt(0) === 91 /* [ */) return normalizeIpv6Literal(value);
  // One pass over the characters instead of a regular expression: this runs on every request.
  // It enforces what the label pattern of RFC 1123 does: a-z, 0-9 and inner hyphens, labels of
  // 1 to 63 characters, and finds where a port starts.
  let hostEnd = length;
  let hasUpperCase = false;
  let labelLength = 0;
  let previous = 46; /* . : the first label starts here */
  for (let index = 0; index < length; index += 1) {
    const code = value.charCodeAt(index);
    if ((code >= 97 && code <= 122) || (code >= 48 && code <= 57)) {
      labelLength += 1;
    } else if (code >= 65 && code <= 90) {
      hasUpperCase = true;
      labelLength += 1;
    } else if (code === 45 /* - */) {
      if (previous === 46) return undefined;
      labelLength += 1;
    } else if (code === 46 /* . */) {
      if (previous === 46 || previous === 45) return undefined;
      labelLength = 0;
    } else if (code === 58 /* : */) {
      hostEnd = index;
      break;
    } else {
      return undefined;
    }
    if (labelLength > 63) return undefined;
    previous = code;
  }
  if (hostEnd !== length && !isPort(value, hostEnd + 1)) return undefined;
  if (previous === 45) return undefined;
  // One trailing dot is the fully qualified form of the same name; `previous` is the last host
  // character here, and two dots in a row were refused above.
  if (previous === 46) hostEnd -= 1;
  if (hostEnd <= 0 || hostEnd > 253) return undefined;
  const host = hostEnd === length ? value : value.slice(0, hostEnd);
  return hasUpperCase ? host.toLowerCase() : host;
}

/** Whether `value` from `start` to its end is 1 to 5 digits. */
function isPort(value: string, start: number): boolean {
  const digits = value.length - start;
  if (digits < 1 || digits > 5) return false;
  for (let index = start; index < value.length; index += 1) {
    const code = value.charCodeAt(index);
    if (code < 48 || code > 57) return false;
  }
  return true;
}

/** `[v6]` or `[v6]:port` to `[v6]` in lower case, or `undefined`. */
function normalizeIpv6Literal(value: string): string | undefined {
  const close = value.indexOf(']');
  if (close === -1) return undefined;
  if (close + 1 !== value.length && !(value.charCodeAt(close + 1) === 58 /* : */ && isPort(value, close + 2))) {
    return undefined;
  }
  const literal = value.slice(1, close);
  return isIP(literal) === 6 && !literal.includes('%') ? `[${literal.toLowerCase()}]` : undefined;
}

/**
 * The host the client asked for, normalised with {@link normalizeRequestHost}: the Host header
 * (or HTTP/2 `:authority`), unless the direct peer is a trusted proxy that passed on a
 * forwarded host.
 *
 * From a trusted peer only the **last** value of a forwarded-host header is used: it is the one
 * that peer added, while anything left of it may have come from the client. So configure the
 * outermost proxy to set (or overwrite) the header and inner proxies to pass it on unchanged.
 * A forwarded host from an untrusted peer is ignored, never an error.
 *
 * @example
 * ```ts
 * const trusted = createTrustedProxies(['10.0.0.0/8']);
 * effectiveHost({ headers: { host: 'lb.internal', 'x-forwarded-host': 'acme.example.com' }, url: '/', remoteAddress: '10.0.0.2' }, trusted);
 * // 'acme.example.com'
 * ```
 */
export function effectiveHost(request: TenantRequest, trusted?: TrustedProxies): string | undefined {
  if (trusted !== undefined) {
    const forwarded = forwardedHost(request, trusted);
    if (forwarded !== undefined) return normalizeRequestHost(forwarded);
  }
  return normalizeRequestHost(headerValue(request.headers, 'host') ?? headerValue(request.headers, ':authority'));
}

/** The raw forwarded host a trusted peer passed on, or `undefined`. */
function forwardedHost(request: TenantRequest, trusted: TrustedProxies): string | undefined {
  const headers = request.headers;
  // Checking for the headers first keeps the common, proxy-less request off the BlockList.
  let peerChecked = false;
  for (const name of trusted.hostHeaders) {
    const raw = headerValue(headers, name);
    if (raw === undefined) continue;
    if (!peerChecked) {
      if (!trusted.isTrusted(request.remoteAddress)) return undefined;
      peerChecked = true;
    }
    const host = name === 'x-forwarded-host' ? lastListValue(raw) : forwardedElementHost(lastListValue(raw));
    if (host !== undefined && host !== '') return host;
  }
  return undefined;
}

function lastListValue(raw: string): string {
  const comma = raw.lastIndexOf(',');
  return (comma === -1 ? raw : raw.slice(comma + 1)).trim();
}

/** The `host` parameter of one RFC 7239 `Forwarded` element, unquoted. */
function forwardedElementHost(element: string): string | undefined {
  const match = FORWARDED_HOST_PAIR.exec(element);
  const value = match?.[1];
  if (value === undefined) return undefined;
  return value.charCodeAt(0) === 34 /* " */ ? value.slice(1, -1) : value;
}

/**
 * The client's IP address: the direct peer, or, when that is a trusted proxy, the nearest
 * untrusted address in `X-Forwarded-For` (read right to left, so a client cannot prepend its way
 * past the proxies). Use it for throttling and audit; never trust it from an untrusted peer.
 *
 * @example
 * ```ts
 * clientIp({ headers: { 'x-forwarded-for': '203.0.113.9, 10.0.0.3' }, url: '/', remoteAddress: '10.0.0.2' }, createTrustedProxies(['10.0.0.0/8']));
 * // '203.0.113.9'
 * ```
 */
export function clientIp(request: TenantRequest, trusted?: TrustedProxies): string | undefined {
  let current = request.remoteAddress;
  if (trusted === undefined || !trusted.isTrusted(current)) return current;
  const forwardedFor = headerValue(request.headers, 'x-forwarded-for');
  if (forwardedFor === undefined) return current;
  const hops = forwardedFor.split(',');
  for (let index = hops.length - 1; index >= 0; index -= 1) {
    const hop = stripHopPort((hops[index] ?? '').trim());
    // A hop that is not an address cannot be attributed; the proxy that wrote it is the best answer.
    if (hop === undefined) return current;
    current = hop;
    if (!trusted.isTrusted(hop)) return hop;
  }
  return current;
}

/** An `X-Forwarded-For` hop without port or brackets, or `undefined` when it is not an IP. */
function stripHopPort(hop: string): string | undefined {
  if (isIP(hop) !== 0) return hop;
  if (hop.charCodeAt(0) === 91 /* [ */) {
    const close = hop.indexOf(']');
    const inner = close === -1 ? '' : hop.slice(1, close);
    return isIP(inner) === 6 ? inner : undefined;
  }
  const colon = hop.lastIndexOf(':');
  if (colon !== -1 && PORT_PATTERN.test(hop.slice(colon + 1))) {
    const address = hop.slice(0, colon);
    if (isIP(address) === 4) return address;
  }
  return undefined;
}
