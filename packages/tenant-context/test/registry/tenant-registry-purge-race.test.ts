import { createManualClock } from '@tenantkit/core';
import { describe, expect, it } from 'vitest';
import { memoryTenantStore } from '../../src/adapters/memory.js';
import { createTenantEventBus } from '../../src/events.js';
import { createTenantRegistry, type TenantRegistry } from '../../src/registry/tenant-registry.js';
import type { TenantStore } from '../../src/store.js';

/**
 * A memory store whose purgeTenant runs `between` before each of its first `times` writes:
 * deterministically, after the registry read the tenant and before the store write lands.
 */
function storePausingBeforePurge(times: number) {
  const inner = memoryTenantStore();
  let between: (() => Promise<void>) | undefined;
  let calls = 0;
  const store: TenantStore = {
    ...inner,
    async purgeTenant(id, expected) {
      calls += 1;
      if (calls <= times && between !== undefined) await between();
      return inner.purgeTenant(id, expected);
    },
  };
  return {
    store,
    onPause(action: () => Promise<void>) {
      between = action;
    },
    purgeCalls: () => calls,
  };
}

async function setup(times: number) {
  const paused = storePausingBeforePurge(times);
  const events = createTenantEventBus({
    onListenerError: (error) => {
      throw error;
    },
  });
  const purged: string[] = [];
  events.on('tenant.purged', ({ tenantId }) => void purged.push(tenantId));
  const registry: TenantRegistry = createTenantRegistry({ store: paused.store, events, clock: createManualClock() });
  const tenant = await registry.createTenant({ slug: 'acme', name: 'Acme', status: 'provisioning' });
  return { ...paused, registry, tenant, purged };
}

describe('purgeProvisioningTenant racing other writers', () => {
  it('keeps a tenant activated between the status check and the purge', async () => {
    const { registry, tenant, purged, onPause } = await setup(1);
    onPause(async () => {
      await registry.setTenantStatus(tenant.id, 'active');
    });
    await expect(registry.purgeProvisioningTenant(tenant.id)).rejects.toMatchObject({
      code: 'TENANT_STATUS_TRANSITION_INVALID',
      details: { from: 'active' },
    });
    await expect(registry.getTenant(tenant.id)).resolves.toMatchObject({ status: 'active', version: tenant.version + 1 });
    expect(purged).toEqual([]);
  });

  it('re-reads and purges a tenant that only changed its name while staying provisioning', async () => {
    const { registry, tenant, purged, onPause, purgeCalls } = await setup(1);
    onPause(async () => {
      await registry.updateTenant(tenant.id, { name: 'Acme Renamed' });
    });
    await expect(registry.purgeProvisioningTenant(tenant.id)).resolves.toBe(true);
    expect(purgeCalls()).toBe(2);
    await expect(registry.getTenant(tenant.id)).resolves.toBeNull();
    expect(purged).toEqual([tenant.id]);
  });

  it('gives up with STORE_CONFLICT when the tenant changes before every purge attempt', async () => {
    const { registry, tenant, purged, onPause } = await setup(Number.POSITIVE_INFINITY);
    let renames = 0;
    onPause(async () => {
      renames += 1;
      await registry.updateTenant(tenant.id, { name: `Acme ${renames}` });
    });
    await expect(registry.purgeProvisioningTenant(tenant.id)).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
    await expect(registry.getTenant(tenant.id)).resolves.toMatchObject({ status: 'provisioning', name: `Acme ${renames}` });
    expect(purged).toEqual([]);
  });
});
