import { createId } from '@tenantkit/core';
import { runLeakKit, type LeakKitRecord, type LeakKitTarget } from '@tenantkit/test-utils';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryTenantContextStores } from '../../../src/adapters/memory.js';
import { createTenantEventBus } from '../../../src/events.js';
import { createTenantCache, type TenantCache, type TenantCacheOptions } from '../../../src/isolation/redis/tenant-cache.js';
import { purgeTenantKeys, scanTenantKeys } from '../../../src/isolation/redis/purge-tenant-keys.js';
import type { RedisClient } from '../../../src/isolation/redis/redis-client-guards.js';
import { createTenantKeysPurgeStep } from '../../../src/isolation/redis/tenant-keys-purge-step.js';
import { createTenantKeyspace, type TenantKeyspace } from '../../../src/isolation/redis/tenant-keyspace.js';
import { createTenantLifecycle } from '../../../src/lifecycle/tenant-lifecycle.js';
import { createMembershipService } from '../../../src/memberships/membership-service.js';
import { createTenantRegistry } from '../../../src/registry/tenant-registry.js';
import { runAsSystem, runWithTenant } from '../../../src/scope/tenant-scope.js';
import type { JsonValue } from '../../../src/tenant.js';

/**
 * Where the suite runs: a single Redis node or a Redis Cluster.
 */
export interface RedisIsolationEnvironment {
  /** A new client with its own connection(s), as another process would have; the suite quits it. */
  connect(options?: { keyPrefix?: string }): RedisClient;
}

export const code = (expected: string) => expect.objectContaining({ code: expected });

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A prefix no other test file (or test) uses. */
export function uniquePrefix(): string {
  return `tkiso${createId().slice(0, 12)}`;
}

function isCluster(client: RedisClient): client is Cluster {
  return client.isCluster;
}

/** Connects a client (a Cluster then knows its masters). */
export async function ready(client: RedisClient): Promise<RedisClient> {
  await client.ping();
  return client;
}

/** Every key matching `match`, on every master, with SCAN (never KEYS). */
export async function scanAll(client: RedisClient, match: string): Promise<string[]> {
  const sources: Redis[] = isCluster(client) ? client.nodes('master') : [client];
  const keys = new Set<string>();
  for (const source of sources) {
    let cursor = '0';
    do {
      const [next, batch] = await source.scan(cursor, 'MATCH', match, 'COUNT', 1000);
      cursor = next;
      for (const key of batch) keys.add(key);
    } while (cursor !== '0');
  }
  return [...keys].sort();
}

/** Records the name of every command the client sends (on a Cluster: and each node connection). */
export function spyOnCommands(client: RedisClient): { readonly names: string[]; stop(): void } {
  const names: string[] = [];
  const targets: (Redis | Cluster)[] = [client, ...(isCluster(client) ? client.nodes('all') : [])];
  const restore: (() => void)[] = [];
  for (const target of targets) {
    const original = target.sendCommand;
    const spied = function (this: unknown, ...args: Parameters<typeof original>) {
      names.push(String(args[0].name).toLowerCase());
      return (original as (...a: unknown[]) => unknown).apply(target, args);
    } as typeof original;
    target.sendCommand = spied;
    restore.push(() => {
      target.sendCommand = original;
    });
  }
  return {
    names,
    stop() {
      for (const undo of restore) undo();
    },
  };
}

export const forbiddenCommands = ['keys', 'flushdb', 'flushall'];

/**
 * The leak kit's target on Redis: records are entries of a tenant cache (`<prefix>:{tenant}:
 * cache:leak:<id>`), listed by SCAN over the tenant's pattern, reset by purging every tenant.
 */
export function redisLeakKitTarget(redis: RedisClient, keyspace: TenantKeyspace, tenants: readonly string[]): LeakKitTarget {
  const cache = createTenantCache<string>({ redis, keyspace, namespace: 'leak', defaultTtlMs: 10 * 60_000 });
  async function list(): Promise<LeakKitRecord[]> {
    const ids = new Set<string>();
    for await (const key of scanTenantKeys(redis, { keyspace, segments: ['cache', 'leak'], count: 1000 })) {
      const id = keyspace.parse(key)?.segments.at(-1);
      if (id !== undefined) ids.add(id);
    }
    const records: LeakKitRecord[] = [];
    for (const id of ids) {
      const value = await cache.get(id);
      if (value !== undefined) records.push({ id, value });
    }
    return records;
  }
  return {
    reset: () =>
      runAsSystem({ reason: 'leak kit reset' }, async () => {
        for (const tenantId of tenants) await purgeTenantKeys(redis, { keyspace, tenantId });
      }),
    insert: ({ id, value }) => cache.set(id, value),
    get: async (id) => {
      const value = await cache.get(id);
      return value === undefined ? undefined : { id, value };
    },
    list,
    update: async (id, value) => {
      if (!(await cache.has(id))) return 0;
      await cache.set(id, value);
      return 1;
    },
    remove: async (id) => ((await cache.delete(id)) ? 1 : 0),
    count: async () => (await list()).length,
    insertClaimingTenant: async ({ id, value }, foreignTenantId) => {
      await redis.set(keyspace.keyFor(foreignTenantId, 'cache', 'leak', id), JSON.stringify(value));
    },
  };
}

/** Runs the cache, purge, lifecycle-step and leak-kit tests against one environment. */
export function describeRedisIsolation(label: string, environment: () => RedisIsolationEnvironment): void {
  describe(label, () => {
    const clients: RedisClient[] = [];
    const prefixes: string[] = [];
    let admin: RedisClient;

    function connect(options?: { keyPrefix?: string }): RedisClient {
      const client = environment().connect(options);
      clients.push(client);
      return client;
    }

    function newPrefix(): string {
      const prefix = uniquePrefix();
      prefixes.push(prefix);
      return prefix;
    }

    function cacheOf<V extends JsonValue = JsonValue>(overrides: Partial<TenantCacheOptions> & { prefix: string }, redis = admin): TenantCache<V> {
      return createTenantCache<V>({ redis, namespace: 'ns', defaultTtlMs: 60_000, ...overrides } as TenantCacheOptions);
    }

    beforeAll(async () => {
      admin = await ready(connect());
    });

    afterAll(async () => {
      for (const prefix of prefixes) {
        const keys = await scanAll(admin, `${prefix}*`);
        // One UNLINK per key: on a Cluster the keys of different tenants sit in different slots.
        await Promise.all(keys.map((key) => admin.unlink(key)));
      }
      await Promise.all(clients.map((client) => client.quit().catch(() => undefined)));
    });

    describe('tenant cache', () => {
      it('stores JSON values per tenant and hands out fresh copies', async () => {
        const cache = cacheOf({ prefix: newPrefix() });
        const values: JsonValue[] = [{ name: 'Ada', tags: ['x'], nested: { n: 1.5 } }, [1, 'two', null], 'text', 0, false, null];
        await runWithTenant('tnt_a', async () => {
          for (const [index, value] of values.entries()) {
            await cache.set(['value', index], value);
            expect(await cache.get(['value', index])).toEqual(value);
            expect(await cache.has(['value', index])).toBe(true);
          }
          const first = (await cache.get(['value', 0])) as { name: string };
          first.name = 'changed';
          expect(await cache.get(['value', 0])).toMatchObject({ name: 'Ada' });
          expect(await cache.get('missing')).toBeUndefined();
          expect(await cache.has('missing')).toBe(false);
        });
      });

      it('never shows one tenant the entry another stored under the same key', async () => {
        const cache = cacheOf({ prefix: newPrefix() });
        await runWithTenant('tnt_a', () => cache.set('profile', { owner: 'a' }));
        await runWithTenant('tnt_ab', async () => {
          expect(await cache.get('profile')).toBeUndefined();
          expect(await cache.has('profile')).toBe(false);
          expect(await cache.wrap('profile', () => ({ owner: 'ab' }))).toEqual({ owner: 'ab' });
          expect(await cache.delete('profile')).toBe(true);
          // A segment shaped like another tenant's tag stays a segment of this tenant.
          await cache.set(['x}:{tnt_a', 'profile'], { owner: 'forged' });
        });
        await runWithTenant('tnt_a', async () => {
          expect(await cache.get('profile')).toEqual({ owner: 'a' });
          expect(await cache.clear()).toBe(1);
        });
        expect(await runWithTenant('tnt_ab', () => cache.get(['x}:{tnt_a', 'profile']))).toEqual({ owner: 'forged' });
      });

      it('fails closed outside a tenant scope, the system scope included', async () => {
        const cache = cacheOf({ prefix: newPrefix() });
        const calls: (() => Promise<unknown>)[] = [
          () => cache.get('k'),
          () => cache.set('k', 1),
          () => cache.has('k'),
          () => cache.delete('k'),
          () => cache.wrap('k', () => 1),
          () => cache.clear(),
        ];
        for (const call of calls) {
          await expect(call()).rejects.toThrow(code('TENANT_SCOPE_REQUIRED'));
          await expect(runAsSystem({ reason: 'test' }, call)).rejects.toThrow(code('TENANT_SCOPE_REQUIRED'));
        }
        expect(() => cache.keyOf('k')).toThrow(code('TENANT_SCOPE_REQUIRED'));
      });

      it('honours TTLs: the default, a per-call one, and expiry', async () => {
        const cache = cacheOf({ prefix: newPrefix(), defaultTtlMs: 60_000, maxTtlMs: 3_600_000 });
        await runWithTenant('tnt_a', async () => {
          await cache.set('default', 1);
          await cache.set('custom', 1, { ttlMs: 1_800_000 });
          await cache.wrap('wrapped', () => 1, { ttlMs: 120_000 });
          const defaultTtl = await admin.pttl(cache.keyOf('default'));
          expect(defaultTtl).toBeGreaterThan(50_000);
          expect(defaultTtl).toBeLessThanOrEqual(60_000);
          expect(await admin.pttl(cache.keyOf('custom'))).toBeGreaterThan(1_700_000);
          const wrappedTtl = await admin.pttl(cache.keyOf('wrapped'));
          expect(wrappedTtl).toBeGreaterThan(110_000);
          expect(wrappedTtl).toBeLessThanOrEqual(120_000);
          await cache.set('short', 1, { ttlMs: 40 });
          await sleep(120);
          expect(await cache.get('short')).toBeUndefined();
          for (const ttlMs of [0, -1, 1.5, 3_600_001, Number.NaN]) {
            await expect(cache.set('bad', 1, { ttlMs })).rejects.toThrow(code('VALIDATION_FAILED'));
            await expect(cache.wrap('bad', () => 1, { ttlMs })).rejects.toThrow(code('VALIDATION_FAILED'));
          }
          await expect(cache.set('bad', 1, { ttl: 5 } as never)).rejects.toThrow(code('VALIDATION_FAILED'));
          expect(await admin.exists(cache.keyOf('bad'))).toBe(0);
        });
      });

      it('spreads TTLs with jitter, never above the TTL asked for', async () => {
        const cache = cacheOf({ prefix: newPrefix(), defaultTtlMs: 60_000, ttlJitterRatio: 0.5 });
        const ttls = await runWithTenant('tnt_a', async () => {
          const found: number[] = [];
          for (let index = 0; index < 20; index += 1) {
            await cache.set(['k', index], index);
            found.push(await admin.pttl(cache.keyOf(['k', index])));
          }
          return found;
        });
        for (const ttl of ttls) {
          expect(ttl).toBeGreaterThan(29_000);
          expect(ttl).toBeLessThanOrEqual(60_000);
        }
        expect(Math.max(...ttls) - Math.min(...ttls)).toBeGreaterThan(1_000);
      });

      it('wrap loads on a miss, caches, and serves hits without the loader', async () => {
        const cache = cacheOf({ prefix: newPrefix() });
        let calls = 0;
        const loader = async () => {
          calls += 1;
          return { loaded: calls };
        };
        await runWithTenant('tnt_a', async () => {
          expect(await cache.wrap('k', loader)).toEqual({ loaded: 1 });
          expect(await cache.wrap('k', loader)).toEqual({ loaded: 1 });
          expect(await cache.get('k')).toEqual({ loaded: 1 });
          expect(calls).toBe(1);
          expect(await admin.exists(cache.keyOf('k').replace(':cache:', ':cache-lock:'))).toBe(0);
          await cache.delete('k');
          expect(await cache.wrap('k', loader)).toEqual({ loaded: 2 });
        });
      });

      it('runs the loader once for 50 concurrent wraps in one process, each caller getting its own copy', async () => {
        const cache = cacheOf({ prefix: newPrefix() });
        let calls = 0;
        const results = await runWithTenant('tnt_a', () =>
          Promise.all(
            Array.from({ length: 50 }, () =>
              cache.wrap('hot', async () => {
                calls += 1;
                await sleep(30);
                return { value: 'hot', list: [1, 2] };
              }),
            ),
          ),
        );
        expect(calls).toBe(1);
        expect(new Set(results).size).toBe(50);
        for (const result of results) expect(result).toEqual({ value: 'hot', list: [1, 2] });
      });

      it('shares no in-process load across tenants', async () => {
        const cache = cacheOf({ prefix: newPrefix() });
        const tenants = ['tnt_a', 'tnt_ab', 'tnt_b'];
        const results = await Promise.all(
          tenants.map((tenant) =>
            runWithTenant(tenant, () =>
              cache.wrap('same-key', async () => {
                await sleep(20);
                return tenant;
              }),
            ),
          ),
        );
        expect(results).toEqual(tenants);
      });

      it('runs the loader once across two processes (separate clients) under a stampede', async () => {
        const prefix = newPrefix();
        const first = await ready(connect());
        const second = await ready(connect());
        const caches = [cacheOf({ prefix }, first), cacheOf({ prefix }, second)];
        // Each loader holds its lock until the other process has polled at least twice, so the
        // test proves the other one waited for the lock rather than arriving after the load.
        const lockScriptCalls = [0, 0];
        const spies = [first, second].map((client, index) => {
          const original = client.sendCommand;
          client.sendCommand = function (this: unknown, ...args: Parameters<typeof original>) {
            if (String(args[0].name).toLowerCase() === 'evalsha') lockScriptCalls[index] = (lockScriptCalls[index] ?? 0) + 1;
            return (original as (...a: unknown[]) => unknown).apply(client, args);
          } as typeof original;
          return () => {
            client.sendCommand = original;
          };
        });
        let calls = 0;
        const loaderFor = (index: number) => async () => {
          calls += 1;
          const other = 1 - index;
          for (let waited = 0; (lockScriptCalls[other] ?? 0) < 2 && waited < 5_000; waited += 5) await sleep(5);
          return { loadedBy: index };
        };
        try {
          const results = await runWithTenant('tnt_a', () =>
            Promise.all(caches.flatMap((cache, index) => Array.from({ length: 10 }, () => cache.wrap('stampede', loaderFor(index))))),
          );
          expect(calls).toBe(1);
          expect(new Set(results.map((result) => JSON.stringify(result))).size).toBe(1);
          expect(Math.min(...lockScriptCalls)).toBeGreaterThanOrEqual(1);
          expect(Math.max(...lockScriptCalls)).toBeGreaterThanOrEqual(2);
        } finally {
          for (const undo of spies) undo();
        }
      });

      it('caches no loader error, releases the lock, and shares the failure with the waiting callers', async () => {
        const cache = cacheOf({ prefix: newPrefix() });
        const failure = new Error('source down');
        let calls = 0;
        await runWithTenant('tnt_a', async () => {
          const outcomes = await Promise.allSettled(
            Array.from({ length: 5 }, () =>
              cache.wrap('k', async () => {
                calls += 1;
                await sleep(10);
                throw failure;
              }),
            ),
          );
          expect(calls).toBe(1);
          for (const outcome of outcomes) expect(outcome).toEqual({ status: 'rejected', reason: failure });
          expect(await admin.exists(cache.keyOf('k'))).toBe(0);
          expect(await admin.exists(cache.keyOf('k').replace(':cache:', ':cache-lock:'))).toBe(0);
          expect(await cache.wrap('k', () => 'recovered')).toBe('recovered');
          expect(calls).toBe(1);
        });
      });

      it("lets a waiting process take over when the lock holder's loader fails", async () => {
        const prefix = newPrefix();
        const holder = cacheOf({ prefix }, await ready(connect()));
        const waiter = cacheOf({ prefix }, await ready(connect()));
        await runWithTenant('tnt_a', async () => {
          let releaseHolder!: () => void;
          const holderMayFail = new Promise<void>((resolve) => {
            releaseHolder = resolve;
          });
          let holderStarted!: () => void;
          const started = new Promise<void>((resolve) => {
            holderStarted = resolve;
          });
          const failing = holder.wrap('k', async () => {
            holderStarted();
            await holderMayFail;
            throw new Error('holder failed');
          });
          await started;
          let waiterCalls = 0;
          const waiting = waiter.wrap('k', () => {
            waiterCalls += 1;
            return 'from waiter';
          });
          await sleep(40);
          expect(waiterCalls).toBe(0);
          releaseHolder();
          await expect(failing).rejects.toThrow('holder failed');
          expect(await waiting).toBe('from waiter');
          expect(waiterCalls).toBe(1);
        });
      });

      it('fails with STORE_UNAVAILABLE when another process holds the lock past lockWaitMs, and takes over an expired lock', async () => {
        const prefix = newPrefix();
        const cache = cacheOf({ prefix, lockWaitMs: 60 });
        await runWithTenant('tnt_a', async () => {
          const lockKey = cache.keyOf('k').replace(':cache:', ':cache-lock:');
          await admin.set(lockKey, 'another-process', 'PX', 10_000);
          let calls = 0;
          await expect(cache.wrap('k', () => ++calls)).rejects.toThrow(code('STORE_UNAVAILABLE'));
          expect(calls).toBe(0);
          // A holder that crashed: its lock expires and the next loader takes over.
          await admin.set(lockKey, 'crashed-process', 'PX', 30);
          const patient = cacheOf({ prefix, lockWaitMs: 2_000 });
          expect(await patient.wrap('k', () => ++calls)).toBe(1);
          expect(await admin.exists(lockKey)).toBe(0);
        });
      });

      it('bounds the lock by lockTtlMs and never releases a lock another loader took after it expired', async () => {
        const cache = cacheOf({ prefix: newPrefix(), lockTtlMs: 100 });
        await runWithTenant('tnt_a', async () => {
          const lockKey = cache.keyOf('k').replace(':cache:', ':cache-lock:');
          const value = await cache.wrap('k', async () => {
            const ttl = await admin.pttl(lockKey);
            expect(ttl).toBeGreaterThan(0);
            expect(ttl).toBeLessThanOrEqual(100);
            // Outlive the lock; another process then takes it.
            for (let waited = 0; (await admin.exists(lockKey)) === 1 && waited < 2_000; waited += 10) await sleep(10);
            await admin.set(lockKey, 'next-loader', 'PX', 10_000);
            return 'slow';
          });
          expect(value).toBe('slow');
          expect(await cache.get('k')).toBe('slow');
          expect(await admin.get(lockKey)).toBe('next-loader');
        });
      });

      it('caches "not found" only with negativeTtlMs', async () => {
        const prefix = newPrefix();
        const negative = cacheOf({ prefix, namespace: 'negative', negativeTtlMs: 30_000 });
        const plain = cacheOf({ prefix, namespace: 'plain' });
        await runWithTenant('tnt_a', async () => {
          let calls = 0;
          const missing = () => {
            calls += 1;
            return undefined;
          };
          expect(await negative.wrap('gone', missing)).toBeUndefined();
          expect(await negative.wrap('gone', missing)).toBeUndefined();
          expect(calls).toBe(1);
          expect(await negative.get('gone')).toBeUndefined();
          expect(await negative.has('gone')).toBe(false);
          const ttl = await admin.pttl(negative.keyOf('gone'));
          expect(ttl).toBeGreaterThan(25_000);
          expect(ttl).toBeLessThanOrEqual(30_000);
          expect(await negative.delete('gone')).toBe(true);
          expect(await negative.wrap('gone', () => 'back')).toBe('back');

          calls = 0;
          expect(await plain.wrap('gone', missing)).toBeUndefined();
          expect(await plain.wrap('gone', missing)).toBeUndefined();
          expect(calls).toBe(2);
          expect(await admin.exists(plain.keyOf('gone'))).toBe(0);
        });
      });

      it('reads a corrupted or prototype-polluting entry as a miss, and wrap replaces it', async () => {
        const cache = cacheOf({ prefix: newPrefix() });
        await runWithTenant('tnt_a', async () => {
          for (const [index, raw] of ['{"a":', 'not json', '{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{"x":1}}}'].entries()) {
            await admin.set(cache.keyOf(['bad', index]), raw, 'PX', 60_000);
            expect(await cache.get(['bad', index])).toBeUndefined();
            expect(await cache.has(['bad', index])).toBe(false);
            expect(await cache.wrap(['bad', index], () => ({ fixed: index }))).toEqual({ fixed: index });
            expect(await admin.get(cache.keyOf(['bad', index]))).toBe(JSON.stringify({ fixed: index }));
          }
          expect(({} as Record<string, unknown>).polluted).toBeUndefined();
          // A string that merely mentions the word is a value like any other.
          await cache.set('fine', { text: '"__proto__"', constructor: 'x' });
          expect(await cache.get('fine')).toEqual({ text: '"__proto__"', constructor: 'x' });
        });
      });

      it('refuses values over maxValueBytes or outside JSON, writing nothing and releasing the lock', async () => {
        const cache = cacheOf({ prefix: newPrefix(), maxValueBytes: 100 });
        await runWithTenant('tnt_a', async () => {
          const lockKey = cache.keyOf('big').replace(':cache:', ':cache-lock:');
          await expect(cache.set('big', 'x'.repeat(99))).rejects.toThrow(code('VALIDATION_FAILED'));
          // 34 euro signs are 102 bytes of UTF-8 but only 36 characters of JSON.
          await expect(cache.set('big', '€'.repeat(34))).rejects.toThrow(code('VALIDATION_FAILED'));
          await cache.set('small', 'x'.repeat(98));
          expect(await cache.get('small')).toHaveLength(98);
          await expect(cache.wrap('big', () => 'y'.repeat(200))).rejects.toThrow(code('VALIDATION_FAILED'));
          expect(await admin.exists(cache.keyOf('big'))).toBe(0);
          expect(await admin.exists(lockKey)).toBe(0);
          const circular: Record<string, unknown> = {};
          circular.self = circular;
          for (const value of [undefined, 10n, circular, Number.NaN, { n: Number.POSITIVE_INFINITY }, () => 1]) {
            await expect(cache.set('odd', value as never)).rejects.toThrow(code('VALIDATION_FAILED'));
          }
          expect(await admin.exists(cache.keyOf('odd'))).toBe(0);
          for (const key of [[], '', ['a', ''], [{}], 1.5]) {
            await expect(cache.get(key as never)).rejects.toThrow(code('VALIDATION_FAILED'));
          }
          await expect(cache.wrap('k', 'not a function' as never)).rejects.toThrow(code('VALIDATION_FAILED'));
        });
      });

      it('turns a refused command into STORE_UNAVAILABLE with the driver error as cause', async () => {
        const cache = cacheOf({ prefix: newPrefix() });
        await runWithTenant('tnt_a', async () => {
          await admin.hset(cache.keyOf('hash'), 'field', 'value');
          const error = await cache.get('hash').then(
            () => expect.fail('expected a rejection'),
            (reason: unknown) => reason,
          );
          expect(error).toMatchObject({ name: 'TenantContextError', code: 'STORE_UNAVAILABLE' });
          expect((error as Error).cause).toMatchObject({ name: 'ReplyError' });
          await expect(cache.wrap('hash', () => 1)).rejects.toThrow(code('STORE_UNAVAILABLE'));
        });
      });

      it('clear() removes this namespace of this tenant only', async () => {
        const prefix = newPrefix();
        const users = cacheOf({ prefix, namespace: 'users' });
        const usersExtra = cacheOf({ prefix, namespace: 'users-extra' });
        await runWithTenant('tnt_a', async () => {
          for (let index = 0; index < 30; index += 1) await users.set(['u', index], index);
          await usersExtra.set('u', 1);
        });
        await runWithTenant('tnt_ab', () => users.set(['u', 1], 1));
        expect(await runWithTenant('tnt_a', () => users.clear())).toBe(30);
        expect(await runWithTenant('tnt_a', () => usersExtra.get('u'))).toBe(1);
        expect(await runWithTenant('tnt_ab', () => users.get(['u', 1]))).toBe(1);
      });

      it('works through a client keyPrefix', async () => {
        const prefix = newPrefix();
        const prefixed = await ready(connect({ keyPrefix: `${prefix}kp:` }));
        const cache = cacheOf({ prefix }, prefixed);
        await runWithTenant('tnt_a', async () => {
          expect(await cache.wrap('k', () => 'v')).toBe('v');
          expect(await admin.get(`${prefix}kp:${cache.keyOf('k')}`)).toBe(JSON.stringify('v'));
          expect(await cache.clear()).toBe(1);
        });
        expect(await scanAll(admin, `${prefix}kp:*`)).toEqual([]);
      });
    });

    describe('purgeTenantKeys', () => {
      /** Writes `count` keys of several types for a tenant, some with TTLs and hostile segments. */
      async function seed(prefix: string, tenantId: string, count: number): Promise<void> {
        const keyspace = createTenantKeyspace({ prefix });
        await runAsSystem({ reason: 'seed' }, async () => {
          for (let start = 0; start < count; start += 500) {
            // One tenant's keys share a slot, so one pipeline is legal on a Cluster.
            const pipeline = admin.pipeline();
            for (let index = start; index < Math.min(count, start + 500); index += 1) {
              const key = keyspace.keyFor(tenantId, ['str', 'hash', 'set', 'list'][index % 4]!, index % 7 === 0 ? `x}:{*?[\n${index}` : index);
              if (index % 4 === 0) pipeline.set(key, 'v', 'PX', 600_000);
              else if (index % 4 === 1) pipeline.hset(key, 'f', 'v');
              else if (index % 4 === 2) pipeline.sadd(key, 'm');
              else pipeline.rpush(key, 'e');
            }
            await pipeline.exec();
          }
        });
      }

      const countOf = async (prefix: string, tenantId: string) => (await scanAll(admin, `${prefix}:{${tenantId}}:*`)).length;

      it('removes exactly the tenant’s keys: not those of a tenant whose id it prefixes, nor other prefixes', async () => {
        const prefix = newPrefix();
        await seed(prefix, 'tnt_a', 3_000);
        await seed(prefix, 'tnt_ab', 1_500);
        await seed(prefix, 'tnt_b', 500);
        await seed(`${prefix}x`, 'tnt_a', 200);
        await seed(`${prefix}:sub`, 'tnt_a', 200);
        prefixes.push(`${prefix}x`);

        const spy = spyOnCommands(admin);
        let removed: number;
        try {
          removed = await runAsSystem({ reason: 'offboard tnt_a' }, () => purgeTenantKeys(admin, { prefix, tenantId: 'tnt_a' }));
        } finally {
          spy.stop();
        }
        expect(removed).toBe(3_000);
        expect(await countOf(prefix, 'tnt_a')).toBe(0);
        expect(await countOf(prefix, 'tnt_ab')).toBe(1_500);
        expect(await countOf(prefix, 'tnt_b')).toBe(500);
        expect(await countOf(`${prefix}x`, 'tnt_a')).toBe(200);
        expect(await countOf(`${prefix}:sub`, 'tnt_a')).toBe(200);
        expect(spy.names).toContain('scan');
        expect(spy.names).toContain('unlink');
        expect(spy.names.filter((name) => forbiddenCommands.includes(name))).toEqual([]);
        // Idempotent.
        expect(await runWithTenant('tnt_a', () => purgeTenantKeys(admin, { prefix }))).toBe(0);
      });

      it('purges the tenant in scope, and another tenant only inside runAsSystem', async () => {
        const prefix = newPrefix();
        await seed(prefix, 'tnt_a', 40);
        await seed(prefix, 'tnt_b', 40);
        const keyspace = createTenantKeyspace({ prefix });
        await expect(purgeTenantKeys(admin, { prefix })).rejects.toThrow(code('TENANT_SCOPE_REQUIRED'));
        await expect(purgeTenantKeys(admin, { prefix, tenantId: 'tnt_b' })).rejects.toThrow(code('TENANT_SCOPE_REQUIRED'));
        await expect(runAsSystem({ reason: 'test' }, () => purgeTenantKeys(admin, { prefix }))).rejects.toThrow(code('TENANT_SCOPE_REQUIRED'));
        await expect(runWithTenant('tnt_a', () => purgeTenantKeys(admin, { prefix, tenantId: 'tnt_b' }))).rejects.toThrow(
          code('TENANT_ISOLATION_VIOLATION'),
        );
        await expect(runAsSystem({ reason: 'test' }, () => purgeTenantKeys(admin, { prefix, tenantId: 'tnt_*' }))).rejects.toThrow(
          code('TENANT_IDENTIFIER_INVALID'),
        );
        expect(await countOf(prefix, 'tnt_b')).toBe(40);
        expect(await runWithTenant('tnt_a', () => purgeTenantKeys(admin, { keyspace, count: 7 }))).toBe(40);
        expect(await runAsSystem({ reason: 'test' }, () => purgeTenantKeys(admin, { keyspace, tenantId: 'tnt_b', count: 1 }))).toBe(40);
        expect(await countOf(prefix, 'tnt_a')).toBe(0);
        expect(await countOf(prefix, 'tnt_b')).toBe(0);
      });

      it('refuses bad options before touching Redis', async () => {
        const prefix = newPrefix();
        const keyspace = createTenantKeyspace({ prefix });
        await runWithTenant('tnt_a', async () => {
          for (const options of [
            {},
            { prefix, keyspace },
            { prefix: 'bad prefix' },
            { prefix: `${prefix}*` },
            { prefix, count: 0 },
            { prefix, count: 10_001 },
            { prefix, count: 1.5 },
            { prefix, extra: 1 },
            { keyspace: { prefix } },
          ]) {
            await expect(purgeTenantKeys(admin, options as never)).rejects.toThrow(code('VALIDATION_FAILED'));
          }
          await expect(purgeTenantKeys({ scan: () => [] } as never, { prefix })).rejects.toThrow(code('CONFIGURATION_INVALID'));
        });
      });

      it('scanTenantKeys lists the tenant’s keys below some segments, with the same scope rules', async () => {
        const prefix = newPrefix();
        const keyspace = createTenantKeyspace({ prefix });
        await runWithTenant('tnt_a', async () => {
          await admin.set(keyspace.key('session', 's1'), '1');
          await admin.set(keyspace.key('session', 's:2'), '1');
          await admin.set(keyspace.key('sessions', 'x'), '1');
          await admin.set(keyspace.key('other'), '1');
        });
        await runWithTenant('tnt_ab', () => admin.set(keyspace.key('session', 's1'), '1'));
        const listed = await runWithTenant('tnt_a', async () => {
          const keys = new Set<string>();
          for await (const key of scanTenantKeys(admin, { keyspace, segments: ['session'] })) keys.add(key);
          return [...keys].sort();
        });
        expect(listed).toEqual([`${prefix}:{tnt_a}:session:s%3A2`, `${prefix}:{tnt_a}:session:s1`]);
        expect(() => scanTenantKeys(admin, { keyspace })).toThrow(code('TENANT_SCOPE_REQUIRED'));
        expect(() => runWithTenant('tnt_a', () => scanTenantKeys(admin, { keyspace, tenantId: 'tnt_ab' }))).toThrow(
          code('TENANT_ISOLATION_VIOLATION'),
        );
        const all = await runAsSystem({ reason: 'test' }, async () => {
          const keys = new Set<string>();
          for await (const key of scanTenantKeys(admin, { prefix, tenantId: 'tnt_ab' })) keys.add(key);
          return [...keys];
        });
        expect(all).toEqual([`${prefix}:{tnt_ab}:session:s1`]);
      });

      it('honours a client keyPrefix', async () => {
        const prefix = newPrefix();
        const prefixed = await ready(connect({ keyPrefix: `${prefix}kp:` }));
        const keyspace = createTenantKeyspace({ prefix });
        await runWithTenant('tnt_a', async () => {
          for (let index = 0; index < 25; index += 1) await prefixed.set(keyspace.key('k', index), '1');
          await admin.set(keyspace.key('unprefixed'), '1');
          expect(await purgeTenantKeys(prefixed, { keyspace })).toBe(25);
        });
        expect(await scanAll(admin, `${prefix}kp:*`)).toEqual([]);
        expect(await scanAll(admin, `${prefix}:*`)).toEqual([`${prefix}:{tnt_a}:unprefixed`]);
        const braced = connect({ keyPrefix: '{x}:' });
        await expect(runWithTenant('tnt_a', () => purgeTenantKeys(braced, { keyspace }))).rejects.toThrow(code('CONFIGURATION_INVALID'));
      });

      it('runs as the delete-data step of an offboarding, recording what it removed', async () => {
        const prefix = newPrefix();
        const stores = memoryTenantContextStores();
        const events = createTenantEventBus();
        const registry = createTenantRegistry({ store: stores.tenants, events });
        const memberships = createMembershipService({ store: stores.memberships, registry });
        const lifecycle = createTenantLifecycle({ registry, memberships, runs: stores.lifecycleRuns, retryDelayMs: 0 });
        const step = createTenantKeysPurgeStep({ redis: admin, prefix });
        lifecycle.useOffboardingStep('delete-data', step);
        const { tenant } = await lifecycle.startOnboarding({ slug: 'leaving', name: 'Leaving', adminUserId: 'usr_1' });
        const { tenant: staying } = await lifecycle.startOnboarding({ slug: 'staying', name: 'Staying', adminUserId: 'usr_1' });
        await seed(prefix, tenant.id, 120);
        await seed(prefix, staying.id, 30);

        const { run } = await lifecycle.startOffboarding(tenant.id, { reason: 'contract ended', requestedBy: 'usr_ops' });
        expect(run.state).toBe('completed');
        expect(run.artifacts).toEqual([
          expect.objectContaining({
            step: 'delete-data:redis-keys',
            location: `redis:${prefix}:{${tenant.id}}:*`,
            details: { removedKeys: 120 },
          }),
        ]);
        expect(await countOf(prefix, tenant.id)).toBe(0);
        expect(await countOf(prefix, staying.id)).toBe(30);
        // A resumed run purges again and finds nothing.
        const again = await runWithTenant(tenant.id, () => step.run({ tenantId: tenant.id } as never));
        expect(again).toMatchObject({ details: { removedKeys: 0 } });
      });
    });

    describe('leak kit', () => {
      it('leaks nothing over 10,000 random operations (cache entries, SCAN listing, purge reset)', async () => {
        const keyspace = createTenantKeyspace({ prefix: newPrefix() });
        const tenants = ['tnt_leak_a', 'tnt_leak_ab', 'tnt_leak_b'];
        const spy = spyOnCommands(admin);
        try {
          const report = await runLeakKit(redisLeakKitTarget(admin, keyspace, tenants), { tenants });
          expect(report.operations).toBeGreaterThanOrEqual(10_000);
          expect(report.refusedHostileWrites).toBeGreaterThan(0);
        } finally {
          spy.stop();
        }
        expect(spy.names.filter((name) => forbiddenCommands.includes(name))).toEqual([]);
      }, 120_000);
    });
  });
}
