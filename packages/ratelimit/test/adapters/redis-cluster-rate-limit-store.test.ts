import { describeWithRedisCluster } from '@tenantkit/test-utils';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisRateLimitStore } from '../../src/adapters/redis.js';
import type { RateLimitStore } from '../../src/stores/rate-limit-store.js';
import { describeRedisStoreConformance } from '../support/redis-store-conformance.js';
import { countCommands, useRedisClient } from '../support/redis-test-client.js';
import { specsUnder, testKeyPrefix } from '../support/redis-test-keys.js';

const code = (c: string) => expect.objectContaining({ code: c });

const filePrefix = testKeyPrefix('redis-cluster-store');
const spec = specsUnder(filePrefix);

await describeWithRedisCluster('redisRateLimitStore on a 3-master Redis Cluster', (cluster) => {
  const redisClient = useRedisClient(() => new Cluster([...cluster().nodes]), filePrefix);

  describeRedisStoreConformance('redis cluster', redisClient, `${filePrefix}:conformance`);

  describe('Cluster specifics', () => {
    let client: Cluster;
    let store: RateLimitStore;

    beforeAll(() => {
      client = redisClient();
      store = redisRateLimitStore(client);
    });

    afterAll(() => store.close());

    it('is a shared store named redis-cluster', () => {
      expect(store).toMatchObject({ kind: 'redis-cluster', shared: true });
    });

    it("keeps one tenant's counters in one slot and counts its request in one script call", async () => {
      const tenant = spec('slot-tenant', { points: 100, duration: 60, blockDuration: 0 });
      const user = spec('slot-user', { points: 10, duration: 60, blockDuration: 0, burst: { points: 5, duration: 10 } });
      const ip = spec('slot-ip', { points: 1, duration: 60, blockDuration: 0 });
      const request = [
        { spec: tenant, key: '{acme}', points: 1 },
        { spec: user, key: '{acme}:u=1', points: 1 },
        { spec: ip, key: '{acme}:ip=203.0.113.7', points: 1 },
      ];
      await store.consumeAll(request);
      const counted = countCommands(client);
      try {
        // The ip entry refuses: one call decides all three and charges none.
        expect((await store.consumeAll(request)).map((result) => result.allowed)).toEqual([true, true, false]);
      } finally {
        counted.restore();
      }
      expect(counted.names).toEqual(['evalsha']);
      const slots = await Promise.all(
        [
          `${tenant.keyPrefix}:{acme}`,
          `${user.keyPrefix}:{acme}:u=1`,
          `${user.keyPrefix}:burst:{acme}:u=1`,
          `${ip.keyPrefix}:{acme}:ip=203.0.113.7`,
        ].map((key) => client.cluster('KEYSLOT', key)),
      );
      expect(new Set(slots).size).toBe(1);
      expect(await client.get(`${tenant.keyPrefix}:{acme}`)).toBe('1');
      expect(await client.get(`${ip.keyPrefix}:{acme}:ip=203.0.113.7`)).toBe('1');
    });

    it('refunds the admitting groups when another group refuses, with one call per group', async () => {
      // Two tags on two different masters, so the groups really are separate calls to separate nodes.
      const tags = ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark'];
      const nodeOf = async (tag: string) => {
        const slot = Number(await client.cluster('KEYSLOT', `{${tag}}`));
        const range = (await client.cluster('SLOTS')).find(([from, to]) => slot >= from && slot <= to);
        return `${range?.[2]?.[0]}:${range?.[2]?.[1]}`;
      };
      const first = tags[0]!;
      const firstNode = await nodeOf(first);
      let second: string | undefined;
      for (const tag of tags.slice(1)) if ((await nodeOf(tag)) !== firstNode) second = tag;
      if (second === undefined) throw new Error('no two test tags on different masters');

      const tenant = spec('refund-tenant', { points: 10, duration: 60, blockDuration: 0 });
      const burstUser = spec('refund-user', { points: 1, duration: 60, blockDuration: 0, burst: { points: 3, duration: 30 } });
      const partner = spec('refund-partner', { points: 1, duration: 60, blockDuration: 0 });
      const request = [
        { spec: tenant, key: `{${first}}`, points: 2 },
        { spec: burstUser, key: `{${first}}:u=1`, points: 1 },
        { spec: partner, key: `{${second}}`, points: 1 },
      ];
      expect((await store.consumeAll(request)).map((result) => result.allowed)).toEqual([true, true, true]);

      const counted = countCommands(client);
      let results;
      try {
        results = await store.consumeAll(request);
      } finally {
        counted.restore();
      }
      expect(results.map((result) => [result.allowed, result.burst])).toEqual([
        [true, false],
        [true, true],
        [false, false],
      ]);
      expect(counted.names).toEqual(['evalsha', 'evalsha', 'evalsha']);
      expect(results[0]).toMatchObject({ consumed: 2, remaining: 8 });
      expect(await client.get(`${tenant.keyPrefix}:{${first}}`)).toBe('2');
      // A burst admission charged both counters; the refund took both back.
      expect(await client.get(`${burstUser.keyPrefix}:burst:{${first}}:u=1`)).toBeNull();
      expect(await client.get(`${burstUser.keyPrefix}:{${first}}:u=1`)).toBe('1');
      // The refusing group charged nothing.
      expect(await client.get(`${partner.keyPrefix}:{${second}}`)).toBe('1');
    });

    it('decides the groups after a refusal without charging them, and writes their blocks', async () => {
      const ip = spec('after-ip', { points: 1, duration: 60, blockDuration: 0 });
      const tenant = spec('after-tenant', { points: 1, duration: 60, blockDuration: 300 });
      await store.consumeAll([{ spec: ip, key: '{ip=203.0.113.9}', points: 1 }]);
      await store.consumeAll([{ spec: tenant, key: '{globex}', points: 1 }]);
      const request = [
        { spec: ip, key: '{ip=203.0.113.9}', points: 1 },
        { spec: tenant, key: '{acme}', points: 1 },
        { spec: tenant, key: '{globex}', points: 1 },
      ];
      const counted = countCommands(client);
      let results;
      try {
        results = await store.consumeAll(request);
      } finally {
        counted.restore();
      }
      // The first group refuses; the two after it are decided (one call each), never charged.
      expect(counted.names).toEqual(['evalsha', 'evalsha', 'evalsha']);
      expect(results.map((result) => [result.allowed, result.consumed])).toEqual([
        [false, 2],
        [true, 0],
        [false, 2],
      ]);
      expect(await client.get(`${tenant.keyPrefix}:{acme}`)).toBeNull();
      expect(await client.get(`${tenant.keyPrefix}:{globex}`)).toBe('2');
      expect(await client.pttl(`${tenant.keyPrefix}:{globex}`)).toBeGreaterThan(250_000);
    });

    it('admits exactly the tightest limit out of 50 concurrent requests spanning two tenants', async () => {
      const tenant = spec('spread-tenant', { points: 100, duration: 60, blockDuration: 0 });
      const partner = spec('spread-partner', { points: 10, duration: 60, blockDuration: 0 });
      const results = await Promise.all(
        Array.from({ length: 50 }, () =>
          store.consumeAll([
            { spec: tenant, key: '{acme}', points: 1 },
            { spec: partner, key: '{globex}', points: 1 },
          ]),
        ),
      );
      expect(results.filter((pair) => pair.every((result) => result.allowed))).toHaveLength(10);
      expect(await client.get(`${tenant.keyPrefix}:{acme}`)).toBe('10');
      expect(await client.get(`${partner.keyPrefix}:{globex}`)).toBe('10');
    });

    it('refuses a burst entry without a hash tag (its two counters could land in two slots)', async () => {
      const api = spec('untagged', { points: 1, duration: 60, blockDuration: 0, burst: { points: 1, duration: 10 } });
      await expect(store.consumeAll([{ spec: api, key: 'acme', points: 1 }])).rejects.toEqual(code('VALIDATION_FAILED'));
      const plain = spec('untagged-plain', { points: 1, duration: 60, blockDuration: 0 });
      expect((await store.consumeAll([{ spec: plain, key: 'acme', points: 1 }]))[0]?.allowed).toBe(true);
    });

    it('rejects at once with STORE_UNAVAILABLE while the Cluster client is not ready', async () => {
      const lazy = new Cluster([...cluster().nodes], { lazyConnect: true });
      try {
        const lazyStore = redisRateLimitStore(lazy);
        await expect(
          lazyStore.consumeAll([{ spec: spec('lazy', { points: 1, duration: 60, blockDuration: 0 }), key: '{acme}', points: 1 }]),
        ).rejects.toEqual(code('STORE_UNAVAILABLE'));
        expect(lazy.status).toBe('wait');
      } finally {
        lazy.disconnect();
      }
    });
  });
});
