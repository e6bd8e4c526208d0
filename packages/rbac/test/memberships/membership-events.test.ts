import {
  createMembershipService,
  createTenantEventBus,
  createTenantLifecycle,
  createTenantRegistry,
  memoryLifecycleRunStore,
  memoryMembershipStore,
  memoryTenantStore,
  runWithTenant,
} from '@tenantkit/tenant-context';
import { describe, expect, it } from 'vitest';
import { admin, bootstrapTenant, grant, role, setup, T1, T2 } from '../services/rbac-fixture.js';

function tenantContext() {
  const events = createTenantEventBus({
    onListenerError: (error) => {
      throw error;
    },
  });
  const registry = createTenantRegistry({ store: memoryTenantStore(), events });
  const memberships = createMembershipService({ store: memoryMembershipStore(), registry });
  return { events, registry, memberships };
}

/** Lets the async listeners of a synchronous emit finish. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('membership events', () => {
  it('removeUserGrants does the same cleanup, awaited, and validates its input', async () => {
    const fixture = setup();
    await bootstrapTenant(fixture, T1);
    await grant(fixture, T1, 'usr_leaver', 'viewer');
    const leaver = { id: 'usr_leaver' };
    expect(await fixture.rbac.can(leaver, 'docs:read', undefined, { tenantId: T1 })).toBe(true);
    expect(await fixture.rbac.removeUserGrants(T1, 'usr_leaver')).toEqual({ assignments: 1, groupMemberships: 0 });
    expect(await fixture.rbac.can(leaver, 'docs:read', undefined, { tenantId: T1 })).toBe(false);
    expect(fixture.eventsNamed('user_grants.removed')).toEqual([{ tenantId: T1, userId: 'usr_leaver', assignments: 1, groupMemberships: 0 }]);
    await expect(fixture.rbac.removeUserGrants(T1, 'bad id!')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(fixture.rbac.removeUserGrants('', 'usr_leaver')).rejects.toMatchObject({ code: 'TENANT_IDENTIFIER_INVALID' });
  });

  it('removeUserGrants refuses a tenant other than the one in scope, and needs its tenant even in one', async () => {
    const fixture = setup();
    await bootstrapTenant(fixture, T1);
    await bootstrapTenant(fixture, T2);
    await grant(fixture, T2, 'usr_victim', 'viewer');
    const victim = { id: 'usr_victim' };
    // A request of T1 must not strip a member of T2.
    await expect(runWithTenant(T1, () => fixture.rbac.removeUserGrants(T2, 'usr_victim'))).rejects.toMatchObject({ code: 'TENANT_SCOPE_CONFLICT' });
    await expect(runWithTenant(T1, () => fixture.rbac.removeUserGrants(undefined as never, 'usr_victim'))).rejects.toMatchObject({
      code: 'TENANT_IDENTIFIER_INVALID',
    });
    expect(await fixture.rbac.can(victim, 'docs:read', undefined, { tenantId: T2 })).toBe(true);
    expect(fixture.eventsNamed('user_grants.removed')).toEqual([]);
    // The tenant in scope, and outside any scope an explicit one, work.
    await grant(fixture, T1, 'usr_victim', 'viewer');
    expect(await runWithTenant(T1, () => fixture.rbac.removeUserGrants(T1, 'usr_victim'))).toEqual({ assignments: 1, groupMemberships: 0 });
    expect(await fixture.rbac.removeUserGrants(T2, 'usr_victim')).toEqual({ assignments: 1, groupMemberships: 0 });
    expect(await fixture.rbac.can(victim, 'docs:read', undefined, { tenantId: T2 })).toBe(false);
  });

  it('membership.removed drops the member’s grants and group memberships in that tenant only', async () => {
    const fixture = setup();
    const tenants = tenantContext();
    const stop = fixture.rbac.listenToMembershipEvents(tenants.events);
    await tenants.registry.createTenant({ id: T1, slug: 'one', name: 'One' });
    await bootstrapTenant(fixture, T1);
    await bootstrapTenant(fixture, T2);
    await role(fixture, T1, { key: 'eng', permissions: ['repos:read'] });
    const group = await fixture.rbac.groups.create(admin, { name: 'Eng' }, { tenantId: T1 });
    await fixture.rbac.assignments.assign(admin, { subject: { type: 'group', id: group.id }, roleKey: 'eng' }, { tenantId: T1 });
    await tenants.memberships.addMember(T1, 'usr_leaver', { status: 'active' });
    await grant(fixture, T1, 'usr_leaver', 'viewer');
    await grant(fixture, T2, 'usr_leaver', 'viewer');
    await fixture.rbac.groups.addMember(admin, group.id, 'usr_leaver', { tenantId: T1 });
    const leaver = { id: 'usr_leaver' };
    expect(await fixture.rbac.can(leaver, 'docs:read', undefined, { tenantId: T1 })).toBe(true);
    expect(await fixture.rbac.can(leaver, 'repos:read', undefined, { tenantId: T1 })).toBe(true);

    await tenants.memberships.removeMember(T1, 'usr_leaver');
    await settle();
    expect(fixture.eventsNamed('user_grants.removed')).toEqual([{ tenantId: T1, userId: 'usr_leaver', assignments: 1, groupMemberships: 1 }]);
    expect(await fixture.rbac.can(leaver, 'docs:read', undefined, { tenantId: T1 })).toBe(false);
    expect(await fixture.rbac.can(leaver, 'repos:read', undefined, { tenantId: T1 })).toBe(false);
    expect(await fixture.rbac.can(leaver, 'docs:read', undefined, { tenantId: T2 })).toBe(true);
    // The group and its role stay for the others.
    expect(await fixture.store.getGroup(T1, group.id)).not.toBeNull();

    stop();
    await tenants.memberships.addMember(T1, 'usr_leaver', { status: 'active' });
    await grant(fixture, T1, 'usr_leaver', 'viewer');
    await tenants.memberships.removeMember(T1, 'usr_leaver');
    await settle();
    expect(await fixture.rbac.can(leaver, 'docs:read', undefined, { tenantId: T1 })).toBe(true);
  });

  it('seeds roles on onboarding and deletes the tenant’s rbac data on offboarding', async () => {
    const fixture = setup();
    const tenants = tenantContext();
    fixture.rbac.listenToMembershipEvents(tenants.events);
    const lifecycle = createTenantLifecycle({ registry: tenants.registry, memberships: tenants.memberships, runs: memoryLifecycleRunStore(), retryDelayMs: 1 });
    lifecycle.useOnboardingStep('seed-defaults', fixture.rbac.defaultRolesOnboardingStep());
    lifecycle.useOffboardingStep('delete-data', fixture.rbac.tenantDataCleanupStep());
    const { tenant } = await lifecycle.startOnboarding({ slug: 'acme', name: 'Acme', adminUserId: 'usr_owner' });
    expect((await fixture.store.listRoles(tenant.id)).map((r) => r.key).sort()).toEqual(['content_manager', 'tenant_admin', 'user_manager', 'viewer']);
    await grant(fixture, tenant.id, 'usr_owner', 'tenant_admin');
    expect(await fixture.rbac.can({ id: 'usr_owner' }, 'billing:manage', undefined, { tenantId: tenant.id })).toBe(true);

    await lifecycle.startOffboarding(tenant.id, { reason: 'contract ended', requestedBy: 'usr_ops' });
    await settle();
    expect(await fixture.store.listRoles(tenant.id)).toEqual([]);
    expect(await fixture.rbac.can({ id: 'usr_owner' }, 'billing:manage', undefined, { tenantId: tenant.id })).toBe(false);
    expect(fixture.eventsNamed('tenant_data.deleted')).toEqual([{ tenantId: tenant.id }]);
  });
});
