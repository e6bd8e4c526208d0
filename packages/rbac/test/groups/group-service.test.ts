import { describe, expect, it } from 'vitest';
import { admin, bootstrapTenant, grant, rejectionOf, role, setup, T1, T2 } from '../services/rbac-fixture.js';

const inT1 = { tenantId: T1 };

async function tenantWithGroups() {
  const fixture = setup();
  await bootstrapTenant(fixture, T1);
  const engineering = await fixture.rbac.groups.create(admin, { name: 'Engineering' }, inT1);
  const backend = await fixture.rbac.groups.create(admin, { name: 'Backend', parentId: engineering.id }, inT1);
  const databases = await fixture.rbac.groups.create(admin, { name: 'Databases', parentId: backend.id }, inT1);
  return { fixture, engineering, backend, databases };
}

describe('group service', () => {
  it('creates nested groups with materialized paths and lists them', async () => {
    const { fixture, engineering, backend, databases } = await tenantWithGroups();
    expect(engineering).toMatchObject({ tenantId: T1, name: 'Engineering', parentId: null, path: `/${engineering.id}/` });
    expect(databases.path).toBe(`/${engineering.id}/${backend.id}/${databases.id}/`);
    expect((await fixture.rbac.groups.list(admin, inT1)).map((g) => g.name)).toEqual(['Engineering', 'Backend', 'Databases']);
    expect(await fixture.rbac.groups.get(admin, backend.id, inT1)).toEqual(backend);
    const sibling = await rejectionOf(fixture.rbac.groups.create(admin, { name: 'Backend', parentId: engineering.id }, inT1));
    expect(sibling.code).toBe('GROUP_ALREADY_EXISTS');
    expect((await rejectionOf(fixture.rbac.groups.create(admin, { name: 'X', parentId: 'grp_missing' }, inT1))).code).toBe('GROUP_NOT_FOUND');
    expect((await rejectionOf(fixture.rbac.groups.create(admin, { name: '  ' }, inT1))).code).toBe('GROUP_INVALID');
    expect(fixture.eventsNamed('group.created')).toHaveLength(3);
  });

  it('members inherit the roles of their group and every ancestor', async () => {
    const { fixture, engineering, backend, databases } = await tenantWithGroups();
    await role(fixture, T1, { key: 'eng', permissions: ['repos:read'] });
    await role(fixture, T1, { key: 'dba', permissions: ['db:*'] });
    await fixture.rbac.assignments.assign(admin, { subject: { type: 'group', id: engineering.id }, roleKey: 'eng' }, inT1);
    await fixture.rbac.assignments.assign(admin, { subject: { type: 'group', id: databases.id }, roleKey: 'dba' }, inT1);
    const dana = { id: 'usr_dana' };
    const bea = { id: 'usr_bea' };
    await fixture.rbac.groups.addMember(admin, databases.id, dana.id, inT1);
    await fixture.rbac.groups.addMember(admin, backend.id, bea.id, inT1);
    expect(await fixture.rbac.can(dana, 'repos:read', undefined, inT1)).toBe(true);
    expect(await fixture.rbac.can(dana, 'db:migrate', undefined, inT1)).toBe(true);
    expect(await fixture.rbac.can(bea, 'repos:read', undefined, inT1)).toBe(true);
    expect(await fixture.rbac.can(bea, 'db:migrate', undefined, inT1)).toBe(false);
    const decision = await fixture.rbac.explain(dana, 'repos:read', undefined, inT1);
    expect(decision.rule?.grant?.via).toEqual({ type: 'group', groupId: engineering.id, groupPath: engineering.path });
    // Leaving the group takes effect at once.
    await fixture.rbac.groups.removeMember(admin, databases.id, dana.id, inT1);
    expect(await fixture.rbac.can(dana, 'repos:read', undefined, inT1)).toBe(false);
    // A group of another tenant grants nothing here.
    await bootstrapTenant(fixture, T2);
    expect(await fixture.rbac.can(bea, 'repos:read', undefined, { tenantId: T2 })).toBe(false);
  });

  it('moves subtrees, refusing cycles; renames; deletes only childless groups', async () => {
    const { fixture, engineering, backend, databases } = await tenantWithGroups();
    const cycle = await rejectionOf(fixture.rbac.groups.move(admin, engineering.id, databases.id, inT1));
    expect(cycle.code).toBe('GROUP_HIERARCHY_INVALID');
    expect((await rejectionOf(fixture.rbac.groups.move(admin, backend.id, backend.id, inT1))).code).toBe('GROUP_HIERARCHY_INVALID');
    // Names are unique among siblings, so a move onto a taken name changes nothing.
    const namesake = await fixture.rbac.groups.create(admin, { name: backend.name }, inT1);
    expect((await rejectionOf(fixture.rbac.groups.move(admin, backend.id, null, inT1))).code).toBe('GROUP_ALREADY_EXISTS');
    expect((await fixture.rbac.groups.get(admin, backend.id, inT1))?.parentId).toBe(engineering.id);
    await fixture.rbac.groups.delete(admin, namesake.id, inT1);
    const moved = await fixture.rbac.groups.move(admin, backend.id, null, inT1);
    expect(moved).toMatchObject({ parentId: null, path: `/${backend.id}/` });
    expect((await fixture.rbac.groups.get(admin, databases.id, inT1))?.path).toBe(`/${backend.id}/${databases.id}/`);
    const renamed = await fixture.rbac.groups.rename(admin, backend.id, 'Platform', inT1);
    expect(renamed.name).toBe('Platform');
    await fixture.rbac.groups.create(admin, { name: 'Engineering2' }, inT1);
    expect((await rejectionOf(fixture.rbac.groups.rename(admin, backend.id, 'Engineering', inT1))).code).toBe('GROUP_ALREADY_EXISTS');
    expect((await rejectionOf(fixture.rbac.groups.delete(admin, backend.id, inT1))).code).toBe('GROUP_HIERARCHY_INVALID');
    await fixture.rbac.groups.delete(admin, databases.id, inT1);
    await fixture.rbac.groups.delete(admin, backend.id, inT1);
    expect((await rejectionOf(fixture.rbac.groups.delete(admin, backend.id, inT1))).code).toBe('GROUP_NOT_FOUND');
  });

  it('moving a group under a new parent grants its members the parent’s roles at once', async () => {
    const { fixture, engineering } = await tenantWithGroups();
    await role(fixture, T1, { key: 'eng', permissions: ['repos:read'] });
    await fixture.rbac.assignments.assign(admin, { subject: { type: 'group', id: engineering.id }, roleKey: 'eng' }, inT1);
    const sales = await fixture.rbac.groups.create(admin, { name: 'Sales' }, inT1);
    await fixture.rbac.groups.addMember(admin, sales.id, 'usr_s', inT1);
    expect(await fixture.rbac.can({ id: 'usr_s' }, 'repos:read', undefined, inT1)).toBe(false);
    await fixture.rbac.groups.move(admin, sales.id, engineering.id, inT1);
    expect(await fixture.rbac.can({ id: 'usr_s' }, 'repos:read', undefined, inT1)).toBe(true);
  });

  it('requires groups:read and groups:manage', async () => {
    const { fixture, backend } = await tenantWithGroups();
    await grant(fixture, T1, 'usr_viewer', 'viewer');
    const viewer = { id: 'usr_viewer' };
    expect((await fixture.rbac.groups.list(viewer, inT1)).length).toBe(3);
    expect((await rejectionOf(fixture.rbac.groups.create(viewer, { name: 'X' }, inT1))).code).toBe('PERMISSION_DENIED');
    expect((await rejectionOf(fixture.rbac.groups.addMember(viewer, backend.id, 'usr_x', inT1))).code).toBe('PERMISSION_DENIED');
    expect((await rejectionOf(fixture.rbac.groups.list({ id: 'usr_none' }, inT1))).code).toBe('PERMISSION_DENIED');
  });

  it('a group manager cannot hand out a group’s roles they lack, nor join a group for its roles', async () => {
    const { fixture, engineering, backend } = await tenantWithGroups();
    const admins = await fixture.rbac.groups.create(admin, { name: 'Admins' }, inT1);
    await fixture.rbac.assignments.assign(admin, { subject: { type: 'group', id: admins.id }, roleKey: 'tenant_admin' }, inT1);
    await grant(fixture, T1, 'usr_um', 'user_manager');
    const userManager = { id: 'usr_um' };
    const joinAdmins = await rejectionOf(fixture.rbac.groups.addMember(userManager, admins.id, 'usr_um', inT1));
    expect(joinAdmins).toMatchObject({ code: 'ASSIGNMENT_FORBIDDEN', details: { roleKey: 'tenant_admin' } });
    const addOther = await rejectionOf(fixture.rbac.groups.addMember(userManager, admins.id, 'usr_friend', inT1));
    expect(addOther).toMatchObject({ code: 'ASSIGNMENT_FORBIDDEN', details: { reason: 'permission-not-held', permission: '*' } });
    expect(fixture.eventsNamed('assignment.denied').at(-1)).toMatchObject({ roleKey: 'tenant_admin', subject: { type: 'user', id: 'usr_friend' } });
    // Moving a group the manager belongs to under the admins group is the same escalation.
    await fixture.rbac.groups.addMember(userManager, backend.id, 'usr_um', inT1);
    expect((await rejectionOf(fixture.rbac.groups.move(userManager, engineering.id, admins.id, inT1))).code).toBe('ASSIGNMENT_FORBIDDEN');
    expect(await fixture.rbac.can(userManager, 'billing:refund', undefined, inT1)).toBe(false);
    // Groups without roles beyond the manager are fine.
    expect(await fixture.rbac.groups.addMember(userManager, backend.id, 'usr_friend', inT1)).toBe(true);
    expect(await fixture.rbac.groups.addMember(userManager, backend.id, 'usr_friend', inT1)).toBe(false);
  });

  describe('a group manager cannot take away roles they could not revoke', () => {
    /** Admins ⊃ Ops, tenant_admin assigned to Admins, a member in each, and a user manager. */
    async function tenantWithAdminGroups() {
      const base = await tenantWithGroups();
      const { fixture } = base;
      const admins = await fixture.rbac.groups.create(admin, { name: 'Admins' }, inT1);
      const ops = await fixture.rbac.groups.create(admin, { name: 'Ops', parentId: admins.id }, inT1);
      await fixture.rbac.assignments.assign(admin, { subject: { type: 'group', id: admins.id }, roleKey: 'tenant_admin' }, inT1);
      await grant(fixture, T1, 'usr_um', 'user_manager');
      await fixture.rbac.groups.addMember(admin, admins.id, 'usr_root', inT1);
      await fixture.rbac.groups.addMember(admin, ops.id, 'usr_ops', inT1);
      return { ...base, admins, ops, userManager: { id: 'usr_um' } };
    }

    it('removing a member of a group that carries tenant_admin, directly or through an ancestor', async () => {
      const { fixture, admins, ops, userManager } = await tenantWithAdminGroups();
      const direct = await rejectionOf(fixture.rbac.groups.removeMember(userManager, admins.id, 'usr_root', inT1));
      expect(direct).toMatchObject({
        code: 'ASSIGNMENT_FORBIDDEN',
        details: { roleKey: 'tenant_admin', reason: 'permission-not-held', permission: '*', via: { type: 'group', groupId: admins.id } },
      });
      const inherited = await rejectionOf(fixture.rbac.groups.removeMember(userManager, ops.id, 'usr_ops', inT1));
      expect(inherited).toMatchObject({ code: 'ASSIGNMENT_FORBIDDEN', details: { roleKey: 'tenant_admin', via: { groupId: admins.id } } });
      expect(fixture.eventsNamed('assignment.denied').at(-1)).toMatchObject({ roleKey: 'tenant_admin', subject: { type: 'user', id: 'usr_ops' } });
      expect(await fixture.rbac.can({ id: 'usr_ops' }, 'billing:refund', undefined, inT1)).toBe(true);
      expect((await fixture.rbac.groups.listMembers(admin, admins.id, inT1)).map((m) => m.userId)).toEqual(['usr_root']);
      expect(fixture.eventsNamed('group.member_removed')).toEqual([]);
      // Not a member: nothing to lose, nothing removed.
      expect(await fixture.rbac.groups.removeMember(userManager, admins.id, 'usr_stranger', inT1)).toBe(false);
      // An admin still can.
      expect(await fixture.rbac.groups.removeMember(admin, ops.id, 'usr_ops', inT1)).toBe(true);
      expect(await fixture.rbac.can({ id: 'usr_ops' }, 'billing:refund', undefined, inT1)).toBe(false);
    });

    it('a member who still reaches the role another way loses nothing; roles within the manager are fine', async () => {
      const { fixture, admins, ops, backend, userManager } = await tenantWithAdminGroups();
      // usr_ops is also a direct member of Admins, so leaving Ops takes no role away.
      await fixture.rbac.groups.addMember(admin, admins.id, 'usr_ops', inT1);
      expect(await fixture.rbac.groups.removeMember(userManager, ops.id, 'usr_ops', inT1)).toBe(true);
      // A group whose roles the manager holds (user_manager itself).
      await fixture.rbac.assignments.assign(admin, { subject: { type: 'group', id: backend.id }, roleKey: 'user_manager' }, inT1);
      await fixture.rbac.groups.addMember(admin, backend.id, 'usr_dev', inT1);
      expect(await fixture.rbac.groups.removeMember(userManager, backend.id, 'usr_dev', inT1)).toBe(true);
    });

    it('deleting a group that carries tenant_admin, or whose members would lose an ancestor’s', async () => {
      const { fixture, ops, userManager } = await tenantWithAdminGroups();
      const empty = await fixture.rbac.groups.create(admin, { name: 'Break glass' }, inT1);
      await fixture.rbac.assignments.assign(admin, { subject: { type: 'group', id: empty.id }, roleKey: 'tenant_admin' }, inT1);
      // Deleting the group deletes its assignment: a revoke, even with no members.
      const own = await rejectionOf(fixture.rbac.groups.delete(userManager, empty.id, inT1));
      expect(own).toMatchObject({ code: 'ASSIGNMENT_FORBIDDEN', details: { roleKey: 'tenant_admin', via: { groupId: empty.id } } });
      expect(fixture.eventsNamed('assignment.denied').at(-1)).toMatchObject({ subject: { type: 'group', id: empty.id } });
      // Ops has no roles of its own, but its member would lose the tenant_admin of Admins.
      const ancestor = await rejectionOf(fixture.rbac.groups.delete(userManager, ops.id, inT1));
      expect(ancestor).toMatchObject({ code: 'ASSIGNMENT_FORBIDDEN', details: { roleKey: 'tenant_admin' } });
      expect(await fixture.rbac.groups.get(admin, ops.id, inT1)).not.toBeNull();
      expect(fixture.eventsNamed('group.deleted')).toEqual([]);
      // An empty group under Admins takes nothing from anyone.
      const spare = await fixture.rbac.groups.create(admin, { name: 'Spare', parentId: ops.id }, inT1);
      expect((await fixture.rbac.groups.delete(userManager, spare.id, inT1)).id).toBe(spare.id);
      // An admin still can.
      await fixture.rbac.groups.delete(admin, empty.id, inT1);
      await fixture.rbac.groups.delete(admin, ops.id, inT1);
      expect(await fixture.rbac.can({ id: 'usr_ops' }, 'billing:refund', undefined, inT1)).toBe(false);
    });

    it('moving a group away from an ancestor that carries tenant_admin', async () => {
      const { fixture, admins, ops, engineering, userManager } = await tenantWithAdminGroups();
      const below = await fixture.rbac.groups.create(admin, { name: 'Night shift', parentId: ops.id }, inT1);
      await fixture.rbac.groups.addMember(admin, below.id, 'usr_night', inT1);
      const toRoot = await rejectionOf(fixture.rbac.groups.move(userManager, ops.id, null, inT1));
      expect(toRoot).toMatchObject({ code: 'ASSIGNMENT_FORBIDDEN', details: { roleKey: 'tenant_admin', via: { groupId: admins.id } } });
      expect((await rejectionOf(fixture.rbac.groups.move(userManager, ops.id, engineering.id, inT1))).code).toBe('ASSIGNMENT_FORBIDDEN');
      // A member deep in the subtree counts too.
      await fixture.rbac.groups.removeMember(admin, ops.id, 'usr_ops', inT1);
      expect((await rejectionOf(fixture.rbac.groups.move(userManager, ops.id, null, inT1))).details).toMatchObject({ roleKey: 'tenant_admin' });
      expect(fixture.eventsNamed('assignment.denied').at(-1)).toMatchObject({ subject: { type: 'user', id: 'usr_night' } });
      expect((await fixture.rbac.groups.get(admin, ops.id, inT1))?.parentId).toBe(admins.id);
      expect(fixture.eventsNamed('group.moved')).toEqual([]);
      // Within the old ancestor's subtree nothing is lost.
      const shifts = await fixture.rbac.groups.create(admin, { name: 'Shifts', parentId: admins.id }, inT1);
      expect((await fixture.rbac.groups.move(userManager, below.id, shifts.id, inT1)).parentId).toBe(shifts.id);
      // An admin still can.
      const moved = await fixture.rbac.groups.move(admin, shifts.id, null, inT1);
      expect(moved.path).toBe(`/${shifts.id}/`);
      expect(await fixture.rbac.can({ id: 'usr_night' }, 'billing:refund', undefined, inT1)).toBe(false);
    });

    it('a move of a group without members, or that keeps the ancestor, is fine', async () => {
      const { fixture, admins, userManager } = await tenantWithAdminGroups();
      const empty = await fixture.rbac.groups.create(admin, { name: 'Empty', parentId: admins.id }, inT1);
      expect((await fixture.rbac.groups.move(userManager, empty.id, null, inT1)).parentId).toBeNull();
    });
  });
});
