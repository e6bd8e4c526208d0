import { createManualClock } from '@tenantkit/core';
import { describe, expect, it } from 'vitest';
import { memoryMembershipStore, memoryTenantStore } from '../../src/adapters/memory.js';
import { createTenantEventBus, type TenantEventMap } from '../../src/events.js';
import { createMembershipService } from '../../src/memberships/membership-service.js';
import { createTenantRegistry } from '../../src/registry/tenant-registry.js';
import type { MembershipStore } from '../../src/store.js';

const START = Date.UTC(2026, 0, 1);

/**
 * A memory store whose updateMembership runs `between` before each of its first `times`
 * writes: after the service read the membership and before its write lands. Writes made by
 * `between` itself pass straight through.
 */
function storePausingBeforeUpdate(times: number) {
  const inner = memoryMembershipStore();
  let between: (() => Promise<void>) | undefined;
  let paused = 0;
  let inside = false;
  const store: MembershipStore = {
    ...inner,
    async updateMembership(membership, expected) {
      if (!inside && paused < times && between !== undefined) {
        paused += 1;
        inside = true;
        try {
          await between();
        } finally {
          inside = false;
        }
      }
      return inner.updateMembership(membership, expected);
    },
  };
  return {
    store,
    onPause(action: () => Promise<void>) {
      between = action;
    },
  };
}

async function setup(times: number) {
  const clock = createManualClock(START);
  const events = createTenantEventBus({
    onListenerError: (error) => {
      throw error;
    },
  });
  const registry = createTenantRegistry({ store: memoryTenantStore(), events, clock });
  const paused = storePausingBeforeUpdate(times);
  const memberships = createMembershipService({ store: paused.store, registry, clock });
  const updates: Array<TenantEventMap['membership.updated']> = [];
  events.on('membership.updated', (payload) => void updates.push(payload));
  const tenant = await registry.createTenant({ id: 'tnt_acme', slug: 'acme', name: 'Acme' });
  await memberships.addMember(tenant.id, 'usr_1');
  return { ...paused, memberships, updates, tenant };
}

describe('setMemberStatus racing another writer', () => {
  it('re-applies its change on top of a concurrent one instead of overwriting it blindly', async () => {
    const { memberships, updates, onPause, tenant } = await setup(1);
    onPause(async () => {
      await memberships.setMemberStatus(tenant.id, 'usr_1', 'suspended');
    });
    // The clock never moves, so only the "previous updatedAt + 1" rule keeps the writes apart.
    const result = await memberships.setMemberStatus(tenant.id, 'usr_1', 'active');
    expect(result).toMatchObject({ status: 'active', updatedAt: START + 2 });
    await expect(memberships.getMembership(tenant.id, 'usr_1')).resolves.toEqual(result);
    // Each event's `previous` is what the write really replaced: no lost update in between.
    expect(updates.map(({ previous, membership }) => [previous.status, membership.status])).toEqual([
      ['invited', 'suspended'],
      ['suspended', 'active'],
    ]);
    expect(updates.map(({ membership }) => membership.updatedAt)).toEqual([START + 1, START + 2]);
  });

  it('returns the stored membership when a concurrent writer already made the same change', async () => {
    const { memberships, updates, onPause, tenant } = await setup(1);
    onPause(async () => {
      await memberships.setMemberStatus(tenant.id, 'usr_1', 'active');
    });
    await expect(memberships.setMemberStatus(tenant.id, 'usr_1', 'active')).resolves.toMatchObject({
      status: 'active',
      updatedAt: START + 1,
    });
    expect(updates).toHaveLength(1);
  });

  it('gives up with STORE_CONFLICT when the membership changes before every write', async () => {
    const { memberships, updates, onPause, tenant } = await setup(Number.POSITIVE_INFINITY);
    let flips = 0;
    onPause(async () => {
      flips += 1;
      // Alternate so the competing write is never a no-op.
      await memberships.setMemberStatus(tenant.id, 'usr_1', flips % 2 === 1 ? 'suspended' : 'invited');
    });
    await expect(memberships.setMemberStatus(tenant.id, 'usr_1', 'active')).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
    expect(updates.every(({ membership }) => membership.status !== 'active')).toBe(true);
    await expect(memberships.getMembership(tenant.id, 'usr_1')).resolves.not.toMatchObject({ status: 'active' });
  });
});
