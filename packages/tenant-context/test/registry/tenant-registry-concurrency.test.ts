import { createManualClock } from '@tenantkit/core';
import { describe, expect, it } from 'vitest';
import { memoryTenantStore } from '../../src/adapters/memory.js';
import { createTenantEventBus, type TenantEventMap } from '../../src/events.js';
import { createTenantRegistry } from '../../src/registry/tenant-registry.js';
import type { TenantStore } from '../../src/store.js';

function setup(store: TenantStore = memoryTenantStore()) {
  const events = createTenantEventBus({
    onListenerError: (error) => {
      throw error;
    },
  });
  const updates: Array<TenantEventMap['tenant.updated']> = [];
  const statusChanges: Array<TenantEventMap['tenant.status_changed']> = [];
  events.on('tenant.updated', (payload) => void updates.push(payload));
  events.on('tenant.status_changed', (payload) => void statusChanges.push(payload));
  const registry = createTenantRegistry({ store, events, clock: createManualClock() });
  return { registry, updates, statusChanges };
}

describe('concurrent writes', () => {
  it('keeps every change of 20 parallel updates, each adding its own feature key', async () => {
    const { registry, updates } = setup();
    const tenant = await registry.createTenant({ slug: 'acme', name: 'Acme' });
    const keys = Array.from({ length: 20 }, (_, index) => `feature${index}`);
    const results = await Promise.all(keys.map((key) => registry.updateTenant(tenant.id, { features: { [key]: true } })));

    const stored = await registry.getTenantOrThrow(tenant.id);
    expect(Object.keys(stored.features).sort()).toEqual([...keys].sort());
    expect(stored.version).toBe(21);
    // Every write won exactly one version, and each was announced once.
    expect(results.map((result) => result.version).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, index) => index + 2),
    );
    expect(updates).toHaveLength(20);
    for (const { tenant: after, previous } of updates) expect(after.version).toBe(previous.version + 1);
  });

  it('keeps both changes when limits and features are patched in parallel with a rename', async () => {
    const { registry } = setup();
    const tenant = await registry.createTenant({ slug: 'acme', name: 'Acme', limits: { seats: 5 } });
    await Promise.all([
      registry.updateTenant(tenant.id, { limits: { projects: 3 } }),
      registry.updateTenant(tenant.id, { features: { beta: true } }),
      registry.updateTenant(tenant.id, { name: 'Acme Corp' }),
      registry.suspendTenant(tenant.id, 'audit'),
    ]);
    await expect(registry.getTenantOrThrow(tenant.id)).resolves.toMatchObject({
      name: 'Acme Corp',
      status: 'suspended',
      limits: { seats: 5, projects: 3 },
      features: { beta: true },
      version: 5,
    });
  });

  it('re-reads and re-applies the change when it loses a compare-and-set', async () => {
    const inner = memoryTenantStore();
    let sneakInAWrite = true;
    const store: TenantStore = {
      ...inner,
      async updateTenant(tenant, expectedVersion) {
        if (sneakInAWrite) {
          // Another process writes between the registry's read and its compare-and-set.
          sneakInAWrite = false;
          const current = await inner.getTenantById(tenant.id);
          if (current === null) throw new Error('test setup: tenant missing');
          await inner.updateTenant(
            { ...current, features: { ...current.features, fromElsewhere: true }, version: current.version + 1 },
            current.version,
          );
        }
        return inner.updateTenant(tenant, expectedVersion);
      },
    };
    const { registry, updates } = setup(store);
    const tenant = await registry.createTenant({ slug: 'acme', name: 'Acme' });
    const updated = await registry.updateTenant(tenant.id, { features: { mine: true } });
    expect(updated.features).toEqual({ fromElsewhere: true, mine: true });
    expect(updated.version).toBe(3);
    await expect(registry.getTenantOrThrow(tenant.id)).resolves.toEqual(updated);
    // The event's `previous` is the record the winning write replaced, not the stale first read.
    expect(updates).toHaveLength(1);
    expect(updates[0]?.previous).toMatchObject({ version: 2, features: { fromElsewhere: true } });
  });

  it('gives up with STORE_CONFLICT when the compare-and-set never wins, emitting nothing', async () => {
    const inner = memoryTenantStore();
    let attempts = 0;
    const store: TenantStore = {
      ...inner,
      async updateTenant() {
        attempts += 1;
        return false;
      },
    };
    const { registry, updates, statusChanges } = setup(store);
    const tenant = await registry.createTenant({ slug: 'acme', name: 'Acme' });

    await expect(registry.updateTenant(tenant.id, { name: 'Never' })).rejects.toMatchObject({
      code: 'STORE_CONFLICT',
      status: 409,
      details: { tenantId: tenant.id },
    });
    // It retried, but a bounded number of times.
    expect(attempts).toBeGreaterThan(1);
    expect(attempts).toBeLessThanOrEqual(100);

    attempts = 0;
    await expect(registry.suspendTenant(tenant.id, 'overdue')).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
    expect(attempts).toBeGreaterThan(1);

    await expect(registry.getTenantOrThrow(tenant.id)).resolves.toEqual(tenant);
    expect(updates).toEqual([]);
    expect(statusChanges).toEqual([]);
  });

  it('lets exactly one of two parallel creations of the same slug win', async () => {
    const { registry } = setup();
    const outcomes = await Promise.allSettled([
      registry.createTenant({ slug: 'acme', name: 'First' }),
      registry.createTenant({ slug: 'acme', name: 'Second' }),
    ]);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    const rejected = outcomes.find((outcome) => outcome.status === 'rejected');
    expect(rejected?.reason).toMatchObject({ code: 'TENANT_ALREADY_EXISTS' });
  });
});
