// The store conformance suite, run on the Redis store over a test file's client.
import { describeRateLimitStoreConformance } from '@tenantkit/test-utils';
import type { Cluster, Redis } from 'ioredis';
import { redisRateLimitStore } from '../../src/adapters/redis.js';
import { unlinkByPrefix } from './redis-test-keys.js';

/**
 * Runs `describeRateLimitStoreConformance` on a `redisRateLimitStore` of `client()`, each test
 * under `keyPrefix`; its cleanup closes the store and unlinks the keys under that prefix.
 *
 * @example
 * ```ts
 * describeRedisStoreConformance('redis', client, `${filePrefix}:conformance`);
 * ```
 */
export function describeRedisStoreConformance(name: string, client: () => Redis | Cluster, keyPrefix: string): void {
  describeRateLimitStoreConformance(name, async () => {
    const store = redisRateLimitStore(client());
    return {
      store,
      keyPrefix,
      cleanup: async () => {
        await store.close();
        await unlinkByPrefix(client(), keyPrefix);
      },
    };
  });
}
