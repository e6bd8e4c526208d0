import type { Document } from 'mongodb';
import { copyQueryDocument } from './checked-query-copy.js';

/**
 * The tenant a rewrite scopes to: the tenant field's name and the tenant id in scope.
 *
 * @example
 * ```ts
 * const scope: TenantFieldScope = { tenantField: 'tenantId', tenantId: requireTenantId() };
 * ```
 */
export interface TenantFieldScope {
  readonly tenantField: string;
  readonly tenantId: string;
}

/**
 * The equality every scoped filter starts with: `{ [tenantField]: tenantId }`. Tenant ids are
 * validated strings, so the value can never be read as an operator.
 *
 * @example
 * ```ts
 * tenantEquality({ tenantField: 'tenantId', tenantId: 'tnt_a' }); // { tenantId: 'tnt_a' }
 * ```
 */
export function tenantEquality(scope: TenantFieldScope): Document {
  return { [scope.tenantField]: scope.tenantId };
}

/**
 * `{ $and: [tenantEquality, filter] }` for a filter that is already a checked copy (or
 * `{ $and: [tenantEquality] }` when there is none, or it is empty). The filter is never merged
 * key by key: whatever it says (`$or`, `$nor`, its own value for the tenant field), it can only
 * narrow the tenant's documents. MongoDB uses the `$and` member's equality for index selection
 * and, on upserts, to seed the new document's tenant field.
 *
 * @example
 * ```ts
 * withTenantCondition({ $or: [{ a: 1 }, { b: 2 }] }, scope);
 * // { $and: [{ tenantId: 'tnt_a' }, { $or: [{ a: 1 }, { b: 2 }] }] }
 * ```
 */
export function withTenantCondition(checkedFilter: Document | undefined, scope: TenantFieldScope): Document {
  const tenant = tenantEquality(scope);
  return { $and: checkedFilter === undefined || Object.keys(checkedFilter).length === 0 ? [tenant] : [tenant, checkedFilter] };
}

/**
 * Scopes a caller's filter to the tenant: copies and checks it ({@link copyQueryDocument}: no
 * `$where`, `$function`, `$accumulator` or `__proto__` anywhere), then wraps it with
 * {@link withTenantCondition}. `undefined` means "every document of the tenant".
 *
 * A filter that names the tenant field itself is left as it is: with another tenant's id it
 * simply matches nothing (and an upsert with it fails on the server, which refuses a field
 * matched twice), with the tenant's own id it is redundant.
 *
 * @throws TenantContextError `VALIDATION_FAILED` for a filter that is not a document;
 *   `TENANT_ISOLATION_VIOLATION` for server-side JavaScript.
 *
 * @example
 * ```ts
 * scopeFilter({ tenantId: 'tnt_other', status: 'open' }, { tenantField: 'tenantId', tenantId: 'tnt_a' });
 * // { $and: [{ tenantId: 'tnt_a' }, { tenantId: 'tnt_other', status: 'open' }] } — matches nothing
 * ```
 */
export function scopeFilter(filter: unknown, scope: TenantFieldScope, what = 'filter'): Document {
  if (filter === undefined) return withTenantCondition(undefined, scope);
  return withTenantCondition(copyQueryDocument(filter, what), scope);
}
