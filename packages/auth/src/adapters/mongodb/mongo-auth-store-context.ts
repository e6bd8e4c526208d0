import type { Db } from 'mongodb';
import type { AuthCollectionNames } from './auth-collections.js';
import { isDuplicateKeyError } from '@tenantkit/core/mongodb';
import { runMongoOperation } from './mongo-errors.js';

/**
 * What every MongoDB auth store is built from.
 *
 * @example
 * ```ts
 * const context: MongoAuthStoreContext = { db, names: resolveAuthCollectionNames('tenantkit_') };
 * ```
 */
export interface MongoAuthStoreContext {
  readonly db: Db;
  readonly names: AuthCollectionNames;
}

/**
 * Runs an upsert whose filter is an equality on `_id`, once more when two concurrent upserts of
 * one `_id` raced to insert it (E11000; servers from 4.2 retry this themselves, older ones do not).
 *
 * @example
 * ```ts
 * await runUpsert(() => revocations.updateOne({ _id }, update, { upsert: true }));
 * ```
 */
export async function runUpsert<T>(upsert: () => Promise<T>): Promise<T> {
  try {
    return await runMongoOperation(upsert);
  } catch (error) {
    if (!isDuplicateKeyError(error)) throw error;
    return runMongoOperation(upsert);
  }
}
