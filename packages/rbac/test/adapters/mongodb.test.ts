import { createId } from '@tenantkit/core';
import { buildAssignment, buildGroup, describeRbacStoreConformance, describeWithService, testServices } from '@tenantkit/test-utils';
import { type Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { QueryConditions } from '../../src/compiler/compiled-permissions.js';
import { ensureRbacIndexes, mongoPermissionFilter, mongoRbacStore, rbacIndexes } from '../../src/adapters/mongodb.js';
import { resolveRbacCollectionNames } from '../../src/adapters/mongodb/rbac-collections.js';
import type { RbacStore } from '../../src/store.js';

/*
 * Runs only when MONGODB_URL points at a MongoDB replica set or sharded cluster (4.2+; the store
 * uses transactions). Each run works in its own randomly named database, dropped at the end.
 */
await describeWithService('mongodb', 'MongoDB RBAC store', () => {
  const options = { collectionPrefix: 'tk_' };
  const names = resolveRbacCollectionNames(options.collectionPrefix);
  let client: MongoClient;
  let db: Db;

  async function emptyCollections(): Promise<void> {
    await Promise.all(Object.values(names).map((name) => db.collection(name).deleteMany({})));
  }

  beforeAll(async () => {
    client = await new MongoClient(testServices.mongodb.url as string).connect();
    db = client.db(`tenantkit_test_${createId()}`);
    await ensureRbacIndexes(db, options);
  });

  afterAll(async () => {
    await db?.dropDatabase();
    await client?.close();
  });

  describeRbacStoreConformance(
    'mongodb',
    {
      async setup() {
        await emptyCollections();
        return mongoRbacStore(db, options);
      },
    },
    { leakKitOperations: 1_000, isolationRuns: 10, propertyTimeoutMs: 240_000 },
  );

  describe('MongoDB specifics', () => {
    let store: RbacStore;

    beforeEach(async () => {
      await emptyCollections();
      store = mongoRbacStore(db, options);
    });

    it('creates every defined index, and creating them again changes nothing', async () => {
      await ensureRbacIndexes(db, options);
      for (const definition of rbacIndexes) {
        const indexes = await db.collection(names[definition.collection]).listIndexes().toArray();
        const index = indexes.find((candidate) => candidate.name === definition.name);
        expect(index?.key).toEqual(definition.key);
        expect(index?.unique === true).toBe(definition.unique);
      }
    });

    it('keeps records under their natural _id', async () => {
      await store.insertGroup(buildGroup({ tenantId: 'tnt_a', id: 'grp_1' }));
      await store.insertAssignment(buildAssignment({ tenantId: 'tnt_a', id: 'asg_1' }), { maxAssignments: null, now: 0 });
      expect(await db.collection(names.groups).findOne({ _id: { tenantId: 'tnt_a', id: 'grp_1' } as never })).not.toBeNull();
      expect(await db.collection(names.assignments).findOne({ _id: { tenantId: 'tnt_a', id: 'asg_1' } as never })).not.toBeNull();
      expect(await db.collection(names.policyVersions).findOne({ _id: { tenantId: 'tnt_a' } as never })).toMatchObject({ version: 2 });
    });

    it('filters documents with mongoPermissionFilter as the in-memory check would', async () => {
      const docs = db.collection(`${options.collectionPrefix}docs`);
      await docs.insertMany([
        { _id: 1 as never, owner: 'usr_1', status: 'draft', tags: [] },
        { _id: 2 as never, owner: 'usr_2', status: 'published', tags: ['x'] },
        { _id: 3 as never, owner: ['usr_1'], status: 'published', tags: ['y', null] },
        { _id: 4 as never, status: null, tags: [] },
        { _id: 5 as never, owner: 'usr_2', tags: ['y'] },
        { _id: 6 as never, owner: 'usr_1' },
      ]);
      const query: QueryConditions = {
        kind: 'some',
        allow: [{ field: 'resource.owner', op: 'eq', value: 'usr_1' }, { not: { field: 'resource.status', op: 'eq', value: 'draft' } }],
        deny: [{ field: 'resource.tags', op: 'contains', value: 'x' }],
      };
      const found = await docs.find(mongoPermissionFilter(query)).sort({ _id: 1 }).toArray();
      // 1: own; 2: denied by its tag; 3: an array is not the owner, status published; 4: null is
      // not 'draft'; 5: no status, so "not draft" is unknown; 6: no tags, so the deny may apply.
      expect(found.map((document) => document._id)).toEqual([1, 3, 4]);
    });
  });
});
