import { runWithTenant } from '@tenantkit/tenant-context';
import { describe, expect, it } from 'vitest';
import { useClosingLimiters } from '../support/closing-limiters.js';
import { plans, tenantRecord, withCode } from './fixtures.js';

const limiterWith = useClosingLimiters();

const login = { name: 'login', by: ['key'], points: 3, duration: 900, blockDuration: 1800 } as const;
const alice = { key: 'alice@example.com' };

describe('consume / get / delete (brute-force counters)', () => {
  it('consumes until refused, then blocks for blockDuration; delete resets the key', async () => {
    const limiter = limiterWith({ policies: [login] });
    expect(await limiter.get('login', alice)).toBeUndefined();
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      expect(await limiter.consume('login', alice)).toMatchObject({ policy: 'login', allowed: true, consumed: attempt, remaining: 3 - attempt, limit: 3 });
    }
    const refused = await limiter.consume('login', alice);
    expect(refused).toMatchObject({ allowed: false, remaining: 0, consumed: 4 });
    expect(refused.resetMs).toBeGreaterThan(1_799_000); // the block, not the 900 s window
    expect(await limiter.get('login', alice)).toMatchObject({ allowed: false, consumed: 4, key: 'tk:rl:login:{key=alice@example.com}' });
    expect(await limiter.delete('login', alice)).toBe(true);
    expect(await limiter.delete('login', alice)).toBe(false);
    expect(await limiter.consume('login', alice, 2)).toMatchObject({ allowed: true, consumed: 2 });
  });

  it('shares its counters with check()', async () => {
    const limiter = limiterWith({ policies: [{ name: 'api', by: ['tenant', 'apiKey'], points: 10, duration: 60 }] });
    const subject = { tenantId: 'acme', apiKeyId: 'key_1' };
    await limiter.check(subject, { cost: 4 });
    expect(await limiter.get('api', subject)).toMatchObject({ consumed: 4, remaining: 6 });
    await limiter.consume('api', subject, 5);
    expect((await limiter.check(subject)).outcomes[0]).toMatchObject({ consumed: 10, remaining: 0, allowed: true });
    expect((await limiter.check(subject)).allowed).toBe(false);
  });
});

describe('penalty / reward / block', () => {
  it('adds and gives back points without deciding', async () => {
    const limiter = limiterWith({ policies: [login] });
    expect(await limiter.penalty('login', alice, 2)).toMatchObject({ consumed: 2, remaining: 1, allowed: true });
    expect(await limiter.penalty('login', alice, 2)).toMatchObject({ consumed: 4, remaining: 0, allowed: false });
    expect(await limiter.reward('login', alice, 3)).toMatchObject({ consumed: 1, remaining: 2, allowed: true });
    expect((await limiter.check(alice)).outcomes[0]).toMatchObject({ consumed: 2 });
  });

  it('blocks for the given seconds, by default the blockDuration, else the window', async () => {
    const limiter = limiterWith({ policies: [login, { name: 'ip', by: ['ip'], points: 5, duration: 60 }] });
    const blocked = await limiter.block('login', alice, 30);
    expect(blocked).toMatchObject({ allowed: false, consumed: 4, remaining: 0 });
    expect(blocked.resetMs).toBe(30_000);
    expect((await limiter.check(alice)).allowed).toBe(false);
    expect((await limiter.block('login', { key: 'bob@example.com' })).resetMs).toBe(1_800_000);
    expect((await limiter.block('ip', { ip: '203.0.113.7' })).resetMs).toBe(60_000);
  });

  it('validates points and seconds', async () => {
    const limiter = limiterWith({ policies: [login] });
    for (const points of [0, -2, 1.5, '1']) {
      await expect(limiter.consume('login', alice, points as number)).rejects.toEqual(withCode('VALIDATION_FAILED'));
      await expect(limiter.penalty('login', alice, points as number)).rejects.toEqual(withCode('VALIDATION_FAILED'));
      await expect(limiter.reward('login', alice, points as number)).rejects.toEqual(withCode('VALIDATION_FAILED'));
      await expect(limiter.block('login', alice, points as number)).rejects.toEqual(withCode('VALIDATION_FAILED'));
    }
    // Points stop at 2^31 - 1, as a check's cost does.
    for (const points of [2 ** 31, Number.MAX_SAFE_INTEGER]) {
      await expect(limiter.consume('login', alice, points)).rejects.toEqual(withCode('VALIDATION_FAILED'));
      await expect(limiter.penalty('login', alice, points)).rejects.toEqual(withCode('VALIDATION_FAILED'));
      await expect(limiter.reward('login', alice, points)).rejects.toEqual(withCode('VALIDATION_FAILED'));
    }
    expect(await limiter.penalty('login', alice, 2 ** 31 - 1)).toMatchObject({ allowed: false, consumed: 2 ** 31 - 1 });
  });

  it('names the policy and the key exactly: unknown policy, missing or bad key part', async () => {
    const limiter = limiterWith({ policies: [login] });
    await expect(limiter.consume('nope', alice)).rejects.toEqual(withCode('RATE_LIMIT_POLICY_NOT_FOUND'));
    await expect(limiter.get('nope', alice)).rejects.toEqual(withCode('RATE_LIMIT_POLICY_NOT_FOUND'));
    await expect(limiter.consume('login', { userId: 'u_1' })).rejects.toEqual(withCode('RATE_LIMIT_KEY_INVALID'));
    await expect(limiter.delete('login', { key: '' })).rejects.toEqual(withCode('RATE_LIMIT_KEY_INVALID'));
  });
});

describe('burst', () => {
  const bursty = { name: 'api', by: ['ip'], points: 2, duration: 60, burst: { points: 1, duration: 60 } } as const;

  it('admits over the steady limit while the burst bucket lasts, in check() and consume()', async () => {
    for (const run of ['check', 'consume'] as const) {
      const limiter = limiterWith({ policies: [bursty] });
      const charge = async () =>
        run === 'check' ? (await limiter.check({ ip: '203.0.113.7' })).outcomes[0]! : limiter.consume('api', { ip: '203.0.113.7' });
      expect(await charge()).toMatchObject({ allowed: true, burst: false });
      expect(await charge()).toMatchObject({ allowed: true, burst: false });
      expect(await charge()).toMatchObject({ allowed: true, burst: true, remaining: 0 });
      expect(await charge()).toMatchObject({ allowed: false });
    }
  });

  it('deletes the burst bucket with the key', async () => {
    const limiter = limiterWith({ policies: [bursty] });
    for (let attempt = 0; attempt < 4; attempt += 1) await limiter.check({ ip: '203.0.113.7' });
    expect(await limiter.delete('api', { ip: '203.0.113.7' })).toBe(true);
    for (let attempt = 0; attempt < 3; attempt += 1) expect((await limiter.check({ ip: '203.0.113.7' })).allowed).toBe(true);
  });
});

describe('status', () => {
  it('reads every applicable policy without charging, untouched ones at zero', async () => {
    const limiter = limiterWith({
      policies: [
        { name: 'tenant', by: ['tenant'], points: 100, duration: 3600 },
        { name: 'user', by: ['tenant', 'user'], points: 10, duration: 60 },
        { name: 'route', by: ['route'], points: 10, duration: 60 },
      ],
    });
    await runWithTenant('acme', () => limiter.check({ userId: 'u_1' }, { cost: 3 }));
    const status = await runWithTenant('acme', () => limiter.status({ userId: 'u_1' }));
    expect(status).toEqual([
      expect.objectContaining({ policy: 'tenant', consumed: 3, remaining: 97 }),
      expect.objectContaining({ policy: 'user', consumed: 3, remaining: 7 }),
    ]);
    expect(await runWithTenant('acme', () => limiter.status({ userId: 'u_2' }))).toEqual([
      expect.objectContaining({ policy: 'tenant', consumed: 3 }),
      expect.objectContaining({ policy: 'user', consumed: 0, remaining: 10, allowed: true, resetMs: 0 }),
    ]);
    expect((await runWithTenant('acme', () => limiter.status({ userId: 'u_1' })))[0]!.consumed).toBe(3);
  });
});

describe('unlimited plans', () => {
  it('admit without counting and have no counter', async () => {
    const limiter = limiterWith({ plans, policies: [{ name: 'tenant', by: ['tenant'], fromPlan: 'requests' }] });
    await runWithTenant(tenantRecord('bigcorp', 'enterprise'), async () => {
      expect(await limiter.consume('tenant', {})).toMatchObject({ allowed: true, limit: Number.POSITIVE_INFINITY, consumed: 0 });
      expect(await limiter.penalty('tenant', {})).toMatchObject({ allowed: true, consumed: 0 });
      expect(await limiter.get('tenant', {})).toBeUndefined();
      expect(await limiter.delete('tenant', {})).toBe(false);
      expect(await limiter.status({})).toEqual([]);
    });
    expect(await limiter.consume('tenant', { tenantId: 'acme', plan: 'free' })).toMatchObject({ allowed: true, limit: 3 });
  });
});
