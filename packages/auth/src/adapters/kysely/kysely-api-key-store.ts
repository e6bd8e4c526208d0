import { AuthError } from '../../errors.js';
import type { ApiKeyRecord, ApiKeyStore } from '../../store.js';
import { insertRowUnlessDuplicate, runAtomicWrite, runWriteStatement } from './atomic-write.js';
import { runStoreOperation } from './database-errors.js';
import type { KyselyAuthContext } from './kysely-auth-store-context.js';
import { assertSafeIntegerArgument, assertStorableApiKey, isStorableLookup } from './record-schemas.js';
import { apiKeyFromRow, apiKeyToRow } from './row-mappers.js';

/**
 * The {@link ApiKeyStore} over an already resolved context. Keys are found by `id` alone (the
 * presented key carries it) and listed by the index `(tenant_id, created_at)`. `recordUsage`
 * writes each key with a conditional update that only moves `last_used_at` forward, so
 * concurrent batches from many processes leave the latest time whatever order they commit in.
 *
 * @example
 * ```ts
 * const apiKeys = createKyselyApiKeyStore(resolveKyselyAuthContext(db, undefined, 'kyselyAuthStores'));
 * ```
 */
export function createKyselyApiKeyStore(context: KyselyAuthContext): ApiKeyStore {
  const { db, tables } = context;
  const apiKeys = tables.auth_api_keys;

  return Object.freeze({
    async create(key: ApiKeyRecord) {
      assertStorableApiKey(key);
      const row = apiKeyToRow(key);
      const taken = await insertRowUnlessDuplicate(context, 'createApiKey', (executor) => executor.insertInto(apiKeys).values(row).execute());
      return taken === null ? 'created' : 'id-taken';
    },

    async findById(id) {
      if (!isStorableLookup(id, 'id')) return null;
      const row = await runStoreOperation('findApiKeyById', () => db.selectFrom(apiKeys).selectAll().where('id', '=', id).executeTakeFirst());
      return row === undefined ? null : apiKeyFromRow(row);
    },

    async listByTenant(tenantId) {
      if (!isStorableLookup(tenantId, 'tenantId')) return [];
      const rows = await runStoreOperation('listApiKeysByTenant', () =>
        db.selectFrom(apiKeys).selectAll().where('tenant_id', '=', tenantId).orderBy('created_at', 'desc').orderBy('id', 'desc').execute(),
      );
      return rows.map(apiKeyFromRow);
    },

    async revoke(tenantId, id, now) {
      assertSafeIntegerArgument(now, 'now');
      if (!isStorableLookup(tenantId, 'tenantId') || !isStorableLookup(id, 'id')) return false;
      // `revoked_at` goes from NULL to a time, so the row counts as changed on every driver.
      const result = await runWriteStatement(context, 'revokeApiKey', (executor) =>
        executor
          .updateTable(apiKeys)
          .set({ revoked_at: now })
          .where('id', '=', id)
          .where('tenant_id', '=', tenantId)
          .where('revoked_at', 'is', null)
          .executeTakeFirst(),
      );
      return result.numUpdatedRows > 0n;
    },

    async recordUsage(usage) {
      if (!Array.isArray(usage)) {
        throw new AuthError('VALIDATION_FAILED', 'recordUsage() takes an array of { id, lastUsedAt }', { details: { argument: 'usage' } });
      }
      // One write per key, its latest time; sorted, so concurrent batches lock keys in one order.
      const latest = new Map<string, number>();
      for (const entry of usage) {
        if (typeof entry !== 'object' || entry === null) {
          throw new AuthError('VALIDATION_FAILED', 'recordUsage() takes an array of { id, lastUsedAt }', { details: { argument: 'usage' } });
        }
        assertSafeIntegerArgument(entry.lastUsedAt, 'lastUsedAt');
        if (!isStorableLookup(entry.id, 'id')) continue;
        latest.set(entry.id, Math.max(latest.get(entry.id) ?? entry.lastUsedAt, entry.lastUsedAt));
      }
      if (latest.size === 0) return;
      const writes = [...latest].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      await runAtomicWrite(context, 'recordApiKeyUsage', async (trx) => {
        for (const [id, lastUsedAt] of writes) {
          await trx
            .updateTable(apiKeys)
            .set({ last_used_at: lastUsedAt })
            .where('id', '=', id)
            .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', lastUsedAt)]))
            .execute();
        }
      });
    },

    async deleteByTenant(tenantId) {
      if (!isStorableLookup(tenantId, 'tenantId')) return 0;
      const result = await runWriteStatement(context, 'deleteApiKeysByTenant', (executor) =>
        executor.deleteFrom(apiKeys).where('tenant_id', '=', tenantId).executeTakeFirst(),
      );
      return Number(result.numDeletedRows);
    },
  } satisfies ApiKeyStore);
}
