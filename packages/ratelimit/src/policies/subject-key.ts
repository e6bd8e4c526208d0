import { RateLimitError } from '../errors.js';
import { ipKeyPart } from '../ip/ip-key-part.js';
import type { RateLimitDimension, RateLimitSubject } from './rate-limit-policy.js';

/** The longest key value (user id, API key id, route, key, tenant id) a key accepts. */
const MAX_KEY_VALUE_LENGTH = 256;

// `%` itself is encoded, so the encoding is injective: no value can spell out a separator (`:`)
// or a hash tag brace of another key.
const NEEDS_ENCODING = /[%:{}\s]/;
const TO_ENCODE = /[%:{}\s]/g;

/**
 * The `ip` of a subject whose client address is not known (no peer address and no trusted
 * forwarding header, see the `'unix'` trusted-proxy preset). The bindings set it so that IP-keyed
 * policies still apply: every such request counts against one shared key (`ip=unknown`), which
 * limits them together rather than not at all. It matches no access-list IP entry.
 *
 * @example
 * ```ts
 * subjectKeyBuilder(['ip'])({ ip: UNKNOWN_CLIENT_IP }, undefined); // '{ip=unknown}'
 * await limiter.delete('ip', { ip: UNKNOWN_CLIENT_IP });           // reset the shared counter
 * ```
 */
export const UNKNOWN_CLIENT_IP = 'unknown';

// Node 20 has String.prototype.isWellFormed; older runtimes get the same check by pattern.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const isWellFormed: (value: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function'
    ? (value) => (value as string & { isWellFormed(): boolean }).isWellFormed()
    : (value) => !LONE_SURROGATE.test(value);

/** The subject field each dimension reads. */
const SUBJECT_FIELD = {
  tenant: 'tenantId',
  user: 'userId',
  apiKey: 'apiKeyId',
  ip: 'ip',
  route: 'route',
  key: 'key',
} as const satisfies Record<RateLimitDimension, keyof RateLimitSubject>;

/**
 * Percent-encodes the characters that carry meaning in a store key (`%`, `:`, `{`, `}` and
 * whitespace), so a user id such as `a:user=b` or `{other}` can neither forge another key's
 * parts nor pick a Redis Cluster hash tag.
 *
 * @example
 * ```ts
 * encodeKeyValue('u:1{x}'); // 'u%3A1%7Bx%7D'
 * encodeKeyValue('u_1');    // 'u_1'
 * ```
 */
export function encodeKeyValue(value: string): string {
  return NEEDS_ENCODING.test(value) ? value.replace(TO_ENCODE, encodeURIComponent) : value;
}

function assertKeyValue(value: unknown, dimension: RateLimitDimension): asserts value is string {
  // A lone surrogate is refused: encoded as UTF-8 (as Redis stores keys) it turns into U+FFFD,
  // so two different values would share one counter.
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_KEY_VALUE_LENGTH || !isWellFormed(value)) {
    throw new RateLimitError(
      'RATE_LIMIT_KEY_INVALID',
      `The rate-limit key part "${dimension}" must be a well-formed string of 1-${MAX_KEY_VALUE_LENGTH} characters`,
      { details: { dimension } },
    );
  }
}

/**
 * The hash tag of a tenant's keys, `{<encoded tenant id>}`: every counter of one tenant lands
 * in one Redis Cluster slot.
 *
 * @throws `RATE_LIMIT_KEY_INVALID` when the tenant id is not a well-formed string of 1-256
 *   characters (no lone surrogates).
 * @example
 * ```ts
 * tenantHashTag('acme'); // '{acme}'
 * ```
 */
export function tenantHashTag(tenantId: string): string {
  assertKeyValue(tenantId, 'tenant');
  return `{${encodeKeyValue(tenantId)}}`;
}

/**
 * Builds one policy's key (below its store prefix) for a subject, or returns `undefined` when
 * the subject lacks a (non-tenant) field the policy keys by, so the policy does not apply.
 *
 * @example
 * ```ts
 * const keyOf: SubjectKeyBuilder = subjectKeyBuilder(['tenant', 'user']);
 * keyOf({ userId: 'u_1' }, tenantHashTag('acme')); // '{acme}:user=u_1'
 * ```
 */
export type SubjectKeyBuilder = (subject: RateLimitSubject, tenantTag: string | undefined) => string | undefined;

/**
 * Compiles a policy's dimensions into a {@link SubjectKeyBuilder}. The key is
 * `{hashTag}` followed by `:dimension=value` for every dimension other than `tenant`, in
 * declaration order, each value percent-encoded (see {@link encodeKeyValue}) and IPs reduced
 * by `ipKeyPart` (an IPv6 address by its /64; {@link UNKNOWN_CLIENT_IP} kept as it is). The hash tag is the tenant's
 * ({@link tenantHashTag}) when the policy keys by tenant; otherwise it is the joined parts
 * themselves, which spreads such counters over every Cluster slot.
 *
 * The builder takes the tenant's hash tag already built, so a check encodes the tenant once for
 * all its policies. With `tenant` among the dimensions and no tag it throws
 * `TENANT_SCOPE_REQUIRED`, even when another field is missing as well.
 *
 * @throws (from the builder) `RATE_LIMIT_KEY_INVALID` when a present value is not a well-formed
 *   string of 1-256 characters (a lone surrogate would collide with U+FFFD once stored as
 *   UTF-8) or the IP is neither an address nor {@link UNKNOWN_CLIENT_IP};
 *   `TENANT_SCOPE_REQUIRED` as above.
 * @example
 * ```ts
 * subjectKeyBuilder(['tenant'])({}, '{acme}');                   // '{acme}'
 * subjectKeyBuilder(['ip'])({ ip: '2001:db8:1:2::9' }, undefined); // '{ip=2001%3Adb8%3A1%3A2%3A%3A/64}'
 * subjectKeyBuilder(['user', 'route'])({ userId: 'u_1' }, undefined); // undefined (no route)
 * ```
 */
export function subjectKeyBuilder(dimensions: readonly RateLimitDimension[]): SubjectKeyBuilder {
  const byTenant = dimensions.includes('tenant');
  const others = dimensions.filter((dimension) => dimension !== 'tenant');
  const fields = others.map((dimension) => SUBJECT_FIELD[dimension]);
  const prefixes = others.map((dimension, index) => `${index === 0 ? '' : ':'}${dimension}=`);

  return (subject, tenantTag) => {
    // Checked first: a missing tenant is a scoping bug even when another part is missing too.
    if (byTenant && tenantTag === undefined) {
      throw new RateLimitError('TENANT_SCOPE_REQUIRED', 'A tenant-keyed rate-limit policy needs subject.tenantId or a tenant scope');
    }
    let parts = '';
    for (let index = 0; index < others.length; index += 1) {
      const dimension = others[index]!;
      const raw = subject[fields[index]!];
      if (raw === undefined) return undefined;
      assertKeyValue(raw, dimension);
      const value = dimension !== 'ip' ? raw : raw === UNKNOWN_CLIENT_IP ? raw : ipKeyPart(raw);
      parts += prefixes[index]! + encodeKeyValue(value);
    }
    if (!byTenant) return `{${parts}}`;
    return parts === '' ? tenantTag! : `${tenantTag!}:${parts}`;
  };
}
