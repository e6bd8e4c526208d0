import { runWithTenant } from '@tenantkit/tenant-context';
import { describe, expect, it } from 'vitest';
import { defaultSystemRoles } from '../../src/roles/default-system-roles.js';
import { admin, bootstrapTenant, grant, rejectionOf, setup, T1, T2 } from '../services/rbac-fixture.js';

const inT1 = { tenantId: T1 };

describe('default system roles', () => {
  it('a seeded user_manager assigns only roles within its own permissions; the documented override lets it hand out viewer', async () => {
    const asSeeded = setup();
    await bootstrapTenant(asSeeded, T1);
    await grant(asSeeded, T1, 'usr_um', 'user_manager');
    const manager = { id: 'usr_um' };
    const assign = (fixture: typeof asSeeded, roleKey: string) =>
      fixture.rbac.assignments.assign(manager, { subject: { type: 'user', id: 'usr_new' }, roleKey }, inT1);
    for (const roleKey of ['viewer', 'content_manager', 'tenant_admin']) {
      expect((await rejectionOf(assign(asSeeded, roleKey))).code).toBe('ASSIGNMENT_FORBIDDEN');
    }
    expect((await assign(asSeeded, 'user_manager')).roleKey).toBe('user_manager');

    const overridden = setup();
    await overridden.rbac.seedDefaultRoles(T1, {
      overrides: { user_manager: { permissions: ['members:*', 'roles:read', 'roles:assign', 'groups:*', '*:read', '*:list'] } },
    });
    await grant(overridden, T1, 'usr_um', 'user_manager');
    expect((await assign(overridden, 'viewer')).roleKey).toBe('viewer');
    expect((await rejectionOf(assign(overridden, 'content_manager'))).code).toBe('ASSIGNMENT_FORBIDDEN');
  });

  it('seeds the four roles idempotently', async () => {
    const fixture = setup();
    expect(defaultSystemRoles.map((r) => r.key)).toEqual(['tenant_admin', 'user_manager', 'content_manager', 'viewer']);
    const first = await fixture.rbac.seedDefaultRoles(T1);
    expect(first).toEqual({ tenantId: T1, created: ['tenant_admin', 'user_manager', 'content_manager', 'viewer'], updated: [], unchanged: [], skipped: [] });
    const versionAfterFirst = await fixture.store.getPolicyVersion(T1);
    const second = await fixture.rbac.seedDefaultRoles(T1);
    expect(second).toMatchObject({ created: [], updated: [], unchanged: ['tenant_admin', 'user_manager', 'content_manager', 'viewer'] });
    expect(await fixture.store.getPolicyVersion(T1)).toBe(versionAfterFirst);
    const roles = await fixture.store.listRoles(T1);
    expect(roles.every((r) => r.origin === 'system' && !r.customized)).toBe(true);
    expect(roles.find((r) => r.key === 'user_manager')?.rules.map((rule) => rule.permission)).toEqual(['members:*', 'roles:read', 'roles:assign', 'groups:*']);
    expect(roles.find((r) => r.key === 'viewer')?.rules.map((rule) => rule.permission)).toEqual(['*:read', '*:list']);
  });

  it('accepts overrides, applies changed overrides to uncustomized roles, and leaves tenant roles alone', async () => {
    const fixture = setup();
    await fixture.rbac.roles.createAsSystem({ reason: 'app' }, { key: 'viewer', permissions: ['docs:read'] }, inT1);
    const report = await fixture.rbac.seedDefaultRoles(T1, {
      overrides: { content_manager: { permissions: ['content:*', 'media:*'] }, user_manager: false },
    });
    expect(report).toMatchObject({ created: ['tenant_admin', 'content_manager'], skipped: ['viewer'] });
    expect(await fixture.store.getRole(T1, 'user_manager')).toBeNull();
    expect((await fixture.store.getRole(T1, 'viewer'))?.origin).toBe('custom');
    const again = await fixture.rbac.seedDefaultRoles(T1);
    expect(again).toMatchObject({ created: ['user_manager'], updated: ['content_manager'], unchanged: ['tenant_admin'], skipped: ['viewer'] });
    expect((await fixture.store.getRole(T1, 'content_manager'))?.rules.map((rule) => rule.permission)).toEqual(['content:*']);
    expect((await rejectionOf(fixture.rbac.seedDefaultRoles(T1, { overrides: { owner: false } as never }))).code).toBe('VALIDATION_FAILED');
    expect((await rejectionOf(fixture.rbac.seedDefaultRoles(T1, { overrides: { viewer: { permissions: ['doc:'] } } }))).code).toBe('PERMISSION_INVALID');
  });

  it('plugs into onboarding and refuses another tenant from inside a tenant scope', async () => {
    const fixture = setup();
    const step = fixture.rbac.defaultRolesOnboardingStep();
    await step.run({ tenantId: T1 } as never);
    expect((await fixture.store.listRoles(T1)).length).toBe(4);
    await step.compensate?.({ tenantId: T1 } as never);
    expect(await fixture.store.listRoles(T1)).toEqual([]);
    await runWithTenant(T1, async () => {
      expect((await rejectionOf(fixture.rbac.seedDefaultRoles(T2))).code).toBe('TENANT_SCOPE_CONFLICT');
    });
  });
});

describe('global role sync', () => {
  it('copies global roles into tenants as origin global, idempotently, never overwriting customized copies', async () => {
    const fixture = setup();
    await bootstrapTenant(fixture, T1);
    await bootstrapTenant(fixture, T2);
    const system = { reason: 'policy' };
    await fixture.rbac.roles.createAsSystem(system, { key: 'auditor', permissions: ['audit:read'] }, { tenantId: null });
    await fixture.rbac.roles.createAsSystem(system, { key: 'senior_auditor', permissions: ['audit:export'], inherits: ['auditor'] }, { tenantId: null });
    await fixture.rbac.roles.createAsSystem(system, { key: 'viewer', permissions: ['*:read'] }, { tenantId: null });

    const first = await fixture.rbac.syncGlobalRoles({ tenantIds: [T1, T2] });
    expect(first.tenants).toEqual([
      { tenantId: T1, created: ['auditor', 'senior_auditor'], updated: [], unchanged: [], skipped: ['viewer'] },
      { tenantId: T2, created: ['auditor', 'senior_auditor'], updated: [], unchanged: [], skipped: ['viewer'] },
    ]);
    expect(await fixture.store.getRole(T1, 'senior_auditor')).toMatchObject({ origin: 'global', customized: false, inherits: ['auditor'], version: 1 });
    await grant(fixture, T1, 'usr_a', 'senior_auditor');
    expect(await fixture.rbac.can({ id: 'usr_a' }, 'audit:read', undefined, inT1)).toBe(true);

    const second = await fixture.rbac.syncGlobalRoles({ tenantIds: [T1, T2] });
    expect(second.tenants.map((t) => t.unchanged)).toEqual([
      ['auditor', 'senior_auditor'],
      ['auditor', 'senior_auditor'],
    ]);

    // T2 customizes its copy; then the template changes.
    await fixture.rbac.roles.update(admin, 'auditor', { permissions: ['audit:read', 'audit:list'] }, { tenantId: T2 });
    await fixture.rbac.roles.updateAsSystem(system, 'auditor', { permissions: ['audit:read', 'audit:search'] }, { tenantId: null });
    const third = await fixture.rbac.syncGlobalRoles({ tenantIds: [T1, T2] });
    expect(third.tenants[0]).toMatchObject({ updated: ['auditor'], unchanged: ['senior_auditor'] });
    expect(third.tenants[1]).toMatchObject({ updated: [], skipped: ['auditor', 'viewer'] });
    // The sync invalidated T1's cached matchers.
    expect(await fixture.rbac.can({ id: 'usr_a' }, 'audit:search', undefined, inT1)).toBe(true);
    expect((await fixture.store.getRole(T2, 'auditor'))?.rules.map((rule) => rule.permission)).toEqual(['audit:read', 'audit:list']);
  });

  it('validates tenant ids', async () => {
    const fixture = setup();
    expect((await rejectionOf(fixture.rbac.syncGlobalRoles({ tenantIds: ['bad id'] }))).code).toBe('TENANT_IDENTIFIER_INVALID');
  });
});
