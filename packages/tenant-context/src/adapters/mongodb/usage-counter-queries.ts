import type { Filter, UpdateFilter } from 'mongodb';
import { assertStoreString } from '../store-argument-guards.js';
import type { UsageCounterDocument } from './usage-counter-documents.js';

/*
 * Pure builders of the documents the MongoDB usage-counter store sends. Amounts, limits and
 * values reach these builders already validated as safe integers; only they, and strings
 * checked here, ever enter a filter, an update or a pipeline.
 */

/**
 * The filter of one counter, by its `(tenantId, resource)` `_id`.
 *
 * @throws TenantContextError `VALIDATION_FAILED` when the tenant id or the resource is not a string.
 *
 * @example
 * ```ts
 * usageCounterFilter('tnt_a', 'users'); // { _id: { tenantId: 'tnt_a', resource: 'users' } }
 * ```
 */
export function usageCounterFilter(tenantId: string, resource: string): Filter<UsageCounterDocument> {
  assertStoreString(tenantId, 'tenant id');
  assertStoreString(resource, 'resource');
  return { _id: { tenantId, resource } };
}

/**
 * The filter of every counter of a tenant.
 *
 * @example
 * ```ts
 * usageCountersOfTenantFilter('tnt_a'); // { tenantId: 'tnt_a' }
 * ```
 */
export function usageCountersOfTenantFilter(tenantId: string): Filter<UsageCounterDocument> {
  assertStoreString(tenantId, 'tenant id');
  return { tenantId };
}

/**
 * The admission filter of an increment: the counter, only while `value <= ceiling - amount`,
 * where the ceiling is `limit`, or `Number.MAX_SAFE_INTEGER` when unlimited (`-1`) so that no
 * counter ever passes the largest integer a JS number holds exactly. The filter is evaluated and
 * the update applied as one atomic step on the document, which is what makes admission atomic.
 *
 * Returns `null` when `amount` exceeds the ceiling: no counter value could admit it, and an
 * upsert with that filter would insert a fresh counter holding `amount` — above the limit.
 *
 * @example
 * ```ts
 * usageIncrementFilter('tnt_a', 'users', 1, 10);
 * // { _id: { tenantId: 'tnt_a', resource: 'users' }, value: { $lte: 9 } }
 * usageIncrementFilter('tnt_a', 'users', 11, 10); // null
 * ```
 */
export function usageIncrementFilter(tenantId: string, resource: string, amount: number, limit: number): Filter<UsageCounterDocument> | null {
  const ceiling = limit === -1 ? Number.MAX_SAFE_INTEGER : limit;
  if (amount > ceiling) return null;
  return { ...usageCounterFilter(tenantId, resource), value: { $lte: ceiling - amount } };
}

/**
 * The update of an admitted increment. On an upsert, the `_id` comes from the filter's equality
 * and `$setOnInsert` fills in the top-level pair, while `$inc` starts the counter at `amount`.
 *
 * @example
 * ```ts
 * usageIncrementUpdate('tnt_a', 'users', 2);
 * // { $inc: { value: 2 }, $setOnInsert: { tenantId: 'tnt_a', resource: 'users' } }
 * ```
 */
export function usageIncrementUpdate(tenantId: string, resource: string, amount: number): UpdateFilter<UsageCounterDocument> {
  return { $inc: { value: amount }, $setOnInsert: { tenantId, resource } };
}

/**
 * The update of an outright set (reconciliation), as an upsert.
 *
 * @example
 * ```ts
 * usageSetUpdate('tnt_a', 'users', 12);
 * // { $set: { value: 12 }, $setOnInsert: { tenantId: 'tnt_a', resource: 'users' } }
 * ```
 */
export function usageSetUpdate(tenantId: string, resource: string, value: number): UpdateFilter<UsageCounterDocument> {
  return { $set: { value }, $setOnInsert: { tenantId, resource } };
}

/**
 * The update pipeline of a decrement: `value = max(0, value - amount)`, computed by the server
 * on the document itself, so concurrent decrements never take a counter below 0 and none is
 * lost (a read-then-write would do both).
 *
 * @example
 * ```ts
 * usageDecrementPipeline(3);
 * // [{ $set: { value: { $max: [0, { $subtract: ['$value', 3] }] } } }]
 * ```
 */
export function usageDecrementPipeline(amount: number): Record<string, unknown>[] {
  return [{ $set: { value: { $max: [0, { $subtract: ['$value', amount] }] } } }];
}
