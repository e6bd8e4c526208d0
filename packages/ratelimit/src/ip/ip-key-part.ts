import { isIPv4, isIPv6 } from 'node:net';
import { RateLimitError } from '../errors.js';

const IPV4_MAPPED = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** Expands an IPv6 address (already checked by `isIPv6`) to eight 16-bit groups. */
function ipv6Groups(address: string): number[] {
  let text = address.split('%')[0]!.toLowerCase();
  // A trailing dotted quad (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) becomes two groups.
  const dotted = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (dotted !== null) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? (text.split('::') as [string, string]) : [text, undefined];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = [...headGroups, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...tailGroups];
  return groups.map((group) => Number.parseInt(group, 16));
}

/**
 * The part of a client IP a rate-limit key uses: an IPv4 address as it is, an IPv6 address
 * as its /64 network (`2001:db8:1:2::/64`), because one IPv6 subscriber usually holds a whole
 * /64 and could otherwise rotate through 2^64 addresses to dodge a per-IP limit. IPv4-mapped
 * IPv6 (`::ffff:203.0.113.7`) counts as the IPv4 address; zone ids are dropped.
 *
 * @throws `RATE_LIMIT_KEY_INVALID` when the value is not an IP address.
 * @example
 * ```ts
 * ipKeyPart('203.0.113.7');             // '203.0.113.7'
 * ipKeyPart('2001:db8:1:2:aaaa::1');    // '2001:db8:1:2::/64'
 * ipKeyPart('::ffff:203.0.113.7');      // '203.0.113.7'
 * ```
 */
export function ipKeyPart(ip: string): string {
  if (typeof ip !== 'string' || ip.length === 0 || ip.length > 64) {
    throw new RateLimitError('RATE_LIMIT_KEY_INVALID', 'The client IP must be an IPv4 or IPv6 address');
  }
  const mapped = IPV4_MAPPED.exec(ip);
  const candidate = mapped === null ? ip : mapped[1]!;
  if (isIPv4(candidate)) return candidate;
  if (!isIPv6(candidate.split('%')[0]!)) {
    throw new RateLimitError('RATE_LIMIT_KEY_INVALID', 'The client IP must be an IPv4 or IPv6 address');
  }
  const groups = ipv6Groups(candidate);
  if (groups.length !== 8 || groups.some((group) => !Number.isInteger(group))) {
    throw new RateLimitError('RATE_LIMIT_KEY_INVALID', 'The client IP must be an IPv4 or IPv6 address');
  }
  // IPv4-mapped in hex form (::ffff:cb00:7107) is the IPv4 address too.
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  }
  return `${groups.slice(0, 4).map((group) => group.toString(16)).join(':')}::/64`;
}
