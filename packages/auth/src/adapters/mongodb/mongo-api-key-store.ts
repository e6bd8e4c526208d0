import type { ApiKeyStore } from '../../store.js';
import { type ApiKeyDocument, apiKeyFromDocument, apiKeyToDocument } from './auth-documents.js';
import { idFilter, recordUsageWrites, revokeApiKeyFilter, revokeApiKeyUpdate, tenantApiKeysQuery } from './auth-queries.js';
import { authBsonReadOptions } from './bson-read-options.js';
import type { MongoAuthStoreContext } from './mongo-auth-store-context.js';
import { insertOrDuplicate, runMongoOperation } from './mongo-errors.js';

/**
 * The {@link ApiKeyStore} of {@link mongoAuthStores}: one document per key under its id (no TTL:
 * expired and revoked keys stay findable), listed by the tenant-leading index. `recordUsage` is
 * one unordered `bulkWrite` of `$max` updates, so `lastUsedAt` only moves forward whatever the
 * order batches arrive in.
 *
 * @example
 * ```ts
 * const apiKeys = mongoApiKeyStore({ db, names: resolveAuthCollectionNames('tenantkit_') });
 * ```
 */
export function mongoApiKeyStore(context: MongoAuthStoreContext): ApiKeyStore {
  const apiKeys = context.db.collection<ApiKeyDocument>(context.names.apiKeys);

  return {
    async create(key) {
      const document = apiKeyToDocument(key);
      return (await insertOrDuplicate(() => apiKeys.insertOne(document))) === 'inserted' ? 'created' : 'id-taken';
    },

    async findById(id) {
      const document = await runMongoOperation(() => apiKeys.findOne(idFilter(id, 'id'), authBsonReadOptions));
      return document === null ? null : apiKeyFromDocument(document);
    },

    async listByTenant(tenantId) {
      const { filter, sort } = tenantApiKeysQuery(tenantId);
      const documents = await runMongoOperation(() => apiKeys.find(filter, authBsonReadOptions).sort(sort).toArray());
      return documents.map(apiKeyFromDocument);
    },

    async revoke(tenantId, id, now) {
      const filter = revokeApiKeyFilter(tenantId, id);
      const update = revokeApiKeyUpdate(now);
      const result = await runMongoOperation(() => apiKeys.updateOne(filter, update));
      return result.modifiedCount === 1;
    },

    async recordUsage(usage) {
      const writes = recordUsageWrites(usage);
      if (writes.length === 0) return;
      await runMongoOperation(() => apiKeys.bulkWrite(writes, { ordered: false }));
    },

    async deleteByTenant(tenantId) {
      const { filter } = tenantApiKeysQuery(tenantId);
      const result = await runMongoOperation(() => apiKeys.deleteMany(filter));
      return result.deletedCount;
    },
  };
}
