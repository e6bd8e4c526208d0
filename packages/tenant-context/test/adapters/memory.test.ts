import { describeTenantContextStoreConformance } from '@tenantkit/test-utils';
import { describe, expect, it } from 'vitest';
import {
  memoryLifecycleRunStore,
  memoryMembershipStore,
  memoryTenantContextStores,
  memoryTenantStore,
  memoryUsageCounterStore,
} from '../../src/adapters/memory.js';
import type { Tenant } from '../../src/tenant.js';

describeTenantContextStoreConformance('memory', {
  setup: async () => memoryTenantContextStores(),
});

const createdAt = Date.UTC(2026, 0, 1);

function tenant(overrides: Partial<Tenant> & Pick<Tenant, 'id' | 'slug'>): Tenant {
  return {
    name: overrides.slug,
    status: 'active',
    statusReason: null,
    plan: 'free',
    settings: {},
    features: {},
    limits: {},
    region: null,
    createdAt,
    updatedAt: createdAt,
    deletedAt: null,
    version: 1,
    ...overrides,
  };
}

describe('memory stores: specifics of the reference implementation', () => {
  it('hands out deep-frozen snapshots, so a caller cannot change stored state by accident', async () => {
    const store = memoryTenantStore();
    await store.insertTenant(tenant({ id: 'tnt_a', slug: 'alpha', settings: { nested: { value: 1 } } }));
    const read = await store.getTenantById('tnt_a');
    expect(Object.isFrozen(read)).toBe(true);
    expect(Object.isFrozen(read?.settings.nested)).toBe(true);
    expect(() => {
      (read as { name: string }).name = 'changed';
    }).toThrow(TypeError);
  });

  it('keeps only what JSON keeps, like a persistent store would', async () => {
    const store = memoryTenantStore();
    const settings = { kept: 1, dropped: undefined } as unknown as Tenant['settings'];
    await store.insertTenant(tenant({ id: 'tnt_a', slug: 'alpha', settings }));
    expect((await store.getTenantById('tnt_a'))?.settings).toStrictEqual({ kept: 1 });
  });

  it('rejects a record that JSON cannot hold with VALIDATION_FAILED', async () => {
    const store = memoryTenantStore();
    const settings = { big: 1n } as unknown as Tenant['settings'];
    await expect(store.insertTenant(tenant({ id: 'tnt_a', slug: 'alpha', settings }))).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(await store.getTenantById('tnt_a')).toBeNull();
  });

  it('rejects cursors it did not issue with VALIDATION_FAILED', async () => {
    const tenants = memoryTenantStore();
    const memberships = memoryMembershipStore();
    for (let index = 0; index < 3; index += 1) {
      await tenants.insertTenant(tenant({ id: `tnt_${index}`, slug: `t${index}` }));
      await memberships.insertMembership({ tenantId: 'tnt_0', userId: `usr_${index}`, status: 'active', invitedBy: null, createdAt, updatedAt: createdAt });
    }
    const tenantCursor = (await tenants.listTenants({ limit: 1 })).nextCursor ?? '';
    const membershipCursor = (await memberships.listMembershipsByTenant('tnt_0', { limit: 1 })).nextCursor ?? '';
    expect(tenantCursor).not.toBe('');
    expect(membershipCursor).not.toBe('');

    for (const cursor of ['garbage', '', Buffer.from('{"a":1}').toString('base64url'), membershipCursor]) {
      await expect(tenants.listTenants({ limit: 1, cursor })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    await expect(memberships.listMembershipsByTenant('tnt_0', { limit: 1, cursor: tenantCursor })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });

  it('refuses a compare-and-set whose new version is not the expected version plus one', async () => {
    const tenants = memoryTenantStore();
    const original = tenant({ id: 'tnt_a', slug: 'alpha' });
    await tenants.insertTenant(original);
    await expect(tenants.updateTenant({ ...original, version: 3 }, 1)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(tenants.updateTenant({ ...original, version: 1 }, 1)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });

    const runs = memoryLifecycleRunStore();
    const run = {
      id: 'run_1', kind: 'onboarding', tenantId: 'tnt_a', state: 'running', completedSteps: [], compensatedSteps: [],
      input: {}, error: null, leaseOwner: null, leaseExpiresAt: null, createdAt, updatedAt: createdAt, version: 1,
    } as const;
    await runs.insertRun(run);
    await expect(runs.updateRun({ ...run, version: 1 }, 1)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await runs.getRun('run_1')).toEqual(run);
  });

  it('refuses an unlimited increment past the largest safe integer', async () => {
    const counters = memoryUsageCounterStore();
    await counters.set('tnt_a', 'bytes', Number.MAX_SAFE_INTEGER - 1);
    expect(await counters.increment('tnt_a', 'bytes', 1, -1)).toEqual({ applied: true, value: Number.MAX_SAFE_INTEGER });
    await expect(counters.increment('tnt_a', 'bytes', 1, -1)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await counters.get('tnt_a', 'bytes')).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('gives every factory call its own state', async () => {
    const first = memoryTenantContextStores();
    const second = memoryTenantContextStores();
    await first.tenants.insertTenant(tenant({ id: 'tnt_a', slug: 'alpha' }));
    await first.usageCounters.set('tnt_a', 'users', 3);
    expect(await second.tenants.getTenantById('tnt_a')).toBeNull();
    expect(await second.usageCounters.get('tnt_a', 'users')).toBe(0);
  });
});
