import { describe, expect, it } from 'vitest';
import { admin, bootstrapTenant, grant, rejectionOf, role, setup, T1, T2 } from '../services/rbac-fixture.js';

const inT1 = { tenantId: T1 };

async function withRoleManager() {
  const fixture = setup();
  await bootstrapTenant(fixture, T1);
  // Manages roles, holds docs:* but nothing of billing.
  await role(fixture, T1, { key: 'role_admin', permissions: ['roles:*', 'docs:*'] });
  await grant(fixture, T1, 'usr_manager', 'role_admin');
  return { fixture, manager: { id: 'usr_manager' } };
}

describe('role service', () => {
  it('creates, reads, updates and deletes roles with actor checks', async () => {
    const fixture = setup();
    await bootstrapTenant(fixture, T1);
    const created = await fixture.rbac.roles.create(admin, { key: 'editor', name: 'Editor', permissions: ['docs:*', '!docs:delete'] }, inT1);
    expect(created).toMatchObject({ tenantId: T1, key: 'editor', origin: 'custom', customized: false, version: 1 });
    expect(created.rules).toEqual([
      { effect: 'allow', permission: 'docs:*' },
      { effect: 'deny', permission: 'docs:delete' },
    ]);
    expect(await fixture.rbac.roles.get(admin, 'editor', inT1)).toEqual(created);
    expect((await fixture.rbac.roles.list(admin, inT1)).map((r) => r.key)).toContain('editor');

    const updated = await fixture.rbac.roles.update(admin, 'editor', { name: 'Writer', assignment: { maxAssignments: 5 } }, { tenantId: T1, expectedVersion: 1 });
    expect(updated).toMatchObject({ name: 'Writer', version: 2, rules: created.rules, assignment: { maxAssignments: 5, restricted: false } });
    expect(fixture.eventsNamed('role.updated').at(-1)).toMatchObject({ role: { version: 2 }, previous: { version: 1 }, actor: { type: 'principal', id: admin.id } });

    const stale = await rejectionOf(fixture.rbac.roles.update(admin, 'editor', { name: 'Stale' }, { tenantId: T1, expectedVersion: 1 }));
    expect(stale.code).toBe('STORE_CONFLICT');

    await fixture.rbac.roles.delete(admin, 'editor', inT1);
    expect(await fixture.rbac.roles.get(admin, 'editor', inT1)).toBeNull();
    expect((await rejectionOf(fixture.rbac.roles.delete(admin, 'editor', inT1))).code).toBe('ROLE_NOT_FOUND');
    expect(fixture.eventsNamed('role.deleted')).toHaveLength(1);
  });

  it('requires roles:read to read and roles:manage to write', async () => {
    const fixture = setup();
    await bootstrapTenant(fixture, T1);
    await grant(fixture, T1, 'usr_viewer', 'viewer');
    await grant(fixture, T1, 'usr_um', 'user_manager');
    const viewer = { id: 'usr_viewer' };
    const userManager = { id: 'usr_um' };
    const stranger = { id: 'usr_stranger' };
    expect((await rejectionOf(fixture.rbac.roles.list(stranger, inT1))).code).toBe('PERMISSION_DENIED');
    // viewer has *:read, which covers roles:read.
    expect((await fixture.rbac.roles.list(viewer, inT1)).length).toBe(4);
    expect(await fixture.rbac.roles.get(userManager, 'viewer', inT1)).not.toBeNull();
    const denied = await rejectionOf(fixture.rbac.roles.create(userManager, { key: 'x', permissions: ['members:read'] }, inT1));
    expect(denied).toMatchObject({ code: 'PERMISSION_DENIED', details: { permission: 'roles:manage' } });
    expect((await rejectionOf(fixture.rbac.roles.update(viewer, 'viewer', { name: 'V' }, inT1))).code).toBe('PERMISSION_DENIED');
    expect((await rejectionOf(fixture.rbac.roles.delete(viewer, 'viewer', inT1))).code).toBe('PERMISSION_DENIED');
  });

  it('refuses a role carrying permissions the actor lacks, directly or inherited', async () => {
    const { fixture, manager } = await withRoleManager();
    await fixture.rbac.roles.create(manager, { key: 'docs_editor', permissions: ['docs:update', 'docs:read:own'] }, inT1);
    const direct = await rejectionOf(fixture.rbac.roles.create(manager, { key: 'biller', permissions: ['docs:read', 'billing:refund'] }, inT1));
    expect(direct).toMatchObject({ code: 'PERMISSION_DENIED', details: { permission: 'billing:refund', reason: 'permission-not-held' } });
    const inherited = await rejectionOf(fixture.rbac.roles.create(manager, { key: 'super', permissions: [], inherits: ['tenant_admin'] }, inT1));
    expect(inherited).toMatchObject({ code: 'PERMISSION_DENIED', details: { permission: '*' } });
    // Deny rules take away; adding them needs nothing.
    await fixture.rbac.roles.create(manager, { key: 'no_billing', permissions: ['!billing:*'] }, inT1);
    expect(await fixture.rbac.roles.get(admin, 'biller', inT1)).toBeNull();
  });

  it('refuses widening a role the actor holds, or stripping one beyond their power', async () => {
    const { fixture, manager } = await withRoleManager();
    const widened = await rejectionOf(fixture.rbac.roles.update(manager, 'role_admin', { permissions: ['roles:*', 'docs:*', 'billing:*'] }, inT1));
    expect(widened).toMatchObject({ code: 'PERMISSION_DENIED', details: { permission: 'billing:*' } });
    const viaInherits = await rejectionOf(fixture.rbac.roles.update(manager, 'role_admin', { inherits: ['tenant_admin'] }, inT1));
    expect(viaInherits.code).toBe('PERMISSION_DENIED');
    expect(await fixture.rbac.can(manager, 'billing:refund', undefined, inT1)).toBe(false);
    // tenant_admin is beyond the manager: they can neither edit nor delete it.
    expect((await rejectionOf(fixture.rbac.roles.update(manager, 'tenant_admin', { permissions: ['docs:read'] }, inT1))).code).toBe('PERMISSION_DENIED');
    expect((await rejectionOf(fixture.rbac.roles.delete(manager, 'tenant_admin', inT1))).code).toBe('PERMISSION_DENIED');
    // Narrowing within their power is fine.
    await fixture.rbac.roles.update(manager, 'role_admin', { permissions: ['roles:*', 'docs:read', 'docs:update'] }, inT1);
    expect(await fixture.rbac.can(manager, 'docs:delete', undefined, inT1)).toBe(false);
    // Removing a deny the actor is subject to would widen the role too.
    await fixture.rbac.roles.update(admin, 'role_admin', { permissions: ['roles:*', 'docs:*', '!docs:delete'] }, inT1);
    const undeny = await rejectionOf(fixture.rbac.roles.update(manager, 'role_admin', { permissions: ['roles:*', 'docs:*'] }, inT1));
    expect(undeny.code).toBe('PERMISSION_DENIED');
  });

  it('needs roles:assign-restricted to touch a restricted role', async () => {
    const { fixture } = await withRoleManager();
    await role(fixture, T1, { key: 'plain_role_admin', permissions: ['roles:manage', 'roles:read', 'docs:*'] });
    await grant(fixture, T1, 'usr_plain', 'plain_role_admin');
    const manager = { id: 'usr_plain' };
    await role(fixture, T1, { key: 'owner', permissions: ['docs:read'], assignment: { restricted: true } });
    const refused = await rejectionOf(fixture.rbac.roles.update(manager, 'owner', { assignment: { restricted: false } }, inT1));
    expect(refused).toMatchObject({ code: 'PERMISSION_DENIED', details: { reason: 'restricted' } });
    await fixture.rbac.roles.update(admin, 'owner', { assignment: { restricted: false } }, inT1);
  });

  it('rejects inheritance cycles, unknown inherited roles and deleting an inherited role', async () => {
    const fixture = setup();
    await bootstrapTenant(fixture, T1);
    await fixture.rbac.roles.create(admin, { key: 'a', permissions: ['a:read'] }, inT1);
    await fixture.rbac.roles.create(admin, { key: 'b', permissions: ['b:read'], inherits: ['a'] }, inT1);
    await fixture.rbac.roles.create(admin, { key: 'c', permissions: ['c:read'], inherits: ['b'] }, inT1);
    // A diamond is fine.
    await fixture.rbac.roles.create(admin, { key: 'd', permissions: [], inherits: ['b', 'c'] }, inT1);
    const cycle = await rejectionOf(fixture.rbac.roles.update(admin, 'a', { inherits: ['c'] }, inT1));
    expect(cycle.code).toBe('ROLE_INHERITANCE_CYCLE');
    expect((await rejectionOf(fixture.rbac.roles.update(admin, 'a', { inherits: ['a'] }, inT1))).code).toBe('ROLE_INHERITANCE_CYCLE');
    expect((await rejectionOf(fixture.rbac.roles.create(admin, { key: 'e', permissions: [], inherits: ['ghost'] }, inT1))).code).toBe('ROLE_INVALID');
    const inherited = await rejectionOf(fixture.rbac.roles.delete(admin, 'a', inT1));
    expect(inherited).toMatchObject({ code: 'ROLE_INVALID', details: { inheritedBy: ['b'] } });
    await grant(fixture, T1, 'usr_d', 'd');
    expect(await fixture.rbac.can({ id: 'usr_d' }, 'a:read', undefined, inT1)).toBe(true);
  });

  it('validates definitions and refuses duplicates', async () => {
    const fixture = setup();
    await bootstrapTenant(fixture, T1);
    expect((await rejectionOf(fixture.rbac.roles.create(admin, { key: 'Bad Key', permissions: [] }, inT1))).code).toBe('ROLE_INVALID');
    expect((await rejectionOf(fixture.rbac.roles.create(admin, { key: 'x', permissions: ['doc:'] }, inT1))).code).toBe('PERMISSION_INVALID');
    const polluted = JSON.parse('{"key":"x","permissions":[{"permission":"docs:read","condition":{"field":"resource.a","op":"eq","value":1,"__proto__":{"x":1}}}]}');
    expect((await rejectionOf(fixture.rbac.roles.create(admin, polluted, inT1))).code).toBe('CONDITION_INVALID');
    expect((await rejectionOf(fixture.rbac.roles.create(admin, { key: 'viewer', permissions: [] }, inT1))).code).toBe('ROLE_ALREADY_EXISTS');
    expect((await rejectionOf(fixture.rbac.roles.update(admin, 'viewer', { key: 'x' } as never, inT1))).code).toBe('ROLE_INVALID');
  });

  it('marks an edited system role customized', async () => {
    const fixture = setup();
    await bootstrapTenant(fixture, T1);
    const edited = await fixture.rbac.roles.update(admin, 'viewer', { permissions: ['*:read'] }, inT1);
    expect(edited).toMatchObject({ origin: 'system', customized: true });
    const report = await fixture.rbac.seedDefaultRoles(T1);
    expect(report.skipped).toEqual(['viewer']);
    expect((await fixture.rbac.roles.get(admin, 'viewer', inT1))?.rules).toEqual([{ effect: 'allow', permission: '*:read' }]);
  });

  it('keeps tenants apart: a role of one tenant is unknown in another', async () => {
    const fixture = setup();
    await bootstrapTenant(fixture, T1);
    await bootstrapTenant(fixture, T2);
    await fixture.rbac.roles.create(admin, { key: 'editor', permissions: ['docs:*'] }, inT1);
    expect(await fixture.rbac.roles.get(admin, 'editor', { tenantId: T2 })).toBeNull();
    const assign = fixture.rbac.assignments.assign(admin, { subject: { type: 'user', id: 'usr_2' }, roleKey: 'editor' }, { tenantId: T2 });
    expect((await rejectionOf(assign)).code).toBe('ROLE_NOT_FOUND');
  });

  it('writes global roles only as the system, outside tenant scopes', async () => {
    const fixture = setup();
    const globalRole = await fixture.rbac.roles.createAsSystem({ reason: 'policy' }, { key: 'auditor', permissions: ['audit:read'] }, { tenantId: null });
    expect(globalRole.tenantId).toBeNull();
    expect((await rejectionOf(fixture.rbac.roles.createAsSystem({ reason: '' }, { key: 'x', permissions: [] }, { tenantId: null }))).code).toBe(
      'VALIDATION_FAILED',
    );
  });
});
