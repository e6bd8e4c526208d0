import { createId } from '@tenantkit/core';
import {
  buildAccountRecord,
  buildOneTimeTokenRecord,
  buildRefreshFamilyRecord,
  buildRefreshTokenRecord,
  buildSessionRecord,
  describeAuthStoreConformance,
  describeWithService,
  testServices,
} from '@tenantkit/test-utils';
import { type Db, MongoClient } from 'mongodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { authMongoIndexes, ensureAuthIndexes, mongoAuthStores } from '../../../src/adapters/mongodb.js';
import { resolveAuthCollectionNames } from '../../../src/adapters/mongodb/auth-collections.js';
import type { AuthStores, RefreshRotateOutcome } from '../../../src/store.js';

/*
 * Runs only when MONGODB_URL points at a MongoDB server (4.2+; the stores use no transactions,
 * so a standalone server will do). Each run works in its own randomly named database, dropped
 * at the end.
 */
await describeWithService('mongodb', 'MongoDB auth stores', () => {
  const options = { collectionPrefix: 'tk_' };
  const names = resolveAuthCollectionNames(options.collectionPrefix);
  let client: MongoClient;
  let db: Db;

  async function emptyCollections(): Promise<void> {
    await Promise.all(Object.values(names).map((name) => db.collection(name).deleteMany({})));
  }

  beforeAll(async () => {
    client = await new MongoClient(testServices.mongodb.url as string).connect();
    db = client.db(`tenantkit_test_${createId()}`);
    await ensureAuthIndexes(db, options);
  });

  afterAll(async () => {
    await db?.dropDatabase();
    await client?.close();
  });

  describeAuthStoreConformance(
    'mongodb',
    async () => ({ stores: mongoAuthStores(db, options) }),
    { leakKitOperations: 1_000, isolationRuns: 10, propertyTimeoutMs: 240_000 },
  );

  describe('MongoDB specifics', () => {
    let stores: AuthStores;

    beforeEach(async () => {
      await emptyCollections();
      stores = mongoAuthStores(db, options);
    });

    it('creates every defined index, and creating them again changes nothing', async () => {
      await ensureAuthIndexes(db, options);
      for (const definition of authMongoIndexes) {
        const indexes = await db.collection(names[definition.collection]).listIndexes().toArray();
        const index = indexes.find((candidate) => candidate.name === definition.name);
        expect(index?.key).toEqual(definition.key);
        expect(index?.unique === true).toBe(definition.unique);
        expect(index?.expireAfterSeconds).toBe(definition.expireAfterSeconds);
      }
    });

    it('keeps records under their natural _id, with an expireAt Date for the TTL index', async () => {
      const now = Date.now();
      await stores.accounts.create(buildAccountRecord({ id: 'usr_1', email: 'a@example.com', createdAt: now }));
      await stores.sessions.create(buildSessionRecord({ id: 'ses_1', tokenHash: 'sth_1', userId: 'usr_1', createdAt: now }));
      await stores.oneTimeTokens.issue(buildOneTimeTokenRecord({ tokenHash: 'ott_1', subject: 'usr_1', createdAt: now, data: { $where: 1, 'a.b': 2 } }));
      expect(await db.collection(names.accounts).findOne({ _id: 'usr_1' as never })).toMatchObject({ email: 'a@example.com' });
      const session = await db.collection(names.sessions).findOne({ _id: 'ses_1' as never });
      expect(session?.expireAt).toEqual(new Date(now + 86_400_000));
      expect(await db.collection(names.oneTimeTokens).findOne({ _id: 'ott_1' as never })).toMatchObject({ data: '{"$where":1,"a.b":2}' });
    });

    it("20 concurrent refreshes of one token from two clients: exactly one 'rotated', the others 'grace' with its sealed successor", async () => {
      const second = await new MongoClient(testServices.mongodb.url as string).connect();
      try {
        const other = mongoAuthStores(second.db(db.databaseName), options);
        const now = Date.now();
        const family = buildRefreshFamilyRecord({ id: 'rtf_c', userId: 'usr_c', createdAt: now });
        await stores.refreshTokens.createFamily(family, buildRefreshTokenRecord({ tokenHash: 'rth_c', familyId: family.id, issuedAt: now }));
        const outcomes: RefreshRotateOutcome[] = await Promise.all(
          Array.from({ length: 20 }, (_, index) =>
            (index % 2 === 0 ? stores : other).refreshTokens.rotate({
              presentedHash: 'rth_c',
              next: buildRefreshTokenRecord({ tokenHash: `rth_c_${index}`, familyId: family.id, generation: 1, issuedAt: now }),
              successorSealed: `sealed_${index}`,
              now: now + 1,
              graceMs: 10_000,
            }),
          ),
        );
        const winner = outcomes.findIndex((outcome) => outcome.outcome === 'rotated');
        expect(outcomes.filter((outcome) => outcome.outcome === 'rotated')).toHaveLength(1);
        expect(outcomes.filter((outcome) => outcome.outcome === 'grace' && outcome.successorSealed === `sealed_${winner}`)).toHaveLength(19);
        expect(await db.collection(names.refreshTokens).countDocuments({ familyId: family.id })).toBe(2);
      } finally {
        await second.close();
      }
    });
  });
});
