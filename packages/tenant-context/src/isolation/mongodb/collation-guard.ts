import { TenantContextError } from '../../errors.js';
import { isDocumentLike } from './checked-query-copy.js';

/*
 * A collation changes what string equality means, for the tenant equality too. Tenant ids are
 * case-sensitive (`tnt_a` and `TNT_A` are two tenants), so a case-insensitive collation
 * (strength 1 or 2) would make one tenant's filter match the other's documents, and a unique
 * index with such a collation would let one tenant's insert collide with (and so probe) the
 * other's. `alternate: 'shifted'` ignores the `-` and `_` tenant ids may contain
 * (`tnt-a` = `tnt_a` = `tnta`), and `numericOrdering` compares digit runs as numbers
 * (`tnt_01` = `tnt_1`). A collation is safe when it keeps every two distinct ids of
 * `A-Z a-z 0-9 _ -` distinct.
 */

interface CollationShape {
  locale?: unknown;
  strength?: unknown;
  alternate?: unknown;
  numericOrdering?: unknown;
}

/**
 * Why `collation` could compare two distinct tenant ids as equal, or `undefined` when it
 * cannot: the binary `simple` locale, or strength 3 to 5 without `numericOrdering` and without
 * `alternate: 'shifted'` (both are fine at strength 5, `shifted` also at 4).
 *
 * @example
 * ```ts
 * tenantIdCollisionOf({ locale: 'en', strength: 2 }); // 'it ignores case ...'
 * tenantIdCollisionOf({ locale: 'en' }); // undefined (strength 3)
 * ```
 */
export function tenantIdCollisionOf(collation: unknown): string | undefined {
  if (!isDocumentLike(collation)) return 'it is not a collation document';
  const { locale, strength = 3, alternate, numericOrdering } = collation as CollationShape;
  if (locale === 'simple') return undefined;
  if (strength !== 1 && strength !== 2 && strength !== 3 && strength !== 4 && strength !== 5) return 'its strength is not 1 to 5';
  if (strength <= 2) return `it ignores case at strength ${strength} ("tnt_a" would match "TNT_A")`;
  if (strength === 5) return undefined;
  if (numericOrdering === true) return 'numericOrdering compares digits as numbers ("tnt_01" would match "tnt_1")';
  if (alternate === 'shifted' && strength === 3) return 'alternate "shifted" ignores punctuation ("tnt-a" would match "tnt_a")';
  return undefined;
}

/**
 * Throws `TENANT_ISOLATION_VIOLATION` when a collation could compare two distinct tenant ids
 * as equal (see {@link tenantIdCollisionOf}). For case-insensitive matching of other fields,
 * store a normalised copy of the field or use a case-insensitive regular expression.
 *
 * @example
 * ```ts
 * assertTenantSafeCollation(options.collation, 'find options.collation');
 * ```
 */
export function assertTenantSafeCollation(collation: unknown, what: string): void {
  const collision = tenantIdCollisionOf(collation);
  if (collision === undefined) return;
  throw new TenantContextError(
    'TENANT_ISOLATION_VIOLATION',
    `${what} is refused because ${collision}: the tenant equality would compare two tenants as one. Use strength 3 or more without numericOrdering or alternate "shifted", or the "simple" locale`,
    { details: { path: what } },
  );
}
