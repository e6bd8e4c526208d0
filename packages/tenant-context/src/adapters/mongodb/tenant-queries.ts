import type { Filter, Sort, UpdateFilter } from 'mongodb';
import type { TenantListQuery } from '../../store.js';
import type { TenantDomain } from '../../tenant.js';
import type { TenantCursorPosition } from '../keyset-cursor.js';
import { assertStoreString, assertStoreStringList, assertTenantSearch } from '../store-argument-guards.js';
import type { DomainDocument, TenantDocument } from './tenant-documents.js';

/*
 * Pure builders of the query documents the MongoDB tenant store sends. Every caller-supplied
 * value lands in a document as a checked string or number, never as a key and never as an
 * object, so a value like `{ $ne: null }` cannot widen a query. No `$where`, no JavaScript.
 */

/** Every character with a meaning in a PCRE pattern outside a character class. */
const regexMetacharacters = /[.*+?^${}()|[\]\\]/g;

/**
 * A regular expression source that matches `text` literally: every metacharacter
 * (`. * + ? ^ $ { } ( ) | [ ] \`) is backslash-escaped, and NUL (which MongoDB refuses inside
 * a pattern) becomes `\x00`.
 *
 * @example
 * ```ts
 * escapeRegexLiteral('a.b*'); // 'a\\.b\\*'
 * ```
 */
export function escapeRegexLiteral(text: string): string {
  return text.replace(regexMetacharacters, '\\$&').replaceAll('\0', '\\x00');
}

/**
 * The condition of a listing search: a case-insensitive literal substring of the slug or the
 * name. `%`, `_` and `\` have no special meaning (the contract's SQL wording), and neither has
 * any regular expression syntax.
 *
 * @throws TenantContextError `VALIDATION_FAILED` when the search is not a string or is longer
 *   than `maxTenantSearchLength` (200) characters.
 *
 * @example
 * ```ts
 * tenantSearchCondition('acme');
 * // { $or: [{ slug: { $regex: 'acme', $options: 'i' } }, { name: { $regex: 'acme', $options: 'i' } }] }
 * ```
 */
export function tenantSearchCondition(search: string): Filter<TenantDocument> {
  assertTenantSearch(search);
  const pattern = escapeRegexLiteral(search);
  return {
    $or: [{ slug: { $regex: pattern, $options: 'i' } }, { name: { $regex: pattern, $options: 'i' } }],
  };
}

/**
 * The condition that resumes a listing after a cursor position in `(createdAt, _id)` order.
 *
 * @example
 * ```ts
 * tenantsAfterCondition({ createdAt: 5, id: 'tnt_a' });
 * // { $or: [{ createdAt: { $gt: 5 } }, { createdAt: 5, _id: { $gt: 'tnt_a' } }] }
 * ```
 */
export function tenantsAfterCondition(after: TenantCursorPosition): Filter<TenantDocument> {
  return {
    $or: [{ createdAt: { $gt: after.createdAt } }, { createdAt: after.createdAt, _id: { $gt: after.id } }],
  };
}

/**
 * The filter of {@link TenantStore.listTenants}: the status filter (every status but `deleted`
 * when there is none; none at all for an empty list), the plan, the search and the cursor
 * position, all combined with AND.
 *
 * @throws TenantContextError `VALIDATION_FAILED` when a status or the plan is not a string, or
 *   the search is not a string of at most 200 characters.
 *
 * @example
 * ```ts
 * tenantListFilter({ limit: 20, plan: 'pro' }, null);
 * // { status: { $ne: 'deleted' }, plan: 'pro' }
 * ```
 */
export function tenantListFilter(query: TenantListQuery, after: TenantCursorPosition | null): Filter<TenantDocument> {
  let status: Filter<TenantDocument>['status'];
  if (query.status === undefined) {
    status = { $ne: 'deleted' };
  } else {
    assertStoreStringList(query.status, 'status');
    status = { $in: [...query.status] };
  }
  if (query.plan !== undefined) assertStoreString(query.plan, 'plan');
  const conditions: Filter<TenantDocument>[] = [];
  if (query.search !== undefined) conditions.push(tenantSearchCondition(query.search));
  if (after !== null) conditions.push(tenantsAfterCondition(after));
  return {
    status,
    ...(query.plan === undefined ? {} : { plan: query.plan }),
    ...(conditions.length === 0 ? {} : { $and: conditions }),
  };
}

/**
 * The order of tenant listings, which keyset cursors rely on: `createdAt`, then id.
 *
 * @example
 * ```ts
 * tenants.find(filter).sort(tenantListSort);
 * ```
 */
export const tenantListSort: Sort = Object.freeze({ createdAt: 1, _id: 1 }) as Sort;

/**
 * The compare-and-set filter of a tenant update: the tenant, at the version the writer read.
 *
 * @example
 * ```ts
 * tenantVersionFilter('tnt_a', 3); // { _id: 'tnt_a', version: 3 }
 * ```
 */
export function tenantVersionFilter(id: string, expectedVersion: number): Filter<TenantDocument> {
  assertStoreString(id, 'tenant id');
  return { _id: id, version: expectedVersion };
}

/**
 * The filter of one tenant's domain: the host name, and the tenant, so a tenant can never
 * change or remove another tenant's domain.
 *
 * @example
 * ```ts
 * tenantDomainFilter('tnt_a', 'app.acme.test'); // { _id: 'app.acme.test', tenantId: 'tnt_a' }
 * ```
 */
export function tenantDomainFilter(tenantId: string, hostname: string): Filter<DomainDocument> {
  assertStoreString(tenantId, 'tenant id');
  assertStoreString(hostname, 'host name');
  return { _id: hostname, tenantId };
}

/**
 * The update of {@link TenantStore.updateDomain}: status, token and `verifiedAt`; the owner
 * and `createdAt` never change.
 *
 * @example
 * ```ts
 * domainVerificationUpdate(domain);
 * // { $set: { status: 'verified', verificationToken: 'tk', verifiedAt: 1767225600123 } }
 * ```
 */
export function domainVerificationUpdate(domain: Pick<TenantDomain, 'status' | 'verificationToken' | 'verifiedAt'>): UpdateFilter<DomainDocument> {
  return { $set: { status: domain.status, verificationToken: domain.verificationToken, verifiedAt: domain.verifiedAt } };
}
