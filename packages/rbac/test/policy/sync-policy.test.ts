import { fileURLToPath } from 'node:url';
import { createManualClock } from '@tenantkit/core';
import { buildAssignment, buildRole } from '@tenantkit/test-utils';
import { describe, expect, it } from 'vitest';
import { memoryRbacStore } from '../../src/adapters/memory.js';
import { createRbac } from '../../src/create-rbac.js';
import type { InvalidationChannel } from '../../src/invalidation/invalidation-channel.js';
import { definePolicy } from '../../src/policy/define-policy.js';
import { loadPolicyFile } from '../../src/policy/load-policy-file.js';
import type { PolicyDefinition } from '../../src/policy/policy-definition.js';
import { syncPolicy } from '../../src/policy/sync-policy.js';
import type { Role } from '../../src/roles/role.js';
import type { RbacStore } from '../../src/store.js';

const T = 'tnt_a';
const code = (c: string, details?: Record<string, unknown>) =>
  expect.objectContaining({ code: c, ...(details === undefined ? {} : { details: expect.objectContaining(details) }) });

/** The TypeScript twin of fixtures/policy.yaml. */
const fixtureDefinition: PolicyDefinition = {
  roles: {
    reader: {
      name: 'Reader',
      description: 'Reads published documents and everything it owns.',
      permissions: [
        {
          permission: 'docs:read',
          condition: { any: [{ field: 'resource.status', op: 'eq', value: 'published' }, { self: 'resource.ownerId' }] },
        },
        'docs:list',
      ],
    },
    author: {
      name: 'Author',
      inherits: ['reader'],
      permissions: ['docs:create', { permission: 'docs:update', condition: { self: 'resource.ownerId' }, description: 'Authors edit their own drafts.' }],
    },
    reviewer: { name: 'Reviewer', inherits: ['reader'], permissions: ['docs:read', 'comments:*'] },
    editor: { name: 'Editor', inherits: ['author', 'reviewer'], permissions: ['docs:*', '!docs:delete'] },
    billing_admin: {
      name: 'Billing admin',
      permissions: ['billing:*'],
      assignment: { restricted: true, maxAssignments: 2, requiresApproval: true },
    },
  },
  globalRoles: { support_agent: { name: 'Support agent', permissions: ['*:read', '!billing:*'] } },
  plans: {
    free: { permissions: ['docs:*', 'comments:*', '!docs:export', 'roles:*', 'groups:*', 'members:*'] },
    pro: { permissions: ['*'] },
  },
};

const small = definePolicy({
  roles: {
    viewer: { permissions: ['*:read'] },
    editor: { permissions: ['docs:*'], inherits: ['viewer'] },
  },
});

function setup(initialRoles: Role[] = []) {
  const clock = createManualClock();
  const store = memoryRbacStore({ initial: { roles: initialRoles } });
  return { clock, store };
}

/** A store that forwards to `inner` and lets a test run code before selected calls. */
function interceptingStore(inner: RbacStore, hooks: { beforeUpdate?: (role: Role) => Promise<void>; beforeInsert?: (role: Role) => Promise<void> }) {
  const order: string[] = [];
  const store: RbacStore = Object.create(inner);
  store.insertRole = async (role) => {
    order.push(`insert ${role.key}`);
    await hooks.beforeInsert?.(role);
    return inner.insertRole(role);
  };
  store.updateRole = async (role, expectedVersion) => {
    order.push(`update ${role.key}`);
    await hooks.beforeUpdate?.(role);
    return inner.updateRole(role, expectedVersion);
  };
  return { store, order };
}

describe('syncPolicy', () => {
  it('creates the declared roles with origin "policy", parents first', async () => {
    const { clock, store } = setup();
    const { store: recording, order } = interceptingStore(store, {});
    const report = await syncPolicy(recording, definePolicy(fixtureDefinition), { tenantId: T, clock });
    expect(report).toEqual({
      tenantId: T,
      dryRun: false,
      created: ['author', 'billing_admin', 'editor', 'reader', 'reviewer'],
      updated: [],
      unchanged: [],
      pruned: [],
      skipped: [],
    });
    expect([...order].sort()).toEqual(['insert author', 'insert billing_admin', 'insert editor', 'insert reader', 'insert reviewer']);
    // Parents before children (reader before author and reviewer, both before editor).
    const position = (key: string) => order.indexOf(`insert ${key}`);
    expect(position('reader')).toBeLessThan(position('author'));
    expect(position('reader')).toBeLessThan(position('reviewer'));
    expect(position('author')).toBeLessThan(position('editor'));
    expect(position('reviewer')).toBeLessThan(position('editor'));

    expect(await store.getRole(T, 'billing_admin')).toEqual({
      tenantId: T,
      key: 'billing_admin',
      name: 'Billing admin',
      description: '',
      rules: [{ effect: 'allow', permission: 'billing:*' }],
      inherits: [],
      assignment: { restricted: true, selfAssignable: false, maxAssignments: 2, requiresApproval: true },
      origin: 'policy',
      customized: false,
      version: 1,
      createdAt: clock.now(),
      updatedAt: clock.now(),
    });
    expect(await store.listRoles(null)).toEqual([]);
  });

  it('is idempotent: a second sync writes nothing and leaves the policy version alone', async () => {
    const { clock, store } = setup();
    const policy = definePolicy(fixtureDefinition);
    await syncPolicy(store, policy, { tenantId: T, clock });
    const version = await store.getPolicyVersion(T);
    const roles = await store.listRoles(T);
    clock.advance(60_000);
    const { store: recording, order } = interceptingStore(store, {});
    const report = await syncPolicy(recording, policy, { tenantId: T, clock, prune: true });
    expect(report.unchanged).toEqual(['author', 'billing_admin', 'editor', 'reader', 'reviewer']);
    expect([...report.created, ...report.updated, ...report.pruned, ...report.skipped]).toEqual([]);
    expect(order).toEqual([]);
    expect(await store.getPolicyVersion(T)).toBe(version);
    expect(await store.listRoles(T)).toEqual(roles);
  });

  it('syncs the TypeScript and the YAML form of the same policy to identical store state', async () => {
    const fromYaml = await loadPolicyFile(fileURLToPath(new URL('./fixtures/policy.yaml', import.meta.url)));
    const fromCode = definePolicy(fixtureDefinition);
    expect(fromYaml).toEqual(fromCode);

    const a = setup();
    const b = setup();
    for (const tenantId of [T, null]) {
      await syncPolicy(a.store, fromYaml, { tenantId, clock: a.clock });
      await syncPolicy(b.store, fromCode, { tenantId, clock: b.clock });
      expect(await a.store.listRoles(tenantId)).toEqual(await b.store.listRoles(tenantId));
      expect(await a.store.getPolicyVersion(tenantId)).toBe(await b.store.getPolicyVersion(tenantId));
    }
    // And once synced from one form, the other form is a no-op.
    const version = await a.store.getPolicyVersion(T);
    expect((await syncPolicy(a.store, fromCode, { tenantId: T, clock: a.clock })).unchanged).toHaveLength(5);
    expect(await a.store.getPolicyVersion(T)).toBe(version);
  });

  it('updates what changed by compare-and-set, keeping createdAt and origin', async () => {
    const { clock, store } = setup();
    await syncPolicy(store, small, { tenantId: T, clock });
    const created = clock.now();
    clock.advance(1000);
    const changed = definePolicy({
      roles: {
        viewer: { permissions: ['*:read'] },
        editor: { permissions: ['docs:*', '!docs:delete'], inherits: ['viewer'], description: 'Now with a deny' },
      },
    });
    const version = await store.getPolicyVersion(T);
    const report = await syncPolicy(store, changed, { tenantId: T, clock });
    expect(report).toMatchObject({ created: [], updated: ['editor'], unchanged: ['viewer'] });
    expect(await store.getRole(T, 'editor')).toMatchObject({
      rules: [
        { effect: 'allow', permission: 'docs:*' },
        { effect: 'deny', permission: 'docs:delete' },
      ],
      description: 'Now with a deny',
      origin: 'policy',
      version: 2,
      createdAt: created,
      updatedAt: created + 1000,
    });
    expect(await store.getRole(T, 'viewer')).toMatchObject({ version: 1, updatedAt: created });
    expect(await store.getPolicyVersion(T)).toBe(version + 1);
  });

  it('notices a change in each compared field', async () => {
    const base = { permissions: ['docs:read'], name: 'R', description: 'd', inherits: [] as string[], assignment: {} };
    const variants: PolicyDefinition['roles'][string][] = [
      { ...base, name: 'R2' },
      { ...base, description: 'd2' },
      { ...base, permissions: ['docs:read', 'docs:list'] },
      { ...base, permissions: [{ permission: 'docs:read', condition: { self: 'resource.ownerId' } }] },
      { ...base, permissions: ['!docs:read'] },
      { ...base, inherits: ['other'] },
      { ...base, assignment: { selfAssignable: true } },
      { ...base, assignment: { maxAssignments: 5 } },
    ];
    for (const variant of variants) {
      const { clock, store } = setup();
      await syncPolicy(store, { roles: { other: { permissions: [] }, role: base } }, { tenantId: T, clock });
      const report = await syncPolicy(store, { roles: { other: { permissions: [] }, role: variant } }, { tenantId: T, clock });
      expect(report.updated).toEqual(['role']);
    }
  });

  it('leaves a customized role alone unless forced, then clears the flag', async () => {
    const { clock, store } = setup([
      buildRole({ tenantId: T, key: 'editor', origin: 'policy', customized: true, rules: [{ effect: 'allow', permission: 'docs:read' }] }),
      buildRole({ tenantId: T, key: 'viewer', origin: 'policy', customized: true, rules: [{ effect: 'allow', permission: '*:read' }], name: 'viewer' }),
    ]);
    const report = await syncPolicy(store, small, { tenantId: T, clock });
    expect(report.skipped).toEqual([
      { key: 'editor', origin: 'policy', reason: 'customized' },
      { key: 'viewer', origin: 'policy', reason: 'customized' },
    ]);
    expect(await store.getRole(T, 'editor')).toMatchObject({ customized: true, version: 1 });

    const forced = await syncPolicy(store, small, { tenantId: T, clock, force: true });
    expect(forced.updated).toEqual(['editor', 'viewer']);
    expect(await store.getRole(T, 'editor')).toMatchObject({ customized: false, version: 2, rules: [{ effect: 'allow', permission: 'docs:*' }] });
    // Same content as declared but customized: forcing still clears the flag.
    expect(await store.getRole(T, 'viewer')).toMatchObject({ customized: false, version: 2 });
  });

  it('never overwrites a role the tenant made or the global sync wrote, even when forced', async () => {
    const tenantMade = buildRole({ tenantId: T, key: 'editor', origin: 'custom' });
    const globalCopy = buildRole({ tenantId: T, key: 'viewer', origin: 'global' });
    const { clock, store } = setup([tenantMade, globalCopy]);
    const report = await syncPolicy(store, small, { tenantId: T, clock, force: true, prune: true });
    expect(report.skipped).toEqual([
      { key: 'editor', origin: 'custom', reason: 'not-managed' },
      { key: 'viewer', origin: 'global', reason: 'not-managed' },
    ]);
    expect(await store.listRoles(T)).toEqual([tenantMade, globalCopy]);
  });

  it('takes over a seeded system role the policy redeclares, so seeding no longer reverts it', async () => {
    const clock = createManualClock();
    const store = memoryRbacStore();
    const rbac = createRbac({ store, clock });
    try {
      await rbac.seedDefaultRoles(T);
      expect(await store.getRole(T, 'viewer')).toMatchObject({ origin: 'system' });
      const report = await syncPolicy(store, small, { tenantId: T, clock });
      expect(report).toMatchObject({ created: ['editor'], updated: ['viewer'] });
      expect(await store.getRole(T, 'viewer')).toMatchObject({ origin: 'policy', customized: false, rules: [{ effect: 'allow', permission: '*:read' }] });

      const version = await store.getPolicyVersion(T);
      await rbac.seedDefaultRoles(T);
      expect((await syncPolicy(store, small, { tenantId: T, clock })).unchanged).toEqual(['editor', 'viewer']);
      expect(await store.getPolicyVersion(T)).toBe(version);

      // The seeded roles the policy never declared are never pruned.
      const pruning = await syncPolicy(store, small, { tenantId: T, clock, prune: true });
      expect(pruning.pruned).toEqual([]);
      expect((await store.listRoles(T)).map((role) => role.key)).toEqual(['content_manager', 'editor', 'tenant_admin', 'user_manager', 'viewer']);
    } finally {
      await rbac.close();
    }
  });

  it('leaves undeclared roles alone without prune', async () => {
    const { clock, store } = setup();
    await syncPolicy(store, { roles: { old: { permissions: ['x:y'] }, viewer: { permissions: ['*:read'] } } }, { tenantId: T, clock });
    const report = await syncPolicy(store, small, { tenantId: T, clock });
    expect(report.pruned).toEqual([]);
    expect(await store.getRole(T, 'old')).not.toBeNull();
  });

  it('with prune, deletes only undeclared policy roles (and their assignments), never seeded, tenant-made or global ones', async () => {
    const { clock, store } = setup([
      buildRole({ tenantId: T, key: 'tenant_admin', origin: 'system' }),
      buildRole({ tenantId: T, key: 'my_role', origin: 'custom' }),
      buildRole({ tenantId: T, key: 'support', origin: 'global' }),
      buildRole({ tenantId: T, key: 'retired', origin: 'policy' }),
      buildRole({ tenantId: T, key: 'retired_child', origin: 'policy', inherits: ['retired'] }),
      buildRole({ tenantId: T, key: 'tweaked', origin: 'policy', customized: true }),
      buildRole({ tenantId: T, key: 'still_needed', origin: 'policy' }),
      buildRole({ tenantId: T, key: 'needs_it', origin: 'custom', inherits: ['still_needed'] }),
    ]);
    await store.insertAssignment(buildAssignment({ tenantId: T, id: 'asg_1', roleKey: 'retired', subjectId: 'usr_1' }), { maxAssignments: null, now: clock.now() });
    await store.insertAssignment(buildAssignment({ tenantId: T, id: 'asg_2', roleKey: 'tenant_admin', subjectId: 'usr_1' }), { maxAssignments: null, now: clock.now() });

    const dry = await syncPolicy(store, small, { tenantId: T, clock, prune: true, dryRun: true });
    const version = await store.getPolicyVersion(T);
    const report = await syncPolicy(store, small, { tenantId: T, clock, prune: true });
    expect(dry).toEqual({ ...report, dryRun: true });
    expect(report.pruned).toEqual(['retired', 'retired_child']);
    expect(report.skipped).toEqual([
      { key: 'still_needed', origin: 'policy', reason: 'inherited' },
      { key: 'tweaked', origin: 'policy', reason: 'customized' },
    ]);
    expect((await store.listRoles(T)).map((role) => role.key)).toEqual(['editor', 'my_role', 'needs_it', 'still_needed', 'support', 'tenant_admin', 'tweaked', 'viewer']);
    expect(await store.getAssignment(T, 'asg_1')).toBeNull();
    expect(await store.getAssignment(T, 'asg_2')).not.toBeNull();
    expect(await store.getPolicyVersion(T)).toBeGreaterThan(version);

    const forced = await syncPolicy(store, small, { tenantId: T, clock, prune: true, force: true });
    expect(forced.pruned).toEqual(['tweaked']);
  });

  it('with dryRun, reports exactly what a real run does and writes nothing', async () => {
    const { clock, store } = setup([buildRole({ tenantId: T, key: 'viewer', origin: 'policy', rules: [] , name: 'viewer' })]);
    const dry = await syncPolicy(store, small, { tenantId: T, clock, dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, created: ['editor'], updated: ['viewer'] });
    expect(await store.getPolicyVersion(T)).toBe(1);
    expect(await store.getRole(T, 'editor')).toBeNull();
    const real = await syncPolicy(store, small, { tenantId: T, clock });
    expect(real).toEqual({ ...dry, dryRun: false });
  });

  it('accepts roles inheriting stored roles, and refuses inheriting a role that will not exist, writing nothing', async () => {
    const { clock, store } = setup([buildRole({ tenantId: T, key: 'viewer', origin: 'system' })]);
    const inheritsSeeded = definePolicy({ roles: { editor: { permissions: ['docs:*'], inherits: ['viewer'] } } });
    expect((await syncPolicy(store, inheritsSeeded, { tenantId: T, clock })).created).toEqual(['editor']);

    const dangling = definePolicy({
      roles: { aaa_new: { permissions: [] }, writer: { permissions: ['docs:*'], inherits: ['aaa_new', 'ghost'] } },
    });
    const version = await store.getPolicyVersion(T);
    await expect(syncPolicy(store, dangling, { tenantId: T, clock })).rejects.toEqual(
      code('POLICY_INVALID', { path: 'roles.writer.inherits.1' }),
    );
    expect(await store.getPolicyVersion(T)).toBe(version);
    expect(await store.getRole(T, 'aaa_new')).toBeNull();
  });

  it('refuses a policy that would close a cycle through stored roles, before writing anything', async () => {
    const { clock, store } = setup([buildRole({ tenantId: T, key: 'team_lead', origin: 'custom', inherits: ['editor'] })]);
    await syncPolicy(store, { roles: { editor: { permissions: ['docs:*'] } } }, { tenantId: T, clock });
    const version = await store.getPolicyVersion(T);
    const cyclic = definePolicy({
      roles: {
        aaa_new: { permissions: [] },
        editor: { permissions: ['docs:*'], inherits: ['team_lead'] },
      },
    });
    await expect(syncPolicy(store, cyclic, { tenantId: T, clock })).rejects.toEqual(
      code('ROLE_INHERITANCE_CYCLE', { cycle: ['editor', 'team_lead', 'editor'] }),
    );
    await expect(syncPolicy(store, cyclic, { tenantId: T, clock, dryRun: true })).rejects.toEqual(code('ROLE_INHERITANCE_CYCLE'));
    expect(await store.getPolicyVersion(T)).toBe(version);
    expect(await store.getRole(T, 'aaa_new')).toBeNull();
  });

  it('validates a raw definition passed instead of a parsed policy', async () => {
    const { clock, store } = setup();
    expect((await syncPolicy(store, { roles: { viewer: { permissions: ['*:read'] } } }, { tenantId: T, clock })).created).toEqual(['viewer']);
    await expect(syncPolicy(store, { roles: { viewer: { permissions: ['bad pattern'] } } }, { tenantId: T, clock })).rejects.toEqual(
      code('POLICY_INVALID', { path: 'roles.viewer.permissions.0' }),
    );
  });

  it('syncs global roles with tenantId null and touches no tenant (and the other way round)', async () => {
    const { clock, store } = setup([buildRole({ tenantId: 'tnt_b', key: 'editor', origin: 'policy', rules: [] })]);
    const policy = definePolicy(fixtureDefinition);
    const report = await syncPolicy(store, policy, { tenantId: null, clock, prune: true });
    expect(report).toMatchObject({ tenantId: null, created: ['support_agent'] });
    expect(await store.getRole(null, 'support_agent')).toMatchObject({ tenantId: null, origin: 'policy', rules: [
      { effect: 'allow', permission: '*:read' },
      { effect: 'deny', permission: 'billing:*' },
    ] });
    expect(await store.listRoles(T)).toEqual([]);
    await syncPolicy(store, policy, { tenantId: T, clock, prune: true });
    expect(await store.getRole('tnt_b', 'editor')).toMatchObject({ rules: [], version: 1 });
    expect(await store.listRoles(null)).toHaveLength(1);
  });

  it('retries a compare-and-set that lost to a concurrent writer, and re-decides', async () => {
    const { clock, store } = setup();
    await syncPolicy(store, small, { tenantId: T, clock });
    const changed = definePolicy({ roles: { viewer: { permissions: ['*:read', '*:list'] }, editor: { permissions: ['docs:*'], inherits: ['viewer'] } } });

    // Another process edits the (uncustomized) role between the sync's read and its write.
    let interfered = false;
    const { store: racing, order } = interceptingStore(store, {
      beforeUpdate: async (role) => {
        if (interfered) return;
        interfered = true;
        const current = (await store.getRole(T, role.key)) as Role;
        expect(await store.updateRole({ ...current, name: 'Renamed elsewhere', version: current.version + 1 }, current.version)).toBe(true);
      },
    });
    const report = await syncPolicy(racing, changed, { tenantId: T, clock });
    expect(report.updated).toEqual(['viewer']);
    expect(order).toEqual(['update viewer', 'update viewer']);
    expect(await store.getRole(T, 'viewer')).toMatchObject({ name: 'viewer', version: 3, rules: [{ permission: '*:read' }, { permission: '*:list' }] });

    // A tenant customizes the role in between: the sync re-reads and leaves it alone.
    const again = definePolicy({ roles: { viewer: { permissions: ['*:read'] }, editor: { permissions: ['docs:*'], inherits: ['viewer'] } } });
    const { store: customizing } = interceptingStore(store, {
      beforeUpdate: async (role) => {
        const current = (await store.getRole(T, role.key)) as Role;
        if (!current.customized) await store.updateRole({ ...current, customized: true, version: current.version + 1 }, current.version);
      },
    });
    const skipped = await syncPolicy(customizing, again, { tenantId: T, clock });
    expect(skipped.skipped).toEqual([{ key: 'viewer', origin: 'policy', reason: 'customized' }]);
    expect(skipped.updated).toEqual([]);
  });

  it('handles losing an insert race: the concurrent copy is compared like any stored role', async () => {
    const { clock, store } = setup();
    const { store: racing } = interceptingStore(store, {
      beforeInsert: async (role) => {
        if (role.key === 'viewer' && (await store.getRole(T, 'viewer')) === null) await store.insertRole(role);
        if (role.key === 'editor' && (await store.getRole(T, 'editor')) === null) await store.insertRole({ ...role, name: 'Other writer' });
      },
    });
    const report = await syncPolicy(racing, small, { tenantId: T, clock });
    expect(report).toMatchObject({ created: [], unchanged: ['viewer'], updated: ['editor'] });
    expect(await store.getRole(T, 'editor')).toMatchObject({ name: 'editor', version: 2 });
  });

  it('gives up with STORE_CONFLICT on a role that never stops changing', async () => {
    const { clock, store } = setup();
    await syncPolicy(store, { roles: { viewer: { permissions: [] } } }, { tenantId: T, clock });
    const { store: hostile } = interceptingStore(store, {
      beforeUpdate: async (role) => {
        const current = (await store.getRole(T, role.key)) as Role;
        await store.updateRole({ ...current, version: current.version + 1 }, current.version);
      },
    });
    await expect(syncPolicy(hostile, { roles: { viewer: { permissions: ['*:read'] } } }, { tenantId: T, clock })).rejects.toEqual(
      code('STORE_CONFLICT', { key: 'viewer' }),
    );
  });

  it('tells the invalidation channel once when something changed, never on a no-op or a dry run', async () => {
    const { clock, store } = setup();
    const published: (string | null)[] = [];
    const invalidation: InvalidationChannel = {
      publish: async (tenantId) => {
        published.push(tenantId);
      },
      subscribe: async () => async () => undefined,
      close: async () => undefined,
    };
    await syncPolicy(store, small, { tenantId: T, clock, invalidation, dryRun: true });
    await syncPolicy(store, small, { tenantId: T, clock, invalidation });
    await syncPolicy(store, small, { tenantId: T, clock, invalidation });
    expect(published).toEqual([T]);
  });

  it('validates its options', async () => {
    const { store } = setup();
    await expect(syncPolicy(store, small, {} as never)).rejects.toEqual(code('CONFIGURATION_INVALID'));
    await expect(syncPolicy(store, small, undefined as never)).rejects.toEqual(code('CONFIGURATION_INVALID'));
    await expect(syncPolicy(store, small, { tenantId: '../x' })).rejects.toEqual(code('TENANT_IDENTIFIER_INVALID'));
    await expect(syncPolicy(store, small, { tenantId: '' })).rejects.toEqual(code('TENANT_IDENTIFIER_INVALID'));
    await expect(syncPolicy(store, small, { tenantId: T, purge: true } as never)).rejects.toEqual(code('CONFIGURATION_INVALID'));
    await expect(syncPolicy(store, small, { tenantId: T, prune: 'yes' as never })).rejects.toEqual(code('CONFIGURATION_INVALID'));
    await expect(syncPolicy(store, small, { tenantId: T, clock: {} as never })).rejects.toEqual(code('CONFIGURATION_INVALID'));
    await expect(syncPolicy({} as never, small, { tenantId: T })).rejects.toEqual(code('CONFIGURATION_INVALID'));
  });
});
