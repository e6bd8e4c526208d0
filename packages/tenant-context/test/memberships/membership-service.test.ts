import { createManualClock } from '@tenantkit/core';
import { describe, expect, it } from 'vitest';
import { memoryMembershipStore, memoryTenantStore } from '../../src/adapters/memory.js';
import { createTenantEventBus, type TenantEventMap, type TenantEventName } from '../../src/events.js';
import { createMembershipService } from '../../src/memberships/membership-service.js';
import { createTenantRegistry } from '../../src/registry/tenant-registry.js';
import type { TenantStatus } from '../../src/tenant.js';

const START = Date.UTC(2026, 0, 1);

type MembershipEvent = {
  [Name in TenantEventName & `membership.${string}`]: { name: Name; payload: TenantEventMap[Name] };
}[TenantEventName & `membership.${string}`];

function setup() {
  const clock = createManualClock(START);
  const events = createTenantEventBus({
    onListenerError: (error) => {
      throw error;
    },
  });
  const registry = createTenantRegistry({ store: memoryTenantStore(), events, clock });
  const store = memoryMembershipStore();
  const memberships = createMembershipService({ store, registry, clock });
  const emitted: MembershipEvent[] = [];
  for (const name of ['membership.added', 'membership.updated', 'membership.removed'] as const) {
    events.on(name, (payload) => void emitted.push({ name, payload } as MembershipEvent));
  }
  return { clock, events, registry, store, memberships, emitted };
}

/** Creates a tenant and moves it to `status` along an allowed path. */
async function createTenantIn(registry: ReturnType<typeof setup>['registry'], slug: string, status: TenantStatus) {
  const tenant = await registry.createTenant({
    id: `tnt_${slug}`,
    slug,
    name: slug,
    status: status === 'provisioning' ? 'provisioning' : 'active',
  });
  if (status === 'suspended') return registry.suspendTenant(tenant.id, 'test');
  if (status === 'offboarding') return registry.setTenantStatus(tenant.id, 'offboarding', 'test');
  if (status === 'deleted') return registry.deleteTenant(tenant.id, 'test');
  return tenant;
}

describe('createMembershipService options', () => {
  it.each([
    ['no options', undefined],
    ['no store', { registry: {} }],
    ['a null store', { store: null, registry: createTenantRegistry({ store: memoryTenantStore() }) }],
    ['a store without methods', { store: {}, registry: createTenantRegistry({ store: memoryTenantStore() }) }],
    ['a null registry', { store: memoryMembershipStore(), registry: null }],
    ['a registry without getTenant', { store: memoryMembershipStore(), registry: {} }],
    [
      'a clock without now()',
      { store: memoryMembershipStore(), registry: createTenantRegistry({ store: memoryTenantStore() }), clock: {} },
    ],
  ])('refuses %s with CONFIGURATION_INVALID', (_label, options) => {
    expect(() => createMembershipService(options as never)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
  });

  it("emits on the registry's bus by default and on a given bus when told", async () => {
    const { registry, store, emitted } = setup();
    const tenant = await createTenantIn(registry, 'acme', 'active');
    await createMembershipService({ store, registry }).addMember(tenant.id, 'usr_1');
    expect(emitted.map((event) => event.name)).toEqual(['membership.added']);

    const ownBus = createTenantEventBus();
    const seen: string[] = [];
    ownBus.on('membership.added', ({ membership }) => void seen.push(membership.userId));
    await createMembershipService({ store, registry, events: ownBus }).addMember(tenant.id, 'usr_2');
    expect(seen).toEqual(['usr_2']);
    expect(emitted).toHaveLength(1);
  });
});

describe('addMember', () => {
  it('treats null options like no options (no TypeError from untrusted input)', async () => {
    const { registry, memberships } = setup();
    const tenant = await createTenantIn(registry, 'nullopts', 'active');
    await expect(memberships.addMember(tenant.id, 'usr_9', null as never)).resolves.toMatchObject({ status: 'invited' });
  });

  it('adds an invited member by default and announces it', async () => {
    const { registry, memberships, store, emitted } = setup();
    const tenant = await createTenantIn(registry, 'acme', 'active');
    const membership = await memberships.addMember(tenant.id, 'usr_1');
    expect(membership).toEqual({
      tenantId: tenant.id,
      userId: 'usr_1',
      status: 'invited',
      invitedBy: null,
      createdAt: START,
      updatedAt: START,
    });
    await expect(store.getMembership(tenant.id, 'usr_1')).resolves.toEqual(membership);
    expect(emitted).toEqual([{ name: 'membership.added', payload: { membership } }]);
  });

  it('adds an active member with the inviter', async () => {
    const { registry, memberships } = setup();
    const tenant = await createTenantIn(registry, 'acme', 'active');
    await expect(
      memberships.addMember(tenant.id, 'auth0|65f1c', { status: 'active', invitedBy: 'usr_owner@acme.test' }),
    ).resolves.toMatchObject({ status: 'active', invitedBy: 'usr_owner@acme.test', userId: 'auth0|65f1c' });
  });

  it('refuses a second membership of the same user with MEMBERSHIP_ALREADY_EXISTS and keeps the first', async () => {
    const { registry, memberships, emitted } = setup();
    const tenant = await createTenantIn(registry, 'acme', 'active');
    const first = await memberships.addMember(tenant.id, 'usr_1', { status: 'active' });
    await expect(memberships.addMember(tenant.id, 'usr_1', { status: 'invited', invitedBy: 'usr_2' })).rejects.toMatchObject({
      code: 'MEMBERSHIP_ALREADY_EXISTS',
      status: 409,
    });
    await expect(memberships.getMembership(tenant.id, 'usr_1')).resolves.toEqual(first);
    expect(emitted).toHaveLength(1);
  });

  it('lets one user join several tenants', async () => {
    const { registry, memberships } = setup();
    const acme = await createTenantIn(registry, 'acme', 'active');
    const globex = await createTenantIn(registry, 'globex', 'active');
    await memberships.addMember(acme.id, 'usr_1');
    await expect(memberships.addMember(globex.id, 'usr_1')).resolves.toMatchObject({ tenantId: globex.id });
  });

  it('answers TENANT_NOT_FOUND for a missing or deleted tenant and stores nothing', async () => {
    const { registry, memberships, store } = setup();
    await expect(memberships.addMember('tnt_missing', 'usr_1')).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
    const deleted = await createTenantIn(registry, 'gone', 'deleted');
    await expect(memberships.addMember(deleted.id, 'usr_1')).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
    await expect(store.listMembershipsByUser('usr_1')).resolves.toEqual([]);
  });

  it.each([
    ['an empty user id', '', {}],
    ['a user id with a space', 'usr 1', {}],
    ['a user id with a slash', 'usr/1', {}],
    ['a 129-character user id', 'u'.repeat(129), {}],
    ['a non-string user id', 42, {}],
    ['a suspended initial status', 'usr_1', { status: 'suspended' }],
    ['an unknown status', 'usr_1', { status: 'owner' }],
    ['a malformed inviter', 'usr_1', { invitedBy: 'bad inviter' }],
  ])('refuses %s with VALIDATION_FAILED', async (_label, userId, options) => {
    const { registry, memberships, store } = setup();
    const tenant = await createTenantIn(registry, 'acme', 'active');
    await expect(memberships.addMember(tenant.id, userId as string, options as never)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(store.listMembershipsByTenant(tenant.id, { limit: 10 })).resolves.toEqual({ items: [], nextCursor: null });
  });

  it('refuses a malformed tenant id with TENANT_IDENTIFIER_INVALID', async () => {
    const { memberships } = setup();
    await expect(memberships.addMember('../tnt', 'usr_1')).rejects.toMatchObject({ code: 'TENANT_IDENTIFIER_INVALID' });
  });
});

describe('setMemberStatus', () => {
  it('changes the status, stamps updatedAt and announces the change with the previous membership', async () => {
    const { registry, memberships, clock, emitted } = setup();
    const tenant = await createTenantIn(registry, 'acme', 'active');
    const invited = await memberships.addMember(tenant.id, 'usr_1', { invitedBy: 'usr_owner' });
    clock.advance(1000);
    const active = await memberships.setMemberStatus(tenant.id, 'usr_1', 'active');
    expect(active).toEqual({ ...invited, status: 'active', updatedAt: START + 1000 });
    await expect(memberships.getMembership(tenant.id, 'usr_1')).resolves.toEqual(active);
    expect(emitted.at(-1)).toEqual({ name: 'membership.updated', payload: { membership: active, previous: invited } });

    clock.advance(1000);
    await expect(memberships.setMemberStatus(tenant.id, 'usr_1', 'suspended')).resolves.toMatchObject({
      status: 'suspended',
      updatedAt: START + 2000,
    });
  });

  it('returns the membership unchanged, without an event, when the status is the same', async () => {
    const { registry, memberships, emitted } = setup();
    const tenant = await createTenantIn(registry, 'acme', 'active');
    const member = await memberships.addMember(tenant.id, 'usr_1', { status: 'active' });
    await expect(memberships.setMemberStatus(tenant.id, 'usr_1', 'active')).resolves.toEqual(member);
    expect(emitted.map((event) => event.name)).toEqual(['membership.added']);
  });

  it('answers MEMBERSHIP_NOT_FOUND for a missing membership and VALIDATION_FAILED for an unknown status', async () => {
    const { registry, memberships } = setup();
    const tenant = await createTenantIn(registry, 'acme', 'active');
    await expect(memberships.setMemberStatus(tenant.id, 'usr_nobody', 'active')).rejects.toMatchObject({
      code: 'MEMBERSHIP_NOT_FOUND',
      status: 404,
    });
    await memberships.addMember(tenant.id, 'usr_1');
    await expect(memberships.setMemberStatus(tenant.id, 'usr_1', 'owner' as never)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(memberships.getMembership(tenant.id, 'usr_1')).resolves.toMatchObject({ status: 'invited' });
  });
});

describe('removeMember', () => {
  it('removes the membership and announces it with the removed membership', async () => {
    const { registry, memberships, emitted } = setup();
    const tenant = await createTenantIn(registry, 'acme', 'active');
    const membership = await memberships.addMember(tenant.id, 'usr_1', { status: 'active' });
    await expect(memberships.removeMember(tenant.id, 'usr_1')).resolves.toBe(true);
    await expect(memberships.getMembership(tenant.id, 'usr_1')).resolves.toBeNull();
    expect(emitted.at(-1)).toEqual({ name: 'membership.removed', payload: { membership } });
  });

  it('answers false, without an event, when there is nothing to remove', async () => {
    const { registry, memberships, emitted } = setup();
    const tenant = await createTenantIn(registry, 'acme', 'active');
    await expect(memberships.removeMember(tenant.id, 'usr_1')).resolves.toBe(false);
    expect(emitted).toEqual([]);
  });

  it('removes only that tenant membership of the user', async () => {
    const { registry, memberships } = setup();
    const acme = await createTenantIn(registry, 'acme', 'active');
    const globex = await createTenantIn(registry, 'globex', 'active');
    await memberships.addMember(acme.id, 'usr_1');
    await memberships.addMember(globex.id, 'usr_1');
    await memberships.removeMember(acme.id, 'usr_1');
    await expect(memberships.getMembership(globex.id, 'usr_1')).resolves.not.toBeNull();
  });

  it('refuses malformed ids with their codes', async () => {
    const { memberships } = setup();
    await expect(memberships.removeMember('tnt_1', 'bad user')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(memberships.removeMember('bad tenant', 'usr_1')).rejects.toMatchObject({ code: 'TENANT_IDENTIFIER_INVALID' });
  });
});

describe('listMembers', () => {
  it('pages through members by user id and filters by status', async () => {
    const { registry, memberships } = setup();
    const tenant = await createTenantIn(registry, 'acme', 'active');
    for (const userId of ['usr_d', 'usr_a', 'usr_c', 'usr_b']) {
      await memberships.addMember(tenant.id, userId, { status: userId === 'usr_c' ? 'invited' : 'active' });
    }
    const first = await memberships.listMembers(tenant.id, { limit: 3 });
    expect(first.items.map((member) => member.userId)).toEqual(['usr_a', 'usr_b', 'usr_c']);
    const second = await memberships.listMembers(tenant.id, { limit: 3, cursor: first.nextCursor ?? undefined });
    expect(second).toMatchObject({ items: [{ userId: 'usr_d' }], nextCursor: null });
    const invited = await memberships.listMembers(tenant.id, { status: ['invited'] });
    expect(invited.items.map((member) => member.userId)).toEqual(['usr_c']);
  });

  it.each([
    ['a zero limit', { limit: 0 }],
    ['a limit over 500', { limit: 501 }],
    ['an unknown status', { status: ['owner'] }],
    ['an unknown key', { role: 'admin' }],
  ])('refuses %s with VALIDATION_FAILED', async (_label, query) => {
    const { registry, memberships } = setup();
    const tenant = await createTenantIn(registry, 'acme', 'active');
    await expect(memberships.listMembers(tenant.id, query as never)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});

describe('listUserTenants', () => {
  async function seedUserAcrossTenants() {
    const context = setup();
    const { registry, memberships } = context;
    const active = await createTenantIn(registry, 'active-co', 'active');
    const invitedInto = await createTenantIn(registry, 'invited-co', 'active');
    const suspendedMember = await createTenantIn(registry, 'member-suspended-co', 'active');
    const suspendedTenant = await createTenantIn(registry, 'suspended-co', 'suspended');
    const provisioning = await createTenantIn(registry, 'provisioning-co', 'provisioning');
    const deleted = await createTenantIn(registry, 'deleted-co', 'active');

    await memberships.addMember(active.id, 'usr_1', { status: 'active' });
    await memberships.addMember(invitedInto.id, 'usr_1');
    await memberships.addMember(suspendedMember.id, 'usr_1', { status: 'active' });
    await memberships.setMemberStatus(suspendedMember.id, 'usr_1', 'suspended');
    await memberships.addMember(suspendedTenant.id, 'usr_1', { status: 'active' });
    await memberships.addMember(provisioning.id, 'usr_1', { status: 'active' });
    await memberships.addMember(deleted.id, 'usr_1', { status: 'active' });
    await registry.deleteTenant(deleted.id, 'closed');
    // Another user's memberships never show up.
    await memberships.addMember(active.id, 'usr_2', { status: 'active' });
    return { ...context, active, invitedInto, suspendedMember, suspendedTenant, provisioning, deleted };
  }

  it('lists only active memberships of active tenants by default', async () => {
    const { memberships, active } = await seedUserAcrossTenants();
    const result = await memberships.listUserTenants('usr_1');
    expect(result).toEqual([
      { tenant: await memberships.selectActiveTenant('usr_1', active.id), membership: expect.objectContaining({ status: 'active' }) },
    ]);
  });

  it('lists invited and suspended ones too with includeInactive, but never deleted tenants', async () => {
    const { memberships, deleted } = await seedUserAcrossTenants();
    const result = await memberships.listUserTenants('usr_1', { includeInactive: true });
    expect(result.map(({ tenant, membership }) => [tenant.slug, tenant.status, membership.status])).toEqual([
      ['active-co', 'active', 'active'],
      ['invited-co', 'active', 'invited'],
      ['member-suspended-co', 'active', 'suspended'],
      ['provisioning-co', 'provisioning', 'active'],
      ['suspended-co', 'suspended', 'active'],
    ]);
    expect(result.some(({ tenant }) => tenant.id === deleted.id)).toBe(false);
    for (const { tenant, membership } of result) expect(membership.tenantId).toBe(tenant.id);
  });

  it('answers an empty list for a user without memberships and refuses a malformed user id', async () => {
    const { memberships } = setup();
    await expect(memberships.listUserTenants('usr_nobody')).resolves.toEqual([]);
    await expect(memberships.listUserTenants('bad user')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});

describe('selectActiveTenant', () => {
  it('returns the tenant for an active member of an active tenant', async () => {
    const { registry, memberships } = setup();
    const tenant = await createTenantIn(registry, 'acme', 'active');
    await memberships.addMember(tenant.id, 'usr_1', { status: 'active' });
    await expect(memberships.selectActiveTenant('usr_1', tenant.id)).resolves.toEqual(tenant);
    await expect(memberships.requireActiveMembership(tenant.id, 'usr_1')).resolves.toMatchObject({
      tenantId: tenant.id,
      userId: 'usr_1',
      status: 'active',
    });
  });

  it('answers the very same MEMBERSHIP_NOT_FOUND for a non-member, a missing tenant and a deleted tenant', async () => {
    const { registry, memberships } = setup();
    const acme = await createTenantIn(registry, 'acme', 'active');
    const gone = await createTenantIn(registry, 'gone', 'active');
    await memberships.addMember(acme.id, 'usr_2', { status: 'active' });
    await memberships.addMember(gone.id, 'usr_1', { status: 'active' });
    await registry.deleteTenant(gone.id, 'closed');

    const failures = await Promise.all([
      memberships.selectActiveTenant('usr_1', acme.id).catch((error: unknown) => error),
      memberships.selectActiveTenant('usr_1', 'tnt_does_not_exist').catch((error: unknown) => error),
      memberships.selectActiveTenant('usr_1', gone.id).catch((error: unknown) => error),
    ]);
    const visible = (error: unknown) => {
      const { name, code, status, message, details } = error as Record<string, unknown>;
      return { name, code, status, message, details };
    };
    expect(visible(failures[0])).toMatchObject({ code: 'MEMBERSHIP_NOT_FOUND', status: 404 });
    expect(visible(failures[1])).toEqual(visible(failures[0]));
    expect(visible(failures[2])).toEqual(visible(failures[0]));
    // Nothing in the message or details names the tenant that was asked about.
    expect(JSON.stringify(visible(failures[0]))).not.toContain(acme.id);
  });

  it.each(['invited', 'suspended'] as const)('refuses a %s member with MEMBERSHIP_INACTIVE', async (status) => {
    const { registry, memberships } = setup();
    const tenant = await createTenantIn(registry, 'acme', 'active');
    await memberships.addMember(tenant.id, 'usr_1', { status: 'active' });
    await memberships.setMemberStatus(tenant.id, 'usr_1', status);
    await expect(memberships.selectActiveTenant('usr_1', tenant.id)).rejects.toMatchObject({
      code: 'MEMBERSHIP_INACTIVE',
      status: 403,
      details: { status },
    });
    await expect(memberships.requireActiveMembership(tenant.id, 'usr_1')).rejects.toMatchObject({
      code: 'MEMBERSHIP_INACTIVE',
    });
  });

  it.each([
    ['suspended', 'TENANT_SUSPENDED', 403],
    ['offboarding', 'TENANT_SUSPENDED', 403],
    ['provisioning', 'TENANT_NOT_READY', 503],
  ] as const)('refuses an active member of a %s tenant with %s', async (tenantStatus, code, httpStatus) => {
    const { registry, memberships } = setup();
    const tenant = await createTenantIn(registry, 'acme', tenantStatus);
    await memberships.addMember(tenant.id, 'usr_1', { status: 'active' });
    await expect(memberships.selectActiveTenant('usr_1', tenant.id)).rejects.toMatchObject({ code, status: httpStatus });
    // requireActiveMembership is documented as the same check, returning the membership.
    await expect(memberships.requireActiveMembership(tenant.id, 'usr_1')).rejects.toMatchObject({ code });
  });

  it('refuses an active member of a deleted tenant through requireActiveMembership too', async () => {
    const { registry, memberships } = setup();
    const tenant = await createTenantIn(registry, 'acme', 'active');
    await memberships.addMember(tenant.id, 'usr_1', { status: 'active' });
    await registry.deleteTenant(tenant.id, 'closed');
    await expect(memberships.requireActiveMembership(tenant.id, 'usr_1')).rejects.toMatchObject({
      code: 'MEMBERSHIP_NOT_FOUND',
    });
  });

  it.each(['', 'usr 1', 'usr/../1', 'u'.repeat(129), null])('refuses the user id %j with VALIDATION_FAILED', async (userId) => {
    const { registry, memberships } = setup();
    const tenant = await createTenantIn(registry, 'acme', 'active');
    await expect(memberships.selectActiveTenant(userId as string, tenant.id)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });

  it('refuses a malformed tenant id with TENANT_IDENTIFIER_INVALID', async () => {
    const { memberships } = setup();
    await expect(memberships.selectActiveTenant('usr_1', 'tnt/../x')).rejects.toMatchObject({
      code: 'TENANT_IDENTIFIER_INVALID',
    });
  });
});
