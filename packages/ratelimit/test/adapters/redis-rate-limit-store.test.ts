import { createHash, randomBytes } from 'node:crypto';
import { describeWithService, testServices, unusedLocalPort } from '@tenantkit/test-utils';
import { Redis } from 'ioredis';
import { BurstyRateLimiter, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redisRateLimitStore } from '../../src/adapters/redis.js';
import { consumeAllLua } from '../../src/adapters/redis/consume-all-script.js';
import type { RateLimitStore, StoreConsumeEntry } from '../../src/stores/rate-limit-store.js';
import { describeRedisStoreConformance } from '../support/redis-store-conformance.js';
import { countCommands, useRedisClient } from '../support/redis-test-client.js';
import { specsUnder, testKeyPrefix } from '../support/redis-test-keys.js';

const code = (c: string) => expect.objectContaining({ code: c });

const filePrefix = testKeyPrefix('redis-store');
const spec = specsUnder(filePrefix);

/** What MONITOR sees one client send, between `start()` and a marker the client echoes. */
async function monitorClient(client: Redis) {
  const info = String(await client.call('CLIENT', 'INFO'));
  const address = /addr=(\S+)/.exec(info)?.[1];
  if (address === undefined) throw new Error(`no addr in CLIENT INFO: ${info}`);
  const monitor = await client.monitor();
  let seen: string[][] = [];
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (source === address) seen.push(args);
  });
  return {
    async during(work: () => Promise<unknown>): Promise<string[][]> {
      // A first marker makes sure MONITOR is live before the work starts.
      await this.settle();
      seen = [];
      await work();
      await this.settle();
      return seen.filter((args) => args[0]?.toLowerCase() !== 'echo');
    },
    async settle(): Promise<void> {
      const marker = `tk-marker-${randomBytes(6).toString('hex')}`;
      await client.echo(marker);
      for (let attempt = 0; attempt < 500 && !seen.some((args) => args[1] === marker); attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      if (!seen.some((args) => args[1] === marker)) throw new Error('MONITOR never saw the marker');
    },
    async stop() {
      monitor.disconnect();
    },
  };
}

await describeWithService('redis', 'redisRateLimitStore on a single Redis node', () => {
  const redisClient = useRedisClient(() => new Redis(testServices.redis.url), filePrefix);

  describeRedisStoreConformance('redis', redisClient, `${filePrefix}:conformance`);

  describe('Redis specifics', () => {
    let client: Redis;
    let store: RateLimitStore;

    beforeAll(() => {
      client = redisClient();
      store = redisRateLimitStore(client);
    });

    afterAll(() => store.close());

    it('is a shared store named redis', () => {
      expect(store).toMatchObject({ kind: 'redis', shared: true });
      expect(redisRateLimitStore(client, { kind: 'redis-auth' }).kind).toBe('redis-auth');
    });

    it('refuses what is not an ioredis client, and bad options', () => {
      expect(() => redisRateLimitStore({} as never)).toThrow(code('CONFIGURATION_INVALID'));
      expect(() => redisRateLimitStore(null as never)).toThrow(code('CONFIGURATION_INVALID'));
      expect(() => redisRateLimitStore(client, { kind: '' })).toThrow(code('CONFIGURATION_INVALID'));
    });

    it('writes the key layout of rate-limiter-flexible: an integer counter whose PTTL is the window', async () => {
      const api = spec('layout', { points: 5, duration: 60, blockDuration: 0, burst: { points: 2, duration: 30 } });
      for (let call = 0; call < 7; call += 1) await store.consumeAll([{ spec: api, key: '{acme}:u=1', points: 1 }]);
      expect(await client.get(`${api.keyPrefix}:{acme}:u=1`)).toBe('7');
      expect(await client.get(`${api.keyPrefix}:burst:{acme}:u=1`)).toBe('2');
      const ttl = await client.pttl(`${api.keyPrefix}:{acme}:u=1`);
      expect(ttl).toBeGreaterThan(50_000);
      expect(ttl).toBeLessThanOrEqual(60_000);
    });

    it('sends one command, one round trip, for a request of three policies and two tenants', async () => {
      const tenant = spec('trip-tenant', { points: 100, duration: 60, blockDuration: 0 });
      const user = spec('trip-user', { points: 10, duration: 60, blockDuration: 0, burst: { points: 5, duration: 10 } });
      const ip = spec('trip-ip', { points: 50, duration: 60, blockDuration: 60 });
      const request: StoreConsumeEntry[] = [
        { spec: tenant, key: '{acme}', points: 1 },
        { spec: user, key: '{acme}:u=1', points: 1 },
        { spec: ip, key: '{globex}:ip=203.0.113.7', points: 1 },
      ];
      await store.consumeAll(request); // loads the script on this connection

      const counted = countCommands(client);
      try {
        await store.consumeAll(request);
      } finally {
        counted.restore();
      }
      expect(counted.names).toEqual(['evalsha']);

      const monitor = await monitorClient(client);
      try {
        const seen = await monitor.during(() => store.consumeAll(request));
        expect(seen.map((args) => args[0]?.toLowerCase())).toEqual(['evalsha']);
        // And no command outside the script: no KEYS, FLUSHDB, or RLF's own calls.
      } finally {
        await monitor.stop();
      }
    });

    it('sends EVAL once per connection, then EVALSHA of the same script', async () => {
      const fresh = new Redis(testServices.redis.url);
      try {
        await fresh.ping();
        const freshStore = redisRateLimitStore(fresh);
        const api = spec('sha', { points: 10, duration: 60, blockDuration: 0 });
        const monitor = await monitorClient(fresh);
        try {
          const seen = await monitor.during(async () => {
            for (let call = 0; call < 3; call += 1) await freshStore.consumeAll([{ spec: api, key: '{acme}', points: 1 }]);
          });
          const sha = createHash('sha1').update(consumeAllLua).digest('hex');
          expect(seen.map((args) => [args[0]?.toLowerCase(), args[0]?.toLowerCase() === 'eval' ? 'script' : args[1]])).toEqual([
            ['eval', 'script'],
            ['evalsha', sha],
            ['evalsha', sha],
          ]);
        } finally {
          await monitor.stop();
        }
        await freshStore.close();
      } finally {
        await fresh.quit();
      }
    });

    it('counts as rate-limiter-flexible up to its block, then charges refusals nowhere', async () => {
      const limit = { points: 3, duration: 60, blockDuration: 90 } as const;
      const ours = spec('differential-ours', limit);
      const theirs = new RateLimiterRedis({ storeClient: client, keyPrefix: spec('differential-rlf', limit).keyPrefix, ...limit });
      // The third request crosses the points and blocks; the fourth is refused by the block.
      const weights = [1, 2, 1, 1];
      for (const points of weights) {
        const [result] = await store.consumeAll([{ spec: ours, key: '{acme}', points }]);
        const reference = await theirs.consume('{acme}', points).then(
          (res) => ({ allowed: true, res }),
          (res: unknown) => {
            if (!(res instanceof RateLimiterRes)) throw res;
            return { allowed: false, res };
          },
        );
        expect(result).toMatchObject({
          allowed: reference.allowed,
          consumed: reference.res.consumedPoints,
          remaining: reference.res.remainingPoints,
        });
        expect(Math.abs(result!.msBeforeNext - reference.res.msBeforeNext)).toBeLessThan(2_000);
      }
      // rate-limiter-flexible charged the refused request (5); the block holds points + 1.
      expect((await theirs.get('{acme}'))?.consumedPoints).toBe(5);
      expect(await client.get(`${ours.keyPrefix}:{acme}`)).toBe('4');
      const [result] = await store.consumeAll([{ spec: ours, key: '{acme}', points: 3 }]);
      expect(result).toMatchObject({ allowed: false, consumed: 7 });
      expect(await client.get(`${ours.keyPrefix}:{acme}`)).toBe('4');
    });

    it("shares counters with rate-limiter-flexible's own BurstyRateLimiter over the store's limiters", async () => {
      const api = spec('bursty', { points: 1, duration: 60, blockDuration: 0, burst: { points: 2, duration: 30 } });
      const bursty = new BurstyRateLimiter(
        store.limiter(api),
        store.limiter({ keyPrefix: `${api.keyPrefix}:burst`, points: 2, duration: 30, blockDuration: 0 }),
      );
      await bursty.consume('{acme}'); // window
      expect((await store.consumeAll([{ spec: api, key: '{acme}', points: 1 }]))[0]).toMatchObject({ allowed: true, burst: true });
      await bursty.consume('{acme}'); // the second burst point
      expect((await store.consumeAll([{ spec: api, key: '{acme}', points: 1 }]))[0]).toMatchObject({ allowed: false, consumed: 4 });
      await expect(bursty.consume('{acme}')).rejects.toBeInstanceOf(RateLimiterRes);
    });

    it('rejects with STORE_UNAVAILABLE, never a raw driver error, when a script command fails, and writes nothing', async () => {
      const api = spec('wrongtype', { points: 5, duration: 60, blockDuration: 0 });
      // Another program's hash under our key: GET fails with WRONGTYPE.
      await client.hset(`${api.keyPrefix}:{acme}`, 'field', '1');
      const failure = await store
        .consumeAll([
          { spec: api, key: '{acme}:u=1', points: 1 },
          { spec: api, key: '{acme}', points: 1 },
        ])
        .catch((error: unknown) => error);
      expect(failure).toEqual(code('STORE_UNAVAILABLE'));
      expect((failure as Error).cause).toBeInstanceOf(Error);
      // The script decides before it writes: the entry before the failing one was not charged.
      expect(await client.get(`${api.keyPrefix}:{acme}:u=1`)).toBeNull();
    });

    it('counts a value INCRBY cannot add to as an empty counter that the next charge replaces, instead of failing', async () => {
      const api = spec('odd-value', { points: 5, duration: 60, blockDuration: 0 });
      const tight = spec('odd-value-tight', { points: 1, duration: 60, blockDuration: 0 });
      const odd = ['not a number', '1.5', '007', ' 3', '1e3', '12345678901234567890'];
      for (const [index, value] of odd.entries()) {
        const key = `${api.keyPrefix}:{acme}:odd=${index}`;
        await client.set(key, value, 'EX', 600);
        // Refused by another entry: nothing is written, the odd value stays.
        await store.consumeAll([{ spec: tight, key: `{acme}:full=${index}`, points: 1 }]);
        const refused = await store.consumeAll([
          { spec: api, key: `{acme}:odd=${index}`, points: 2 },
          { spec: tight, key: `{acme}:full=${index}`, points: 1 },
        ]);
        expect(refused.map((result) => result.allowed)).toEqual([true, false]);
        expect(await client.get(key)).toBe(value);
        const [admitted] = await store.consumeAll([{ spec: api, key: `{acme}:odd=${index}`, points: 2 }]);
        expect(admitted).toMatchObject({ allowed: true, consumed: 2, remaining: 3 });
        expect(await client.get(key)).toBe('2');
        expect(await client.pttl(key)).toBeLessThanOrEqual(60_000);
      }
    });

    it('after close() rejects, and leaves the client open', async () => {
      const closing = redisRateLimitStore(client);
      await closing.close();
      await expect(closing.consumeAll([{ spec: spec('closed', { points: 1, duration: 60, blockDuration: 0 }), key: '{a}', points: 1 }])).rejects.toEqual(
        code('STORE_UNAVAILABLE'),
      );
      expect(client.status).toBe('ready');
      expect(await client.ping()).toBe('PONG');
    });
  });

  describe('a client that is not ready', () => {
    const clients: Redis[] = [];
    afterEach(() => {
      for (const idle of clients.splice(0)) idle.disconnect();
    });
    const api = spec('not-ready', { points: 5, duration: 60, blockDuration: 0 });

    it('rejects at once with STORE_UNAVAILABLE before connecting (lazyConnect)', async () => {
      const lazy = new Redis(testServices.redis.url, { lazyConnect: true });
      clients.push(lazy);
      const store = redisRateLimitStore(lazy);
      await expect(store.consumeAll([{ spec: api, key: '{acme}', points: 1 }])).rejects.toEqual(code('STORE_UNAVAILABLE'));
      // Nothing was queued to run later, and nothing connected the client.
      expect(lazy.status).toBe('wait');
      await expect(store.limiter(api).get('{acme}')).rejects.toBeInstanceOf(Error);
    });

    it('rejects at once while ioredis keeps reconnecting to a server that is down, instead of queueing', async () => {
      const port = await unusedLocalPort();
      const down = new Redis({ host: '127.0.0.1', port, retryStrategy: () => 50, maxRetriesPerRequest: null });
      down.on('error', () => {});
      clients.push(down);
      const store = redisRateLimitStore(down);
      // maxRetriesPerRequest: null would keep a queued command waiting forever.
      await expect(store.consumeAll([{ spec: api, key: '{acme}', points: 1 }])).rejects.toEqual(code('STORE_UNAVAILABLE'));
      await expect(store.limiter(api).consume('{acme}')).rejects.toBeInstanceOf(Error);
      expect(down.status).not.toBe('ready');
    });
  });
});
