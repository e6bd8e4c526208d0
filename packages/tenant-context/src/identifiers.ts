import { TenantContextError } from './errors.js';

const SLUG_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const TENANT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Slugs no tenant may take by default, because they are common infrastructure subdomains or
 * routes. Pass your own list to the registry to change it.
 *
 * @example
 * ```ts
 * createTenantRegistry({ store, reservedSlugs: [...defaultReservedSlugs, 'status'] });
 * ```
 */
export const defaultReservedSlugs: readonly string[] = Object.freeze([
  'www', 'api', 'app', 'admin', 'auth', 'login', 'mail', 'static', 'assets', 'cdn', 'docs',
  'help', 'support', 'status', 'system', 'root', 'internal',
]);

/**
 * Whether a string is a valid tenant slug: a DNS label of 1 to 63 characters, lower-case
 * `a-z`, `0-9` and inner hyphens, no `--` at positions 3-4 (reserved for punycode).
 *
 * @example
 * ```ts
 * isValidTenantSlug('acme-corp'); // true
 * isValidTenantSlug('Acme');      // false
 * ```
 */
export function isValidTenantSlug(value: unknown): value is string {
  return typeof value === 'string' && SLUG_PATTERN.test(value) && value.slice(2, 4) !== '--';
}

/**
 * Whether a string is a valid tenant id: 1 to 64 characters of `A-Z a-z 0-9 _ -`.
 *
 * @example
 * ```ts
 * isValidTenantId('tnt_01hx'); // true
 * isValidTenantId('../etc');   // false
 * ```
 */
export function isValidTenantId(value: unknown): value is string {
  return typeof value === 'string' && TENANT_ID_PATTERN.test(value);
}

/**
 * Throws `TENANT_IDENTIFIER_INVALID` unless `value` is a valid slug.
 *
 * @example
 * ```ts
 * assertTenantSlug(req.params.slug);
 * ```
 */
export function assertTenantSlug(value: unknown): asserts value is string {
  if (!isValidTenantSlug(value)) {
    throw new TenantContextError(
      'TENANT_IDENTIFIER_INVALID',
      'A tenant slug must be 1 to 63 characters of a-z, 0-9 and inner hyphens',
    );
  }
}

/**
 * Throws `TENANT_IDENTIFIER_INVALID` unless `value` is a valid tenant id.
 *
 * @example
 * ```ts
 * assertTenantId(job.tenantId);
 * ```
 */
export function assertTenantId(value: unknown): asserts value is string {
  if (!isValidTenantId(value)) {
    throw new TenantContextError(
      'TENANT_IDENTIFIER_INVALID',
      'A tenant id must be 1 to 64 characters of A-Z, a-z, 0-9, "_" or "-"',
    );
  }
}
