import { createId } from '@tenantkit/core';
import { describeTenantContextStoreConformance, describeWithService, testServices, unusedLocalPort } from '@tenantkit/test-utils';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { memoryTenantContextStores } from '../../src/adapters/memory.js';
import { defaultRedisKeyPrefix, redisUsageCounterStore } from '../../src/adapters/redis.js';
import { defineLuaScript, runLuaScript } from '../../src/adapters/redis/usage-counter-scripts.js';
import { tenantRedisKey } from '../../src/adapters/redis/tenant-key.js';
import type { UsageCounterStore } from '../../src/store.js';

/** The Cluster hash tag of a key, as Redis computes it: between the first `{` and the next `}`. */
function hashTagOf(key: string): string | null {
  const open = key.indexOf('{');
  if (open === -1) return null;
  const close = key.indexOf('}', open + 1);
  return close === -1 || close === open + 1 ? null : key.slice(open + 1, close);
}

describe('tenantRedisKey', () => {
  it('puts the tenant id in a hash tag between the prefix and the parts', () => {
    expect(tenantRedisKey('tk:', 'tnt_a', 'usage')).toBe('tk:{tnt_a}:usage');
    expect(tenantRedisKey('', 'tnt_A-1', 'a', 'b')).toBe('{tnt_A-1}:a:b');
    expect(hashTagOf(tenantRedisKey('tk:', 'tnt_a', 'usage'))).toBe('tnt_a');
  });

  it('refuses tenant ids that could move the hash tag or widen a key pattern', () => {
    for (const tenantId of ['', 'a}b', '{a}', 'a*', 'a?b', 'a b', 'a:b', 'x'.repeat(65), 42 as unknown as string]) {
      expect(() => tenantRedisKey('tk:', tenantId, 'usage')).toThrow(expect.objectContaining({ code: 'TENANT_IDENTIFIER_INVALID' }));
    }
  });
});

await describeWithService('redis', 'Redis usage counter store', () => {
  /** Every key this file writes starts with it, so cleanup never touches another file's keys. */
  const filePrefix = `tktest:${createId()}:`;
  const connections: Redis[] = [];
  let client: Redis;
  let prefixCount = 0;

  function freshPrefix(): string {
    prefixCount += 1;
    return `${filePrefix}${prefixCount}:`;
  }

  function connect(): Redis {
    const connection = new Redis(testServices.redis.url);
    connections.push(connection);
    return connection;
  }

  /** Keys under a prefix, found with SCAN (never KEYS, which blocks the server). */
  async function scanKeys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return [...new Set(keys)].sort();
  }

  beforeAll(() => {
    client = connect();
  });

  afterAll(async () => {
    const keys = await scanKeys(filePrefix);
    if (keys.length > 0) await client.unlink(...keys);
    await Promise.all(connections.map((connection) => connection.quit()));
  });

  describeTenantContextStoreConformance('memory stores with redis usage counters', {
    setup: async () => ({ ...memoryTenantContextStores(), usageCounters: redisUsageCounterStore(client, { keyPrefix: freshPrefix() }) }),
  });

  describe('redisUsageCounterStore', () => {
    let prefix: string;
    let counters: UsageCounterStore;

    beforeEach(() => {
      prefix = freshPrefix();
      counters = redisUsageCounterStore(client, { keyPrefix: prefix });
    });

    it('increments up to the limit, decrements to a floor of 0, sets, reads and deletes', async () => {
      expect(await counters.increment('tnt_a', 'users', 2, 3)).toEqual({ applied: true, value: 2 });
      expect(await counters.increment('tnt_a', 'users', 2, 3)).toEqual({ applied: false, value: 2 });
      expect(await counters.increment('tnt_a', 'users', 1, 3)).toEqual({ applied: true, value: 3 });
      expect(await counters.decrement('tnt_a', 'users', 1)).toBe(2);
      expect(await counters.decrement('tnt_a', 'users', 5)).toBe(0);
      expect(await counters.get('tnt_a', 'users')).toBe(0);
      expect(await counters.decrement('tnt_a', 'never-set', 1)).toBe(0);
      expect(await client.hexists(`${prefix}{tnt_a}:usage`, 'never-set')).toBe(0);
      await counters.set('tnt_a', 'projects', 7);
      expect(await counters.getAll('tnt_a')).toEqual({ users: 0, projects: 7 });
      await counters.deleteAll('tnt_a');
      expect(await counters.getAll('tnt_a')).toEqual({});
      expect(await client.exists(`${prefix}{tnt_a}:usage`)).toBe(0);
    });

    it('keeps each tenant in one hash whose key carries the {tenantId} hash tag', async () => {
      await counters.increment('tnt_a', 'users', 1, -1);
      await counters.increment('tnt_a', 'storage.bytes', 5, -1);
      await counters.set('tnt_A', 'users', 2);
      await counters.increment('tnt_ab', 'users', 3, 10);
      const keys = await scanKeys(prefix);
      expect(keys).toEqual([`${prefix}{tnt_A}:usage`, `${prefix}{tnt_a}:usage`, `${prefix}{tnt_ab}:usage`].sort());
      for (const key of keys) {
        expect(await client.type(key)).toBe('hash');
        expect(`${prefix}{${hashTagOf(key)}}:usage`).toBe(key);
      }
      expect(await client.hgetall(`${prefix}{tnt_a}:usage`)).toEqual({ users: '1', 'storage.bytes': '5' });
      await counters.deleteAll('tnt_a');
      expect(await scanKeys(prefix)).toEqual([`${prefix}{tnt_A}:usage`, `${prefix}{tnt_ab}:usage`]);
      expect(await counters.get('tnt_A', 'users')).toBe(2);
    });

    it('admits exactly 150 of 200 concurrent increments from several connections', async () => {
      const stores = Array.from({ length: 5 }, () => redisUsageCounterStore(connect(), { keyPrefix: prefix }));
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, index) => (stores[index % stores.length] as UsageCounterStore).increment('tnt_a', 'seats', 1, 150)),
      );
      const applied = results.filter((result) => result.applied);
      expect(applied).toHaveLength(150);
      expect(applied.map((result) => result.value).sort((a, b) => a - b)).toEqual(Array.from({ length: 150 }, (_, index) => index + 1));
      for (const refused of results.filter((result) => !result.applied)) expect(refused.value).toBe(150);
      expect(await counters.get('tnt_a', 'seats')).toBe(150);
    });

    it('never goes below 0 under concurrent decrements from several connections', async () => {
      await counters.set('tnt_a', 'seats', 40);
      const stores = Array.from({ length: 4 }, () => redisUsageCounterStore(connect(), { keyPrefix: prefix }));
      const values = await Promise.all(
        Array.from({ length: 100 }, (_, index) => (stores[index % stores.length] as UsageCounterStore).decrement('tnt_a', 'seats', 1)),
      );
      expect(values.filter((value) => value === 0)).toHaveLength(61);
      expect([...values].sort((a, b) => a - b).slice(60)).toEqual(Array.from({ length: 40 }, (_, index) => index));
      expect(await client.hget(`${prefix}{tnt_a}:usage`, 'seats')).toBe('0');
    });

    it('treats -1 as unlimited, up to the largest safe integer, with exact large values', async () => {
      expect(await counters.increment('tnt_a', 'bytes', 1_000_000_000_000_000, -1)).toEqual({ applied: true, value: 1_000_000_000_000_000 });
      expect(await counters.increment('tnt_a', 'bytes', 5, -1)).toEqual({ applied: true, value: 1_000_000_000_000_005 });
      expect(await client.hget(`${prefix}{tnt_a}:usage`, 'bytes')).toBe('1000000000000005');
      expect(await counters.decrement('tnt_a', 'bytes', 1_000_000_000_000_000)).toBe(5);

      await counters.set('tnt_a', 'bytes', Number.MAX_SAFE_INTEGER - 1);
      expect(await counters.increment('tnt_a', 'bytes', 1, -1)).toEqual({ applied: true, value: Number.MAX_SAFE_INTEGER });
      await expect(counters.increment('tnt_a', 'bytes', 1, -1)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(await counters.get('tnt_a', 'bytes')).toBe(Number.MAX_SAFE_INTEGER);
      expect(await counters.increment('tnt_a', 'bytes', 1, Number.MAX_SAFE_INTEGER)).toEqual({ applied: false, value: Number.MAX_SAFE_INTEGER });
    });

    it('refuses an amount above the limit without writing anything', async () => {
      expect(await counters.increment('tnt_a', 'seats', 4, 3)).toEqual({ applied: false, value: 0 });
      expect(await counters.increment('tnt_a', 'seats', 1, 0)).toEqual({ applied: false, value: 0 });
      expect(await scanKeys(prefix)).toEqual([]);
    });

    it('rejects bad amounts, limits and values with VALIDATION_FAILED and writes nothing', async () => {
      const badAmounts = [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 1, '1' as unknown as number];
      for (const amount of badAmounts) {
        await expect(counters.increment('tnt_a', 'users', amount, -1)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
        await expect(counters.decrement('tnt_a', 'users', amount)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      }
      for (const limit of [-2, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1]) {
        await expect(counters.increment('tnt_a', 'users', 1, limit)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      }
      for (const value of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1]) {
        await expect(counters.set('tnt_a', 'users', value)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      }
      await expect(counters.set('tnt_a', { $ne: null } as unknown as string, 1)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(await scanKeys(prefix)).toEqual([]);
    });

    it('rejects tenant ids that would break the key layout with TENANT_IDENTIFIER_INVALID', async () => {
      for (const tenantId of ['', 'a}b', '{tnt_a}', 'tnt_*', 'tnt a']) {
        await expect(counters.increment(tenantId, 'users', 1, -1)).rejects.toMatchObject({ code: 'TENANT_IDENTIFIER_INVALID' });
        await expect(counters.deleteAll(tenantId)).rejects.toMatchObject({ code: 'TENANT_IDENTIFIER_INVALID' });
      }
      expect(await scanKeys(prefix)).toEqual([]);
    });

    it('keeps resource names opaque, __proto__ included', async () => {
      await counters.set('tnt_a', '__proto__', 3);
      await counters.set('tnt_a', 'a:b {c}', 4);
      const all = await counters.getAll('tnt_a');
      expect(Object.getPrototypeOf(all)).toBe(Object.prototype);
      expect(Object.entries(all).sort()).toEqual([
        ['__proto__', 3],
        ['a:b {c}', 4],
      ]);
      expect(await counters.get('tnt_a', '__proto__')).toBe(3);
    });

    it('refuses to pass on a counter that Redis holds as something other than a count', async () => {
      await client.hset(`${prefix}{tnt_a}:usage`, 'users', 'lots');
      await expect(counters.get('tnt_a', 'users')).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
      await expect(counters.getAll('tnt_a')).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
    });

    it('falls back to EVAL when the server does not have a script cached, which caches it', async () => {
      const script = defineLuaScript(`-- ${createId()}\nreturn redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])`);
      const key = `${prefix}{tnt_a}:usage`;
      expect(await client.script('EXISTS', script.sha1)).toEqual([0]);
      expect(await runLuaScript(client, script, key, ['users', '2'])).toBe(2);
      expect(await client.script('EXISTS', script.sha1)).toEqual([1]);
      expect(await runLuaScript(client, script, key, ['users', '3'])).toBe(5);
    });

    it('uses tk: as the default prefix and validates its options when created', () => {
      expect(defaultRedisKeyPrefix).toBe('tk:');
      for (const keyPrefix of ['{app}:', 'a}', 'has space', 'x'.repeat(65)]) {
        expect(() => redisUsageCounterStore(client, { keyPrefix })).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
      }
      expect(() => redisUsageCounterStore(client, { keyPrefx: 'typo' } as never)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
      expect(() => redisUsageCounterStore(null as never)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
      expect(() => redisUsageCounterStore({ get: () => null } as never)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
    });

    it('accepts a Redis Cluster client', () => {
      const cluster = new Cluster([{ host: '127.0.0.1', port: 6379 }], { lazyConnect: true });
      try {
        expect(() => redisUsageCounterStore(cluster, { keyPrefix: prefix })).not.toThrow();
      } finally {
        cluster.disconnect();
      }
    });
  });

  describe('redisUsageCounterStore without a server', () => {
    let offline: Redis;

    beforeAll(async () => {
      const port = await unusedLocalPort();
      offline = new Redis({
        host: '127.0.0.1',
        port,
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      offline.on('error', () => {
        // Connection errors also surface as rejected commands, which the tests check.
      });
    });

    afterAll(() => {
      offline.disconnect();
    });

    it('fails every operation fast with STORE_UNAVAILABLE, keeping the driver error as cause', async () => {
      const counters = redisUsageCounterStore(offline);
      const calls: (() => Promise<unknown>)[] = [
        () => counters.increment('tnt_a', 'users', 1, 10),
        () => counters.decrement('tnt_a', 'users', 1),
        () => counters.get('tnt_a', 'users'),
        () => counters.getAll('tnt_a'),
        () => counters.set('tnt_a', 'users', 1),
        () => counters.deleteAll('tnt_a'),
      ];
      for (const call of calls) {
        const error = await call().then(
          () => expect.fail('expected a rejection'),
          (reason: unknown) => reason,
        );
        expect(error).toMatchObject({ name: 'TenantContextError', code: 'STORE_UNAVAILABLE', status: 503 });
        expect((error as Error).cause).toBeInstanceOf(Error);
      }
    });
  });
});
