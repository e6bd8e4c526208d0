import { codedErrorFactory } from '@tenantkit/core';
import { createMongoErrorTranslator, duplicateKeyFields, isDuplicateKeyError } from '@tenantkit/core/mongodb';
import { AuthError } from '../../errors.js';

/**
 * Driver-error translation of the MongoDB auth stores, `translateMongoError` and
 * `runMongoOperation`, throwing {@link AuthError}: unreachable servers become
 * `STORE_UNAVAILABLE`; other driver errors (a bug, a permissions failure) pass unchanged.
 *
 * @example
 * ```ts
 * return runMongoOperation(() => sessions.findOne(filter));
 * ```
 */
export const { translateMongoError, runMongoOperation } = createMongoErrorTranslator({ errors: codedErrorFactory(AuthError) });

/**
 * Which unique index a duplicate-key error broke, as one of the store outcomes: `'id'` for the
 * natural `_id`, the field name for a secondary unique index (`'email'`, `'tokenHash'`),
 * `'unknown'` when the server did not say (before 4.2), `null` for any other error.
 *
 * @example
 * ```ts
 * duplicateKeyTarget(error); // 'email'
 * ```
 */
export function duplicateKeyTarget(error: unknown): string | null {
  if (!isDuplicateKeyError(error)) return null;
  const fields = duplicateKeyFields(error);
  if (fields === null || fields.length === 0) return 'unknown';
  return fields[0] === '_id' ? 'id' : fields[0]!;
}

/**
 * Runs an insert; resolves `'inserted'`, or the {@link duplicateKeyTarget} of a unique-index
 * violation, and translates every other failure.
 *
 * @example
 * ```ts
 * const outcome = await insertOrDuplicate(() => accounts.insertOne(document)); // 'inserted' | 'id' | 'email' | ...
 * ```
 */
export async function insertOrDuplicate(insert: () => Promise<unknown>): Promise<'inserted' | string> {
  try {
    await insert();
    return 'inserted';
  } catch (error) {
    const target = duplicateKeyTarget(error);
    if (target !== null) return target;
    throw translateMongoError(error);
  }
}
