import { describe, expect, it } from 'vitest';
import { memoryRbacStore } from '../../src/adapters/memory.js';
import { createRbac } from '../../src/create-rbac.js';
import { createInProcessInvalidationChannel } from '../../src/invalidation/in-process-invalidation-channel.js';
import type { RbacStore } from '../../src/store.js';
import { admin, bootstrapTenant, countingStore, grant, rejectionOf, role, setup, START, T1 } from '../services/rbac-fixture.js';

const user = { id: 'usr_1' };
const inT1 = { tenantId: T1 };

describe('matcher cache', () => {
  it('serves the same compiled matcher until something changes', async () => {
    const { store, counts } = countingStore();
    const fixture = setup({ store });
    await role(fixture, T1, { key: 'reader', permissions: ['docs:read'] });
    await grant(fixture, T1, user.id, 'reader');
    const first = await fixture.rbac.forPrincipal(user, inT1);
    const reads = counts.listAssignmentsForSubjects;
    expect(await fixture.rbac.forPrincipal({ id: 'usr_1' }, inT1)).toBe(first);
    expect(counts.listAssignmentsForSubjects).toBe(reads);
    // Within the staleness window the version is not even read again.
    const versionReads = counts.getPolicyVersion;
    await fixture.rbac.can(user, 'docs:read', undefined, inT1);
    expect(counts.getPolicyVersion).toBe(versionReads);
    fixture.clock.advance(5_000);
    await fixture.rbac.can(user, 'docs:read', undefined, inT1);
    expect(counts.getPolicyVersion).toBe(versionReads + 1);
    expect(await fixture.rbac.forPrincipal(user, inT1)).toBe(first);
  });

  it('drops matchers of a tenant at once on its own mutations', async () => {
    const fixture = setup();
    await bootstrapTenant(fixture, T1);
    await role(fixture, T1, { key: 'reader', permissions: ['docs:read'] });
    const assignment = await fixture.rbac.assignments.assign(admin, { subject: { type: 'user', id: user.id }, roleKey: 'reader' }, inT1);
    expect(await fixture.rbac.can(user, 'docs:read', undefined, inT1)).toBe(true);
    await fixture.rbac.assignments.revoke(admin, assignment.id, inT1);
    expect(await fixture.rbac.can(user, 'docs:read', undefined, inT1)).toBe(false);
    await fixture.rbac.assignments.assign(admin, { subject: { type: 'user', id: user.id }, roleKey: 'reader' }, inT1);
    expect(await fixture.rbac.can(user, 'docs:read', undefined, inT1)).toBe(true);
    await fixture.rbac.roles.update(admin, 'reader', { permissions: ['docs:list'] }, inT1);
    expect(await fixture.rbac.can(user, 'docs:read', undefined, inT1)).toBe(false);
    expect(await fixture.rbac.can(user, 'docs:list', undefined, inT1)).toBe(true);
  });

  it('a role revoked by another process denies within maxStalenessMs even without any invalidation message', async () => {
    const fixture = setup({ cache: { maxStalenessMs: 2_000 } });
    await bootstrapTenant(fixture, T1);
    await role(fixture, T1, { key: 'reader', permissions: ['docs:read'] });
    const assignment = await grant(fixture, T1, user.id, 'reader');
    // A second process over the same store, with no channel at all.
    const other = createRbac({ store: fixture.store, clock: fixture.clock, cache: { maxStalenessMs: 2_000 } });
    expect(await other.can(user, 'docs:read', undefined, inT1)).toBe(true);

    fixture.clock.advance(500);
    await fixture.rbac.assignments.revoke(admin, assignment.id, inT1);
    expect(await fixture.rbac.can(user, 'docs:read', undefined, inT1)).toBe(false);
    // The other process may still answer from its cache, but only within the bound...
    fixture.clock.advance(1_499);
    expect(await other.can(user, 'docs:read', undefined, inT1)).toBe(true);
    // ...after which it has re-read the tenant's policy version.
    fixture.clock.advance(1);
    expect(await other.can(user, 'docs:read', undefined, inT1)).toBe(false);
  });

  it('hears other processes at once through the invalidation channel', async () => {
    const invalidation = createInProcessInvalidationChannel();
    const fixture = setup({ invalidation });
    await bootstrapTenant(fixture, T1);
    await role(fixture, T1, { key: 'reader', permissions: ['docs:read'] });
    await grant(fixture, T1, user.id, 'reader');
    const other = createRbac({ store: fixture.store, clock: fixture.clock, invalidation });
    expect(await other.can(user, 'docs:read', undefined, inT1)).toBe(true);
    await fixture.rbac.roles.delete(admin, 'reader', inT1);
    expect(await other.can(user, 'docs:read', undefined, inT1)).toBe(false);
    await other.close();
    await fixture.rbac.close();
  });

  it('stops serving a time-bound grant when it expires', async () => {
    const fixture = setup();
    await role(fixture, T1, { key: 'oncall', permissions: ['incidents:*'] });
    await role(fixture, T1, { key: 'reader', permissions: ['docs:read'] });
    await grant(fixture, T1, user.id, 'oncall', START + 60_000);
    await grant(fixture, T1, user.id, 'reader');
    const compiled = await fixture.rbac.forPrincipal(user, inT1);
    expect(compiled.validUntil).toBe(START + 60_000);
    expect(await fixture.rbac.can(user, 'incidents:resolve', undefined, inT1)).toBe(true);
    fixture.clock.advance(59_999);
    // Still inside the staleness window and before expiry: served from the cache.
    expect(await fixture.rbac.forPrincipal(user, inT1)).toBe(compiled);
    fixture.clock.advance(1);
    // No store change at all, yet the expired grant is gone.
    expect(await fixture.rbac.can(user, 'incidents:resolve', undefined, inT1)).toBe(false);
    expect(await fixture.rbac.can(user, 'docs:read', undefined, inT1)).toBe(true);
  });

  it('keeps principals apart: attributes, scopes and kinds never share a matcher', async () => {
    const fixture = setup();
    await role(fixture, T1, {
      key: 'sales',
      permissions: [{ permission: 'leads:read', condition: { field: 'principal.attributes.department', op: 'eq', value: 'sales' } }],
    });
    await grant(fixture, T1, user.id, 'sales');
    const inSales = { id: user.id, attributes: { department: 'sales' } };
    const inHr = { id: user.id, attributes: { department: 'hr' } };
    expect(await fixture.rbac.can(inSales, 'leads:read', undefined, inT1)).toBe(true);
    expect(await fixture.rbac.can(inHr, 'leads:read', undefined, inT1)).toBe(false);
    expect(await fixture.rbac.can(inSales, 'leads:read', undefined, inT1)).toBe(true);
    // Mutating the object after a check cannot change the cached matcher.
    const mutable = { id: user.id, attributes: { department: 'sales' } as { department: string } };
    await fixture.rbac.can(mutable, 'leads:read', undefined, inT1);
    mutable.attributes.department = 'hr';
    expect(await fixture.rbac.can(mutable, 'leads:read', undefined, inT1)).toBe(false);
    expect(await fixture.rbac.can({ id: user.id, attributes: { department: 'sales' }, scopes: [] }, 'leads:read', undefined, inT1)).toBe(false);
    // Attributes that are not plain data are compiled per call rather than cached.
    const odd = { id: user.id, attributes: { department: 'sales', since: new Map() } };
    expect(await fixture.rbac.forPrincipal(odd, inT1)).not.toBe(await fixture.rbac.forPrincipal(odd, inT1));
  });

  it('stays within maxEntries', async () => {
    const { store, counts } = countingStore();
    const fixture = setup({ store, cache: { maxEntries: 2 } });
    await role(fixture, T1, { key: 'reader', permissions: ['docs:read'] });
    for (const id of ['usr_a', 'usr_b', 'usr_c']) await fixture.rbac.can({ id }, 'docs:read', undefined, inT1);
    const reads = counts.listAssignmentsForSubjects;
    await fixture.rbac.can({ id: 'usr_c' }, 'docs:read', undefined, inT1);
    expect(counts.listAssignmentsForSubjects).toBe(reads);
    await fixture.rbac.can({ id: 'usr_a' }, 'docs:read', undefined, inT1);
    expect(counts.listAssignmentsForSubjects).toBe(reads + 1);
  });

  it('reads the policy version once for concurrent checks, and compiles once per principal', async () => {
    const { store, counts } = countingStore();
    const fixture = setup({ store });
    await role(fixture, T1, { key: 'reader', permissions: ['docs:read'] });
    await grant(fixture, T1, user.id, 'reader');
    const versionReads = counts.getPolicyVersion;
    const grantReads = counts.listAssignmentsForSubjects;
    const results = await Promise.all(Array.from({ length: 20 }, () => fixture.rbac.can(user, 'docs:read', undefined, inT1)));
    expect(results.every(Boolean)).toBe(true);
    expect(counts.getPolicyVersion).toBe(versionReads + 1);
    expect(counts.listAssignmentsForSubjects).toBe(grantReads + 1);
  });

  it('fails closed when the store fails, and recovers', async () => {
    const inner = memoryRbacStore();
    let failing = false;
    const store: RbacStore = {
      ...inner,
      async getPolicyVersion(tenantId) {
        if (failing) throw new Error('store down');
        return inner.getPolicyVersion(tenantId);
      },
    };
    const fixture = setup({ store, cache: { maxStalenessMs: 1_000 } });
    await role(fixture, T1, { key: 'reader', permissions: ['docs:read'] });
    await grant(fixture, T1, user.id, 'reader');
    expect(await fixture.rbac.can(user, 'docs:read', undefined, inT1)).toBe(true);
    failing = true;
    fixture.clock.advance(1_000);
    expect((await rejectionOf(fixture.rbac.can(user, 'docs:read', undefined, inT1))).message).toBe('store down');
    failing = false;
    expect(await fixture.rbac.can(user, 'docs:read', undefined, inT1)).toBe(true);
  });

  it('re-reads plan rules with the version and on invalidateTenant', async () => {
    let plan: string[] = ['docs:*'];
    const fixture = setup({ planRules: async () => plan });
    await bootstrapTenant(fixture, T1);
    expect(await fixture.rbac.can(admin, 'docs:read', undefined, inT1)).toBe(true);
    plan = ['reports:*'];
    expect(await fixture.rbac.can(admin, 'docs:read', undefined, inT1)).toBe(true);
    await fixture.rbac.invalidateTenant(T1);
    expect(await fixture.rbac.can(admin, 'docs:read', undefined, inT1)).toBe(false);
    plan = ['docs:*'];
    fixture.clock.advance(5_000);
    expect(await fixture.rbac.can(admin, 'docs:read', undefined, inT1)).toBe(true);
  });
});
