import { runAsSystem, runWithTenant } from '@tenantkit/tenant-context';
import { describe, expect, it, vi } from 'vitest';
import { RateLimitError } from '../../src/errors.js';
import { createRateLimiter } from '../../src/limiter/create-rate-limiter.js';
import type { RateLimitEvent, RateLimiter, RateLimiterOptions } from '../../src/limiter/rate-limiter.js';
import { useClosingLimiters } from '../support/closing-limiters.js';
import { controllableStore } from './controllable-store.js';
import { plans, tenantRecord, withCode } from './fixtures.js';

const limiterWith = useClosingLimiters();

describe('check: counting and deciding', () => {
  it('admits up to the points, then refuses with the policy, a wait and no remaining points', async () => {
    const limiter = limiterWith({ policies: [{ name: 'ip', by: ['ip'], points: 2, duration: 60 }] });
    const first = await limiter.check({ ip: '203.0.113.7' });
    expect(first).toMatchObject({ allowed: true, reason: 'allowed', retryAfterMs: 0, tenantId: undefined });
    expect(first.outcomes).toEqual([
      expect.objectContaining({ policy: 'ip', key: 'tk:rl:ip:{ip=203.0.113.7}', allowed: true, limit: 2, remaining: 1, consumed: 1, windowSeconds: 60, shadow: false }),
    ]);
    await limiter.check({ ip: '203.0.113.7' });
    const refused = await limiter.check({ ip: '203.0.113.7' });
    expect(refused).toMatchObject({ allowed: false, reason: 'limited', deciding: { policy: 'ip', remaining: 0, consumed: 3 } });
    expect(refused.retryAfterMs).toBeGreaterThan(59_000);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000);
    // Another client has its own counter.
    expect((await limiter.check({ ip: '203.0.113.8' })).allowed).toBe(true);
  });

  it('skips a policy whose fields the subject lacks; with none applying it admits without a deciding outcome', async () => {
    const store = controllableStore();
    const limiter = limiterWith({ store, policies: [{ name: 'user', by: ['user'], points: 1, duration: 60 }, { name: 'ip', by: ['ip'], points: 1, duration: 60 }] });
    const decision = await limiter.check({ ip: '203.0.113.7' });
    expect(decision.outcomes.map((outcome) => outcome.policy)).toEqual(['ip']);
    const none = await limiter.check({ route: 'GET /' });
    expect(none).toEqual({ allowed: true, reason: 'allowed', outcomes: [], deciding: undefined, retryAfterMs: 0, tenantId: undefined });
    expect(store.calls.consumeAll).toBe(1);
  });

  it('charges every applicable policy in ONE consumeAll, per-client counters first, outcomes in declaration order', async () => {
    const store = controllableStore();
    const limiter = limiterWith({
      store,
      policies: [
        { name: 'route', by: ['route'], points: 1000, duration: 60 },
        { name: 'tenant', by: ['tenant'], points: 100, duration: 3600 },
        { name: 'user', by: ['tenant', 'user'], points: 10, duration: 60 },
        { name: 'ip', by: ['ip'], points: 50, duration: 60 },
      ],
    });
    const decision = await limiter.check({ ip: '203.0.113.7', tenantId: 'acme', userId: 'u_1', route: 'GET /' });
    expect(store.calls.consumeAll).toBe(1);
    // A client's own slot, then its tenant's, then the counter everyone shares: a store that
    // charges slot groups in turn refuses a flooding client before it reaches shared counters.
    expect(store.consumed[0]!.map((entry) => entry.key)).toEqual(['{ip=203.0.113.7}', '{acme}', '{acme}:user=u_1', '{route=GET%20/}']);
    expect(decision.outcomes.map((outcome) => outcome.policy)).toEqual(['route', 'tenant', 'user', 'ip']);
    expect(decision.tenantId).toBe('acme');
    const some = await limiter.check({ ip: '203.0.113.7', tenantId: 'acme', route: 'GET /' }, { policies: ['tenant', 'ip', 'route'] });
    expect(store.consumed[1]!.map((entry) => entry.key)).toEqual(['{ip=203.0.113.7}', '{acme}', '{route=GET%20/}']);
    expect(some.outcomes.map((outcome) => outcome.policy)).toEqual(['route', 'tenant', 'ip']);
  });

  it('decides by the admitting outcome with the smallest share of its limit left', async () => {
    const limiter = limiterWith({
      policies: [
        { name: 'a', by: ['ip'], points: 10, duration: 60 },
        { name: 'b', by: ['ip'], points: 4, duration: 60 },
        { name: 'c', by: ['ip'], points: 100, duration: 60 },
      ],
    });
    // 3/4 of b left beats 9/10 of a and 99/100 of c.
    expect(await limiter.check({ ip: '198.51.100.1' })).toMatchObject({ allowed: true, deciding: { policy: 'b', remaining: 3 } });
  });

  it('decides by the refusing outcome with the longest wait, whatever the declaration order', async () => {
    for (const order of [['hourly', 'minutely'], ['minutely', 'hourly']] as const) {
      const durations = { hourly: 3600, minutely: 60 };
      const limiter = limiterWith({ policies: order.map((name) => ({ name, by: ['ip'] as const, points: 1, duration: durations[name] })) });
      await limiter.check({ ip: '198.51.100.1' });
      const refused = await limiter.check({ ip: '198.51.100.1' });
      expect(refused.outcomes.map((outcome) => outcome.allowed)).toEqual([false, false]);
      expect(refused.deciding?.policy).toBe('hourly');
      expect(refused.retryAfterMs).toBeGreaterThan(3_500_000);
    }
  });

  it('is all-or-nothing: a request one policy refuses spends nothing of the others (one abusive IP cannot drain its tenant)', async () => {
    const limiter = limiterWith({
      policies: [
        { name: 'tenant', by: ['tenant'], points: 10, duration: 3600 },
        { name: 'ip', by: ['ip'], points: 1, duration: 60 },
      ],
    });
    await limiter.check({ tenantId: 'acme', ip: '203.0.113.7' });
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const decision = await limiter.check({ tenantId: 'acme', ip: '203.0.113.7' });
      expect(decision).toMatchObject({ allowed: false, deciding: { policy: 'ip' } });
    }
    expect((await limiter.get('tenant', { tenantId: 'acme' }))?.consumed).toBe(1);
    const other = await limiter.check({ tenantId: 'acme', ip: '203.0.113.8' });
    expect(other.outcomes[0]).toMatchObject({ policy: 'tenant', consumed: 2, remaining: 8 });
  });

  it('charges the cost to every policy; a cost past the points is refused; a cost must be a whole number from 1 to 2^31 - 1', async () => {
    const limiter = limiterWith({ policies: [{ name: 'api', by: ['apiKey'], points: 10, duration: 60 }] });
    const subject = { apiKeyId: 'key_1' };
    expect((await limiter.check(subject, { cost: 4 })).outcomes[0]).toMatchObject({ consumed: 4, remaining: 6 });
    expect((await limiter.check(subject, { cost: 6 })).outcomes[0]).toMatchObject({ allowed: true, consumed: 10, remaining: 0 });
    expect((await limiter.check({ apiKeyId: 'key_2' }, { cost: 11 })).outcomes[0]).toMatchObject({ allowed: false, remaining: 0 });
    expect((await limiter.check({ apiKeyId: 'key_2' }, { cost: 2 ** 31 - 1 })).outcomes[0]).toMatchObject({ allowed: false, consumed: 2 ** 31 - 1 });
    // Refused costs charged nothing.
    expect(await limiter.get('api', { apiKeyId: 'key_2' })).toBeUndefined();
    for (const cost of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '2', null, 2 ** 31, Number.MAX_SAFE_INTEGER]) {
      await expect(limiter.check(subject, { cost: cost as number })).rejects.toEqual(withCode('VALIDATION_FAILED'));
    }
    await expect(limiter.check(subject, 'cheap' as never)).rejects.toEqual(withCode('VALIDATION_FAILED'));
  });

  it('checks only the named policies, in declaration order; an unknown name is RATE_LIMIT_POLICY_NOT_FOUND', async () => {
    const limiter = limiterWith({
      policies: [
        { name: 'a', by: ['ip'], points: 5, duration: 60 },
        { name: 'b', by: ['ip'], points: 5, duration: 60 },
        { name: 'c', by: ['ip'], points: 5, duration: 60 },
      ],
    });
    const decision = await limiter.check({ ip: '203.0.113.7' }, { policies: ['c', 'a', 'c'] });
    expect(decision.outcomes.map((outcome) => outcome.policy)).toEqual(['a', 'c']);
    // An empty list would turn limiting off (see check-policies-option.test.ts).
    await expect(limiter.check({ ip: '203.0.113.7' }, { policies: [] })).rejects.toEqual(withCode('VALIDATION_FAILED'));
    await expect(limiter.check({ ip: '203.0.113.7' }, { policies: ['a', 'nope'] })).rejects.toEqual(withCode('RATE_LIMIT_POLICY_NOT_FOUND'));
    await expect(limiter.check({ ip: '203.0.113.7' }, { policies: 'a' as never })).rejects.toEqual(withCode('VALIDATION_FAILED'));
    expect(limiter.policyNames).toEqual(['a', 'b', 'c']);
  });

  it('rejects a subject that is not an object and bad key values with coded errors, never a TypeError', async () => {
    const limiter = limiterWith({ policies: [{ name: 'user', by: ['user'], points: 5, duration: 60 }, { name: 'ip', by: ['ip'], points: 5, duration: 60 }] });
    await expect(limiter.check(null as never)).rejects.toEqual(withCode('VALIDATION_FAILED'));
    await expect(limiter.check('203.0.113.7' as never)).rejects.toEqual(withCode('VALIDATION_FAILED'));
    for (const userId of ['', 'x'.repeat(257), 42, null, {}]) {
      await expect(limiter.check({ userId: userId as string })).rejects.toEqual(withCode('RATE_LIMIT_KEY_INVALID'));
    }
    for (const ip of ['not-an-ip', '999.1.1.1', '']) {
      await expect(limiter.check({ ip })).rejects.toEqual(withCode('RATE_LIMIT_KEY_INVALID'));
    }
    await expect(limiter.check({ tenantId: '' })).rejects.toEqual(withCode('RATE_LIMIT_KEY_INVALID'));
    expect((await limiter.check({ userId: 'x'.repeat(256) })).allowed).toBe(true);
  });
});

describe('check: keys', () => {
  it('cannot be made to collide by a user id or route holding ":", "=", "{", "}", "%" or whitespace', async () => {
    const limiter = limiterWith({ policies: [{ name: 'pair', by: ['user', 'route'], points: 1, duration: 60 }] });
    const subjects = [
      { userId: 'x:route=y', route: 'z' },
      { userId: 'x', route: 'y:route=z' },
      { userId: 'x%3Aroute=y', route: 'z' },
      { userId: 'x route=y', route: 'z' },
      { userId: '}{x', route: 'z' },
    ];
    const keys = new Set<string>();
    for (const subject of subjects) {
      const decision = await limiter.check(subject);
      expect(decision.allowed).toBe(true); // each one is the first request of its own counter
      keys.add(decision.outcomes[0]!.key);
    }
    expect(keys.size).toBe(subjects.length);
    expect([...keys]).toContain('tk:rl:pair:{user=x%3Aroute=y:route=z}');
    expect([...keys]).toContain('tk:rl:pair:{user=%7D%7Bx:route=z}');
  });

  it('keeps a tenant-keyed policy in its tenant hash tag whatever the user id holds', async () => {
    const limiter = limiterWith({ policies: [{ name: 'user', by: ['tenant', 'user'], points: 1, duration: 60 }] });
    const decision = await limiter.check({ tenantId: 'acme', userId: '{victim}:x' });
    const { key } = decision.outcomes[0]!;
    expect(key).toBe('tk:rl:user:{acme}:user=%7Bvictim%7D%3Ax');
    // The Redis Cluster hash tag is what sits between the first "{" and the next "}".
    expect(/\{([^}]*)\}/.exec(key)?.[1]).toBe('acme');
  });

  it('counts every address of one IPv6 /64 together, other /64s apart, and IPv4-mapped IPv6 as IPv4', async () => {
    const limiter = limiterWith({ policies: [{ name: 'ip', by: ['ip'], points: 2, duration: 60 }] });
    expect((await limiter.check({ ip: '2001:db8:1:2::1' })).allowed).toBe(true);
    expect((await limiter.check({ ip: '2001:db8:1:2:ffff:ffff:ffff:fffe' })).allowed).toBe(true);
    const third = await limiter.check({ ip: '2001:0db8:0001:0002:abcd::9' });
    expect(third).toMatchObject({ allowed: false, deciding: { key: 'tk:rl:ip:{ip=2001%3Adb8%3A1%3A2%3A%3A/64}' } });
    expect((await limiter.check({ ip: '2001:db8:1:3::1' })).allowed).toBe(true);
    await limiter.check({ ip: '192.0.2.1' });
    await limiter.check({ ip: '::ffff:192.0.2.1' });
    expect((await limiter.check({ ip: '192.0.2.1' })).allowed).toBe(false);
  });

  it('uses the configured key prefix', async () => {
    const limiter = limiterWith({ keyPrefix: 'app:limits', policies: [{ name: 'ip', by: ['ip'], points: 1, duration: 60 }] });
    expect((await limiter.check({ ip: '203.0.113.7' })).outcomes[0]!.key).toBe('app:limits:ip:{ip=203.0.113.7}');
  });
});

describe('check: tenant scope', () => {
  const policies = [
    { name: 'tenant', by: ['tenant'], points: 2, duration: 60 },
    { name: 'ip', by: ['ip'], points: 100, duration: 60 },
  ] as const;

  it('counts for the ambient tenant, per tenant', async () => {
    const limiter = limiterWith({ policies: [...policies] });
    await runWithTenant('acme', () => limiter.check({ ip: '203.0.113.7' }));
    const second = await runWithTenant('acme', () => limiter.check({ ip: '203.0.113.7' }));
    expect(second).toMatchObject({ tenantId: 'acme', outcomes: [{ key: 'tk:rl:tenant:{acme}', consumed: 2 }, expect.anything()] });
    expect((await runWithTenant('acme', () => limiter.check({ ip: '203.0.113.7' }))).allowed).toBe(false);
    expect((await runWithTenant('globex', () => limiter.check({ ip: '203.0.113.7' }))).allowed).toBe(true);
    // The same tenant named explicitly inside its own scope is fine.
    expect((await runWithTenant('globex', () => limiter.check({ tenantId: 'globex' }))).outcomes[0]!.consumed).toBe(2);
  });

  it('refuses a subject naming another tenant than the scope (TENANT_SCOPE_CONFLICT), even with no tenant policy selected', async () => {
    const limiter = limiterWith({ policies: [...policies] });
    await expect(runWithTenant('acme', () => limiter.check({ tenantId: 'globex', ip: '203.0.113.7' }))).rejects.toEqual(
      withCode('TENANT_SCOPE_CONFLICT'),
    );
    await expect(runWithTenant('acme', () => limiter.check({ tenantId: 'globex', ip: '203.0.113.7' }, { policies: ['ip'] }))).rejects.toEqual(
      withCode('TENANT_SCOPE_CONFLICT'),
    );
    await expect(runWithTenant('acme', () => limiter.status({ tenantId: 'globex' }))).rejects.toEqual(withCode('TENANT_SCOPE_CONFLICT'));
    await expect(runWithTenant('acme', () => limiter.consume('tenant', { tenantId: 'globex' }))).rejects.toEqual(withCode('TENANT_SCOPE_CONFLICT'));
  });

  it('fails closed with TENANT_SCOPE_REQUIRED when a tenant policy applies and no tenant is given or in scope', async () => {
    const limiter = limiterWith({ policies: [...policies, { name: 'user', by: ['tenant', 'user'], points: 5, duration: 60 }] });
    await expect(limiter.check({ ip: '203.0.113.7' })).rejects.toEqual(withCode('TENANT_SCOPE_REQUIRED'));
    await expect(runAsSystem({ reason: 'test' }, () => limiter.check({ ip: '203.0.113.7' }))).rejects.toEqual(withCode('TENANT_SCOPE_REQUIRED'));
    // Even when another field of that policy is missing too.
    await expect(limiter.check({ ip: '203.0.113.7' }, { policies: ['user', 'ip'] })).rejects.toEqual(withCode('TENANT_SCOPE_REQUIRED'));
    await expect(limiter.consume('tenant', {})).rejects.toEqual(withCode('TENANT_SCOPE_REQUIRED'));
    // Without the tenant policies selected, an anonymous request is fine.
    expect((await limiter.check({ ip: '203.0.113.7' }, { policies: ['ip'] })).allowed).toBe(true);
    // The system scope may name any tenant.
    expect((await runAsSystem({ reason: 'test' }, () => limiter.check({ tenantId: 'acme', ip: '203.0.113.7' }))).allowed).toBe(true);
  });
});

describe('check: limits from the tenant plan', () => {
  const planPolicies = {
    plans,
    policies: [{ name: 'tenant', by: ['tenant'], fromPlan: 'requests' }],
  } satisfies RateLimiterOptions;

  async function admittedOf(limiter: RateLimiter, subject: { tenantId: string; plan: string }, attempts: number): Promise<number> {
    let admitted = 0;
    for (let attempt = 0; attempt < attempts; attempt += 1) if ((await limiter.check(subject)).allowed) admitted += 1;
    return admitted;
  }

  it('gives each tenant the points of its own plan', async () => {
    const limiter = limiterWith(planPolicies);
    expect(await admittedOf(limiter, { tenantId: 'small', plan: 'free' }, 10)).toBe(3);
    expect(await admittedOf(limiter, { tenantId: 'big', plan: 'pro' }, 10)).toBe(5);
    expect(limiter.limitFor('tenant', 'free')).toEqual({ points: 3, duration: 60, blockDuration: 0 });
    expect(limiter.limitFor('tenant', 'pro')).toEqual({ points: 5, duration: 60, blockDuration: 120 });
  });

  it('reads the plan of the tenant record in scope', async () => {
    const limiter = limiterWith(planPolicies);
    const decision = await runWithTenant(tenantRecord('acme', 'pro'), () => limiter.check({}));
    expect(decision.outcomes[0]).toMatchObject({ limit: 5, key: 'tk:rl:tenant:{acme}' });
    // subject.plan wins over the scope's record.
    expect((await runWithTenant(tenantRecord('acme', 'pro'), () => limiter.check({ plan: 'free' }))).outcomes[0]!.limit).toBe(3);
  });

  it('applies a plan change on the next request, on the same counter, without a restart', async () => {
    const limiter = limiterWith(planPolicies);
    expect(await admittedOf(limiter, { tenantId: 'acme', plan: 'free' }, 4)).toBe(3);
    // Upgraded: 5 points now, and the 3 admitted in this window stay counted (the refused check charged nothing).
    const upgraded = await limiter.check({ tenantId: 'acme', plan: 'pro' });
    expect(upgraded.outcomes[0]).toMatchObject({ allowed: true, limit: 5, consumed: 4, remaining: 1, key: 'tk:rl:tenant:{acme}' });
    expect((await limiter.check({ tenantId: 'acme', plan: 'pro' })).outcomes[0]).toMatchObject({ allowed: true, consumed: 5, remaining: 0 });
    expect((await limiter.check({ tenantId: 'acme', plan: 'pro' })).allowed).toBe(false);
    // Downgraded: over the free limit at once.
    expect((await limiter.check({ tenantId: 'acme', plan: 'free' })).outcomes[0]).toMatchObject({ allowed: false, limit: 3 });
  });

  it('skips the policy on an unlimited plan (points -1)', async () => {
    const store = controllableStore();
    const limiter = limiterWith({ ...planPolicies, store });
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const decision = await limiter.check({ tenantId: 'bigcorp', plan: 'enterprise' });
      expect(decision).toMatchObject({ allowed: true, outcomes: [] });
    }
    expect(store.calls.consumeAll).toBe(0);
    expect(limiter.limitFor('tenant', 'enterprise')).toBeUndefined();
  });

  it('refuses an unknown plan, and a missing plan without a fallback, with PLAN_NOT_FOUND', async () => {
    const limiter = limiterWith(planPolicies);
    await expect(limiter.check({ tenantId: 'acme', plan: 'platinum' })).rejects.toEqual(withCode('PLAN_NOT_FOUND'));
    await expect(limiter.check({ tenantId: 'acme', plan: '__proto__' })).rejects.toEqual(withCode('PLAN_NOT_FOUND'));
    await expect(limiter.check({ tenantId: 'acme' })).rejects.toEqual(withCode('PLAN_NOT_FOUND'));
    // A scope opened with a bare id carries no plan.
    await expect(runWithTenant('acme', () => limiter.check({}))).rejects.toEqual(withCode('PLAN_NOT_FOUND'));
    expect(() => limiter.limitFor('tenant', 'platinum')).toThrow(withCode('PLAN_NOT_FOUND'));
    expect(() => limiter.limitFor('nope')).toThrow(withCode('RATE_LIMIT_POLICY_NOT_FOUND'));
  });

  it('falls back to the policy points when no plan is known', async () => {
    const limiter = limiterWith({ plans, policies: [{ name: 'tenant', by: ['tenant'], fromPlan: 'requests', points: 1, duration: 30 }] });
    expect((await limiter.check({ tenantId: 'acme' })).outcomes[0]).toMatchObject({ limit: 1, windowSeconds: 30 });
    expect((await limiter.check({ tenantId: 'acme', plan: 'pro' })).outcomes[0]).toMatchObject({ limit: 5, windowSeconds: 60 });
    expect(limiter.limitFor('tenant')).toEqual({ points: 1, duration: 30, blockDuration: 0 });
  });
});

describe('check: shadow policies', () => {
  it('reports a shadow refusal without refusing, and still counts the enforcing policies', async () => {
    const store = controllableStore();
    const limiter = limiterWith({
      store,
      policies: [
        { name: 'tenant', by: ['tenant'], points: 100, duration: 60 },
        { name: 'strict', by: ['tenant'], points: 1, duration: 60, shadow: true },
      ],
    });
    await limiter.check({ tenantId: 'acme' });
    const decision = await limiter.check({ tenantId: 'acme' });
    expect(decision).toMatchObject({ allowed: true, reason: 'shadow-limited', retryAfterMs: 0, deciding: { policy: 'tenant' } });
    expect(decision.outcomes).toEqual([
      expect.objectContaining({ policy: 'tenant', allowed: true, consumed: 2, shadow: false }),
      expect.objectContaining({ policy: 'strict', allowed: false, shadow: true }),
    ]);
    // The shadow policy's refusal did not stop the enforcing one from counting the admitted request.
    expect((await limiter.get('tenant', { tenantId: 'acme' }))?.consumed).toBe(2);
    expect(limiter.metering?.snapshot().get('acme')).toMatchObject({ admitted: 1, shadowRejected: 1, rejected: 0 });
  });

  it('refuses as usual when an enforcing policy refuses too', async () => {
    const limiter = limiterWith({
      policies: [
        { name: 'enforced', by: ['ip'], points: 1, duration: 60 },
        { name: 'report', by: ['ip'], points: 1, duration: 60, shadow: true },
      ],
    });
    await limiter.check({ ip: '203.0.113.7' });
    expect(await limiter.check({ ip: '203.0.113.7' })).toMatchObject({ allowed: false, reason: 'limited', deciding: { policy: 'enforced' } });
  });

  it('with options.shadow never refuses anything', async () => {
    const limiter = limiterWith({ shadow: true, policies: [{ name: 'ip', by: ['ip'], points: 1, duration: 60 }] });
    await limiter.check({ ip: '203.0.113.7' });
    const decision = await limiter.check({ ip: '203.0.113.7' });
    expect(decision).toMatchObject({ allowed: true, reason: 'shadow-limited', retryAfterMs: 0, deciding: { policy: 'ip', allowed: false } });
    await expect(limiter.enforce({ ip: '203.0.113.7' })).resolves.toMatchObject({ allowed: true });
  });
});

describe('check: allow and deny lists', () => {
  it('admits an allow-listed client and refuses a deny-listed one without touching the store; deny wins', async () => {
    const store = controllableStore();
    const limiter = limiterWith({
      store,
      policies: [{ name: 'ip', by: ['ip'], points: 1, duration: 60 }],
      allowList: { ips: ['10.0.0.0/8'], apiKeyIds: ['key_monitoring'] },
      denyList: { ips: ['10.6.6.0/24', '2001:db8:bad::/48'] },
    });
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect(await limiter.check({ ip: '10.1.2.3' })).toEqual({
        allowed: true, reason: 'allow-listed', outcomes: [], deciding: undefined, retryAfterMs: 0, tenantId: undefined,
      });
      expect(await limiter.check({ ip: '203.0.113.7', apiKeyId: 'key_monitoring' })).toMatchObject({ allowed: true, reason: 'allow-listed' });
    }
    expect(await limiter.check({ ip: '10.6.6.6' })).toMatchObject({ allowed: false, reason: 'deny-listed', outcomes: [], retryAfterMs: 0 });
    expect(await limiter.check({ ip: '2001:db8:bad:1::1' })).toMatchObject({ allowed: false, reason: 'deny-listed' });
    expect(store.calls.consumeAll).toBe(0);
    await expect(limiter.enforce({ ip: '10.6.6.6' })).rejects.toEqual(expect.objectContaining({ code: 'CLIENT_DENIED', status: 403 }));
  });

  it('matches the tenant the check counts for, also when it comes from the scope', async () => {
    const limiter = limiterWith({ policies: [{ name: 'tenant', by: ['tenant'], points: 1, duration: 60 }], denyList: { tenantIds: ['banned'] } });
    expect(await runWithTenant('banned', () => limiter.check({}))).toMatchObject({ reason: 'deny-listed', tenantId: 'banned' });
    expect(limiter.metering?.snapshot().get('banned')).toMatchObject({ rejected: 1 });
  });

  it('rejects malformed lists at creation', () => {
    expect(() => createRateLimiter({ policies: [{ name: 'ip', by: ['ip'], points: 1, duration: 1 }], allowList: { ips: ['10.0.0.0/99'] } })).toThrow(
      withCode('CONFIGURATION_INVALID'),
    );
  });
});

describe('enforce', () => {
  it('returns an admitting decision and throws RATE_LIMITED (429) with the policy, the wait and the limit', async () => {
    const limiter = limiterWith({ policies: [{ name: 'login', by: ['key'], points: 1, duration: 90 }] });
    await expect(limiter.enforce({ key: 'alice@example.com' })).resolves.toMatchObject({ allowed: true });
    const error: unknown = await limiter.enforce({ key: 'alice@example.com' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ code: 'RATE_LIMITED', status: 429, details: { policy: 'login', retryAfterSeconds: 90, limit: 1 } });
  });
});

describe('metering and events', () => {
  it('counts admitted, rejected and degraded decisions per tenant, and requests without a tenant apart', async () => {
    const store = controllableStore();
    const limiter = limiterWith({ store, failure: 'open', policies: [{ name: 'tenant', by: ['tenant'], points: 1, duration: 60 }, { name: 'ip', by: ['ip'], points: 1, duration: 60 }] });
    await limiter.check({ tenantId: 'acme' });
    await limiter.check({ tenantId: 'acme' });
    await limiter.check({ ip: '203.0.113.7' }, { policies: ['ip'] });
    store.mode = 'reject';
    await limiter.check({ tenantId: 'acme' });
    const snapshot = limiter.metering!.snapshot();
    expect(snapshot.get('acme')).toEqual({ admitted: 2, rejected: 1, shadowRejected: 0, degraded: 1 });
    expect(snapshot.size).toBe(2);
    expect([...snapshot].find(([label]) => label !== 'acme')?.[1]).toMatchObject({ admitted: 1 });
    expect(limiter.metering!.toPrometheusText()).toContain('tenant="acme"');
  });

  it('turns metering off with metering: false', () => {
    expect(limiterWith({ metering: false, policies: [{ name: 'ip', by: ['ip'], points: 1, duration: 1 }] }).metering).toBeUndefined();
  });

  it('reports every decision with its subject to onEvent', async () => {
    const events: RateLimitEvent[] = [];
    const limiter = limiterWith({ onEvent: (event) => events.push(event), policies: [{ name: 'ip', by: ['ip'], points: 1, duration: 60 }] });
    const subject = { ip: '203.0.113.7' };
    const decision = await limiter.check(subject);
    expect(events).toEqual([{ type: 'decision', decision, subject }]);
  });

  it('is not broken by an onEvent that throws or rejects', async () => {
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      for (const onEvent of [
        () => {
          throw new Error('metrics exporter bug');
        },
        async () => {
          throw new Error('async metrics exporter bug');
        },
      ]) {
        const limiter = limiterWith({ onEvent, policies: [{ name: 'ip', by: ['ip'], points: 1, duration: 60 }] });
        await expect(limiter.check({ ip: '203.0.113.7' })).resolves.toMatchObject({ allowed: true });
        await expect(limiter.enforce({ ip: '203.0.113.7' })).rejects.toEqual(withCode('RATE_LIMITED'));
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });
});

describe('lifecycle', () => {
  it('works with its own memory store by default and closes it', async () => {
    const limiter = createRateLimiter({ policies: [{ name: 'ip', by: ['ip'], points: 1, duration: 60 }] });
    expect((await limiter.check({ ip: '203.0.113.7' })).allowed).toBe(true);
    await limiter.close();
  });

  it('does not close a store it was given', async () => {
    const store = controllableStore();
    const close = vi.spyOn(store, 'close');
    const limiter = createRateLimiter({ store, policies: [{ name: 'ip', by: ['ip'], points: 1, duration: 60 }] });
    await limiter.check({ ip: '203.0.113.7' });
    await limiter.close();
    expect(close).not.toHaveBeenCalled();
  });
});
