import { describeWithService, testServices } from '@tenantkit/test-utils';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { redisRateLimitStore } from '../../src/adapters/redis.js';
import { createRateLimiter } from '../../src/limiter/create-rate-limiter.js';
import type { RateLimiter, RateLimiterOptions } from '../../src/limiter/rate-limiter.js';
import { countCommands, useRedisClient } from '../support/redis-test-client.js';
import { testKeyPrefix } from '../support/redis-test-keys.js';
import { plans } from './fixtures.js';

const filePrefix = testKeyPrefix('limiter');
let testCount = 0;

await describeWithService('redis', 'createRateLimiter on Redis', () => {
  const redisClient = useRedisClient(() => new Redis(testServices.redis.url), filePrefix);
  let redis: Redis;
  const limiters: RateLimiter[] = [];

  /** A limiter on Redis under a key prefix of its own. */
  function limiterWith(options: Omit<RateLimiterOptions, 'store' | 'keyPrefix'>): { limiter: RateLimiter; prefix: string } {
    testCount += 1;
    const prefix = `${filePrefix}:t${testCount}`;
    const limiter = createRateLimiter({ ...options, store: redisRateLimitStore(redis), keyPrefix: prefix, failure: 'closed' });
    limiters.push(limiter);
    return { limiter, prefix };
  }

  beforeAll(() => {
    redis = redisClient();
  });

  // Registered after useRedisClient, so it runs first: the limiters close before the client quits.
  afterAll(async () => {
    await Promise.all(limiters.map((limiter) => limiter.close()));
  });

  it('gives each plan its points and keeps one counter across a plan change', async () => {
    const { limiter, prefix } = limiterWith({ plans, policies: [{ name: 'tenant', by: ['tenant'], fromPlan: 'requests' }] });
    const admitted = async (subject: { tenantId: string; plan: string }, attempts: number) => {
      let count = 0;
      for (let attempt = 0; attempt < attempts; attempt += 1) if ((await limiter.check(subject)).allowed) count += 1;
      return count;
    };
    expect(await admitted({ tenantId: 'small', plan: 'free' }, 5)).toBe(3);
    expect(await admitted({ tenantId: 'big', plan: 'pro' }, 7)).toBe(5);
    // The counter is RLF's integer key with the window as its TTL, whatever the plan.
    // The refused checks charged nothing: the counter holds the 3 admitted.
    expect(await redis.get(`${prefix}:tenant:{small}`)).toBe('3');
    const ttl = await redis.pttl(`${prefix}:tenant:{small}`);
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    // Upgraded to pro (5 points) on the same counter, at 3: admitted twice more. Unlimited: skipped.
    expect((await limiter.check({ tenantId: 'small', plan: 'pro' })).outcomes[0]).toMatchObject({ allowed: true, limit: 5, consumed: 4 });
    expect((await limiter.check({ tenantId: 'small', plan: 'pro' })).outcomes[0]).toMatchObject({ allowed: true, limit: 5, consumed: 5 });
    expect((await limiter.check({ tenantId: 'small', plan: 'pro' })).outcomes[0]).toMatchObject({ allowed: false, limit: 5, consumed: 6 });
    expect(await limiter.check({ tenantId: 'small', plan: 'enterprise' })).toMatchObject({ allowed: true, outcomes: [] });
  });

  it('charges all policies in one round trip, all-or-nothing: an IP refusal spends nothing of the tenant', async () => {
    const { limiter, prefix } = limiterWith({
      policies: [
        { name: 'tenant', by: ['tenant'], points: 100, duration: 60 },
        { name: 'user', by: ['tenant', 'user'], points: 50, duration: 60 },
        { name: 'ip', by: ['ip'], points: 1, duration: 60 },
      ],
    });
    const counted = countCommands(redis);
    try {
      await limiter.check({ tenantId: 'acme', userId: 'u_1', ip: '203.0.113.7' });
      expect(counted.names).toHaveLength(1);
    } finally {
      counted.restore();
    }
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect(await limiter.check({ tenantId: 'acme', userId: 'u_1', ip: '203.0.113.7' })).toMatchObject({ allowed: false, deciding: { policy: 'ip' } });
    }
    expect(await redis.get(`${prefix}:tenant:{acme}`)).toBe('1');
    expect(await redis.get(`${prefix}:user:{acme}:user=u_1`)).toBe('1');
    expect(await limiter.get('tenant', { tenantId: 'acme' })).toMatchObject({ consumed: 1, remaining: 99 });
  });

  it('runs the per-key operations on the keys check() counts', async () => {
    const { limiter } = limiterWith({ policies: [{ name: 'login', by: ['key'], points: 3, duration: 60, blockDuration: 120 }] });
    const alice = { key: 'alice@example.com' };
    await limiter.check(alice);
    expect(await limiter.penalty('login', alice, 1)).toMatchObject({ consumed: 2, remaining: 1 });
    expect(await limiter.reward('login', alice, 1)).toMatchObject({ consumed: 1 });
    expect(await limiter.consume('login', alice, 2)).toMatchObject({ allowed: true, consumed: 3, remaining: 0 });
    const refused = await limiter.consume('login', alice);
    expect(refused).toMatchObject({ allowed: false });
    expect(refused.resetMs).toBeGreaterThan(110_000); // blocked for blockDuration
    expect((await limiter.check(alice)).allowed).toBe(false);
    expect(await limiter.status(alice)).toEqual([expect.objectContaining({ policy: 'login', allowed: false })]);
    expect(await limiter.delete('login', alice)).toBe(true);
    expect(await limiter.get('login', alice)).toBeUndefined();
    expect((await limiter.block('login', alice, 5)).resetMs).toBe(5000);
    expect((await limiter.check(alice)).allowed).toBe(false);
  });

  it('keeps escaped user ids and IPv6 /64s apart in Redis, and one /64 together', async () => {
    const { limiter, prefix } = limiterWith({
      policies: [
        { name: 'user', by: ['tenant', 'user'], points: 1, duration: 60 },
        { name: 'ip', by: ['ip'], points: 2, duration: 60 },
      ],
    });
    await limiter.check({ tenantId: 'acme', userId: 'a:user=b' }, { policies: ['user'] });
    expect((await limiter.check({ tenantId: 'acme', userId: 'a' }, { policies: ['user'] })).allowed).toBe(true);
    expect((await limiter.check({ tenantId: 'acme', userId: '}{' }, { policies: ['user'] })).allowed).toBe(true);
    expect(await redis.exists(`${prefix}:user:{acme}:user=a%3Auser=b`, `${prefix}:user:{acme}:user=a`, `${prefix}:user:{acme}:user=%7D%7B`)).toBe(3);

    await limiter.check({ ip: '2001:db8:7:7::1' }, { policies: ['ip'] });
    await limiter.check({ ip: '2001:db8:7:7:8:8:8:8' }, { policies: ['ip'] });
    expect((await limiter.check({ ip: '2001:db8:7:7::ffff' }, { policies: ['ip'] })).allowed).toBe(false);
    expect((await limiter.check({ ip: '2001:db8:7:8::1' }, { policies: ['ip'] })).allowed).toBe(true);
  });

  it('counts a mixed enforcing and shadow check on Redis', async () => {
    const { limiter } = limiterWith({
      policies: [
        { name: 'tenant', by: ['tenant'], points: 10, duration: 60 },
        { name: 'strict', by: ['tenant'], points: 1, duration: 60, shadow: true },
      ],
    });
    await limiter.check({ tenantId: 'acme' });
    expect(await limiter.check({ tenantId: 'acme' })).toMatchObject({ allowed: true, reason: 'shadow-limited' });
    expect(await limiter.get('tenant', { tenantId: 'acme' })).toMatchObject({ consumed: 2 });
  });

  it('admits a burst over the steady limit through check() and consume()', async () => {
    const { limiter } = limiterWith({ policies: [{ name: 'api', by: ['apiKey'], points: 2, duration: 60, burst: { points: 1, duration: 60 } }] });
    const subject = { apiKeyId: 'key_1' };
    expect((await limiter.check(subject)).outcomes[0]).toMatchObject({ allowed: true, burst: false });
    expect(await limiter.consume('api', subject)).toMatchObject({ allowed: true, burst: false });
    expect((await limiter.check(subject)).outcomes[0]).toMatchObject({ allowed: true, burst: true });
    expect(await limiter.consume('api', subject)).toMatchObject({ allowed: false });
  });
});
