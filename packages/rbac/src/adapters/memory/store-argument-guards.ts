import { RbacError } from '../../errors.js';

/*
 * Argument checks the memory store makes before it touches its maps, so a bad argument fails
 * with `VALIDATION_FAILED` here exactly as a persistent store must fail before a round trip
 * (see the `RbacStore` contract). Types already say all of this; the checks exist for callers
 * that reach the store with untyped input, where an object such as `{ $ne: null }` in place of
 * an id would turn an exact lookup of a document store into a match-anything query.
 */

/**
 * The largest page {@link RbacStore.listAssignments} returns.
 *
 * @example
 * ```ts
 * assertPageLimit(maxAssignmentPageSize); // fine
 * ```
 */
export const maxAssignmentPageSize = 500;

/**
 * Throws `VALIDATION_FAILED` unless `value` is a string.
 *
 * @example
 * ```ts
 * assertStoreString(tenantId, 'tenantId');
 * ```
 */
export function assertStoreString(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string') {
    throw new RbacError('VALIDATION_FAILED', `The ${field} must be a string`, { details: { field } });
  }
}

/**
 * Throws `VALIDATION_FAILED` unless `value` is a string or `null` (the tenant of a role, where
 * `null` addresses the global roles).
 *
 * @example
 * ```ts
 * assertRoleTenant(role.tenantId);
 * ```
 */
export function assertRoleTenant(value: unknown): asserts value is string | null {
  if (value !== null) assertStoreString(value, 'tenantId');
}

/**
 * Throws `VALIDATION_FAILED` unless `value` is one of `allowed`.
 *
 * @example
 * ```ts
 * assertOneOf(assignment.status, ['active', 'pending'], 'status');
 * ```
 */
export function assertOneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): asserts value is T {
  if (!allowed.includes(value as T)) {
    throw new RbacError('VALIDATION_FAILED', `The ${field} must be one of ${allowed.join(', ')}`, { details: { field } });
  }
}

/**
 * Throws `VALIDATION_FAILED` unless `value` is a safe integer of epoch milliseconds — what a
 * `bigint` column or a BSON long stores exactly.
 *
 * @example
 * ```ts
 * assertEpochMs(limits.now, 'now');
 * ```
 */
export function assertEpochMs(value: unknown, field: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new RbacError('VALIDATION_FAILED', `The ${field} must be a safe integer of epoch milliseconds`, { details: { field } });
  }
}

/**
 * Throws `VALIDATION_FAILED` unless `limit` is a whole number from 1 to 500.
 *
 * @example
 * ```ts
 * assertPageLimit(query.limit);
 * ```
 */
export function assertPageLimit(limit: unknown): asserts limit is number {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > maxAssignmentPageSize) {
    throw new RbacError('VALIDATION_FAILED', `A page size must be a whole number from 1 to ${maxAssignmentPageSize}`, {
      details: { limit: String(limit) },
    });
  }
}

/**
 * Throws `VALIDATION_FAILED` unless `version` is `expectedVersion + 1`: every update bumps a
 * role's version by exactly one, and a caller that did otherwise would break compare-and-set
 * for every other writer.
 *
 * @example
 * ```ts
 * assertNextVersion(role.version, expectedVersion);
 * ```
 */
export function assertNextVersion(version: unknown, expectedVersion: unknown): void {
  if (typeof expectedVersion !== 'number' || !Number.isSafeInteger(expectedVersion) || version !== expectedVersion + 1) {
    throw new RbacError('VALIDATION_FAILED', 'The new version must be the expected version plus one', {
      details: { version: String(version), expectedVersion: String(expectedVersion) },
    });
  }
}

/**
 * Throws `VALIDATION_FAILED` unless `value` is `null` or a non-negative safe integer (a
 * role's `maxAssignments`).
 *
 * @example
 * ```ts
 * assertAssignmentLimit(limits.maxAssignments);
 * ```
 */
export function assertAssignmentLimit(value: unknown): asserts value is number | null {
  if (value !== null && (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)) {
    throw new RbacError('VALIDATION_FAILED', 'maxAssignments must be null or a non-negative safe integer', {
      details: { field: 'maxAssignments' },
    });
  }
}
