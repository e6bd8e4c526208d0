import { BlockList } from 'node:net';
import { parseIpAddress, type ParsedIpAddress } from './parse-ip-address.js';

/**
 * Named address ranges accepted where a trusted-proxy list is configured (the names follow
 * the `proxy-addr` package that Express uses):
 * - `loopback`: `127.0.0.0/8`, `::1/128`
 * - `linklocal`: `169.254.0.0/16`, `fe80::/10`
 * - `uniquelocal`: `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16` (RFC 1918), `fc00::/7`
 * - `private`: `uniquelocal` and `linklocal` together
 *
 * @example
 * ```ts
 * const preset: IpRangePreset = 'private';
 * ```
 */
export type IpRangePreset = 'loopback' | 'linklocal' | 'uniquelocal' | 'private';

const LINK_LOCAL = ['169.254.0.0/16', 'fe80::/10'] as const;
const UNIQUE_LOCAL = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'] as const;

/**
 * The ranges behind every {@link IpRangePreset}.
 *
 * @example
 * ```ts
 * ipRangePresets.loopback; // ['127.0.0.0/8', '::1/128']
 * ```
 */
export const ipRangePresets: Readonly<Record<IpRangePreset, readonly string[]>> = Object.freeze({
  loopback: Object.freeze(['127.0.0.0/8', '::1/128']),
  linklocal: Object.freeze([...LINK_LOCAL]),
  uniquelocal: Object.freeze([...UNIQUE_LOCAL]),
  private: Object.freeze([...UNIQUE_LOCAL, ...LINK_LOCAL]),
});

/**
 * A compiled set of IP addresses and CIDR ranges (IPv4 and IPv6).
 *
 * @example
 * ```ts
 * const { matcher } = compileIpRanges(['10.0.0.0/8']);
 * matcher.matches({ family: 'ipv4', address: '10.1.2.3' }); // true
 * ```
 */
export interface IpRangeMatcher {
  /** Whether the address is one of the listed addresses or inside one of the ranges. */
  matches(ip: ParsedIpAddress): boolean;
  /** True when nothing was listed (a check is then always false). */
  readonly empty: boolean;
}

/**
 * The result of {@link compileIpRanges}: the matcher and the entries it could not read, so
 * the caller can refuse the whole configuration with one precise error.
 *
 * @example
 * ```ts
 * const { invalid } = compileIpRanges(['10.0.0.0/33']);
 * invalid; // ['10.0.0.0/33']
 * ```
 */
export interface CompiledIpRanges {
  readonly matcher: IpRangeMatcher;
  readonly invalid: readonly string[];
}

const PREFIX = /^\d{1,3}$/;

/**
 * Compiles addresses (`203.0.113.7`, `2001:db8::1`) and CIDR ranges (`10.0.0.0/8`,
 * `2001:db8::/32`; bits below the prefix are ignored, as `BlockList` does) into a matcher
 * backed by `node:net` `BlockList`, with a `Set` for exact IPv4 hits. IPv4-mapped IPv6 is
 * treated as IPv4, for entries (`::ffff:10.0.0.0/104` is `10.0.0.0/8`) and for checked
 * addresses alike. With `presets: true`, the names of {@link IpRangePreset} are accepted too.
 *
 * @example
 * ```ts
 * const { matcher, invalid } = compileIpRanges(['loopback', '10.0.0.0/8'], { presets: true });
 * if (invalid.length > 0) throw new Error(`bad entries: ${invalid.join(', ')}`);
 * ```
 */
export function compileIpRanges(
  entries: readonly string[],
  options: { readonly presets?: boolean } = {},
): CompiledIpRanges {
  const exactIpv4 = new Set<string>();
  const blockList = new BlockList();
  let ranges = 0;
  const invalid: string[] = [];

  const add = (entry: string): boolean => {
    const slash = entry.indexOf('/');
    const parsed = parseIpAddress(slash === -1 ? entry : entry.slice(0, slash));
    if (parsed === undefined) return false;
    if (slash === -1) {
      if (parsed.family === 'ipv4') exactIpv4.add(parsed.address);
      else blockList.addAddress(parsed.address, 'ipv6');
      ranges += 1;
      return true;
    }
    const prefixText = entry.slice(slash + 1);
    if (!PREFIX.test(prefixText)) return false;
    let prefix = Number(prefixText);
    const writtenAsIpv6 = entry.slice(0, slash).includes(':');
    if (parsed.family === 'ipv4' && writtenAsIpv6) {
      // A mapped range (::ffff:a.b.c.d/n) covers IPv4 only from /96 on.
      if (prefix < 96 || prefix > 128) return false;
      prefix -= 96;
    }
    if (prefix > (parsed.family === 'ipv4' ? 32 : 128)) return false;
    blockList.addSubnet(parsed.address, prefix, parsed.family);
    ranges += 1;
    return true;
  };

  for (const entry of entries) {
    if (typeof entry !== 'string') {
      invalid.push(String(entry));
      continue;
    }
    const text = entry.trim();
    if (options.presets === true && Object.hasOwn(ipRangePresets, text)) {
      for (const range of ipRangePresets[text as IpRangePreset]) add(range);
      continue;
    }
    if (!add(text)) invalid.push(entry);
  }

  const empty = ranges === 0;
  const matcher: IpRangeMatcher = Object.freeze({
    empty,
    matches(ip: ParsedIpAddress): boolean {
      if (empty) return false;
      if (ip.family === 'ipv4' && exactIpv4.has(ip.address)) return true;
      return blockList.check(ip.address, ip.family);
    },
  });
  return Object.freeze({ matcher, invalid: Object.freeze(invalid) });
}
