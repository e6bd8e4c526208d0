import { RateLimitError } from '../errors.js';
import { compileIpRanges } from '../ip/ip-range-matcher.js';
import { parseIpAddress } from '../ip/parse-ip-address.js';
import type { RateLimitSubject } from '../policies/rate-limit-policy.js';
import type { AccessListOptions } from './access-list.js';

/**
 * A compiled allow or deny list.
 *
 * @example
 * ```ts
 * const denyList: AccessList = createAccessList({ ips: ['198.51.100.0/24'] });
 * if (denyList.matches({ ip: '198.51.100.9' })) throw new RateLimitError('CLIENT_DENIED', 'Access denied');
 * ```
 */
export interface AccessList {
  /**
   * Whether any field of the subject is listed: its IP (inside a listed address or range,
   * IPv4-mapped IPv6 counted as IPv4) or its exact tenant id, user id, API key id or key.
   * Only the subject is read (the limiter passes the tenant it resolved); an IP that is not
   * an address matches nothing.
   *
   * @example
   * ```ts
   * allowList.matches({ ip: '::ffff:10.0.0.5' }); // true for ips: ['10.0.0.0/8']
   * ```
   */
  matches(subject: RateLimitSubject): boolean;
}

const LIST_FIELDS = ['ips', 'tenantIds', 'userIds', 'apiKeyIds', 'keys'] as const;
const MAX_VALUE_LENGTH = 256;

function describe(entry: unknown): string {
  const text = typeof entry === 'string' ? JSON.stringify(entry) : String(entry);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function valueSet(field: string, values: readonly unknown[], invalid: string[]): ReadonlySet<string> | undefined {
  const set = new Set<string>();
  for (const value of values) {
    if (typeof value === 'string' && value.length > 0 && value.length <= MAX_VALUE_LENGTH) set.add(value);
    else invalid.push(`${field}: ${describe(value)}`);
  }
  return set.size === 0 ? undefined : set;
}

/**
 * Compiles {@link AccessListOptions} into an {@link AccessList}. IPs and CIDR ranges (IPv4
 * and IPv6) go into a `node:net` `BlockList` (exact IPv4 addresses into a `Set`), the other
 * dimensions into `Set`s, so a check costs a few lookups whatever the list size.
 *
 * @throws `CONFIGURATION_INVALID` when the options are not an object of string arrays or an
 *   entry is not an address, a CIDR range or a 1–256 character value; the message lists every
 *   bad entry.
 * @example
 * ```ts
 * const allowList = createAccessList({ ips: ['10.0.0.0/8', '2001:db8::/32'], apiKeyIds: ['key_monitoring'] });
 * allowList.matches({ ip: '2001:db8:ffff::1' }); // true
 * allowList.matches({ apiKeyId: 'key_other' });  // false
 * ```
 */
export function createAccessList(options: AccessListOptions): AccessList {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new RateLimitError('CONFIGURATION_INVALID', 'The access list options must be an object');
  }
  for (const field of Object.keys(options)) {
    if (!(LIST_FIELDS as readonly string[]).includes(field)) {
      throw new RateLimitError('CONFIGURATION_INVALID', `The access list has an unknown field ${describe(field)}`, {
        details: { field },
      });
    }
  }
  for (const field of LIST_FIELDS) {
    const value = options[field];
    if (value !== undefined && !Array.isArray(value)) {
      throw new RateLimitError('CONFIGURATION_INVALID', `The access list field "${field}" must be an array of strings`, {
        details: { field },
      });
    }
  }

  const invalid: string[] = [];
  const ipEntries = options.ips ?? [];
  const { matcher: ipMatcher, invalid: badIps } = compileIpRanges(ipEntries);
  for (const entry of badIps) invalid.push(`ips: ${describe(entry)}`);
  for (const entry of ipEntries) {
    if (typeof entry === 'string' && entry.length > MAX_VALUE_LENGTH) invalid.push(`ips: ${describe(entry)}`);
  }
  const tenantIds = valueSet('tenantIds', options.tenantIds ?? [], invalid);
  const userIds = valueSet('userIds', options.userIds ?? [], invalid);
  const apiKeyIds = valueSet('apiKeyIds', options.apiKeyIds ?? [], invalid);
  const keys = valueSet('keys', options.keys ?? [], invalid);
  if (invalid.length > 0) {
    throw new RateLimitError(
      'CONFIGURATION_INVALID',
      `The access list has invalid entries (IPs must be addresses or CIDR ranges, other values 1-${MAX_VALUE_LENGTH} characters): ${invalid.join(', ')}`,
      { details: { invalid } },
    );
  }

  const checksIp = !ipMatcher.empty;
  return Object.freeze({
    matches(subject: RateLimitSubject): boolean {
      if (typeof subject !== 'object' || subject === null) return false;
      if (tenantIds !== undefined && subject.tenantId !== undefined && tenantIds.has(subject.tenantId)) return true;
      if (userIds !== undefined && subject.userId !== undefined && userIds.has(subject.userId)) return true;
      if (apiKeyIds !== undefined && subject.apiKeyId !== undefined && apiKeyIds.has(subject.apiKeyId)) return true;
      if (keys !== undefined && subject.key !== undefined && keys.has(subject.key)) return true;
      if (checksIp && typeof subject.ip === 'string') {
        const ip = parseIpAddress(subject.ip);
        return ip !== undefined && ipMatcher.matches(ip);
      }
      return false;
    },
  });
}
