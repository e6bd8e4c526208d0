import { randomBytes } from 'node:crypto';
import { redisRateLimitStore } from '@tenantkit/ratelimit/redis';
import { describeWithService, testServices } from '@tenantkit/test-utils';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLoginThrottle } from '@tenantkit/auth';

const keyPrefix = `tk:auth-test:login-throttle:${process.pid}:${randomBytes(4).toString('hex')}`;

await describeWithService('redis', 'createLoginThrottle on Redis', () => {
  let redis: Redis;

  /** SCAN (never KEYS) for the keys under `pattern`. */
  async function keysMatching(pattern: string): Promise<string[]> {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      found.push(...keys);
      cursor = next;
    } while (cursor !== '0');
    return found;
  }

  beforeAll(async () => {
    redis = new Redis(testServices.redis.url, { lazyConnect: false });
    await redis.ping(); // the store refuses calls until the connection is ready
  });

  afterAll(async () => {
    // UNLINK of this file's keys only.
    const keys = await keysMatching(`${keyPrefix}:*`);
    if (keys.length > 0) await redis.unlink(...keys);
    await redis.quit();
  });

  it('processes sharing one Redis share the counters: failures spread over two instances block in both', async () => {
    // Two throttles stand for two processes; failing open to memory would keep them apart.
    const first = createLoginThrottle({ store: redisRateLimitStore(redis), keyPrefix });
    const second = createLoginThrottle({ store: redisRateLimitStore(redis), keyPrefix });
    const attempt = { email: 'alice@example.com', ip: '203.0.113.7' };
    await first.recordFailure(attempt);
    await second.recordFailure(attempt);
    await first.recordFailure(attempt);
    expect(await second.assertAllowed(attempt)).toEqual({ delayMs: 500 });
    await second.recordFailure(attempt);
    await first.recordFailure(attempt);
    await expect(first.assertAllowed(attempt)).rejects.toMatchObject({ code: 'RATE_LIMITED', status: 429, details: { retryAfterSeconds: 900 } });
    await expect(second.assertAllowed(attempt)).rejects.toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterSeconds: 900 } });
    // The block is a Redis expiry: every process sees it end at the same time.
    const [pairKey, ...others] = await keysMatching(`${keyPrefix}:account-and-ip:*`);
    expect(others).toEqual([]);
    const ttl = await redis.pttl(pairKey!);
    expect(ttl).toBeGreaterThan(890_000);
    expect(ttl).toBeLessThanOrEqual(900_000);
    await second.recordSuccess(attempt);
    expect(await first.assertAllowed(attempt)).toEqual({ delayMs: 0 });
  });

  it('stores no email address in its keys', async () => {
    const ownPrefix = `${keyPrefix}:no-email`;
    const throttle = createLoginThrottle({ store: redisRateLimitStore(redis), keyPrefix: ownPrefix });
    await throttle.recordFailure({ email: 'bob.secret@example.com', ip: '203.0.113.9' });
    const keys = await keysMatching(`${ownPrefix}:*`);
    expect(keys).toHaveLength(3); // account and IP, IP, account
    expect(keys.filter((key) => key.includes('@') || key.includes('bob'))).toEqual([]);
  });
});
