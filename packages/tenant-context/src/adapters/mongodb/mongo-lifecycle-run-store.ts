import type { Db } from 'mongodb';
import { TenantContextError } from '../../errors.js';
import type { LifecycleRunStore } from '../../store.js';
import { assertExpectedVersion, assertPageLimit, assertStoreString } from '../store-argument-guards.js';
import { bsonReadOptions } from './bson-read-options.js';
import { type LifecycleRunDocument, lifecycleRunFromDocument, lifecycleRunToDocument } from './lifecycle-run-documents.js';
import { lifecycleRunListFilter, lifecycleRunListSort, lifecycleRunVersionFilter } from './lifecycle-run-queries.js';
import { runMongoOperation } from './mongo-errors.js';
import { type MongoTenantContextOptions, resolveTenantContextCollections } from './tenant-context-collections.js';

/**
 * A {@link LifecycleRunStore} on MongoDB, in `<prefix>lifecycle_runs` (the run id is the `_id`).
 * `updateRun` is a compare-and-set on `{ _id, version }`, so of two workers holding the same
 * version exactly one wins.
 *
 * @throws TenantContextError `CONFIGURATION_INVALID` (when called) for a missing `Db` or bad options.
 *
 * @example
 * ```ts
 * import { mongoLifecycleRunStore } from '@tenantkit/tenant-context/mongodb';
 *
 * const runs = mongoLifecycleRunStore(db);
 * const stuck = await runs.listRuns({ state: ['running', 'compensating'], limit: 100 });
 * ```
 */
export function mongoLifecycleRunStore(db: Db, options?: MongoTenantContextOptions): LifecycleRunStore {
  const names = resolveTenantContextCollections(db, options, 'mongoLifecycleRunStore');
  const runs = db.collection<LifecycleRunDocument>(names.lifecycleRuns);

  return {
    async insertRun(run) {
      const document = lifecycleRunToDocument(run);
      assertStoreString(document._id, 'run id');
      await runMongoOperation(
        () => runs.insertOne(document),
        () => new TenantContextError('STORE_CONFLICT', 'A lifecycle run with this id already exists', { details: { runId: document._id } }),
      );
    },

    async getRun(id) {
      assertStoreString(id, 'run id');
      const document = await runMongoOperation(() => runs.findOne({ _id: id }, bsonReadOptions));
      return document === null ? null : lifecycleRunFromDocument(document);
    },

    async updateRun(run, expectedVersion) {
      assertExpectedVersion(run.version, expectedVersion);
      const filter = lifecycleRunVersionFilter(run.id, expectedVersion);
      const document = lifecycleRunToDocument(run);
      const result = await runMongoOperation(() => runs.replaceOne(filter, document));
      return result.matchedCount === 1;
    },

    async listRuns(query) {
      assertPageLimit(query.limit);
      const filter = lifecycleRunListFilter(query);
      const documents = await runMongoOperation(() =>
        runs.find(filter, bsonReadOptions).sort(lifecycleRunListSort).limit(query.limit).toArray(),
      );
      return documents.map(lifecycleRunFromDocument);
    },
  };
}
