import { createManualClock } from '@tenantkit/core';
import { describe, expect, it } from 'vitest';
import { memoryTenantStore } from '../../src/adapters/memory.js';
import { createTenantEventBus, type TenantEventMap } from '../../src/events.js';
import { createTenantRegistry } from '../../src/registry/tenant-registry.js';
import type { TenantStatus } from '../../src/tenant.js';

const START = Date.UTC(2026, 0, 1);

function setup() {
  const store = memoryTenantStore();
  const clock = createManualClock(START);
  const events = createTenantEventBus({
    onListenerError: (error) => {
      throw error;
    },
  });
  const statusChanges: Array<TenantEventMap['tenant.status_changed']> = [];
  const purged: string[] = [];
  events.on('tenant.status_changed', (payload) => void statusChanges.push(payload));
  events.on('tenant.purged', ({ tenantId }) => void purged.push(tenantId));
  const registry = createTenantRegistry({ store, clock, events });
  return { store, clock, registry, statusChanges, purged };
}

/** A registry holding one tenant already moved to `status` along an allowed path. */
async function tenantIn(status: TenantStatus) {
  const context = setup();
  const { registry } = context;
  const initial = status === 'provisioning' ? 'provisioning' : 'active';
  const tenant = await registry.createTenant({ slug: 'acme', name: 'Acme', status: initial });
  if (status === 'suspended') await registry.suspendTenant(tenant.id, 'setup');
  if (status === 'offboarding') await registry.setTenantStatus(tenant.id, 'offboarding', 'setup');
  if (status === 'deleted') await registry.deleteTenant(tenant.id, 'setup');
  context.statusChanges.length = 0;
  return { ...context, tenant: await registry.getTenantOrThrow(tenant.id) };
}

describe('suspendTenant', () => {
  it('suspends an active tenant, keeps the trimmed reason, bumps the version and announces it', async () => {
    const { registry, clock, tenant, statusChanges } = await tenantIn('active');
    clock.advance(5000);
    const suspended = await registry.suspendTenant(tenant.id, '  payment overdue ');
    expect(suspended).toMatchObject({
      status: 'suspended',
      statusReason: 'payment overdue',
      version: tenant.version + 1,
      updatedAt: START + 5000,
      deletedAt: null,
    });
    await expect(registry.getTenant(tenant.id)).resolves.toEqual(suspended);
    expect(statusChanges).toEqual([{ tenant: suspended, from: 'active', to: 'suspended', reason: 'payment overdue' }]);
  });

  it('requires a reason of 1 to 500 characters (VALIDATION_FAILED)', async () => {
    const { registry, tenant } = await tenantIn('active');
    for (const reason of ['', '   ', 'r'.repeat(501), undefined, 42]) {
      await expect(registry.suspendTenant(tenant.id, reason as string)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    await expect(registry.getTenant(tenant.id)).resolves.toEqual(tenant);
    await expect(registry.suspendTenant(tenant.id, 'r'.repeat(500))).resolves.toMatchObject({ status: 'suspended' });
  });

  it('leaves an already suspended tenant as it is, without an event', async () => {
    const { registry, tenant, statusChanges } = await tenantIn('suspended');
    await expect(registry.suspendTenant(tenant.id, 'again')).resolves.toEqual(tenant);
    expect(statusChanges).toEqual([]);
  });

  it.each(['provisioning', 'offboarding', 'deleted'] as const)(
    'refuses to suspend a %s tenant with TENANT_STATUS_TRANSITION_INVALID',
    async (status) => {
      const { registry, tenant, statusChanges } = await tenantIn(status);
      await expect(registry.suspendTenant(tenant.id, 'why not')).rejects.toMatchObject({
        code: 'TENANT_STATUS_TRANSITION_INVALID',
        status: 409,
        details: { from: status, to: 'suspended' },
      });
      await expect(registry.getTenant(tenant.id)).resolves.toEqual(tenant);
      expect(statusChanges).toEqual([]);
    },
  );

  it('answers TENANT_NOT_FOUND for a missing tenant', async () => {
    const { registry } = setup();
    await expect(registry.suspendTenant('tnt_missing', 'x')).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
  });
});

describe('reactivateTenant', () => {
  it('reactivates a suspended tenant with or without a reason', async () => {
    const { registry, tenant, statusChanges } = await tenantIn('suspended');
    const active = await registry.reactivateTenant(tenant.id);
    expect(active).toMatchObject({ status: 'active', statusReason: null, version: tenant.version + 1 });
    expect(statusChanges).toEqual([{ tenant: active, from: 'suspended', to: 'active', reason: null }]);

    await registry.suspendTenant(tenant.id, 'overdue again');
    await expect(registry.reactivateTenant(tenant.id, 'paid')).resolves.toMatchObject({
      status: 'active',
      statusReason: 'paid',
    });
  });

  it.each(['active', 'provisioning', 'offboarding', 'deleted'] as const)(
    'refuses to reactivate a %s tenant with TENANT_STATUS_TRANSITION_INVALID',
    async (status) => {
      const { registry, tenant, statusChanges } = await tenantIn(status);
      await expect(registry.reactivateTenant(tenant.id, 'please')).rejects.toMatchObject({
        code: 'TENANT_STATUS_TRANSITION_INVALID',
        details: { from: status, to: 'active' },
      });
      await expect(registry.getTenant(tenant.id)).resolves.toEqual(tenant);
      expect(statusChanges).toEqual([]);
    },
  );

  it('refuses a blank reason with VALIDATION_FAILED', async () => {
    const { registry, tenant } = await tenantIn('suspended');
    await expect(registry.reactivateTenant(tenant.id, ' ')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(registry.getTenant(tenant.id)).resolves.toEqual(tenant);
  });

  it('answers TENANT_NOT_FOUND for a missing tenant', async () => {
    const { registry } = setup();
    await expect(registry.reactivateTenant('tnt_missing')).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
  });
});

describe('deleteTenant', () => {
  it.each(['active', 'suspended', 'offboarding'] as const)(
    'soft-deletes a %s tenant: status deleted, deletedAt set, record kept',
    async (status) => {
      const { registry, clock, tenant, statusChanges } = await tenantIn(status);
      clock.advance(7000);
      const deleted = await registry.deleteTenant(tenant.id, 'customer left');
      expect(deleted).toMatchObject({
        id: tenant.id,
        slug: tenant.slug,
        status: 'deleted',
        statusReason: 'customer left',
        deletedAt: START + 7000,
        updatedAt: START + 7000,
        version: tenant.version + 1,
      });
      await expect(registry.getTenant(tenant.id)).resolves.toEqual(deleted);
      expect(statusChanges).toEqual([{ tenant: deleted, from: status, to: 'deleted', reason: 'customer left' }]);
    },
  );

  it('requires a reason (VALIDATION_FAILED)', async () => {
    const { registry, tenant } = await tenantIn('active');
    await expect(registry.deleteTenant(tenant.id, '')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(registry.getTenant(tenant.id)).resolves.toEqual(tenant);
  });

  it('refuses to delete a provisioning tenant (onboarding purges it instead)', async () => {
    const { registry, tenant } = await tenantIn('provisioning');
    await expect(registry.deleteTenant(tenant.id, 'abandoned')).rejects.toMatchObject({
      code: 'TENANT_STATUS_TRANSITION_INVALID',
    });
  });

  it('makes deleted terminal: nothing brings the tenant back', async () => {
    const { registry, tenant, statusChanges } = await tenantIn('deleted');
    for (const status of ['active', 'suspended', 'offboarding', 'provisioning'] as const) {
      await expect(registry.setTenantStatus(tenant.id, status, 'undo')).rejects.toMatchObject({
        code: 'TENANT_STATUS_TRANSITION_INVALID',
        details: { from: 'deleted', to: status },
      });
    }
    await expect(registry.reactivateTenant(tenant.id)).rejects.toMatchObject({ code: 'TENANT_STATUS_TRANSITION_INVALID' });
    await expect(registry.updateTenant(tenant.id, { name: 'Back' })).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
    // Deleting again changes nothing: the first deletion's time and reason stay.
    await expect(registry.deleteTenant(tenant.id, 'again')).resolves.toEqual(tenant);
    await expect(registry.getTenant(tenant.id)).resolves.toEqual(tenant);
    expect(statusChanges).toEqual([]);
  });
});

describe('setTenantStatus', () => {
  it('activates a provisioning tenant with a null reason', async () => {
    const { registry, tenant, statusChanges } = await tenantIn('provisioning');
    const active = await registry.setTenantStatus(tenant.id, 'active');
    expect(active).toMatchObject({ status: 'active', statusReason: null, deletedAt: null });
    expect(statusChanges).toEqual([{ tenant: active, from: 'provisioning', to: 'active', reason: null }]);
  });

  it('walks active -> offboarding -> deleted with reasons', async () => {
    const { registry, tenant, statusChanges } = await tenantIn('active');
    await expect(registry.setTenantStatus(tenant.id, 'offboarding', 'export requested')).resolves.toMatchObject({
      status: 'offboarding',
      statusReason: 'export requested',
      deletedAt: null,
    });
    await expect(registry.setTenantStatus(tenant.id, 'deleted', 'export done')).resolves.toMatchObject({
      status: 'deleted',
      statusReason: 'export done',
      deletedAt: START,
    });
    expect(statusChanges.map(({ from, to, reason }) => ({ from, to, reason }))).toEqual([
      { from: 'active', to: 'offboarding', reason: 'export requested' },
      { from: 'offboarding', to: 'deleted', reason: 'export done' },
    ]);
  });

  it.each([
    ['active', 'provisioning'],
    ['offboarding', 'active'],
    ['offboarding', 'suspended'],
    ['provisioning', 'suspended'],
    ['provisioning', 'offboarding'],
  ] as const)('refuses %s -> %s with TENANT_STATUS_TRANSITION_INVALID', async (from, to) => {
    const { registry, tenant } = await tenantIn(from);
    await expect(registry.setTenantStatus(tenant.id, to, 'try')).rejects.toMatchObject({
      code: 'TENANT_STATUS_TRANSITION_INVALID',
      details: { from, to },
    });
    await expect(registry.getTenant(tenant.id)).resolves.toEqual(tenant);
  });

  it('refuses an unknown status or a blank reason with VALIDATION_FAILED', async () => {
    const { registry, tenant } = await tenantIn('active');
    await expect(registry.setTenantStatus(tenant.id, 'archived' as TenantStatus)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(registry.setTenantStatus(tenant.id, 'suspended', '')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(registry.getTenant(tenant.id)).resolves.toEqual(tenant);
  });

  it('answers TENANT_NOT_FOUND for a missing tenant and TENANT_IDENTIFIER_INVALID for a bad id', async () => {
    const { registry } = setup();
    await expect(registry.setTenantStatus('tnt_missing', 'active')).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
    await expect(registry.setTenantStatus('bad id', 'active')).rejects.toMatchObject({ code: 'TENANT_IDENTIFIER_INVALID' });
  });
});

describe('purgeProvisioningTenant', () => {
  it('removes a provisioning tenant and its domains for good, freeing the slug', async () => {
    const { registry, store, tenant, purged } = await tenantIn('provisioning');
    await store.insertDomain({
      hostname: 'app.acme.com',
      tenantId: tenant.id,
      status: 'pending',
      verificationToken: 'token',
      createdAt: START,
      verifiedAt: null,
    });
    await expect(registry.purgeProvisioningTenant(tenant.id)).resolves.toBe(true);
    await expect(registry.getTenant(tenant.id)).resolves.toBeNull();
    await expect(store.getDomain('app.acme.com')).resolves.toBeNull();
    expect(purged).toEqual([tenant.id]);
    await expect(registry.createTenant({ slug: 'acme', name: 'Acme again' })).resolves.toMatchObject({ slug: 'acme' });
  });

  it('answers false for a tenant that does not exist, without an event', async () => {
    const { registry, purged } = setup();
    await expect(registry.purgeProvisioningTenant('tnt_missing')).resolves.toBe(false);
    expect(purged).toEqual([]);
  });

  it.each(['active', 'suspended', 'offboarding', 'deleted'] as const)(
    'refuses to purge a %s tenant with TENANT_STATUS_TRANSITION_INVALID and keeps it',
    async (status) => {
      const { registry, tenant, purged } = await tenantIn(status);
      await expect(registry.purgeProvisioningTenant(tenant.id)).rejects.toMatchObject({
        code: 'TENANT_STATUS_TRANSITION_INVALID',
        details: { from: status },
      });
      await expect(registry.getTenant(tenant.id)).resolves.toEqual(tenant);
      expect(purged).toEqual([]);
    },
  );

  it('refuses a malformed id with TENANT_IDENTIFIER_INVALID', async () => {
    const { registry } = setup();
    await expect(registry.purgeProvisioningTenant('../x')).rejects.toMatchObject({ code: 'TENANT_IDENTIFIER_INVALID' });
  });
});
