import { definePlans, type PlanCatalog } from '@tenantkit/tenant-context';
import { describe, expect, it, vi } from 'vitest';
import { createRateLimiter } from '../../src/limiter/create-rate-limiter.js';
import { createPlanLimitResolver, planRateLimitSchema } from '../../src/policies/plan-limits.js';

const code = (value: string) => expect.objectContaining({ code: value });
const tenantPolicy = { name: 'tenant', by: ['tenant'], fromPlan: 'requests' } as const;

describe('planRateLimitSchema', () => {
  it('accepts { points, windowSeconds, blockSeconds?, burst? } and points -1 without a window', () => {
    expect(planRateLimitSchema.safeParse({ points: 1000, windowSeconds: 3600 }).success).toBe(true);
    expect(planRateLimitSchema.safeParse({ points: 10, windowSeconds: 1, blockSeconds: 0, burst: { points: 5, duration: 10 } }).success).toBe(true);
    expect(planRateLimitSchema.safeParse({ points: -1 }).success).toBe(true);
  });

  it('refuses zero, fractional and negative points, a missing window, unknown fields', () => {
    for (const entry of [
      { points: 0, windowSeconds: 60 },
      { points: 1.5, windowSeconds: 60 },
      { points: -2, windowSeconds: 60 },
      { points: 10 },
      { points: 10, windowSeconds: 0 },
      { points: 10, window: 60 },
      { points: 10, windowSeconds: 60, burst: { points: 0, duration: 1 } },
      { points: 10, windowSeconds: 60, blockSeconds: -1 },
      '10/hour',
    ]) {
      expect(planRateLimitSchema.safeParse(entry).success, JSON.stringify(entry)).toBe(false);
    }
  });
});

describe('createPlanLimitResolver', () => {
  it('reads and validates a plan entry once, then answers from its cache', () => {
    const frozen = definePlans({ free: { rateLimits: { requests: { points: 3, windowSeconds: 60 } } } });
    const rateLimitsOf = vi.fn(frozen.rateLimitsOf);
    const catalog: PlanCatalog = { ...frozen, rateLimitsOf };
    const prepare = vi.fn((limit: object) => ({ prepared: limit }));
    const resolve = createPlanLimitResolver({ plans: catalog, policy: 'tenant', fromPlan: 'requests', fallback: undefined, defaults: { blockDuration: 0 } }, prepare);
    const first = resolve('free');
    expect(first).toEqual({ prepared: { points: 3, duration: 60, blockDuration: 0 } });
    expect(resolve('free')).toBe(first);
    expect(rateLimitsOf).toHaveBeenCalledTimes(1);
    expect(prepare).toHaveBeenCalledTimes(1);
  });
});

describe('fromPlan policies in createRateLimiter', () => {
  it('validates every plan of the catalog at creation: a missing entry without fallback is CONFIGURATION_INVALID', () => {
    const catalog = definePlans({
      free: { rateLimits: { requests: { points: 3, windowSeconds: 60 } } },
      legacy: {},
    });
    expect(() => createRateLimiter({ plans: catalog, policies: [tenantPolicy] })).toThrow(
      expect.objectContaining({ code: 'CONFIGURATION_INVALID', message: expect.stringContaining('Plan "legacy" has no rateLimits.requests entry') }),
    );
    // With a fallback, the plan without an entry gets the policy's own limit.
    const limiter = createRateLimiter({ plans: catalog, policies: [{ ...tenantPolicy, points: 1, duration: 10 }] });
    expect(limiter.limitFor('tenant', 'legacy')).toEqual({ points: 1, duration: 10, blockDuration: 0 });
    expect(limiter.limitFor('tenant', 'free')).toEqual({ points: 3, duration: 60, blockDuration: 0 });
  });

  it('lists every malformed entry of every plan', () => {
    const catalog = definePlans({
      free: { rateLimits: { requests: { points: 0, windowSeconds: 60 } } },
      pro: { rateLimits: { requests: { points: 100, window: 60 } } },
    });
    let error: unknown;
    try {
      createRateLimiter({ plans: catalog, policies: [tenantPolicy] });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'CONFIGURATION_INVALID' });
    expect((error as Error).message).toContain('plan "free"');
    expect((error as Error).message).toContain('plan "pro"');
  });

  it("takes block and burst from the plan entry, else from the policy", () => {
    const catalog = definePlans({
      free: { rateLimits: { requests: { points: 3, windowSeconds: 60 } } },
      pro: { rateLimits: { requests: { points: 30, windowSeconds: 60, blockSeconds: 5, burst: { points: 10, duration: 5 } } } },
    });
    const limiter = createRateLimiter({ plans: catalog, policies: [{ ...tenantPolicy, blockDuration: 300, burst: { points: 1, duration: 60 } }] });
    expect(limiter.limitFor('tenant', 'free')).toEqual({ points: 3, duration: 60, blockDuration: 300, burst: { points: 1, duration: 60 } });
    expect(limiter.limitFor('tenant', 'pro')).toEqual({ points: 30, duration: 60, blockDuration: 5, burst: { points: 10, duration: 5 } });
  });

  it('turns a catalog failure into a coded error', async () => {
    const catalog = definePlans({ free: { rateLimits: { requests: { points: 3, windowSeconds: 60 } } } });
    const lazy: PlanCatalog = {
      ...catalog,
      planKeys: [], // nothing to validate up front: read on first use
      hasPlan: (key) => key === 'free' || key === 'broken',
      rateLimitsOf: (tenant) => {
        if (tenant.plan === 'broken') throw new Error('catalog backend down');
        return catalog.rateLimitsOf(tenant);
      },
    };
    const limiter = createRateLimiter({ plans: lazy, policies: [tenantPolicy] });
    expect((await limiter.check({ tenantId: 'acme', plan: 'free' })).outcomes[0]).toMatchObject({ limit: 3 });
    await expect(limiter.check({ tenantId: 'acme', plan: 'broken' })).rejects.toEqual(code('CONFIGURATION_INVALID'));
    await limiter.close();
  });
});
