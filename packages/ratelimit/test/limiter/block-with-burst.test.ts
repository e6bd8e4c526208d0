// A manual block() refuses the key on a policy with a burst bucket too: the bucket is blocked
// with the window (as rate-limiter-flexible's block does: points + 1 with the block's expiry),
// delete() resets both, and get() reports the blocked state. On the memory store and on Redis.
import { describeWithService, testServices } from '@tenantkit/test-utils';
import { Redis } from 'ioredis';
import { beforeAll, describe, expect, it } from 'vitest';
import { redisRateLimitStore } from '../../src/adapters/redis.js';
import type { RateLimiter, RateLimiterOptions } from '../../src/limiter/rate-limiter.js';
import { memoryRateLimitStore } from '../../src/stores/memory-rate-limit-store.js';
import { useClosingLimiters } from '../support/closing-limiters.js';
import { useRedisClient } from '../support/redis-test-client.js';
import { testKeyPrefix } from '../support/redis-test-keys.js';
import { controllableStore } from './controllable-store.js';

const limiterWith = useClosingLimiters();

const bursty = { name: 'api', by: ['apiKey'], points: 10, duration: 60, burst: { points: 5, duration: 60 } } as const;
const subject = { apiKeyId: 'key_1' };
type Policies = RateLimiterOptions['policies'];

async function admittedOf(limiter: RateLimiter, checks: number): Promise<number> {
  let admitted = 0;
  for (let check = 0; check < checks; check += 1) if ((await limiter.check(subject)).allowed) admitted += 1;
  return admitted;
}

/** The cases every store runs; `limiterFor` builds a limiter on that store under a fresh key prefix. */
function blockWithBurstCases(limiterFor: (policies: Policies) => RateLimiter): void {
  it('refuses every check and consume after block(), the burst bucket included', async () => {
    const limiter = limiterFor([bursty]);
    const blocked = await limiter.block('api', subject, 600);
    expect(blocked).toMatchObject({ allowed: false, remaining: 0, consumed: 11, limit: 10 });
    expect(blocked.resetMs).toBe(600_000);
    expect(await admittedOf(limiter, 10)).toBe(0); // was 5: the burst bucket admitted a blocked key
    const refused = await limiter.check(subject);
    expect(refused).toMatchObject({ allowed: false, reason: 'limited' });
    expect(refused.retryAfterMs).toBeGreaterThan(590_000); // the block, not the 60 s windows
    expect(await limiter.consume('api', subject)).toMatchObject({ allowed: false, burst: false });
  });

  it('blocks a key that had burst left mid-window, for the policy blockDuration by default', async () => {
    const limiter = limiterFor([{ ...bursty, blockDuration: 120 }]);
    expect(await admittedOf(limiter, 3)).toBe(3);
    const blocked = await limiter.block('api', subject);
    expect(blocked.resetMs).toBe(120_000);
    expect(await admittedOf(limiter, 10)).toBe(0);
  });

  it('get() reports the block: refused, nothing left, the block as the wait', async () => {
    const limiter = limiterFor([bursty]);
    await limiter.block('api', subject, 600);
    const state = await limiter.get('api', subject);
    expect(state).toMatchObject({ allowed: false, remaining: 0, consumed: 11, burst: false });
    expect(state!.resetMs).toBeGreaterThan(590_000);
    const [status] = await limiter.status(subject);
    expect(status).toMatchObject({ allowed: false, remaining: 0 });
    expect(status!.resetMs).toBeGreaterThan(590_000);
  });

  it('get() counts the burst bucket: a key the burst still admits is not reported refused', async () => {
    const limiter = limiterFor([bursty]);
    expect(await admittedOf(limiter, 11)).toBe(11); // 10 by the window, 1 by the burst
    expect(await limiter.get('api', subject)).toMatchObject({ allowed: true, burst: true, remaining: 0 });
    expect(await admittedOf(limiter, 10)).toBe(4); // the burst's other 4
  });

  it('delete() after a block resets both buckets: the window and the burst admit again', async () => {
    const limiter = limiterFor([bursty]);
    await limiter.block('api', subject, 600);
    expect(await limiter.delete('api', subject)).toBe(true);
    expect(await limiter.get('api', subject)).toBeUndefined();
    expect(await admittedOf(limiter, 20)).toBe(15);
    expect(await limiter.delete('api', subject)).toBe(true);
    expect(await limiter.delete('api', subject)).toBe(false);
  });

  it('leaves a policy without a burst as it was: blocked, then reset by delete()', async () => {
    const limiter = limiterFor([{ name: 'api', by: ['apiKey'], points: 3, duration: 60 }]);
    await limiter.block('api', subject, 30);
    expect(await admittedOf(limiter, 5)).toBe(0);
    expect(await limiter.get('api', subject)).toMatchObject({ allowed: false, consumed: 4 });
    expect(await limiter.delete('api', subject)).toBe(true);
    expect(await admittedOf(limiter, 5)).toBe(3);
  });
}

describe('block() with a burst bucket, memory store', () => {
  blockWithBurstCases((policies) => limiterWith({ policies, store: memoryRateLimitStore() }));

  it('blocks the burst bucket of the insurance store while the store is down', async () => {
    const store = controllableStore();
    const limiter = limiterWith({ store, failure: 'insurance', policies: [bursty] });
    store.mode = 'reject';
    expect(await limiter.block('api', subject, 600)).toMatchObject({ allowed: false, degraded: 'insurance' });
    expect(await admittedOf(limiter, 10)).toBe(0);
    expect(await limiter.get('api', subject)).toMatchObject({ allowed: false, degraded: 'insurance' });
  });
});

const filePrefix = testKeyPrefix('block-with-burst');
let limiterCount = 0;

await describeWithService('redis', 'block() with a burst bucket, Redis store', () => {
  const redisClient = useRedisClient(() => new Redis(testServices.redis.url), filePrefix);
  let redis: Redis;
  beforeAll(() => {
    redis = redisClient();
  });

  function redisLimiter(policies: Policies): { limiter: RateLimiter; prefix: string } {
    limiterCount += 1;
    const prefix = `${filePrefix}:t${limiterCount}`;
    return { limiter: limiterWith({ policies, store: redisRateLimitStore(redis), keyPrefix: prefix, failure: 'closed' }), prefix };
  }

  blockWithBurstCases((policies) => redisLimiter(policies).limiter);

  it("writes rate-limiter-flexible's block to both keys: points + 1 with the block's TTL", async () => {
    const { limiter, prefix } = redisLimiter([bursty]);
    const { key } = await limiter.block('api', subject, 600);
    const below = key.slice(`${prefix}:api:`.length);
    const burstKey = `${prefix}:api:burst:${below}`;
    expect(await redis.get(key)).toBe('11');
    expect(await redis.get(burstKey)).toBe('6');
    for (const stored of [key, burstKey]) {
      const ttl = await redis.pttl(stored);
      expect(ttl).toBeGreaterThan(590_000);
      expect(ttl).toBeLessThanOrEqual(600_000);
    }
    expect(await limiter.delete('api', subject)).toBe(true);
    expect(await redis.exists(key, burstKey)).toBe(0);
  });
});
