import { createId } from '@tenantkit/core';
import { buildTenant, describeTenantContextStoreConformance, describeWithService, testServices } from '@tenantkit/test-utils';
import { type Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureTenantContextIndexes, mongoTenantContextStores, tenantContextIndexes } from '../../src/adapters/mongodb.js';
import { resolveCollectionNames } from '../../src/adapters/mongodb/tenant-context-collections.js';
import type { TenantContextStores } from '../../src/store.js';

/*
 * Runs only when MONGODB_URL points at a MongoDB server (4.2+; 5.0+ for the `$`-key test). Each
 * run of this file works in its own randomly named database, dropped at the end.
 */
await describeWithService('mongodb', 'MongoDB tenant-context stores', () => {
  const options = { collectionPrefix: 'tk_' };
  const collectionNames = Object.values(resolveCollectionNames(options.collectionPrefix));
  const extraClients: MongoClient[] = [];
  let client: MongoClient;
  let db: Db;

  async function emptyCollections(): Promise<void> {
    await Promise.all(collectionNames.map((name) => db.collection(name).deleteMany({})));
  }

  async function connect(clientOptions: ConstructorParameters<typeof MongoClient>[1] = {}): Promise<MongoClient> {
    const extra = await new MongoClient(testServices.mongodb.url as string, clientOptions).connect();
    extraClients.push(extra);
    return extra;
  }

  beforeAll(async () => {
    client = await new MongoClient(testServices.mongodb.url as string).connect();
    db = client.db(`tenantkit_test_${createId()}`);
    await ensureTenantContextIndexes(db, options);
  });

  afterAll(async () => {
    await Promise.all(extraClients.map((extra) => extra.close()));
    await db?.dropDatabase();
    await client?.close();
  });

  describeTenantContextStoreConformance('mongodb', {
    async setup() {
      await emptyCollections();
      return mongoTenantContextStores(db, options);
    },
  });

  describe('MongoDB specifics', () => {
    let stores: TenantContextStores;

    beforeEach(async () => {
      await emptyCollections();
      stores = mongoTenantContextStores(db, options);
    });

    it('creates every defined index, and creating them again changes nothing', async () => {
      await ensureTenantContextIndexes(db, options);
      const names = resolveCollectionNames(options.collectionPrefix);
      for (const definition of tenantContextIndexes) {
        const indexes = await db.collection(names[definition.collection]).listIndexes().toArray();
        const index = indexes.find((candidate) => candidate.name === definition.name);
        expect(index?.key).toEqual(definition.key);
        expect(index?.unique === true).toBe(definition.unique);
      }
    });

    it('matches regular expression metacharacters in a search literally', async () => {
      const names = ['a.c', 'abc', 'x*y', 'xxy', '(g)', 'g', '[s]', 's', 'd$', 'd', '^h', 'h', 'p|q', 'p', 'b{2}', 'bb', 'n\\d', 'n1'];
      for (const [index, name] of names.entries()) {
        await stores.tenants.insertTenant(buildTenant({ id: `tnt_${index}`, slug: `meta-${index}`, name, createdAt: index }));
      }
      const found = async (search: string) => (await stores.tenants.listTenants({ limit: 50, search })).items.map((tenant) => tenant.name);
      expect(await found('a.c')).toEqual(['a.c']);
      expect(await found('x*y')).toEqual(['x*y']);
      expect(await found('(g)')).toEqual(['(g)']);
      expect(await found('[s]')).toEqual(['[s]']);
      expect(await found('d$')).toEqual(['d$']);
      expect(await found('^h')).toEqual(['^h']);
      expect(await found('p|q')).toEqual(['p|q']);
      expect(await found('b{2}')).toEqual(['b{2}']);
      expect(await found('n\\d')).toEqual(['n\\d']);
      expect(await found('.*')).toEqual([]);
      expect(await found('a\0c')).toEqual([]);
    });

    it('keeps settings keys with dots and a leading $ as plain keys', async () => {
      const tenant = buildTenant({ id: 'tnt_keys', settings: { 'a.b': 1, nested: { $where: 'not code', $ne: null } } });
      await stores.tenants.insertTenant(tenant);
      expect(await stores.tenants.getTenantById('tnt_keys')).toEqual(tenant);
      const updated = { ...tenant, settings: { $set: { x: 1 } }, version: 2 };
      expect(await stores.tenants.updateTenant(updated, 1)).toBe(true);
      expect(await stores.tenants.getTenantById('tnt_keys')).toEqual(updated);
    });

    it('admits exactly 150 of 200 concurrent increments spread over several connections', async () => {
      const clients = await Promise.all(Array.from({ length: 4 }, () => connect({ maxPoolSize: 20 })));
      const counters = clients.map((extra) => mongoTenantContextStores(extra.db(db.databaseName), options).usageCounters);
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, index) => (counters[index % counters.length] as TenantContextStores['usageCounters']).increment('tnt_race', 'seats', 1, 150)),
      );
      expect(results.filter((result) => result.applied)).toHaveLength(150);
      expect(await stores.usageCounters.get('tnt_race', 'seats')).toBe(150);
      expect(await db.collection(resolveCollectionNames(options.collectionPrefix).usageCounters).countDocuments({ tenantId: 'tnt_race' })).toBe(1);
    });

    it('reads numbers back as numbers whatever the client deserializes by default', async () => {
      const bigIntClient = await connect({ useBigInt64: true, promoteValues: false });
      const counters = mongoTenantContextStores(bigIntClient.db(db.databaseName), options).usageCounters;
      // 2^31 - 1 is stored as int32; $inc past it makes MongoDB promote the field to int64.
      await counters.set('tnt_a', 'bytes', 2 ** 31 - 1);
      expect(await counters.increment('tnt_a', 'bytes', 1, -1)).toEqual({ applied: true, value: 2 ** 31 });
      expect(await counters.get('tnt_a', 'bytes')).toBe(2 ** 31);
      expect(await counters.getAll('tnt_a')).toEqual({ bytes: 2 ** 31 });
      expect(await counters.decrement('tnt_a', 'bytes', 1)).toBe(2 ** 31 - 1);
      const tenants = mongoTenantContextStores(bigIntClient.db(db.databaseName), options).tenants;
      const tenant = buildTenant({ id: 'tnt_numbers', settings: { ratio: 0.5, count: 3 } });
      await tenants.insertTenant(tenant);
      expect(await tenants.getTenantById('tnt_numbers')).toEqual(tenant);
    });

    it('refuses an unlimited increment past the largest safe integer', async () => {
      await stores.usageCounters.set('tnt_a', 'bytes', Number.MAX_SAFE_INTEGER - 1);
      expect(await stores.usageCounters.increment('tnt_a', 'bytes', 1, -1)).toEqual({ applied: true, value: Number.MAX_SAFE_INTEGER });
      await expect(stores.usageCounters.increment('tnt_a', 'bytes', 1, -1)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(await stores.usageCounters.get('tnt_a', 'bytes')).toBe(Number.MAX_SAFE_INTEGER);
    });
  });
});
