import { describe, expect, it } from 'vitest';
import { TenantContextError } from '../../src/errors.js';
import { definePlans, type PlanDefinition } from '../../src/plans/plan-catalog.js';
import type { TenantEntitlements } from '../../src/plans/tenant-overrides.js';

const catalog = definePlans({
  free: {
    limits: { users: 5, projects: 3, storageBytes: 1_000_000_000 },
    features: ['basic-reports'],
    rateLimits: { requests: { points: 1000, windowSeconds: 3600 } },
  },
  pro: {
    name: 'Pro',
    description: 'For growing teams',
    limits: { users: 50, projects: -1, storageBytes: 100_000_000_000 },
    features: ['basic-reports', 'advanced-reports', 'advanced-reports', 'audit-log'],
    metadata: { stripePriceId: 'price_123' },
  },
});

function tenantOn(plan: string, overrides: Partial<TenantEntitlements> = {}): TenantEntitlements {
  return { plan, features: {}, limits: {}, ...overrides };
}

/** Captures a synchronous throw so its code and details can be asserted. */
function thrownBy(fn: () => unknown): TenantContextError {
  try {
    fn();
  } catch (error) {
    if (error instanceof TenantContextError) return error;
    throw error;
  }
  throw new Error('expected the function to throw');
}

describe('definePlans validation', () => {
  const invalidCatalogs: Array<[string, unknown, string]> = [
    ['no plans at all', {}, ''],
    ['a negative limit other than -1', { free: { limits: { users: -2 } } }, 'free.limits.users'],
    ['a fractional limit', { free: { limits: { users: 1.5 } } }, 'free.limits.users'],
    ['a limit given as a string', { free: { limits: { users: '5' } } }, 'free.limits.users'],
    ['an infinite limit', { free: { limits: { users: Number.POSITIVE_INFINITY } } }, 'free.limits.users'],
    ['a plan key "constructor"', { constructor: { limits: {} } }, 'constructor'],
    ['a plan key "prototype"', { prototype: { limits: {} } }, 'prototype'],
    ['a plan key with a space', { 'pro plan': { limits: {} } }, 'pro plan'],
    ['a feature "constructor"', { free: { features: ['constructor'] } }, 'free.features.0'],
    ['a resource named "prototype"', { free: { limits: { prototype: 1 } } }, 'free.limits.prototype'],
    ['a misspelled field (typo "limit")', { free: { limit: { users: 5 } } }, 'free'],
    ['a non-JSON rate-limit section', { free: { rateLimits: { requests: () => 1 } } }, 'free.rateLimits.requests'],
    ['plans that are not an object', ['free'], ''],
  ];

  it.each(invalidCatalogs)('rejects %s with CONFIGURATION_INVALID listing the issue', (_label, definitions, path) => {
    const error = thrownBy(() => definePlans(definitions as Record<string, PlanDefinition>));
    expect(error.code).toBe('CONFIGURATION_INVALID');
    const issues = (error.details as { issues: Array<{ path: string }> }).issues;
    expect(issues.map((issue) => issue.path)).toContain(path);
  });

  it('rejects an own "__proto__" key anywhere (plan, limit, rate-limit section)', () => {
    // JSON.parse creates real own "__proto__" properties, as a config file loader would.
    const sources: Array<[string, string]> = [
      ['{"__proto__": {"limits": {}}}', '__proto__'],
      ['{"free": {"limits": {"__proto__": 5}}}', 'free.limits.__proto__'],
      ['{"free": {"rateLimits": {"requests": {"__proto__": {"points": 1}}}}}', 'free.rateLimits.requests.__proto__'],
      ['{"free": {"metadata": {"nested": [{"constructor": 1}]}}}', 'free.metadata.nested.0.constructor'],
    ];
    for (const [source, path] of sources) {
      const error = thrownBy(() => definePlans(JSON.parse(source) as Record<string, PlanDefinition>));
      expect(error.code).toBe('CONFIGURATION_INVALID');
      expect(error.details).toEqual({ issues: [{ path, message: 'is a reserved key' }] });
    }
    expect(({} as Record<string, unknown>).points).toBeUndefined();
  });

  it('rejects a cyclic (non-JSON) metadata or rate-limit section', () => {
    const cyclic: Record<string, unknown> = { points: 1 };
    cyclic.self = cyclic;
    for (const definition of [{ metadata: { loop: cyclic } }, { rateLimits: { requests: cyclic } }]) {
      const error = thrownBy(() => definePlans({ free: definition as PlanDefinition }));
      expect(error.code).toBe('CONFIGURATION_INVALID');
    }
  });

  it('accepts -1 (unlimited) and 0 (not allowed) as limits', () => {
    const plans = definePlans({ team: { limits: { seats: -1, exports: 0 } } });
    expect(plans.getPlan('team').limits).toEqual({ seats: -1, exports: 0 });
  });
});

describe('PlanCatalog', () => {
  it('lists plan keys in declaration order and every feature any plan includes', () => {
    expect(catalog.planKeys).toEqual(['free', 'pro']);
    expect(catalog.allFeatures).toEqual(['advanced-reports', 'audit-log', 'basic-reports']);
  });

  it('returns plans with defaults filled in and features sorted without duplicates', () => {
    expect(catalog.getPlan('free')).toEqual({
      key: 'free',
      name: 'free',
      description: null,
      limits: { users: 5, projects: 3, storageBytes: 1_000_000_000 },
      features: ['basic-reports'],
      rateLimits: { requests: { points: 1000, windowSeconds: 3600 } },
      metadata: {},
    });
    expect(catalog.getPlan('pro').name).toBe('Pro');
    expect(catalog.getPlan('pro').features).toEqual(['advanced-reports', 'audit-log', 'basic-reports']);
    expect(catalog.getPlan('pro').metadata).toEqual({ stripePriceId: 'price_123' });
  });

  it('throws PLAN_NOT_FOUND for unknown plans, inherited property names included', () => {
    for (const key of ['enterprise', 'toString', 'constructor', '__proto__', '']) {
      const error = thrownBy(() => catalog.getPlan(key));
      expect(error.code).toBe('PLAN_NOT_FOUND');
      expect(error.status).toBe(400);
    }
    expect(catalog.hasPlan('pro')).toBe(true);
    expect(catalog.hasPlan('toString')).toBe(false);
  });

  it('is immutable, deeply, and unaffected by later edits of the definitions', () => {
    const definitions = { basic: { limits: { users: 2 }, rateLimits: { requests: { points: 10 } } } };
    const plans = definePlans(definitions);
    definitions.basic.limits.users = 1000;
    definitions.basic.rateLimits.requests.points = 1000;
    const plan = plans.getPlan('basic');
    expect(plan.limits.users).toBe(2);
    expect(plan.rateLimits).toEqual({ requests: { points: 10 } });
    expect(() => {
      (plan.limits as Record<string, number>).users = 99;
    }).toThrow(TypeError);
    expect(() => {
      ((plan.rateLimits.requests as Record<string, number>).points = 99);
    }).toThrow(TypeError);
    expect(() => {
      (plans.planKeys as string[]).push('hacked');
    }).toThrow(TypeError);
    expect(Object.isFrozen(plans)).toBe(true);
  });

  it('exposes the plan rate-limit section for @tenantkit/ratelimit', () => {
    expect(catalog.rateLimitsOf(tenantOn('free'))).toEqual({ requests: { points: 1000, windowSeconds: 3600 } });
    expect(catalog.rateLimitsOf(tenantOn('pro'))).toEqual({});
    expect(thrownBy(() => catalog.rateLimitsOf(tenantOn('gold'))).code).toBe('PLAN_NOT_FOUND');
  });
});

describe('effective limits', () => {
  it('are the plan limits when the tenant has no overrides', () => {
    expect(catalog.effectiveLimits(tenantOn('free'))).toEqual({ users: 5, projects: 3, storageBytes: 1_000_000_000 });
  });

  it('let tenant overrides replace plan limits, add resources, and grant unlimited with -1', () => {
    const tenant = tenantOn('free', { limits: { users: 20, projects: -1, apiKeys: 2 } });
    expect(catalog.effectiveLimits(tenant)).toEqual({
      users: 20,
      projects: -1,
      storageBytes: 1_000_000_000,
      apiKeys: 2,
    });
  });

  it('let a tenant override lower an unlimited plan limit', () => {
    expect(catalog.effectiveLimits(tenantOn('pro', { limits: { projects: 10 } })).projects).toBe(10);
  });

  it('follow the tenant record on every call (no caching)', () => {
    expect(catalog.effectiveLimits(tenantOn('free')).users).toBe(5);
    expect(catalog.effectiveLimits(tenantOn('pro')).users).toBe(50);
    expect(catalog.effectiveLimits(tenantOn('free')).users).toBe(5);
  });

  it('resolve one resource with its source; a resource nothing defines is 0, not unlimited', () => {
    const tenant = tenantOn('free', { limits: { users: 7 } });
    expect(catalog.resolveLimit(tenant, 'users')).toEqual({ limit: 7, source: 'tenant' });
    expect(catalog.resolveLimit(tenant, 'projects')).toEqual({ limit: 3, source: 'plan' });
    expect(catalog.resolveLimit(tenant, 'webhooks')).toEqual({ limit: 0, source: 'undefined' });
    expect(catalog.resolveLimit(tenant, 'toString')).toEqual({ limit: 0, source: 'undefined' });
    expect(thrownBy(() => catalog.resolveLimit(tenant, '__proto__')).code).toBe('VALIDATION_FAILED');
  });

  it('throw PLAN_NOT_FOUND when the tenant is on a plan the catalog does not have', () => {
    expect(thrownBy(() => catalog.effectiveLimits(tenantOn('legacy-2019'))).code).toBe('PLAN_NOT_FOUND');
    expect(thrownBy(() => catalog.resolveLimit(tenantOn('legacy-2019'), 'users')).code).toBe('PLAN_NOT_FOUND');
  });

  it('refuse malformed overrides in a record that bypassed the registry', () => {
    for (const limits of [{ users: 2.5 }, { users: -3 }, { users: '10' }, JSON.parse('{"__proto__": 1}')]) {
      const tenant = tenantOn('free', { limits: limits as Record<string, number> });
      expect(thrownBy(() => catalog.effectiveLimits(tenant)).code).toBe('CONFIGURATION_INVALID');
    }
  });
});

describe('features', () => {
  it('come from the plan when the tenant has no override', () => {
    expect(catalog.hasFeature(tenantOn('free'), 'basic-reports')).toBe(true);
    expect(catalog.hasFeature(tenantOn('free'), 'advanced-reports')).toBe(false);
    expect(catalog.hasFeature(tenantOn('pro'), 'advanced-reports')).toBe(true);
  });

  it('let a tenant override win over the plan, both ways', () => {
    const granted = tenantOn('free', { features: { 'advanced-reports': true } });
    const revoked = tenantOn('pro', { features: { 'advanced-reports': false } });
    expect(catalog.hasFeature(granted, 'advanced-reports')).toBe(true);
    expect(catalog.hasFeature(revoked, 'advanced-reports')).toBe(false);
    expect(catalog.hasFeature(revoked, 'basic-reports')).toBe(true);
  });

  it('answer false for features nobody grants, and never find inherited properties', () => {
    expect(catalog.hasFeature(tenantOn('pro'), 'sso')).toBe(false);
    expect(catalog.hasFeature(tenantOn('pro'), 'toString')).toBe(false);
    expect(catalog.hasFeature(tenantOn('pro'), 'hasOwnProperty')).toBe(false);
  });

  it('reject malformed feature names and unknown plans', () => {
    expect(thrownBy(() => catalog.hasFeature(tenantOn('pro'), 'constructor')).code).toBe('VALIDATION_FAILED');
    expect(thrownBy(() => catalog.hasFeature(tenantOn('pro'), '')).code).toBe('VALIDATION_FAILED');
    expect(thrownBy(() => catalog.hasFeature(tenantOn('gold'), 'basic-reports')).code).toBe('PLAN_NOT_FOUND');
  });

  it('list the effective features: plan features, plus forced on, minus forced off', () => {
    expect(catalog.effectiveFeatures(tenantOn('free'))).toEqual(['basic-reports']);
    const tenant = tenantOn('pro', { features: { 'audit-log': false, sso: true, 'basic-reports': true } });
    expect(catalog.effectiveFeatures(tenant)).toEqual(['advanced-reports', 'basic-reports', 'sso']);
  });

  it('refuse malformed feature overrides', () => {
    const tenant = tenantOn('pro', { features: { sso: 'yes' } as unknown as Record<string, boolean> });
    expect(thrownBy(() => catalog.hasFeature(tenant, 'sso')).code).toBe('CONFIGURATION_INVALID');
    expect(thrownBy(() => catalog.effectiveFeatures(tenant)).code).toBe('CONFIGURATION_INVALID');
  });
});
