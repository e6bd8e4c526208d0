import { TenantContextError } from '../errors.js';
import { maxTenantSearchLength } from '../store.js';

/*
 * Argument checks every store adapter (memory, SQL, MongoDB, Redis) makes before it touches
 * its backend, so a bad argument fails with the same `VALIDATION_FAILED` and message whatever
 * the store, and never as a driver error after a round trip. Checks that follow from one
 * backend's columns (lengths, storable characters) stay with that adapter.
 */

/**
 * The largest page or list size a store returns in one call.
 *
 * @example
 * ```ts
 * assertPageLimit(maxStorePageSize); // fine
 * ```
 */
export const maxStorePageSize = 500;

/**
 * Throws `VALIDATION_FAILED` unless `limit` is a whole number from 1 to 500.
 *
 * @example
 * ```ts
 * assertPageLimit(query.limit);
 * ```
 */
export function assertPageLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > maxStorePageSize) {
    throw new TenantContextError('VALIDATION_FAILED', `A page size must be a whole number from 1 to ${maxStorePageSize}`, {
      details: { limit: String(limit) },
    });
  }
}

/**
 * Throws `VALIDATION_FAILED` unless `version` is `expectedVersion + 1`: every write bumps the
 * version by exactly one, and a caller that does otherwise would break compare-and-set for
 * everyone else.
 *
 * @example
 * ```ts
 * assertExpectedVersion(tenant.version, expectedVersion);
 * ```
 */
export function assertExpectedVersion(version: number, expectedVersion: number): void {
  if (!Number.isSafeInteger(expectedVersion) || version !== expectedVersion + 1) {
    throw new TenantContextError('VALIDATION_FAILED', 'The new version must be the expected version plus one', {
      details: { version, expectedVersion },
    });
  }
}

/**
 * Throws `VALIDATION_FAILED` unless `amount` is a positive safe integer.
 *
 * @example
 * ```ts
 * assertPositiveAmount(amount);
 * ```
 */
export function assertPositiveAmount(amount: number): void {
  if (!Number.isSafeInteger(amount) || amount < 1) {
    throw new TenantContextError('VALIDATION_FAILED', 'A usage amount must be a positive safe integer', {
      details: { amount: String(amount) },
    });
  }
}

/**
 * Throws `VALIDATION_FAILED` unless `limit` is `-1` (unlimited) or a non-negative safe integer.
 *
 * @example
 * ```ts
 * assertCounterLimit(limit);
 * ```
 */
export function assertCounterLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < -1) {
    throw new TenantContextError('VALIDATION_FAILED', 'A usage limit must be -1 (unlimited) or a non-negative safe integer', {
      details: { limit: String(limit) },
    });
  }
}

/**
 * Throws `VALIDATION_FAILED` unless `value` is a non-negative safe integer.
 *
 * @example
 * ```ts
 * assertCounterValue(value);
 * ```
 */
export function assertCounterValue(value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TenantContextError('VALIDATION_FAILED', 'A usage counter must be a non-negative safe integer', {
      details: { value: String(value) },
    });
  }
}

/**
 * The error an unlimited increment raises when the counter would pass
 * `Number.MAX_SAFE_INTEGER` (beyond it, counters could no longer be read back exactly).
 *
 * @example
 * ```ts
 * throw counterOverflowError('storage');
 * ```
 */
export function counterOverflowError(resource: string): TenantContextError {
  return new TenantContextError('VALIDATION_FAILED', 'The counter would exceed the largest safe integer', {
    details: { resource },
  });
}

/**
 * Throws `VALIDATION_FAILED` unless `value` is a string. Stores that put arguments into query
 * documents need it at run time, whatever the types say: an object such as `{ $ne: null }`
 * passed as an id would otherwise turn an exact lookup into a match-anything query.
 *
 * @example
 * ```ts
 * assertStoreString(tenantId, 'tenantId');
 * ```
 */
export function assertStoreString(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string') {
    throw new TenantContextError('VALIDATION_FAILED', `The ${field} must be a string`, { details: { field } });
  }
}

/**
 * Throws `VALIDATION_FAILED` unless `values` is an array of strings (a status filter, say), for
 * the same reason as {@link assertStoreString}.
 *
 * @example
 * ```ts
 * assertStoreStringList(query.status, 'status');
 * ```
 */
export function assertStoreStringList(values: unknown, field: string): asserts values is readonly string[] {
  if (!Array.isArray(values)) {
    throw new TenantContextError('VALIDATION_FAILED', `The ${field} filter must be a list`, { details: { field } });
  }
  for (const value of values) assertStoreString(value, field);
}

/**
 * Throws `VALIDATION_FAILED` unless `search` is a string of at most
 * {@link maxTenantSearchLength} characters (see `TenantListQuery.search`). The details carry
 * the length, never the text, which may be long and is typed by a person.
 *
 * @example
 * ```ts
 * if (query.search !== undefined) assertTenantSearch(query.search);
 * ```
 */
export function assertTenantSearch(search: unknown): asserts search is string {
  if (typeof search !== 'string') {
    throw new TenantContextError('VALIDATION_FAILED', 'A tenant search must be a string', { details: { field: 'search' } });
  }
  if (search.length > maxTenantSearchLength) {
    throw new TenantContextError('VALIDATION_FAILED', `A tenant search must be at most ${maxTenantSearchLength} characters`, {
      details: { field: 'search', length: search.length, maxLength: maxTenantSearchLength },
    });
  }
}

/**
 * Throws `VALIDATION_FAILED` unless `leaseExpiredBefore` (see `LifecycleRunQuery`) is a safe
 * integer of epoch milliseconds. Checked at run time too, since a document store would
 * otherwise take an object such as `{ $ne: null }` as an operator.
 *
 * @example
 * ```ts
 * if (query.leaseExpiredBefore !== undefined) assertLeaseExpiredBefore(query.leaseExpiredBefore);
 * ```
 */
export function assertLeaseExpiredBefore(leaseExpiredBefore: unknown): asserts leaseExpiredBefore is number {
  if (typeof leaseExpiredBefore !== 'number' || !Number.isSafeInteger(leaseExpiredBefore)) {
    throw new TenantContextError('VALIDATION_FAILED', 'leaseExpiredBefore must be a safe integer of epoch milliseconds', {
      details: { field: 'leaseExpiredBefore' },
    });
  }
}
