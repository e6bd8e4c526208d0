import { setImmediate as nextTurn } from 'node:timers/promises';
import { createManualClock } from '@tenantkit/core';
import { describe, expect, it } from 'vitest';
import { memoryTenantStore, memoryUsageCounterStore } from '../../src/adapters/memory.js';
import { createTenantEventBus, type TenantEventMap } from '../../src/events.js';
import { definePlans } from '../../src/plans/plan-catalog.js';
import { createQuotaEnforcer, type QuotaEnforcerOptions } from '../../src/plans/quota-enforcer.js';
import { createTenantRegistry } from '../../src/registry/tenant-registry.js';
import { runAsSystem, runWithTenant } from '../../src/scope/tenant-scope.js';
import type { UsageCounterStore } from '../../src/store.js';

const plans = definePlans({
  free: { limits: { users: 5, projects: 3, storageBytes: 1000 }, features: ['basic-reports'] },
  pro: { limits: { users: 50, projects: -1, storageBytes: 100_000 }, features: ['basic-reports', 'advanced-reports'] },
  big: { limits: { seats: 150 } },
});

type ThresholdEvent = TenantEventMap['quota.threshold_crossed'];

async function setUp(overrides: Partial<QuotaEnforcerOptions> = {}) {
  const events = createTenantEventBus();
  const registry = createTenantRegistry({
    store: memoryTenantStore(),
    events,
    plans: plans.planKeys,
    clock: createManualClock(),
  });
  const counters = memoryUsageCounterStore();
  const quotas = createQuotaEnforcer({ plans, counters, registry, ...overrides });
  const crossings: ThresholdEvent[] = [];
  quotas.events.on('quota.threshold_crossed', (event) => void crossings.push(event));
  const acme = await registry.createTenant({ id: 'tnt_acme', slug: 'acme', name: 'Acme', plan: 'free' });
  return { events, registry, counters, quotas, crossings, acme };
}

/** A small seeded PRNG (mulberry32), so "random" interleavings are the same on every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The real memory store with a random number of event-loop turns before and after each
 * atomic increment, so calls finish in a different order than the store applied them (as
 * they do against a network store).
 */
function withShuffledLatency(store: UsageCounterStore, seed: number): UsageCounterStore {
  const random = seededRandom(seed);
  const wait = async () => {
    for (let turns = Math.floor(random() * 5); turns > 0; turns -= 1) await nextTurn();
  };
  return {
    ...store,
    async increment(tenantId, resource, amount, limit) {
      await wait();
      const result = await store.increment(tenantId, resource, amount, limit);
      await wait();
      return result;
    },
  };
}

describe('createQuotaEnforcer options', () => {
  it('are validated when the enforcer is created', async () => {
    const { registry, counters } = await setUp();
    const invalid: unknown[] = [
      undefined,
      { counters, registry },
      { plans, registry },
      { plans, counters: {}, registry },
      { plans, counters },
      { plans, counters, registry, getTenant: async () => null },
      { plans, counters, registry, thresholds: [0] },
      { plans, counters, registry, thresholds: [1.2] },
      { plans, counters, registry, thresholds: [0.5, 0.5] },
      { plans: { planKeys: [] }, counters, registry },
    ];
    for (const options of invalid) {
      expect(() => createQuotaEnforcer(options as QuotaEnforcerOptions)).toThrow(
        expect.objectContaining({ code: 'CONFIGURATION_INVALID' }),
      );
    }
  });

  it('accept a getTenant function instead of a registry', async () => {
    const { registry, counters } = await setUp();
    const quotas = createQuotaEnforcer({ plans, counters, getTenant: (id) => registry.getTenant(id) });
    await expect(quotas.consume('users', 2, { tenantId: 'tnt_acme' })).resolves.toMatchObject({ used: 2, limit: 5 });
  });

  it('emit on the registry bus by default', async () => {
    const { events, quotas } = await setUp();
    expect(quotas.events).toBe(events);
  });
});

describe('consume', () => {
  it('adds usage and reports used, limit, remaining and percent', async () => {
    const { quotas, counters } = await setUp();
    await expect(quotas.consume('projects', 1, { tenantId: 'tnt_acme' })).resolves.toEqual({
      resource: 'projects',
      used: 1,
      limit: 3,
      unlimited: false,
      remaining: 2,
      percent: 33.33,
    });
    await expect(quotas.consume('projects', 2, { tenantId: 'tnt_acme' })).resolves.toMatchObject({
      used: 3,
      remaining: 0,
      percent: 100,
    });
    expect(await counters.get('tnt_acme', 'projects')).toBe(3);
  });

  it('uses the tenant in scope when no tenant id is given', async () => {
    const { quotas, counters } = await setUp();
    await runWithTenant('tnt_acme', () => quotas.consume('users'));
    await runWithTenant('tnt_acme', () => quotas.consume('users', 2));
    expect(await counters.get('tnt_acme', 'users')).toBe(3);
  });

  it('fails closed without a tenant: TENANT_SCOPE_REQUIRED outside a scope and in the system scope', async () => {
    const { quotas } = await setUp();
    await expect(quotas.consume('users')).rejects.toMatchObject({ code: 'TENANT_SCOPE_REQUIRED' });
    await expect(runAsSystem({ reason: 'test' }, () => quotas.consume('users'))).rejects.toMatchObject({
      code: 'TENANT_SCOPE_REQUIRED',
    });
  });

  it('refuses an explicit tenant id that differs from the tenant in scope', async () => {
    const { quotas, registry, counters } = await setUp();
    await registry.createTenant({ id: 'tnt_other', slug: 'other', name: 'Other' });
    await expect(
      runWithTenant('tnt_acme', () => quotas.consume('users', 1, { tenantId: 'tnt_other' })),
    ).rejects.toMatchObject({ code: 'TENANT_SCOPE_CONFLICT' });
    expect(await counters.get('tnt_other', 'users')).toBe(0);
    // The same id as the scope, and explicit ids from the system scope, are fine.
    await runWithTenant('tnt_acme', () => quotas.consume('users', 1, { tenantId: 'tnt_acme' }));
    await runAsSystem({ reason: 'seat-sync' }, () => quotas.consume('users', 1, { tenantId: 'tnt_other' }));
    expect(await counters.get('tnt_acme', 'users')).toBe(1);
    expect(await counters.get('tnt_other', 'users')).toBe(1);
  });

  it('throws QUOTA_EXCEEDED with details and leaves the counter unchanged', async () => {
    const { quotas, counters } = await setUp();
    await quotas.consume('users', 4, { tenantId: 'tnt_acme' });
    const failure = quotas.consume('users', 2, { tenantId: 'tnt_acme' });
    await expect(failure).rejects.toMatchObject({
      code: 'QUOTA_EXCEEDED',
      status: 403,
      details: { resource: 'users', limit: 5, used: 4, requested: 2, limitDefined: true },
    });
    expect(await counters.get('tnt_acme', 'users')).toBe(4);
    // The one unit left is still there.
    await expect(quotas.consume('users', 1, { tenantId: 'tnt_acme' })).resolves.toMatchObject({ used: 5 });
    await expect(quotas.consume('users', 1, { tenantId: 'tnt_acme' })).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
    expect(await counters.get('tnt_acme', 'users')).toBe(5);
  });

  it('treats a resource no plan or override defines as not allowed (limit 0)', async () => {
    const { quotas, counters } = await setUp();
    await expect(quotas.consume('webhooks', 1, { tenantId: 'tnt_acme' })).rejects.toMatchObject({
      code: 'QUOTA_EXCEEDED',
      details: { resource: 'webhooks', limit: 0, used: 0, requested: 1, limitDefined: false },
    });
    expect(await counters.get('tnt_acme', 'webhooks')).toBe(0);
  });

  it('admits any amount when the limit is -1 (unlimited)', async () => {
    const { quotas, registry } = await setUp();
    await registry.updateTenant('tnt_acme', { plan: 'pro' });
    await expect(quotas.consume('projects', 1_000_000, { tenantId: 'tnt_acme' })).resolves.toEqual({
      resource: 'projects',
      used: 1_000_000,
      limit: -1,
      unlimited: true,
      remaining: null,
      percent: null,
    });
  });

  it('applies plan changes and tenant overrides on the next call', async () => {
    const { quotas, registry } = await setUp();
    await quotas.consume('projects', 3, { tenantId: 'tnt_acme' });
    await expect(quotas.consume('projects', 1, { tenantId: 'tnt_acme' })).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });

    await registry.updateTenant('tnt_acme', { limits: { projects: 4 } });
    await expect(quotas.consume('projects', 1, { tenantId: 'tnt_acme' })).resolves.toMatchObject({ used: 4, limit: 4 });
    await expect(quotas.consume('projects', 1, { tenantId: 'tnt_acme' })).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });

    await registry.updateTenant('tnt_acme', { plan: 'pro', limits: { projects: null } });
    await expect(quotas.consume('projects', 10, { tenantId: 'tnt_acme' })).resolves.toMatchObject({ used: 14, limit: -1 });

    await registry.updateTenant('tnt_acme', { plan: 'free' });
    await expect(quotas.consume('projects', 1, { tenantId: 'tnt_acme' })).rejects.toMatchObject({
      code: 'QUOTA_EXCEEDED',
      details: { used: 14, limit: 3 },
    });
  });

  it('refuses suspended, offboarding, deleted and unknown tenants, and allows provisioning ones', async () => {
    const { quotas, registry, counters } = await setUp();
    await registry.createTenant({ id: 'tnt_sus', slug: 'sus', name: 'Suspended' });
    await registry.suspendTenant('tnt_sus', 'unpaid');
    await registry.createTenant({ id: 'tnt_off', slug: 'off', name: 'Offboarding' });
    await registry.setTenantStatus('tnt_off', 'offboarding');
    await registry.createTenant({ id: 'tnt_del', slug: 'del', name: 'Deleted' });
    await registry.deleteTenant('tnt_del', 'closed');
    await registry.createTenant({ id: 'tnt_new', slug: 'new', name: 'New', status: 'provisioning' });

    await expect(quotas.consume('users', 1, { tenantId: 'tnt_sus' })).rejects.toMatchObject({ code: 'TENANT_SUSPENDED' });
    await expect(quotas.consume('users', 1, { tenantId: 'tnt_off' })).rejects.toMatchObject({ code: 'TENANT_SUSPENDED' });
    await expect(quotas.consume('users', 1, { tenantId: 'tnt_del' })).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
    await expect(quotas.consume('users', 1, { tenantId: 'tnt_nobody' })).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
    await expect(quotas.check('users', 1, { tenantId: 'tnt_sus' })).rejects.toMatchObject({ code: 'TENANT_SUSPENDED' });
    for (const tenantId of ['tnt_sus', 'tnt_off', 'tnt_del', 'tnt_nobody']) {
      expect(await counters.get(tenantId, 'users')).toBe(0);
    }
    await expect(quotas.consume('users', 1, { tenantId: 'tnt_new' })).resolves.toMatchObject({ used: 1 });
  });

  it('validates tenant id, resource and amount', async () => {
    const { quotas } = await setUp();
    const target = { tenantId: 'tnt_acme' };
    await expect(quotas.consume('users', 1, { tenantId: '../etc' })).rejects.toMatchObject({
      code: 'TENANT_IDENTIFIER_INVALID',
    });
    for (const resource of ['', '__proto__', 'constructor', 'has space', 42 as unknown as string]) {
      await expect(quotas.consume(resource, 1, target)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    for (const amount of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '2' as unknown as number]) {
      await expect(quotas.consume('users', amount, target)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    }
  });
});

describe('release, check and setUsage', () => {
  it('release subtracts, never below 0, in any tenant status', async () => {
    const { quotas, registry } = await setUp();
    const target = { tenantId: 'tnt_acme' };
    await quotas.consume('users', 3, target);
    await expect(quotas.release('users', 1, target)).resolves.toMatchObject({ used: 2, remaining: 3, percent: 40 });
    await registry.suspendTenant('tnt_acme', 'unpaid');
    await expect(quotas.release('users', 10, target)).resolves.toMatchObject({ used: 0, remaining: 5, percent: 0 });
    await expect(quotas.release('users', 1, { tenantId: 'tnt_nobody' })).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
    await expect(quotas.release('users', 0, target)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('check answers without changing anything', async () => {
    const { quotas, counters } = await setUp();
    const target = { tenantId: 'tnt_acme' };
    await quotas.consume('users', 3, target);
    await expect(quotas.check('users', 2, target)).resolves.toEqual({
      resource: 'users',
      used: 3,
      limit: 5,
      unlimited: false,
      remaining: 2,
      percent: 60,
      requested: 2,
      allowed: true,
    });
    await expect(quotas.check('users', 3, target)).resolves.toMatchObject({ allowed: false, used: 3 });
    await expect(quotas.check('webhooks', 1, target)).resolves.toMatchObject({ allowed: false, limit: 0, percent: 100 });
    expect(await counters.get('tnt_acme', 'users')).toBe(3);
  });

  it('setUsage reconciles the counter, even above the limit, without threshold events', async () => {
    const { quotas, counters, crossings } = await setUp();
    const target = { tenantId: 'tnt_acme' };
    await expect(quotas.setUsage('users', 7, target)).resolves.toMatchObject({ used: 7, remaining: 0, percent: 140 });
    expect(await counters.get('tnt_acme', 'users')).toBe(7);
    await expect(quotas.consume('users', 1, target)).rejects.toMatchObject({ code: 'QUOTA_EXCEEDED' });
    expect(crossings).toEqual([]);
    for (const value of [-1, 1.5, Number.NaN]) {
      await expect(quotas.setUsage('users', value, target)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    }
  });
});

describe('usageReport', () => {
  it('has one row per resource from the plan, the overrides and the counters, sorted', async () => {
    const { quotas, registry, counters } = await setUp();
    const target = { tenantId: 'tnt_acme' };
    await registry.updateTenant('tnt_acme', { limits: { apiKeys: -1 } });
    await quotas.consume('users', 4, target);
    await quotas.consume('storageBytes', 250, target);
    await quotas.consume('apiKeys', 9, target);
    // A counter left over from a resource the plan no longer defines.
    await counters.set('tnt_acme', 'legacyWidgets', 2);

    await expect(quotas.usageReport(target)).resolves.toEqual([
      { resource: 'apiKeys', used: 9, limit: -1, unlimited: true, remaining: null, percent: null },
      { resource: 'legacyWidgets', used: 2, limit: 0, unlimited: false, remaining: 0, percent: 100 },
      { resource: 'projects', used: 0, limit: 3, unlimited: false, remaining: 3, percent: 0 },
      { resource: 'storageBytes', used: 250, limit: 1000, unlimited: false, remaining: 750, percent: 25 },
      { resource: 'users', used: 4, limit: 5, unlimited: false, remaining: 1, percent: 80 },
    ]);
  });

  it('reads the tenant in scope and never another tenant’s counters', async () => {
    const { quotas, registry } = await setUp();
    await registry.createTenant({ id: 'tnt_other', slug: 'other', name: 'Other' });
    await quotas.consume('users', 5, { tenantId: 'tnt_other' });
    const report = await runWithTenant('tnt_acme', () => quotas.usageReport());
    expect(report.find((row) => row.resource === 'users')).toMatchObject({ used: 0 });
    await expect(quotas.usageReport()).rejects.toMatchObject({ code: 'TENANT_SCOPE_REQUIRED' });
    await expect(quotas.usageReport({ tenantId: 'tnt_nobody' })).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
  });
});

describe('threshold events', () => {
  it('fire once when usage reaches 80 % and once when it reaches 100 %', async () => {
    const { quotas, crossings } = await setUp();
    const target = { tenantId: 'tnt_acme' };
    for (let i = 0; i < 3; i += 1) await quotas.consume('users', 1, target);
    expect(crossings).toEqual([]);
    await quotas.consume('users', 1, target); // 4 of 5 = 80 %
    expect(crossings).toEqual([{ tenantId: 'tnt_acme', resource: 'users', used: 4, limit: 5, threshold: 0.8 }]);
    await quotas.consume('users', 1, target); // 5 of 5
    await quotas.consume('users', 1, target).catch(() => undefined); // refused: no event
    expect(crossings).toEqual([
      { tenantId: 'tnt_acme', resource: 'users', used: 4, limit: 5, threshold: 0.8 },
      { tenantId: 'tnt_acme', resource: 'users', used: 5, limit: 5, threshold: 1 },
    ]);
  });

  it('fire for every threshold one increment jumps over, in ascending order', async () => {
    const { quotas, crossings } = await setUp({ thresholds: [1, 0.5, 0.8] });
    await quotas.consume('storageBytes', 1000, { tenantId: 'tnt_acme' });
    expect(crossings.map((event) => event.threshold)).toEqual([0.5, 0.8, 1]);
    expect(crossings.every((event) => event.used === 1000 && event.limit === 1000)).toBe(true);
  });

  it('fire again after usage drops below a threshold and crosses it anew', async () => {
    const { quotas, crossings } = await setUp();
    const target = { tenantId: 'tnt_acme' };
    await quotas.consume('users', 4, target);
    await quotas.release('users', 1, target);
    await quotas.consume('users', 1, target);
    expect(crossings.map((event) => [event.used, event.threshold])).toEqual([
      [4, 0.8],
      [4, 0.8],
    ]);
  });

  it('never fire for unlimited or undefined resources', async () => {
    const { quotas, registry, crossings } = await setUp();
    await registry.updateTenant('tnt_acme', { plan: 'pro' });
    await quotas.consume('projects', 10_000, { tenantId: 'tnt_acme' });
    await quotas.consume('webhooks', 1, { tenantId: 'tnt_acme' }).catch(() => undefined);
    expect(crossings).toEqual([]);
  });

  it('under 200 concurrent consumes: exactly the limit is admitted and each crossing fires once', async () => {
    for (const seed of [1, 2, 3]) {
      const { registry } = await setUp();
      const memory = memoryUsageCounterStore();
      const counters = withShuffledLatency(memory, seed);
      const quotas = createQuotaEnforcer({ plans, counters, registry, thresholds: [0.5, 0.8, 1] });
      const crossings: ThresholdEvent[] = [];
      quotas.events.on('quota.threshold_crossed', (event) => void crossings.push(event));
      await registry.updateTenant('tnt_acme', { plan: 'big' });

      const outcomes = await Promise.allSettled(
        Array.from({ length: 200 }, () => quotas.consume('seats', 1, { tenantId: 'tnt_acme' })),
      );
      const admitted = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      const refused = outcomes.filter((outcome) => outcome.status === 'rejected');
      expect(admitted).toHaveLength(150);
      expect(refused).toHaveLength(50);
      for (const outcome of refused) expect(outcome.reason).toMatchObject({ code: 'QUOTA_EXCEEDED' });
      expect(await memory.get('tnt_acme', 'seats')).toBe(150);
      // Every admitted call saw a distinct counter value: no two shared an increment.
      const values = admitted.map((outcome) => (outcome as PromiseFulfilledResult<{ used: number }>).value.used);
      expect(new Set(values).size).toBe(150);
      expect(crossings.map((event) => [event.threshold, event.used]).sort((a, b) => a[0]! - b[0]!)).toEqual([
        [0.5, 75],
        [0.8, 120],
        [1, 150],
      ]);
    }
  });
});
