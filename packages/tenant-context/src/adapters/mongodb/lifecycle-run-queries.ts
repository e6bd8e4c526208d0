import type { Filter, Sort } from 'mongodb';
import type { LifecycleRunQuery } from '../../store.js';
import { assertLeaseExpiredBefore, assertStoreString, assertStoreStringList } from '../store-argument-guards.js';
import type { LifecycleRunDocument } from './lifecycle-run-documents.js';

/*
 * Pure builders of the query documents the MongoDB lifecycle-run store sends.
 */

/**
 * The filter of {@link LifecycleRunStore.listRuns}: kind, states (none match an empty list),
 * tenant and free or expired lease, each only when given. The lease condition has no index of
 * its own: crash recovery lists unfinished states, which the `state_createdAt_id` index narrows
 * to the few runs in flight, and the held leases among them are filtered as they are fetched.
 *
 * @throws TenantContextError `VALIDATION_FAILED` when the kind, a state or the tenant id is not
 *   a string, or `leaseExpiredBefore` is not a safe integer.
 *
 * @example
 * ```ts
 * lifecycleRunListFilter({ limit: 100, state: ['running', 'compensating'], leaseExpiredBefore: 1767225600001 });
 * // { state: { $in: ['running', 'compensating'] },
 * //   $or: [{ leaseExpiresAt: null }, { leaseExpiresAt: { $lt: 1767225600001 } }] }
 * ```
 */
export function lifecycleRunListFilter(query: LifecycleRunQuery): Filter<LifecycleRunDocument> {
  if (query.tenantId !== undefined) assertStoreString(query.tenantId, 'tenant id');
  if (query.kind !== undefined) assertStoreString(query.kind, 'kind');
  if (query.state !== undefined) {
    assertStoreStringList(query.state, 'state');
  }
  const { leaseExpiredBefore } = query;
  if (leaseExpiredBefore !== undefined) assertLeaseExpiredBefore(leaseExpiredBefore);
  return {
    ...(query.tenantId === undefined ? {} : { tenantId: query.tenantId }),
    ...(query.kind === undefined ? {} : { kind: query.kind }),
    ...(query.state === undefined ? {} : { state: { $in: [...query.state] } }),
    // `null` also matches a missing field; the stores always write one, so both mean "free".
    ...(leaseExpiredBefore === undefined
      ? {}
      : { $or: [{ leaseExpiresAt: null }, { leaseExpiresAt: { $lt: leaseExpiredBefore } }] }),
  };
}

/**
 * The order of run listings: oldest `createdAt` first, then id, so equal timestamps still list
 * in one stable order.
 *
 * @example
 * ```ts
 * runs.find(filter).sort(lifecycleRunListSort);
 * ```
 */
export const lifecycleRunListSort: Sort = Object.freeze({ createdAt: 1, _id: 1 }) as Sort;

/**
 * The compare-and-set filter of a run update: the run, at the version the writer read.
 *
 * @example
 * ```ts
 * lifecycleRunVersionFilter('run_1', 2); // { _id: 'run_1', version: 2 }
 * ```
 */
export function lifecycleRunVersionFilter(id: string, expectedVersion: number): Filter<LifecycleRunDocument> {
  assertStoreString(id, 'run id');
  return { _id: id, version: expectedVersion };
}
