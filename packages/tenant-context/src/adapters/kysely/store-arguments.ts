import { TenantContextError } from '../../errors.js';

/*
 * Checks of the arguments the store contracts constrain, with the same codes and messages as
 * the memory stores, so callers see one behavior whichever adapter they use.
 */

/**
 * The largest page any list query returns.
 *
 * @example
 * ```ts
 * maxPageSize; // 500
 * ```
 */
export const maxPageSize = 500;

/**
 * Throws `VALIDATION_FAILED` unless `limit` is a whole number from 1 to 500.
 *
 * @example
 * ```ts
 * assertPageLimit(query.limit);
 * ```
 */
export function assertPageLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > maxPageSize) {
    throw new TenantContextError('VALIDATION_FAILED', `A page size must be a whole number from 1 to ${maxPageSize}`, {
      details: { limit: String(limit) },
    });
  }
}

/**
 * Throws `VALIDATION_FAILED` unless a compare-and-set writes `expectedVersion + 1`.
 *
 * @example
 * ```ts
 * assertNextVersion(tenant.version, expectedVersion);
 * ```
 */
export function assertNextVersion(version: number, expectedVersion: number): void {
  // Every write bumps the version by exactly one; anything else would break compare-and-set
  // for every other writer.
  if (!Number.isSafeInteger(expectedVersion) || version !== expectedVersion + 1) {
    throw new TenantContextError('VALIDATION_FAILED', 'The new version must be the expected version plus one', {
      details: { version: String(version), expectedVersion: String(expectedVersion) },
    });
  }
}

/**
 * Throws `VALIDATION_FAILED` unless `amount` is a positive safe integer.
 *
 * @example
 * ```ts
 * assertPositiveAmount(1);
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
 * Throws `VALIDATION_FAILED` unless `limit` is -1 (unlimited) or a non-negative safe integer.
 *
 * @example
 * ```ts
 * assertCounterLimit(-1);
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
 * assertCounterValue(0);
 * ```
 */
export function assertCounterValue(value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TenantContextError('VALIDATION_FAILED', 'A usage counter must be a non-negative safe integer', {
      details: { value: String(value) },
    });
  }
}
