// Security review: a reward must never leave credit behind (a counter below zero), nor report
// more remaining points than the limit.
import { describeWithService, testServices } from '@tenantkit/test-utils';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisRateLimitStore } from '../../src/adapters/redis.js';
import { createRateLimiter } from '../../src/limiter/create-rate-limiter.js';
import type { RateLimiter, RateLimiterOptions } from '../../src/limiter/rate-limiter.js';
import { useClosingLimiters } from '../support/closing-limiters.js';
import { useRedisClient } from '../support/redis-test-client.js';
import { testKeyPrefix } from '../support/redis-test-keys.js';

const login = { name: 'login', by: ['key'], points: 3, duration: 900 } as const;
const alice = { key: 'alice@example.com' };

/** The reward scenarios, run against the memory store and Redis. */
function rewardSuite(limiterWith: (options: Pick<RateLimiterOptions, 'policies'>) => RateLimiter): void {
  it('clamps a reward larger than what was consumed at zero: no credit for later requests', async () => {
    const limiter = limiterWith({ policies: [login] });
    await limiter.consume('login', alice);
    const rewarded = await limiter.reward('login', alice, 10);
    expect(rewarded).toMatchObject({ allowed: true, consumed: 0, remaining: 3, limit: 3 });
    for (let attempt = 1; attempt <= 3; attempt += 1) expect((await limiter.consume('login', alice)).allowed).toBe(true);
    expect(await limiter.consume('login', alice)).toMatchObject({ allowed: false, remaining: 0 });
  });

  it('gives no credit to a key that had no counter', async () => {
    const limiter = limiterWith({ policies: [login] });
    const rewarded = await limiter.reward('login', alice, 5);
    expect(rewarded.remaining).toBeLessThanOrEqual(rewarded.limit);
    expect(rewarded).toMatchObject({ consumed: 0, remaining: 3 });
    const decisions = [];
    for (let attempt = 0; attempt < 4; attempt += 1) decisions.push((await limiter.check(alice)).allowed);
    expect(decisions).toEqual([true, true, true, false]);
  });

  it('keeps an exact reward exact: back to the full limit, never over it', async () => {
    const limiter = limiterWith({ policies: [login] });
    await limiter.consume('login', alice, 2);
    expect(await limiter.reward('login', alice, 2)).toMatchObject({ consumed: 0, remaining: 3 });
    expect(await limiter.reward('login', alice, 1)).toMatchObject({ consumed: 0, remaining: 3 });
    expect((await limiter.check(alice, { cost: 3 })).allowed).toBe(true);
    expect((await limiter.check(alice)).allowed).toBe(false);
  });
}

describe('reward on the memory store', () => {
  const limiterWith = useClosingLimiters();
  rewardSuite(limiterWith);
});

const filePrefix = testKeyPrefix('reward-clamp');
let testCount = 0;

await describeWithService('redis', 'reward on Redis', () => {
  const redisClient = useRedisClient(() => new Redis(testServices.redis.url), filePrefix);
  const limiters: RateLimiter[] = [];
  let redis: Redis;
  beforeAll(() => {
    redis = redisClient();
  });
  // Registered after useRedisClient, so it runs first: the limiters close before the client quits.
  afterAll(async () => {
    await Promise.all(limiters.map((limiter) => limiter.close()));
  });

  rewardSuite((options) => {
    testCount += 1;
    const limiter = createRateLimiter({ ...options, store: redisRateLimitStore(redis), keyPrefix: `${filePrefix}:t${testCount}`, failure: 'closed' });
    limiters.push(limiter);
    return limiter;
  });
});
