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

  it('processes sharing one Redis share the counters: attempts spread over two instances block in both', async () => {
    // Two throttles stand for two processes; failing open to memory would keep them apart.
    const first = createLoginThrottle({ store: redisRateLimitStore(redis), keyPrefix });
    const second = createLoginThrottle({ store: redisRateLimitStore(redis), keyPrefix });
    const attempt = { email: 'alice@example.com', ip: '203.0.113.7' };
    await (await first.beginAttempt(attempt)).failed();
    await (await second.beginAttempt(attempt)).failed();
    await (await first.beginAttempt(attempt)).failed();
    // The fourth attempt is still running (the password is being checked) while the fifth fails.
    const running = await second.beginAttempt(attempt);
    expect(running.delayMs).toBe(500);
    await (await first.beginAttempt(attempt)).failed();
    await expect(first.beginAttempt(attempt)).rejects.toMatchObject({ code: 'RATE_LIMITED', status: 429, details: { retryAfterSeconds: 900 } });
    await expect(second.beginAttempt(attempt)).rejects.toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterSeconds: 900 } });
    // The block is a Redis expiry: every process sees it end at the same time.
    const [pairKey, ...others] = await keysMatching(`${keyPrefix}:account-and-ip:*`);
    expect(others).toEqual([]);
    const ttl = await redis.pttl(pairKey!);
    expect(ttl).toBeGreaterThan(890_000);
    expect(ttl).toBeLessThanOrEqual(900_000);
    // The running attempt had the right password: the pair counter is cleared in both.
    await running.succeeded();
    expect((await first.beginAttempt(attempt)).delayMs).toBe(0);
  });

  it('brute force: 40 concurrent attempts through two processes get at most 5 admissions', async () => {
    const ownPrefix = `${keyPrefix}:burst`;
    const throttles = [0, 1].map(() => createLoginThrottle({ store: redisRateLimitStore(redis), keyPrefix: ownPrefix }));
    const attempt = { email: 'carol@example.com', ip: '203.0.113.8' };
    const results = await Promise.allSettled(Array.from({ length: 40 }, (_, index) => throttles[index % 2]!.beginAttempt(attempt)));
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(5);
    expect(results.filter((result) => result.status === 'rejected' && (result.reason as { code?: string }).code === 'RATE_LIMITED')).toHaveLength(35);
  });

  it('stores no email address in its keys', async () => {
    const ownPrefix = `${keyPrefix}:no-email`;
    const throttle = createLoginThrottle({ store: redisRateLimitStore(redis), keyPrefix: ownPrefix });
    await (await throttle.beginAttempt({ email: 'bob.secret@example.com', ip: '203.0.113.9' })).failed();
    const keys = await keysMatching(`${ownPrefix}:*`);
    expect(keys).toHaveLength(3); // account and IP, IP, account
    expect(keys.filter((key) => key.includes('@') || key.includes('bob'))).toEqual([]);
  });
});
