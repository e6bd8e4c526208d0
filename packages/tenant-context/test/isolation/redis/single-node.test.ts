import { describeWithService, testServices, unusedLocalPort } from '@tenantkit/test-utils';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeTenantKeys, scanTenantKeys } from '../../../src/isolation/redis/purge-tenant-keys.js';
import { createTenantCache } from '../../../src/isolation/redis/tenant-cache.js';
import { createTenantKeysPurgeStep } from '../../../src/isolation/redis/tenant-keys-purge-step.js';
import { createTenantKeyspace } from '../../../src/isolation/redis/tenant-keyspace.js';
import { runAsSystem, runWithTenant } from '../../../src/scope/tenant-scope.js';
import { code, describeRedisIsolation, uniquePrefix } from './redis-isolation-suite.js';

await describeWithService('redis', 'Redis isolation on a single node', () => {
  describeRedisIsolation('single node', () => ({
    connect: (options) => new Redis(testServices.redis.url, { keyPrefix: options?.keyPrefix }),
  }));

  describe('options', () => {
    let client: Redis;

    beforeAll(() => {
      client = new Redis(testServices.redis.url, { lazyConnect: true });
    });

    afterAll(() => {
      client.disconnect();
    });

    it('createTenantCache refuses bad options with CONFIGURATION_INVALID', () => {
      const valid = { redis: client, prefix: 'app', namespace: 'users', defaultTtlMs: 60_000 };
      const keyspace = createTenantKeyspace({ prefix: 'app' });
      expect(() => createTenantCache(valid)).not.toThrow();
      expect(() => createTenantCache({ ...valid, prefix: undefined, keyspace })).not.toThrow();
      for (const options of [
        { ...valid, redis: undefined },
        { ...valid, redis: { get: () => null } },
        { ...valid, keyspace },
        { ...valid, prefix: undefined },
        { ...valid, prefix: '{app}' },
        { ...valid, namespace: '' },
        { ...valid, namespace: 'a:b' },
        { ...valid, namespace: 'x'.repeat(65) },
        { ...valid, defaultTtlMs: undefined },
        { ...valid, defaultTtlMs: 0 },
        { ...valid, defaultTtlMs: 1.5 },
        { ...valid, defaultTtlMs: 31 * 86_400_000 },
        { ...valid, maxTtlMs: 1000 },
        { ...valid, negativeTtlMs: 31 * 86_400_000 },
        { ...valid, ttlJitterRatio: 0.6 },
        { ...valid, ttlJitterRatio: -0.1 },
        { ...valid, maxValueBytes: 0 },
        { ...valid, maxValueBytes: 513 * 1_048_576 },
        { ...valid, lockTtlMs: 50 },
        { ...valid, lockTtlMs: 60_001 },
        { ...valid, lockWaitMs: -1 },
        { ...valid, lockWaitMs: 120_001 },
        { ...valid, ttl: 5 },
        null,
      ]) {
        expect(() => createTenantCache(options as never)).toThrow(code('CONFIGURATION_INVALID'));
      }
      const braced = new Redis(testServices.redis.url, { lazyConnect: true, keyPrefix: 'svc{x}:' });
      try {
        expect(() => createTenantCache({ ...valid, redis: braced })).toThrow(code('CONFIGURATION_INVALID'));
      } finally {
        braced.disconnect();
      }
    });

    it('createTenantKeysPurgeStep refuses bad options with CONFIGURATION_INVALID', () => {
      expect(createTenantKeysPurgeStep({ redis: client, prefix: 'app' }).name).toBe('redis-keys');
      expect(createTenantKeysPurgeStep({ redis: client, prefix: 'app', name: 'cache.keys' }).name).toBe('cache.keys');
      for (const options of [
        { redis: client },
        { redis: client, prefix: 'app', name: 'Bad:Name' },
        { redis: client, prefix: 'app', count: 0 },
        { redis: null, prefix: 'app' },
        { redis: client, prefix: 'app', extra: true },
      ]) {
        expect(() => createTenantKeysPurgeStep(options as never)).toThrow(code('CONFIGURATION_INVALID'));
      }
    });

    it('accepts a Redis Cluster client', () => {
      const cluster = new Cluster([{ host: '127.0.0.1', port: 6379 }], { lazyConnect: true });
      try {
        expect(() => createTenantCache({ redis: cluster, prefix: 'app', namespace: 'n', defaultTtlMs: 1000 })).not.toThrow();
        expect(() => createTenantKeysPurgeStep({ redis: cluster, prefix: 'app' })).not.toThrow();
      } finally {
        cluster.disconnect();
      }
    });
  });

  describe('without a server', () => {
    let offline: Redis;

    beforeAll(async () => {
      const port = await unusedLocalPort();
      offline = new Redis({ host: '127.0.0.1', port, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
      offline.on('error', () => {
        // Connection errors also surface as rejected commands, which the tests check.
      });
    });

    afterAll(() => {
      offline.disconnect();
    });

    it('fails every operation fast with STORE_UNAVAILABLE, keeping the driver error as cause', async () => {
      const prefix = uniquePrefix();
      const cache = createTenantCache({ redis: offline, prefix, namespace: 'n', defaultTtlMs: 1000 });
      let loaderCalls = 0;
      const calls: (() => Promise<unknown>)[] = [
        () => cache.get('k'),
        () => cache.set('k', 1),
        () => cache.has('k'),
        () => cache.delete('k'),
        () => cache.wrap('k', () => ++loaderCalls),
        () => cache.clear(),
        () => purgeTenantKeys(offline, { prefix }),
        async () => {
          for await (const key of scanTenantKeys(offline, { prefix })) void key;
        },
        () => createTenantKeysPurgeStep({ redis: offline, prefix }).run({ tenantId: 'tnt_a' } as never) as Promise<unknown>,
      ];
      for (const call of calls) {
        const error = await runWithTenant('tnt_a', call).then(
          () => expect.fail('expected a rejection'),
          (reason: unknown) => reason,
        );
        expect(error).toMatchObject({ name: 'TenantContextError', code: 'STORE_UNAVAILABLE', status: 503 });
        expect((error as Error).cause).toBeInstanceOf(Error);
      }
      expect(loaderCalls).toBe(0);
      await expect(runAsSystem({ reason: 'test' }, () => purgeTenantKeys(offline, { prefix, tenantId: 'tnt_a' }))).rejects.toThrow(
        code('STORE_UNAVAILABLE'),
      );
    });
  });
});
