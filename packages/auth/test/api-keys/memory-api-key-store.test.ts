import { describe, expect, it } from 'vitest';
import { memoryApiKeyStore } from '../../src/adapters/memory/memory-api-key-store.js';
import type { ApiKeyRecord } from '../../src/store.js';

function key(overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    id: 'key_1',
    tenantId: 'tnt_acme',
    name: 'CI',
    secretHash: 'hash',
    hashKeyId: 'v1',
    scopes: ['projects:read'],
    createdBy: 'usr_1',
    createdAt: 1_000,
    expiresAt: null,
    revokedAt: null,
    lastUsedAt: null,
    ...overrides,
  };
}

describe('memoryApiKeyStore', () => {
  it('creates once per id and returns copies the caller cannot change the store through', async () => {
    const store = memoryApiKeyStore();
    const input = { ...key(), scopes: ['projects:read'] };
    expect(await store.create(input)).toBe('created');
    expect(await store.create(key({ tenantId: 'tnt_other' }))).toBe('id-taken');
    input.scopes.push('projects:delete');
    const found = await store.findById('key_1');
    expect(found?.scopes).toEqual(['projects:read']);
    (found?.scopes as string[]).push('x');
    expect((await store.findById('key_1'))?.scopes).toEqual(['projects:read']);
    expect(await store.findById('nope')).toBeNull();
  });

  it('lists a tenant keys newest first, revoked included', async () => {
    const store = memoryApiKeyStore();
    await store.create(key({ id: 'a', createdAt: 1 }));
    await store.create(key({ id: 'b', createdAt: 3 }));
    await store.create(key({ id: 'c', createdAt: 2, revokedAt: 5 }));
    await store.create(key({ id: 'd', createdAt: 3 }));
    await store.create(key({ id: 'x', tenantId: 'tnt_other', createdAt: 9 }));
    expect((await store.listByTenant('tnt_acme')).map((record) => record.id)).toEqual(['d', 'b', 'c', 'a']);
  });

  it('revokes only a live key of the given tenant', async () => {
    const store = memoryApiKeyStore();
    await store.create(key());
    expect(await store.revoke('tnt_other', 'key_1', 5)).toBe(false);
    expect(await store.revoke('tnt_acme', 'key_1', 5)).toBe(true);
    expect(await store.revoke('tnt_acme', 'key_1', 6)).toBe(false);
    expect((await store.findById('key_1'))?.revokedAt).toBe(5);
    expect(await store.revoke('tnt_acme', 'nope', 5)).toBe(false);
  });

  it('records usage forward only and ignores unknown ids', async () => {
    const store = memoryApiKeyStore();
    await store.create(key());
    await store.recordUsage([{ id: 'key_1', lastUsedAt: 10 }, { id: 'nope', lastUsedAt: 10 }]);
    await store.recordUsage([{ id: 'key_1', lastUsedAt: 7 }]);
    expect((await store.findById('key_1'))?.lastUsedAt).toBe(10);
    expect(await store.findById('nope')).toBeNull();
  });

  it('deletes every key of a tenant and no other', async () => {
    const store = memoryApiKeyStore();
    await store.create(key({ id: 'a' }));
    await store.create(key({ id: 'b' }));
    await store.create(key({ id: 'c', tenantId: 'tnt_other' }));
    expect(await store.deleteByTenant('tnt_acme')).toBe(2);
    expect(await store.listByTenant('tnt_acme')).toEqual([]);
    expect(await store.findById('c')).not.toBeNull();
  });
});
