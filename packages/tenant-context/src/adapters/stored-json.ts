import { TenantContextError } from '../errors.js';

/**
 * A copy of a record holding exactly what JSON holds, taken before it is written: `undefined`
 * members disappear, a `Date` becomes its ISO string, and what JSON cannot hold (`bigint`,
 * cycles) fails with `VALIDATION_FAILED`. The memory and MongoDB stores take this copy, and the
 * SQL stores keep the same in their JSON columns, so code tested against one store cannot come
 * to rely on values another one would lose or turn into BSON types (a `Date` would otherwise
 * come back from MongoDB as a `Date`, not a string).
 *
 * @example
 * ```ts
 * const stored = toStoredJson(tenant, 'tenant');
 * ```
 */
export function toStoredJson<T>(record: T, what: string): T {
  let serialized: string | undefined;
  try {
    serialized = JSON.stringify(record);
  } catch (cause) {
    throw new TenantContextError('VALIDATION_FAILED', `The ${what} is not JSON-serializable`, { cause });
  }
  if (serialized === undefined) {
    throw new TenantContextError('VALIDATION_FAILED', `The ${what} is not JSON-serializable`);
  }
  return JSON.parse(serialized) as T;
}
