import { describe, expect, it } from 'vitest';
import { memoryRbacStore } from '../../src/adapters/memory.js';
import type { RbacStore } from '../../src/store.js';
import { admin, bootstrapTenant, grant, rejectionOf, role, setup, START, T1 } from '../services/rbac-fixture.js';

const inT1 = { tenantId: T1 };
const toUser = (id: string) => ({ type: 'user' as const, id });

async function tenantWithManager() {
  const fixture = setup();
  await bootstrapTenant(fixture, T1);
  await role(fixture, T1, { key: 'writer', permissions: ['docs:read', 'docs:update'] });
  await role(fixture, T1, { key: 'biller', permissions: ['billing:*'] });
  // Assigns roles and holds docs:*, nothing of billing.
  await role(fixture, T1, { key: 'docs_lead', permissions: ['roles:assign', 'roles:read', 'docs:*'] });
  await grant(fixture, T1, 'usr_lead', 'docs_lead');
  return { fixture, lead: { id: 'usr_lead' } };
}

describe('assignment service', () => {
  it('assigns a role the actor fully holds and announces it', async () => {
    const { fixture, lead } = await tenantWithManager();
    const assignment = await fixture.rbac.assignments.assign(lead, { subject: toUser('usr_w'), roleKey: 'writer', reason: 'new hire' }, inT1);
    expect(assignment).toMatchObject({ tenantId: T1, subjectType: 'user', subjectId: 'usr_w', roleKey: 'writer', status: 'active', grantedBy: lead.id, approvedBy: null, expiresAt: null });
    expect(await fixture.rbac.can({ id: 'usr_w' }, 'docs:update', undefined, inT1)).toBe(true);
    expect(fixture.eventsNamed('assignment.created').at(-1)).toMatchObject({ assignment, actor: { type: 'principal', id: lead.id }, reason: 'new hire' });
    expect((await rejectionOf(fixture.rbac.assignments.assign(lead, { subject: toUser('usr_w'), roleKey: 'writer' }, inT1))).code).toBe(
      'ASSIGNMENT_ALREADY_EXISTS',
    );
    expect((await rejectionOf(fixture.rbac.assignments.assign(lead, { subject: toUser('usr_w'), roleKey: 'ghost' }, inT1))).code).toBe('ROLE_NOT_FOUND');
  });

  it('takes the grant back when the role is deleted or re-created while it is being assigned', async () => {
    // The store checks duplicates and limits, not that the role exists: a role deleted between the
    // service's read and the insert would otherwise leave a grant for whatever role later takes the key.
    const inner = memoryRbacStore();
    let raceOnce: (() => Promise<void>) | null = null;
    const racingStore: RbacStore = {
      ...inner,
      async insertAssignment(assignment, limits) {
        const race = raceOnce;
        raceOnce = null;
        if (race !== null) await race();
        return inner.insertAssignment(assignment, limits);
      },
    };
    const fixture = setup({ store: racingStore });
    await bootstrapTenant(fixture, T1);
    await role(fixture, T1, { key: 'writer', permissions: ['docs:read'] });
    raceOnce = async () => {
      await inner.deleteRole(T1, 'writer');
      fixture.clock.advance(1);
      await role(fixture, T1, { key: 'writer', permissions: ['docs:*'] });
    };
    const refused = await rejectionOf(fixture.rbac.assignments.assign(admin, { subject: toUser('usr_w'), roleKey: 'writer' }, inT1));
    expect(refused.code).toBe('ROLE_NOT_FOUND');
    expect((await inner.listAssignments(T1, { roleKey: 'writer', limit: 10 })).items).toEqual([]);
    expect(await fixture.rbac.can({ id: 'usr_w' }, 'docs:delete', undefined, inT1)).toBe(false);
  });

  it('nobody grants a role carrying permissions they lack', async () => {
    const { fixture, lead } = await tenantWithManager();
    const refused = await rejectionOf(fixture.rbac.assignments.assign(lead, { subject: toUser('usr_x'), roleKey: 'biller' }, inT1));
    expect(refused).toMatchObject({ code: 'ASSIGNMENT_FORBIDDEN', details: { roleKey: 'biller', reason: 'permission-not-held', permission: 'billing:*' } });
    expect(fixture.eventsNamed('assignment.denied').at(-1)).toMatchObject({ tenantId: T1, roleKey: 'biller', subject: toUser('usr_x'), code: 'ASSIGNMENT_FORBIDDEN' });
    // Nor one that inherits such permissions.
    await role(fixture, T1, { key: 'writer_plus', permissions: ['docs:read'], inherits: ['biller'] });
    expect((await rejectionOf(fixture.rbac.assignments.assign(lead, { subject: toUser('usr_x'), roleKey: 'writer_plus' }, inT1))).code).toBe(
      'ASSIGNMENT_FORBIDDEN',
    );
    // A user manager (roles:assign) cannot make anyone an admin.
    await grant(fixture, T1, 'usr_um', 'user_manager');
    const promote = await rejectionOf(fixture.rbac.assignments.assign({ id: 'usr_um' }, { subject: toUser('usr_x'), roleKey: 'tenant_admin' }, inT1));
    expect(promote).toMatchObject({ code: 'ASSIGNMENT_FORBIDDEN', details: { permission: '*' } });
    expect(await fixture.rbac.can({ id: 'usr_x' }, 'billing:refund', undefined, inT1)).toBe(false);
    // Without roles:assign at all.
    await grant(fixture, T1, 'usr_v', 'viewer');
    expect((await rejectionOf(fixture.rbac.assignments.assign({ id: 'usr_v' }, { subject: toUser('usr_x'), roleKey: 'viewer' }, inT1))).code).toBe(
      'PERMISSION_DENIED',
    );
  });

  it('restricted roles need roles:assign-restricted; self-assignment needs selfAssignable', async () => {
    const { fixture, lead } = await tenantWithManager();
    await role(fixture, T1, { key: 'publisher', permissions: ['docs:publish'], assignment: { restricted: true } });
    await role(fixture, T1, { key: 'reader', permissions: ['docs:read'], assignment: { selfAssignable: true } });
    const restricted = await rejectionOf(fixture.rbac.assignments.assign(lead, { subject: toUser('usr_x'), roleKey: 'publisher' }, inT1));
    expect(restricted).toMatchObject({ code: 'ASSIGNMENT_FORBIDDEN', details: { reason: 'restricted', permission: 'roles:assign-restricted' } });
    await fixture.rbac.assignments.assign(admin, { subject: toUser('usr_x'), roleKey: 'publisher' }, inT1);

    const self = await rejectionOf(fixture.rbac.assignments.assign(lead, { subject: toUser(lead.id), roleKey: 'writer' }, inT1));
    expect(self).toMatchObject({ code: 'ASSIGNMENT_FORBIDDEN', details: { reason: 'self-assignment' } });
    // Through an API key of the same user it is still oneself.
    const key = { kind: 'api-key' as const, id: 'key_lead', grantsFrom: lead.id };
    expect((await rejectionOf(fixture.rbac.assignments.assign(key, { subject: toUser(lead.id), roleKey: 'writer' }, inT1))).code).toBe('ASSIGNMENT_FORBIDDEN');
    // ...and through a group one belongs to.
    const team = await fixture.rbac.groups.create(admin, { name: 'Docs' }, inT1);
    await fixture.rbac.groups.addMember(admin, team.id, lead.id, inT1);
    const viaGroup = await rejectionOf(fixture.rbac.assignments.assign(lead, { subject: { type: 'group', id: team.id }, roleKey: 'writer' }, inT1));
    expect(viaGroup).toMatchObject({ code: 'ASSIGNMENT_FORBIDDEN', details: { reason: 'self-assignment' } });
    await fixture.rbac.assignments.assign(lead, { subject: toUser(lead.id), roleKey: 'reader' }, inT1);
  });

  it('enforces maxAssignments atomically under concurrency', async () => {
    const fixture = setup();
    await bootstrapTenant(fixture, T1);
    await role(fixture, T1, { key: 'seat', permissions: ['app:use'], assignment: { maxAssignments: 3 } });
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, index) => fixture.rbac.assignments.assign(admin, { subject: toUser(`usr_${index}`), roleKey: 'seat' }, inT1)),
    );
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(3);
    const codes = results.flatMap((result) => (result.status === 'rejected' ? [(result.reason as { code: string }).code] : []));
    expect(codes).toEqual(Array.from({ length: 17 }, () => 'ASSIGNMENT_LIMIT_REACHED'));
    expect((await fixture.rbac.assignments.list(admin, { roleKey: 'seat' }, inT1)).items).toHaveLength(3);
  });

  it('keeps approval-required assignments pending until someone else who could assign them approves', async () => {
    const fixture = setup();
    await bootstrapTenant(fixture, T1);
    await role(fixture, T1, { key: 'finance', permissions: ['billing:*'], assignment: { requiresApproval: true } });
    await grant(fixture, T1, 'usr_admin2', 'tenant_admin');
    await role(fixture, T1, { key: 'approver_only', permissions: ['roles:approve', 'docs:*'] });
    await grant(fixture, T1, 'usr_approver', 'approver_only');
    const requested = await fixture.rbac.assignments.assign(admin, { subject: toUser('usr_f'), roleKey: 'finance' }, inT1);
    expect(requested.status).toBe('pending');
    expect(await fixture.rbac.can({ id: 'usr_f' }, 'billing:refund', undefined, inT1)).toBe(false);

    expect((await rejectionOf(fixture.rbac.assignments.approve(admin, requested.id, inT1))).details).toMatchObject({ reason: 'approver-is-requester' });
    expect((await rejectionOf(fixture.rbac.assignments.approve({ id: 'usr_approver' }, requested.id, inT1))).details).toMatchObject({
      reason: 'permission-not-held',
      permission: 'billing:*',
    });
    expect((await rejectionOf(fixture.rbac.assignments.approve({ id: 'usr_f' }, requested.id, inT1))).code).toBe('PERMISSION_DENIED');
    const approved = await fixture.rbac.assignments.approve({ id: 'usr_admin2' }, requested.id, inT1);
    expect(approved).toMatchObject({ status: 'active', approvedBy: 'usr_admin2', grantedBy: admin.id });
    expect(await fixture.rbac.can({ id: 'usr_f' }, 'billing:refund', undefined, inT1)).toBe(true);
    expect(fixture.eventsNamed('assignment.approved')).toHaveLength(1);
    expect((await rejectionOf(fixture.rbac.assignments.approve({ id: 'usr_admin2' }, requested.id, inT1))).code).toBe('ASSIGNMENT_NOT_PENDING');
    expect((await rejectionOf(fixture.rbac.assignments.approve({ id: 'usr_admin2' }, 'asg_missing', inT1))).code).toBe('ASSIGNMENT_NOT_FOUND');
  });

  it('time-bound grants: a past expiry is refused and a grant stops applying when it expires', async () => {
    const fixture = setup();
    await bootstrapTenant(fixture, T1);
    await role(fixture, T1, { key: 'oncall', permissions: ['incidents:*'] });
    const past = await rejectionOf(fixture.rbac.assignments.assign(admin, { subject: toUser('usr_o'), roleKey: 'oncall', expiresAt: START }, inT1));
    expect(past.code).toBe('VALIDATION_FAILED');
    await fixture.rbac.assignments.assign(admin, { subject: toUser('usr_o'), roleKey: 'oncall', expiresAt: START + 3_600_000 }, inT1);
    expect(await fixture.rbac.can({ id: 'usr_o' }, 'incidents:ack', undefined, inT1)).toBe(true);
    fixture.clock.advance(3_600_000);
    expect(await fixture.rbac.can({ id: 'usr_o' }, 'incidents:ack', undefined, inT1)).toBe(false);
    // An expired assignment is replaced by a new one.
    await fixture.rbac.assignments.assign(admin, { subject: toUser('usr_o'), roleKey: 'oncall' }, inT1);
    expect(await fixture.rbac.can({ id: 'usr_o' }, 'incidents:ack', undefined, inT1)).toBe(true);
  });

  it('revokes, held to the same rule as assigning', async () => {
    const { fixture, lead } = await tenantWithManager();
    const adminGrant = (await fixture.rbac.assignments.list(admin, { roleKey: 'tenant_admin' }, inT1)).items[0]!;
    const strip = await rejectionOf(fixture.rbac.assignments.revoke(lead, adminGrant.id, inT1));
    expect(strip).toMatchObject({ code: 'ASSIGNMENT_FORBIDDEN', details: { permission: '*' } });
    const writer = await fixture.rbac.assignments.assign(lead, { subject: toUser('usr_w'), roleKey: 'writer' }, inT1);
    const revoked = await fixture.rbac.assignments.revoke(lead, writer.id, { tenantId: T1, reason: 'left' });
    expect(revoked.id).toBe(writer.id);
    expect(fixture.eventsNamed('assignment.revoked').at(-1)).toMatchObject({ reason: 'left', actor: { id: lead.id } });
    expect((await rejectionOf(fixture.rbac.assignments.revoke(lead, writer.id, inT1))).code).toBe('ASSIGNMENT_NOT_FOUND');
  });

  it('assignAsSystem bootstraps without an actor and records the reason', async () => {
    const fixture = setup();
    await fixture.rbac.seedDefaultRoles(T1);
    const assignment = await fixture.rbac.assignments.assignAsSystem({ reason: 'first admin' }, { subject: toUser('usr_1'), roleKey: 'tenant_admin' }, inT1);
    expect(assignment).toMatchObject({ status: 'active', grantedBy: null });
    expect(fixture.eventsNamed('assignment.created').at(-1)).toMatchObject({ actor: { type: 'system', reason: 'first admin' }, reason: null });
    expect((await rejectionOf(fixture.rbac.assignments.assignAsSystem({ reason: ' ' }, { subject: toUser('usr_2'), roleKey: 'viewer' }, inT1))).code).toBe(
      'VALIDATION_FAILED',
    );
    await fixture.rbac.assignments.revokeAsSystem({ reason: 'cleanup' }, assignment.id, inT1);
    expect(await fixture.rbac.can({ id: 'usr_1' }, 'x:read', undefined, inT1)).toBe(false);
  });

  it('lists and reads assignments with roles:read', async () => {
    const { fixture, lead } = await tenantWithManager();
    const page = await fixture.rbac.assignments.list(lead, { subject: toUser(lead.id) }, inT1);
    expect(page.items.map((a) => a.roleKey)).toEqual(['docs_lead']);
    expect(await fixture.rbac.assignments.get(lead, page.items[0]!.id, inT1)).toEqual(page.items[0]);
    expect((await rejectionOf(fixture.rbac.assignments.list({ id: 'usr_none' }, {}, inT1))).code).toBe('PERMISSION_DENIED');
    expect((await rejectionOf(fixture.rbac.assignments.list(lead, { limit: 0 }, inT1))).code).toBe('VALIDATION_FAILED');
  });
});
