import { runWithTenant } from '@tenantkit/tenant-context';
import { describe, expect, it } from 'vitest';
import { createInProcessInvalidationChannel } from '../../src/invalidation/in-process-invalidation-channel.js';
import { definePolicy } from '../../src/policy/define-policy.js';
import { syncPolicy } from '../../src/policy/sync-policy.js';
import { grant, setup, T1, T2 } from './rbac-fixture.js';

const v1 = definePolicy({
  roles: { viewer: { permissions: ['*:read'] }, editor: { permissions: ['docs:*'], inherits: ['viewer'] } },
  globalRoles: { auditor: { permissions: ['*:read'] } },
});
const v2 = definePolicy({
  roles: { viewer: { permissions: ['*:read'] }, editor: { permissions: ['docs:update'], inherits: ['viewer'] } },
});
const reason = 'deploy 42';
const alice = { id: 'usr_alice' };

async function syncedTenant() {
  const invalidation = createInProcessInvalidationChannel();
  const heard: Array<string | null> = [];
  await invalidation.subscribe((tenantId) => void heard.push(tenantId));
  const fixture = setup({ invalidation });
  await fixture.rbac.syncPolicy(v1, { tenantId: T1, reason });
  await grant(fixture, T1, alice.id, 'editor');
  expect(await fixture.rbac.can(alice, 'docs:delete', undefined, { tenantId: T1 })).toBe(true);
  heard.length = 0;
  return { ...fixture, heard };
}

describe('rbac.syncPolicy', () => {
  it('drops the cached matchers here and tells the channel when the sync changed something', async () => {
    const { rbac, heard } = await syncedTenant();
    const report = await rbac.syncPolicy(v2, { tenantId: T1, reason });
    expect(report).toMatchObject({ tenantId: T1, updated: ['editor'], unchanged: ['viewer'] });
    // No clock advance: the change is seen at once, not after maxStalenessMs.
    expect(await rbac.can(alice, 'docs:delete', undefined, { tenantId: T1 })).toBe(false);
    expect(await rbac.can(alice, 'docs:update', undefined, { tenantId: T1 })).toBe(true);
    expect(heard).toEqual([T1]);
    // A sync that changes nothing, or a dry run, tells nobody.
    await rbac.syncPolicy(v2, { tenantId: T1, reason });
    await rbac.syncPolicy(v1, { tenantId: T1, reason, dryRun: true });
    expect(heard).toEqual([T1]);
  });

  it('unlike the bare syncPolicy, which leaves this process serving the old matcher until the staleness bound', async () => {
    const { rbac, store, clock } = await syncedTenant();
    await syncPolicy(store, v2, { tenantId: T1, clock });
    expect(await rbac.can(alice, 'docs:delete', undefined, { tenantId: T1 })).toBe(true);
    clock.advance(5_000);
    expect(await rbac.can(alice, 'docs:delete', undefined, { tenantId: T1 })).toBe(false);
  });

  it('announces policy.synced with the report and reason, except for a dry run', async () => {
    const { rbac, eventsNamed, clock, store } = await syncedTenant();
    const dry = await rbac.syncPolicy(v2, { tenantId: T1, reason: 'preview', dryRun: true });
    expect(dry.updated).toEqual(['editor']);
    expect((await store.getRole(T1, 'editor'))?.rules).toEqual([{ effect: 'allow', permission: 'docs:*' }]);
    const report = await rbac.syncPolicy(v2, { tenantId: T1, reason, prune: true });
    const noop = await rbac.syncPolicy(v2, { tenantId: T1, reason: 'redeploy' });
    expect(eventsNamed('policy.synced')).toEqual([
      { tenantId: T1, report: expect.objectContaining({ created: ['editor', 'viewer'] }), actor: { type: 'system', reason } },
      { tenantId: T1, report, actor: { type: 'system', reason } },
      { tenantId: T1, report: noop, actor: { type: 'system', reason: 'redeploy' } },
    ]);
    // The rbac's clock stamps the roles.
    expect((await store.getRole(T1, 'editor'))?.updatedAt).toBe(clock.now());
  });

  it('syncs the global roles with tenantId null and publishes null', async () => {
    const { rbac, heard, store, eventsNamed } = await syncedTenant();
    const report = await rbac.syncPolicy(v1, { tenantId: null, reason });
    expect(report.created).toEqual(['auditor']);
    expect((await store.listRoles(null)).map((role) => role.key)).toEqual(['auditor']);
    expect(heard).toEqual([null]);
    expect(eventsNamed('policy.synced').at(-1)).toMatchObject({ tenantId: null, report: { created: ['auditor'] } });
  });

  it('is a system operation with a reason, for a named tenant, that matches the scope', async () => {
    const { rbac, eventsNamed } = await syncedTenant();
    const before = eventsNamed('policy.synced').length;
    await expect(rbac.syncPolicy(v2, { tenantId: T1 } as never)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(rbac.syncPolicy(v2, { tenantId: T1, reason: '  ' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(rbac.syncPolicy(v2, { reason } as never)).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
    await expect(rbac.syncPolicy(v2, undefined as never)).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
    await expect(rbac.syncPolicy(v2, { tenantId: T1, reason, clock: { now: () => 0 } } as never)).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
    await expect(rbac.syncPolicy(v2, { tenantId: T1, reason, invalidation: createInProcessInvalidationChannel() } as never)).rejects.toMatchObject({
      code: 'CONFIGURATION_INVALID',
    });
    await expect(rbac.syncPolicy(v2, { tenantId: 'bad id!', reason })).rejects.toMatchObject({ code: 'TENANT_IDENTIFIER_INVALID' });
    await expect(runWithTenant(T2, () => rbac.syncPolicy(v2, { tenantId: T1, reason }))).rejects.toMatchObject({ code: 'TENANT_SCOPE_CONFLICT' });
    expect(eventsNamed('policy.synced')).toHaveLength(before);
    expect(await rbac.can(alice, 'docs:delete', undefined, { tenantId: T1 })).toBe(true);
    // In the tenant's own scope it works.
    expect((await runWithTenant(T1, () => rbac.syncPolicy(v2, { tenantId: T1, reason }))).updated).toEqual(['editor']);
  });
});
