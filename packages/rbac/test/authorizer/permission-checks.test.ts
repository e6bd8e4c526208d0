import { runAsSystem, runWithTenant } from '@tenantkit/tenant-context';
import { describe, expect, it } from 'vitest';
import { RbacError } from '../../src/errors.js';
import { admin, bootstrapTenant, grant, rejectionOf, role, setup, T1, T2 } from '../services/rbac-fixture.js';

describe('permission checks', () => {
  it('denies by default: a principal without grants, and unknown resources and actions', async () => {
    const fixture = setup();
    await fixture.rbac.seedDefaultRoles(T1);
    await grant(fixture, T1, 'usr_editor', 'content_manager');
    const nobody = { id: 'usr_nobody' };
    const editor = { id: 'usr_editor' };
    expect(await fixture.rbac.can(nobody, 'content:read', undefined, { tenantId: T1 })).toBe(false);
    expect(await fixture.rbac.can(editor, 'content:read', undefined, { tenantId: T1 })).toBe(true);
    expect(await fixture.rbac.can(editor, 'unknownthing:read', undefined, { tenantId: T1 })).toBe(false);
    expect(await fixture.rbac.can(editor, 'content', undefined, { tenantId: T1 }).catch((error: RbacError) => error.code)).toBe('PERMISSION_INVALID');
    expect(await fixture.rbac.can(editor, 'billing:refund', undefined, { tenantId: T1 })).toBe(false);
    const decision = await fixture.rbac.explain(nobody, 'content:read', undefined, { tenantId: T1 });
    expect(decision).toMatchObject({ allowed: false, reason: 'no-matching-rule', rule: null });
  });

  it('never lets a wildcard match a resource prefix', async () => {
    const fixture = setup();
    await role(fixture, T1, { key: 'doc_admin', permissions: ['doc:*'] });
    await grant(fixture, T1, 'usr_1', 'doc_admin');
    const principal = { id: 'usr_1' };
    expect(await fixture.rbac.can(principal, 'doc:read', undefined, { tenantId: T1 })).toBe(true);
    expect(await fixture.rbac.can(principal, 'document:read', undefined, { tenantId: T1 })).toBe(false);
  });

  it('casbin-style domains: alice is tenant_admin in tenant1 and viewer in tenant2, and the tenant scope decides', async () => {
    const fixture = setup();
    await fixture.rbac.seedDefaultRoles(T1);
    await fixture.rbac.seedDefaultRoles(T2);
    await grant(fixture, T1, 'alice', 'tenant_admin');
    await grant(fixture, T2, 'alice', 'viewer');
    await grant(fixture, T2, 'bob', 'tenant_admin');
    const alice = { id: 'alice' };
    const bob = { id: 'bob' };

    await runWithTenant(T1, async () => {
      expect(await fixture.rbac.can(alice, 'data1:write')).toBe(true);
      expect(await fixture.rbac.can(alice, 'data1:read')).toBe(true);
      expect(await fixture.rbac.can(bob, 'data1:read')).toBe(false);
      await fixture.rbac.require(alice, 'invoices:delete');
    });
    await runWithTenant(T2, async () => {
      expect(await fixture.rbac.can(alice, 'data2:read')).toBe(true);
      expect(await fixture.rbac.can(alice, 'data2:list')).toBe(true);
      expect(await fixture.rbac.can(alice, 'data2:write')).toBe(false);
      expect(await fixture.rbac.can(bob, 'data2:write')).toBe(true);
      const denied = await rejectionOf(fixture.rbac.require(alice, 'invoices:delete'));
      expect(denied).toMatchObject({ code: 'PERMISSION_DENIED', details: { permission: 'invoices:delete' } });
      expect((denied as RbacError).status).toBe(403);
      // A request of tenant2 cannot ask about tenant1.
      expect((await rejectionOf(fixture.rbac.can(alice, 'data1:write', undefined, { tenantId: T1 }))).code).toBe('TENANT_SCOPE_CONFLICT');
    });
    // Fail closed without a tenant, the system scope included.
    expect((await rejectionOf(fixture.rbac.can(alice, 'data1:read'))).code).toBe('TENANT_SCOPE_REQUIRED');
    await runAsSystem({ reason: 'test' }, async () => {
      expect((await rejectionOf(fixture.rbac.can(alice, 'data1:read'))).code).toBe('TENANT_SCOPE_REQUIRED');
      // Explicit tenants are how cross-tenant jobs ask.
      expect(await fixture.rbac.can(alice, 'data1:write', undefined, { tenantId: T1 })).toBe(true);
      expect(await fixture.rbac.can(alice, 'data2:write', undefined, { tenantId: T2 })).toBe(false);
    });
    expect((await rejectionOf(fixture.rbac.can(alice, 'data1:read', undefined, { tenantId: '../t1' }))).code).toBe('TENANT_IDENTIFIER_INVALID');
  });

  it('explains which grant and role decided, through inheritance and denies', async () => {
    const fixture = setup();
    await role(fixture, T1, { key: 'viewer', permissions: ['docs:read'] });
    await role(fixture, T1, { key: 'editor', permissions: ['docs:*', '!docs:delete'], inherits: ['viewer'] });
    const assignment = await grant(fixture, T1, 'usr_1', 'editor');
    const principal = { id: 'usr_1' };
    const allowed = await fixture.rbac.explain(principal, 'docs:update', undefined, { tenantId: T1 });
    expect(allowed).toMatchObject({ allowed: true, reason: 'allowed', rule: { effect: 'allow', permission: 'docs:*', roleChain: ['editor'] } });
    expect(allowed.rule?.grant).toMatchObject({ assignmentId: assignment.id, roleKey: 'editor', via: { type: 'user' } });
    const denied = await fixture.rbac.explain(principal, 'docs:delete', undefined, { tenantId: T1 });
    expect(denied).toMatchObject({ allowed: false, reason: 'denied-by-rule', rule: { effect: 'deny', permission: 'docs:delete' } });
  });

  it('evaluates conditions with the principal and fails closed without the attributes', async () => {
    const fixture = setup();
    await role(fixture, T1, { key: 'author', permissions: [{ permission: 'docs:update', condition: { self: 'resource.ownerId' } }] });
    await grant(fixture, T1, 'usr_1', 'author');
    const principal = { id: 'usr_1' };
    expect(await fixture.rbac.can(principal, 'docs:update', { ownerId: 'usr_1' }, { tenantId: T1 })).toBe(true);
    expect(await fixture.rbac.can(principal, 'docs:update', { ownerId: 'usr_2' }, { tenantId: T1 })).toBe(false);
    expect(await fixture.rbac.can(principal, 'docs:update', undefined, { tenantId: T1 })).toBe(false);
  });

  it('applies API keys: grantsFrom carries a user’s roles, scopes cap them, null holds only scopes', async () => {
    const fixture = setup();
    await bootstrapTenant(fixture, T1);
    const scoped = { kind: 'api-key' as const, id: 'key_1', grantsFrom: admin.id, scopes: ['reports:read'] };
    expect(await fixture.rbac.can(scoped, 'reports:read', undefined, { tenantId: T1 })).toBe(true);
    expect(await fixture.rbac.can(scoped, 'reports:delete', undefined, { tenantId: T1 })).toBe(false);
    const unscoped = { kind: 'api-key' as const, id: 'key_2', grantsFrom: admin.id };
    expect(await fixture.rbac.can(unscoped, 'reports:delete', undefined, { tenantId: T1 })).toBe(true);
    const orphan = { kind: 'api-key' as const, id: 'key_3', grantsFrom: null, scopes: ['reports:read'] };
    expect(await fixture.rbac.can(orphan, 'reports:read', undefined, { tenantId: T1 })).toBe(false);
    // An API key whose id happens to be a user's id does not get that user's grants.
    const impostor = { kind: 'api-key' as const, id: admin.id };
    expect(await fixture.rbac.can(impostor, 'reports:read', undefined, { tenantId: T1 })).toBe(false);
  });

  it('applies the plan ceiling', async () => {
    const fixture = setup({ planRules: async (tenantId) => (tenantId === T1 ? ['docs:*'] : null) });
    await bootstrapTenant(fixture, T1);
    await bootstrapTenant(fixture, T2);
    expect(await fixture.rbac.can(admin, 'docs:read', undefined, { tenantId: T1 })).toBe(true);
    expect(await fixture.rbac.can(admin, 'sso:configure', undefined, { tenantId: T1 })).toBe(false);
    expect((await fixture.rbac.explain(admin, 'sso:configure', undefined, { tenantId: T1 })).reason).toBe('outside-plan');
    expect(await fixture.rbac.can(admin, 'sso:configure', undefined, { tenantId: T2 })).toBe(true);
  });

  it('refuses a missing or malformed principal', async () => {
    const fixture = setup();
    expect((await rejectionOf(fixture.rbac.can(undefined as never, 'docs:read', undefined, { tenantId: T1 }))).code).toBe('PRINCIPAL_REQUIRED');
    expect((await rejectionOf(fixture.rbac.can({ id: '' }, 'docs:read', undefined, { tenantId: T1 }))).code).toBe('VALIDATION_FAILED');
    expect((await rejectionOf(fixture.rbac.can({ id: 'x', kind: 'robot' as never }, 'docs:read', undefined, { tenantId: T1 }))).code).toBe(
      'VALIDATION_FAILED',
    );
  });
});
