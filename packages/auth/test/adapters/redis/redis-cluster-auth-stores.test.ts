import {
  buildOneTimeTokenRecord,
  buildRefreshFamilyRecord,
  buildRefreshTokenRecord,
  buildSessionRecord,
  describeAuthStoreConformance,
  describeWithRedisCluster,
} from '@tenantkit/test-utils';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisAuthStores } from '../../../src/adapters/redis.js';
import { createRedisAuthKeyspace } from '../../../src/adapters/redis/redis-auth-keyspace.js';
import { describeRedisAuthStoreSpecifics } from './redis-auth-store-specifics.js';
import { authTestKeyPrefix, unlinkByPrefix } from './redis-test-keys.js';

const filePrefix = authTestKeyPrefix('redis-cluster');

await describeWithRedisCluster('redisAuthStores on a 3-master Redis Cluster', (cluster) => {
  let client: Cluster;

  beforeAll(async () => {
    client = new Cluster([...cluster().nodes]);
    await client.ping();
  });

  afterAll(async () => {
    await unlinkByPrefix(client, filePrefix);
    await client.quit();
  });

  describeAuthStoreConformance(
    'redis cluster',
    async () => ({ stores: redisAuthStores(client, { keyPrefix: `${filePrefix}conformance:` }) }),
    { only: ['sessions', 'refreshTokens', 'revocations', 'oneTimeTokens'] },
  );

  describeRedisAuthStoreSpecifics('redis cluster', {
    connect: () => new Cluster([...cluster().nodes]),
    client: () => client,
    keyPrefix: `${filePrefix}specifics:`,
    mayFlushScripts: true,
  });

  describe('Cluster slots', () => {
    const keys = createRedisAuthKeyspace(`${filePrefix}slots:`);
    const slotOf = async (key: string) => Number(await client.cluster('KEYSLOT', key));
    const slotsOf = async (list: readonly string[]) => new Set(await Promise.all(list.map(slotOf)));

    it("puts the keys of every script in one slot: a user's sessions and families, a family and its tokens, a one-time group", async () => {
      expect((await slotsOf([keys.session('usr_1', 'ses_1'), keys.session('usr_1', 'ses_2'), keys.userSessions('usr_1'), keys.sessionBase('usr_1'), keys.userFamilies('usr_1')])).size).toBe(1);
      expect((await slotsOf([keys.family('rtf_1'), keys.refreshToken('rtf_1', 'hash-a'), keys.refreshToken('rtf_1', 'hash-b')])).size).toBe(1);
      expect(
        (await slotsOf([keys.oneTimeGroup('invitation', 'a@example.com'), keys.oneTimeToken('invitation', 'a@example.com', 'h1'), keys.oneTimeBase('invitation', 'a@example.com')])).size,
      ).toBe(1);
    });

    it('keeps the refresh lookup key of a token in its own slot, which is why rotate re-checks the token on the family slot', async () => {
      // Some of these lookup keys hash elsewhere than their family: the design must not need them together.
      const hashes = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
      const familySlot = await slotOf(keys.family('rtf_1'));
      const lookupSlots = await Promise.all(hashes.map((hash) => slotOf(keys.refreshTokenIndex(hash))));
      expect(lookupSlots.some((slot) => slot !== familySlot)).toBe(true);
    });

    it('works with records whose keys live on all three masters at once (check, revokeByUser, voidFor)', async () => {
      const stores = redisAuthStores(client, { keyPrefix: `${filePrefix}slots:` });
      const now = Date.now();
      const nodeOf = async (key: string) => {
        const slot = await slotOf(key);
        const range = (await client.cluster('SLOTS')).find(([from, to]) => slot >= from && slot <= to);
        return `${range?.[2]?.[0]}:${range?.[2]?.[1]}`;
      };
      const checkKeys = [keys.revokedJti('jti_x'), keys.revokedSession('ses_x'), keys.epoch('user', 'usr_x'), keys.epoch('tenant', 'tnt_x')];
      expect(new Set(await Promise.all(checkKeys.map(nodeOf))).size).toBeGreaterThan(1);
      await stores.revocations.revokeToken('jti_x', now + 60_000);
      await stores.revocations.revokeSession('ses_x', now + 60_000);
      await stores.revocations.raiseEpoch('user', 'usr_x', now - 5);
      await stores.revocations.raiseEpoch('tenant', 'tnt_x', now - 7);
      expect(await stores.revocations.check({ jti: 'jti_x', sessionId: 'ses_x', userId: 'usr_x', tenantId: 'tnt_x' }, now)).toEqual({
        jtiRevoked: true,
        sessionRevoked: true,
        userEpoch: now - 5,
        tenantEpoch: now - 7,
      });

      const userId = 'usr_many_families';
      const families = Array.from({ length: 6 }, (_, index) => buildRefreshFamilyRecord({ id: `rtf_many_${index}`, userId, createdAt: now }));
      expect(new Set(await Promise.all(families.map((family) => nodeOf(keys.family(family.id))))).size).toBeGreaterThan(1);
      for (const family of families) {
        await stores.refreshTokens.createFamily(family, buildRefreshTokenRecord({ tokenHash: `${family.id}_t`, familyId: family.id, issuedAt: now }));
      }
      expect([...(await stores.refreshTokens.revokeByUser(userId, 'password-reset', now))].sort()).toEqual(families.map((family) => family.id).sort());

      const session = buildSessionRecord({ id: 'ses_slots', tokenHash: 'sth_slots', userId, createdAt: now });
      expect(await stores.sessions.create(session)).toBe('created');
      expect(await stores.sessions.findByTokenHash('sth_slots', now)).toEqual(session);

      const invitation = buildOneTimeTokenRecord({ tokenHash: 'ott_slots', purpose: 'invitation', subject: 'x@example.com', tenantId: 'tnt_x', createdAt: now });
      await stores.oneTimeTokens.issue(invitation);
      expect(await stores.oneTimeTokens.voidFor('invitation', 'x@example.com')).toBe(1);
    });
  });
});
