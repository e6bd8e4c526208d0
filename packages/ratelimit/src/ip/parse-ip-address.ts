import { isIPv4, isIPv6 } from 'node:net';

/**
 * An IP address in the form the access lists and the client-IP resolver compare: IPv4 as
 * dotted quad, IPv6 lower-cased without zone id. IPv4-mapped IPv6 (`::ffff:203.0.113.7`,
 * `::ffff:cb00:7107`) is reported as the IPv4 address, so one client never counts as two.
 *
 * @example
 * ```ts
 * const parsed: ParsedIpAddress = { family: 'ipv4', address: '203.0.113.7' };
 * ```
 */
export interface ParsedIpAddress {
  readonly family: 'ipv4' | 'ipv6';
  readonly address: string;
}

// Longest textual IPv6 with an embedded IPv4 and a zone id stays well below this; anything
// longer is not an address and is refused before any parsing work.
const MAX_ADDRESS_LENGTH = 100;
const IPV4_WITH_PORT = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/;
const PORT = /^\d{1,5}$/;

/** The embedded IPv4 of an IPv4-mapped IPv6 address (`::ffff:0:0/96`), else undefined. */
function mappedIpv4(address: string): string | undefined {
  // Every spelling of a mapped address contains the `ffff` group; most addresses skip the work.
  if (!address.includes('ffff')) return undefined;
  const dotted = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(address);
  let text = address;
  if (dotted !== null) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${address.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const tail = halves.length === 1 || halves[1] === '' ? [] : halves[1]!.split(':');
  const fill = halves.length === 1 ? 0 : 8 - head.length - tail.length;
  const groups = [...head, ...Array<string>(fill).fill('0'), ...tail].map((group) => Number.parseInt(group, 16));
  if (groups.length !== 8 || groups.slice(0, 5).some((group) => group !== 0) || groups[5] !== 0xffff) return undefined;
  const high = groups[6]!;
  const low = groups[7]!;
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/**
 * Parses a bare IP address (no port, no brackets). IPv4 must be a plain dotted quad (Node's
 * `isIPv4`: no leading zeros, no shorthand). A zone id (`fe80::1%eth0`) is dropped: it names
 * a local interface, not a different client.
 *
 * @returns undefined when the text is not an IP address.
 * @example
 * ```ts
 * parseIpAddress('::ffff:192.0.2.1');  // { family: 'ipv4', address: '192.0.2.1' }
 * parseIpAddress('2001:DB8::1');       // { family: 'ipv6', address: '2001:db8::1' }
 * parseIpAddress('localhost');         // undefined
 * ```
 */
export function parseIpAddress(text: string): ParsedIpAddress | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_ADDRESS_LENGTH) return undefined;
  if (isIPv4(text)) return { family: 'ipv4', address: text };
  const zone = text.indexOf('%');
  const address = (zone === -1 ? text : text.slice(0, zone)).toLowerCase();
  if (zone === 0 || !isIPv6(address)) return undefined;
  const ipv4 = mappedIpv4(address);
  return ipv4 === undefined ? { family: 'ipv6', address } : { family: 'ipv4', address: ipv4 };
}

/**
 * Parses one hop of a proxy header: an IP address optionally with a port, as proxies write
 * them: `203.0.113.7`, `203.0.113.7:5678`, `2001:db8::1`, `[2001:db8::1]`,
 * `[2001:db8::1]:443`. An IPv6 address with a port must be bracketed (otherwise the port is
 * indistinguishable from a last group). Surrounding spaces and tabs are ignored.
 *
 * @returns undefined for anything else (`unknown`, obfuscated ids, host names, garbage).
 * @example
 * ```ts
 * parseIpHop(' [2001:db8::1]:443 '); // { family: 'ipv6', address: '2001:db8::1' }
 * parseIpHop('198.51.100.4:80');     // { family: 'ipv4', address: '198.51.100.4' }
 * ```
 */
export function parseIpHop(text: string): ParsedIpAddress | undefined {
  if (typeof text !== 'string') return undefined;
  const hop = text.trim();
  if (hop.startsWith('[')) {
    const close = hop.indexOf(']');
    if (close === -1) return undefined;
    const rest = hop.slice(close + 1);
    if (rest !== '' && !(rest.startsWith(':') && isPort(rest.slice(1)))) return undefined;
    const parsed = parseIpAddress(hop.slice(1, close));
    // Brackets only ever enclose IPv6 (RFC 3986); `[192.0.2.1]` is not a valid hop.
    return parsed !== undefined && hop.slice(1, close).includes(':') ? parsed : undefined;
  }
  const bare = parseIpAddress(hop);
  if (bare !== undefined) return bare;
  const withPort = IPV4_WITH_PORT.exec(hop);
  if (withPort === null || !isPort(withPort[2]!)) return undefined;
  return isIPv4(withPort[1]!) ? { family: 'ipv4', address: withPort[1]! } : undefined;
}

function isPort(text: string): boolean {
  return PORT.test(text) && Number(text) <= 65_535;
}
