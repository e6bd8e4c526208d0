// Conformance cases of `ApiKeyStore` (packages/auth/src/store.ts).
import type { ApiKeyRecord, ApiKeyStore } from '@tenantkit/auth';
import { describe, expect } from 'vitest';
import { buildApiKeyRecord } from './auth-record-builders.js';
import { dayMs, minuteMs, storeTest, tamper, type AuthConformanceRun, type AuthSuiteContext } from './auth-suite-context.js';

async function createKey(apiKeys: ApiKeyStore, run: AuthConformanceRun, overrides: Partial<ApiKeyRecord> & Pick<ApiKeyRecord, 'tenantId'>): Promise<ApiKeyRecord> {
  const key = buildApiKeyRecord({ id: run.id('key'), createdAt: run.t0, ...overrides });
  expect(await apiKeys.create(key)).toBe('created');
  return key;
}

/** Registers the API key cases. */
export function describeApiKeyStoreCases(context: AuthSuiteContext): void {
  const test = (name: string, body: (apiKeys: ApiKeyStore, run: AuthConformanceRun) => Promise<void>) =>
    storeTest(context, 'apiKeys', name, body);

  describe('apiKeys', () => {
    describe('create / findById', () => {
      test("create returns 'created'; findById returns the key field for field", async (apiKeys, run) => {
        const key = await createKey(apiKeys, run, {
          tenantId: run.id('tnt'),
          name: 'CI deploys — ünïcödé 🚀',
          scopes: ['projects:write', 'projects:read', 'deploys:*'],
          createdBy: null,
          expiresAt: run.t0 + 90 * dayMs,
          lastUsedAt: run.t0 - 1,
        });
        expect(await apiKeys.findById(key.id)).toEqual(key);
      });

      test("a taken id → 'id-taken' (also from another tenant) and nothing written", async (apiKeys, run) => {
        const key = await createKey(apiKeys, run, { tenantId: run.id('tnt') });
        const otherTenant = run.id('tnt');
        const duplicate = buildApiKeyRecord({ id: key.id, tenantId: otherTenant, createdAt: run.t0 + 1, name: 'duplicate' });
        expect(await apiKeys.create(duplicate)).toBe('id-taken');
        expect(await apiKeys.create({ ...key, name: 'duplicate' })).toBe('id-taken');
        expect(await apiKeys.findById(key.id)).toEqual(key);
        expect(await apiKeys.listByTenant(otherTenant)).toEqual([]);
      });

      test('unknown id → null', async (apiKeys, run) => {
        expect(await apiKeys.findById(run.id('key'))).toBeNull();
      });

      test('findById returns revoked and expired keys too', async (apiKeys, run) => {
        const tenantId = run.id('tnt');
        const expired = await createKey(apiKeys, run, { tenantId, createdAt: run.t0 - 2 * dayMs, expiresAt: run.t0 - dayMs });
        const revoked = await createKey(apiKeys, run, { tenantId });
        expect(await apiKeys.revoke(tenantId, revoked.id, run.t0 + minuteMs)).toBe(true);
        expect(await apiKeys.findById(expired.id)).toEqual(expired);
        expect(await apiKeys.findById(revoked.id)).toEqual({ ...revoked, revokedAt: run.t0 + minuteMs });
      });
    });

    describe('listByTenant', () => {
      test("lists the tenant's keys, revoked ones included, newest first, and no other tenant's", async (apiKeys, run) => {
        const tenantId = run.id('tnt');
        const middle = await createKey(apiKeys, run, { tenantId, createdAt: run.t0 - 2 * minuteMs });
        const newest = await createKey(apiKeys, run, { tenantId, createdAt: run.t0 - minuteMs });
        const oldest = await createKey(apiKeys, run, { tenantId, createdAt: run.t0 - 3 * minuteMs });
        await createKey(apiKeys, run, { tenantId: run.id('tnt'), createdAt: run.t0 });
        // A tenant whose id has this one as a prefix.
        await createKey(apiKeys, run, { tenantId: `${tenantId}x`, createdAt: run.t0 });
        expect(await apiKeys.revoke(tenantId, middle.id, run.t0)).toBe(true);
        expect(await apiKeys.listByTenant(tenantId)).toEqual([newest, { ...middle, revokedAt: run.t0 }, oldest]);
      });

      test('unknown tenant → []', async (apiKeys, run) => {
        await createKey(apiKeys, run, { tenantId: run.id('tnt') });
        expect(await apiKeys.listByTenant(run.id('tnt'))).toEqual([]);
      });
    });

    describe('revoke', () => {
      test('revokes only in the owning tenant and only once', async (apiKeys, run) => {
        const tenantId = run.id('tnt');
        const key = await createKey(apiKeys, run, { tenantId });
        expect(await apiKeys.revoke(run.id('tnt'), key.id, run.t0 + 1)).toBe(false);
        expect(await apiKeys.revoke(`${tenantId}x`, key.id, run.t0 + 1)).toBe(false);
        expect(await apiKeys.findById(key.id)).toEqual(key);
        expect(await apiKeys.revoke(tenantId, key.id, run.t0 + 2)).toBe(true);
        expect(await apiKeys.revoke(tenantId, key.id, run.t0 + 3)).toBe(false);
        expect(await apiKeys.findById(key.id)).toEqual({ ...key, revokedAt: run.t0 + 2 });
      });

      test('unknown id → false', async (apiKeys, run) => {
        expect(await apiKeys.revoke(run.id('tnt'), run.id('key'), run.t0)).toBe(false);
      });
    });

    describe('recordUsage', () => {
      test('lastUsedAt only moves forward, duplicates in one batch included; unknown ids are ignored', async (apiKeys, run) => {
        const tenantId = run.id('tnt');
        const first = await createKey(apiKeys, run, { tenantId });
        const second = await createKey(apiKeys, run, { tenantId, lastUsedAt: run.t0 + 50 });
        const unknown = run.id('key');
        await apiKeys.recordUsage([
          { id: first.id, lastUsedAt: run.t0 + 10 },
          { id: unknown, lastUsedAt: run.t0 + 10 },
          { id: second.id, lastUsedAt: run.t0 + 20 },
        ]);
        expect(await apiKeys.findById(first.id)).toEqual({ ...first, lastUsedAt: run.t0 + 10 });
        expect(await apiKeys.findById(second.id)).toEqual({ ...second, lastUsedAt: run.t0 + 50 });
        expect(await apiKeys.findById(unknown)).toBeNull();

        await apiKeys.recordUsage([{ id: first.id, lastUsedAt: run.t0 + 5 }]);
        expect((await apiKeys.findById(first.id))?.lastUsedAt).toBe(run.t0 + 10);
        await apiKeys.recordUsage([
          { id: first.id, lastUsedAt: run.t0 + 30 },
          { id: first.id, lastUsedAt: run.t0 + 25 },
        ]);
        expect((await apiKeys.findById(first.id))?.lastUsedAt).toBe(run.t0 + 30);
        await apiKeys.recordUsage([]);
        expect(await apiKeys.findById(first.id)).toEqual({ ...first, lastUsedAt: run.t0 + 30 });
      });

      test('concurrent batches leave the latest time', async (apiKeys, run) => {
        const key = await createKey(apiKeys, run, { tenantId: run.id('tnt') });
        const times = Array.from({ length: 20 }, (_, index) => run.t0 + ((index * 7) % 20) * 1000);
        await Promise.all(times.map((lastUsedAt) => apiKeys.recordUsage([{ id: key.id, lastUsedAt }])));
        expect((await apiKeys.findById(key.id))?.lastUsedAt).toBe(Math.max(...times));
      });
    });

    describe('deleteByTenant', () => {
      test("deletes every key of the tenant (revoked ones included) and returns the count; other tenants' keys stay", async (apiKeys, run) => {
        const tenantId = run.id('tnt');
        const doomed = [
          await createKey(apiKeys, run, { tenantId }),
          await createKey(apiKeys, run, { tenantId, createdAt: run.t0 + 1 }),
          await createKey(apiKeys, run, { tenantId, createdAt: run.t0 + 2 }),
        ];
        expect(await apiKeys.revoke(tenantId, doomed[0]!.id, run.t0 + 3)).toBe(true);
        const other = await createKey(apiKeys, run, { tenantId: run.id('tnt') });
        const prefixed = await createKey(apiKeys, run, { tenantId: `${tenantId}x` });
        expect(await apiKeys.deleteByTenant(tenantId)).toBe(3);
        expect(await apiKeys.listByTenant(tenantId)).toEqual([]);
        for (const key of doomed) expect(await apiKeys.findById(key.id)).toBeNull();
        expect(await apiKeys.findById(other.id)).toEqual(other);
        expect(await apiKeys.findById(prefixed.id)).toEqual(prefixed);
        expect(await apiKeys.deleteByTenant(tenantId)).toBe(0);
      });
    });

    describe('copies', () => {
      test('mutating a returned key or the key passed to create changes nothing stored', async (apiKeys, run) => {
        const input = buildApiKeyRecord({ id: run.id('key'), tenantId: run.id('tnt'), createdAt: run.t0, scopes: ['projects:read'] });
        const pristine = structuredClone(input);
        expect(await apiKeys.create(input)).toBe('created');
        tamper(input, (passed) => {
          passed.tenantId = 'tnt_tampered';
          (passed.scopes as string[]).push('admin:*');
        });
        tamper(await apiKeys.findById(pristine.id), (found) => {
          found.revokedAt = run.t0;
          (found.scopes as string[]).push('admin:*');
        });
        tamper((await apiKeys.listByTenant(pristine.tenantId))[0], (listed) => {
          listed.secretHash = 'tampered';
        });
        expect(await apiKeys.findById(pristine.id)).toEqual(pristine);
        expect(await apiKeys.listByTenant(pristine.tenantId)).toEqual([pristine]);
      });
    });
  });
}
