import { describeAuthStoreConformance, describeWithService, testServices } from '@tenantkit/test-utils';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { redisAuthStores } from '../../../src/adapters/redis.js';
import { describeRedisAuthStoreSpecifics } from './redis-auth-store-specifics.js';
import { authTestKeyPrefix, unlinkByPrefix } from './redis-test-keys.js';

const filePrefix = authTestKeyPrefix('redis');

await describeWithService('redis', 'redisAuthStores on a single Redis node', () => {
  let client: Redis;

  beforeAll(async () => {
    client = new Redis(testServices.redis.url);
    await client.ping();
  });

  afterAll(async () => {
    await unlinkByPrefix(client, filePrefix);
    await client.quit();
  });

  describeAuthStoreConformance(
    'redis',
    async () => ({ stores: redisAuthStores(client, { keyPrefix: `${filePrefix}conformance:` }) }),
    { only: ['sessions', 'refreshTokens', 'revocations', 'oneTimeTokens'] },
  );

  describeRedisAuthStoreSpecifics('redis', {
    connect: () => new Redis(testServices.redis.url),
    client: () => client,
    keyPrefix: `${filePrefix}specifics:`,
    mayFlushScripts: false,
  });
});
