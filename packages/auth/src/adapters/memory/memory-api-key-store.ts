import type { ApiKeyRecord, ApiKeyStore } from '../../store.js';

function copyOf(record: ApiKeyRecord): ApiKeyRecord {
  return { ...record, scopes: [...record.scopes] };
}

/**
 * The reference {@link ApiKeyStore}: keys in a `Map` of this process. For tests, examples and
 * single-process apps; keys are lost on restart. Records go in and come out as copies, so
 * neither side can change the other's objects.
 *
 * @example
 * ```ts
 * const apiKeys = createApiKeyService({ store: memoryApiKeyStore(), hashKeys: [{ id: 'v1', secret: pepper }], permissions: rbac });
 * ```
 */
export function memoryApiKeyStore(): ApiKeyStore {
  const keys = new Map<string, ApiKeyRecord>();

  return Object.freeze({
    async create(key: ApiKeyRecord): Promise<'created' | 'id-taken'> {
      if (keys.has(key.id)) return 'id-taken';
      keys.set(key.id, copyOf(key));
      return 'created';
    },

    async findById(id: string): Promise<ApiKeyRecord | null> {
      const record = keys.get(id);
      return record === undefined ? null : copyOf(record);
    },

    async listByTenant(tenantId: string): Promise<readonly ApiKeyRecord[]> {
      const listed: ApiKeyRecord[] = [];
      for (const record of keys.values()) if (record.tenantId === tenantId) listed.push(copyOf(record));
      // Newest first; insertion order (reversed) breaks ties between keys of one millisecond.
      return listed.reverse().sort((a, b) => b.createdAt - a.createdAt);
    },

    async revoke(tenantId: string, id: string, now: number): Promise<boolean> {
      const record = keys.get(id);
      if (record === undefined || record.tenantId !== tenantId || record.revokedAt !== null) return false;
      keys.set(id, { ...record, revokedAt: now });
      return true;
    },

    async recordUsage(usage: readonly { readonly id: string; readonly lastUsedAt: number }[]): Promise<void> {
      for (const { id, lastUsedAt } of usage) {
        const record = keys.get(id);
        if (record === undefined || (record.lastUsedAt !== null && record.lastUsedAt >= lastUsedAt)) continue;
        keys.set(id, { ...record, lastUsedAt });
      }
    },

    async deleteByTenant(tenantId: string): Promise<number> {
      let deleted = 0;
      for (const [id, record] of keys) {
        if (record.tenantId !== tenantId) continue;
        keys.delete(id);
        deleted += 1;
      }
      return deleted;
    },
  } satisfies ApiKeyStore);
}
