import type {
  AssignmentListQuery,
  AssignmentSubject,
  Group,
  RbacErrorCode,
  RbacStore,
  Role,
  RoleAssignment,
} from '@tenantkit/rbac';
import { requireTenantId } from '@tenantkit/tenant-context';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runLeakKit, type LeakKitTarget } from './leak-kit.js';
import { buildAssignment, buildGroup, buildGroupMember, buildRole } from './rbac-fixtures.js';
import { fixtureEpochMs, padIndex } from './tenant-context-fixtures.js';

/**
 * How the RBAC store conformance suite gets the store under test.
 *
 * `setup()` runs before every test and must return a store over empty state (truncate the
 * tables, drop the collections, or create a new memory store). `teardown()`, when given, runs
 * after every test.
 *
 * @example
 * ```ts
 * const factory: RbacStoreConformanceFactory = {
 *   async setup() {
 *     await truncateRbacTables(db);
 *     return kyselyRbacStore(db);
 *   },
 * };
 * ```
 */
export interface RbacStoreConformanceFactory {
  /** Returns the store, over empty state. Called before each test. */
  setup(): Promise<RbacStore>;
  /** Releases what `setup()` acquired. Called after each test. */
  teardown?(): Promise<void>;
}

/**
 * Tuning of {@link describeRbacStoreConformance} for slow backends.
 *
 * @example
 * ```ts
 * const options: RbacStoreConformanceOptions = { leakKitOperations: 10_000, isolationRuns: 50 };
 * ```
 */
export interface RbacStoreConformanceOptions {
  /** Random operations of the leak-kit run; default 3,000. */
  readonly leakKitOperations?: number;
  /** Runs of the two-tenant isolation property; default 20. */
  readonly isolationRuns?: number;
  /** Timeout of the property-based tests in ms; default 60,000. */
  readonly propertyTimeoutMs?: number;
}

/**
 * Registers the shared conformance tests of the `RbacStore` contract. Every adapter runs it
 * against a real backend, so the suite assumes nothing beyond the TSDoc of `src/store.ts`: ids,
 * keys and paths where order matters are same-length lower-case ASCII after a common prefix, so
 * any collation sorts them alike; timestamps all have the same number of digits.
 *
 * Beyond the TSDoc it pins what every adapter must agree on: a successful mutation bumps the
 * policy version by exactly one and a failed one not at all; ids are scoped to their tenant (the
 * same group or assignment id may exist in two tenants); `updateRole` refuses a new version that
 * is not the expected one plus one; a duplicate wins over a reached limit; `listAssignments`
 * lists expired assignments and returns a `null` cursor on the last page, even a full one; a
 * move keeps the descendants' `updatedAt`.
 *
 * @example
 * ```ts
 * import { describeRbacStoreConformance } from '@tenantkit/test-utils';
 * import { memoryRbacStore } from '../../src/adapters/memory.js';
 *
 * describeRbacStoreConformance('memory', { setup: async () => memoryRbacStore() });
 * ```
 */
export function describeRbacStoreConformance(
  name: string,
  factory: RbacStoreConformanceFactory,
  options: RbacStoreConformanceOptions = {},
): void {
  describe(`${name}: rbac store conformance`, () => {
    let store: RbacStore;

    beforeEach(async () => {
      store = await factory.setup();
    });

    afterEach(async () => {
      await factory.teardown?.();
    });

    const getStore: StoreAccessor = () => store;
    describeRoles(getStore);
    describeGlobalRoles(getStore);
    describeGroups(getStore);
    describeGroupMoves(getStore);
    describeGroupDeletion(getStore);
    describeGroupMembers(getStore);
    describeAssignments(getStore);
    describeAssignmentLimits(getStore);
    describeAssignmentListing(getStore);
    describeTenantWideDeletes(getStore);
    describePolicyVersions(getStore);
    describeConcurrency(getStore);
    describeMalformedInput(getStore);
    describePrototypeKeys(getStore);
    describeIsolationProperty(getStore, options);
    describeLeakKit(getStore, options);
  });
}

/** The tenants the leak-kit run drives; one id is a prefix of another. */
const leakKitTenants = ['tnt_leak_a', 'tnt_leak_ab', 'tnt_leak_b'] as const;

/**
 * A leak-kit target over a store's roles (record id → role key, value → role name) for the
 * tenant in scope. `reset()` deletes the data of `tenants`, which must be the tenants passed to
 * `runLeakKit`. The conformance suite runs it; an adapter can run it again with more operations.
 *
 * @example
 * ```ts
 * const tenants = ['tnt_leak_a', 'tnt_leak_ab', 'tnt_leak_b'];
 * await runLeakKit(rbacStoreLeakKitTarget(store, tenants), { tenants, operations: 10_000 });
 * ```
 */
export function rbacStoreLeakKitTarget(store: RbacStore, tenants: readonly string[]): LeakKitTarget {
  return {
    async reset() {
      for (const tenant of tenants) await store.deleteTenantData(tenant);
    },
    async insert(record) {
      const tenantId = requireTenantId();
      const inserted = await store.insertRole(buildRole({ tenantId, key: record.id, name: record.value }));
      if (!inserted) throw new Error(`leak kit: insertRole(${tenantId}, ${record.id}) reported an existing role`);
    },
    async get(id) {
      const role = await store.getRole(requireTenantId(), id);
      return role === null ? undefined : { id: role.key, value: role.name };
    },
    async list() {
      const roles = await store.listRoles(requireTenantId());
      return roles.map((role) => ({ id: role.key, value: role.name }));
    },
    async update(id, value) {
      const tenantId = requireTenantId();
      const role = await store.getRole(tenantId, id);
      if (role === null) return 0;
      const updated = await store.updateRole({ ...role, name: value, version: role.version + 1, updatedAt: role.updatedAt + 1 }, role.version);
      return updated ? 1 : 0;
    },
    async remove(id) {
      return (await store.deleteRole(requireTenantId(), id)) ? 1 : 0;
    },
    async count() {
      return (await store.listRoles(requireTenantId())).length;
    },
  };
}

type StoreAccessor = () => RbacStore;

const tenantA = 'tnt_0001';
const tenantB = 'tnt_0002';
/** A moment after every fixture timestamp, the `now` of assignment inserts. */
const now = fixtureEpochMs + 1_000_000;
const noLimit = { maxAssignments: null, now } as const;

async function expectErrorCode(promise: Promise<unknown>, code: RbacErrorCode): Promise<void> {
  await expect(promise).rejects.toMatchObject({ name: 'RbacError', code });
}

function userSubject(id: string): AssignmentSubject {
  return { type: 'user', id };
}

function groupSubject(id: string): AssignmentSubject {
  return { type: 'group', id };
}

function ids(records: readonly { readonly id: string }[]): string[] {
  return records.map((record) => record.id);
}

async function listAllAssignments(store: RbacStore, tenantId: string, query: Omit<AssignmentListQuery, 'cursor'>): Promise<RoleAssignment[]> {
  const items: RoleAssignment[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 1000; pages += 1) {
    const page = await store.listAssignments(tenantId, cursor === undefined ? query : { ...query, cursor });
    expect(page.items.length).toBeLessThanOrEqual(query.limit);
    items.push(...page.items);
    if (page.nextCursor === null) return items;
    expect(typeof page.nextCursor).toBe('string');
    expect(page.items.length).toBe(query.limit);
    cursor = page.nextCursor;
  }
  throw new Error('listAssignments never returned a null cursor');
}

/** Every group's path is its parent's path plus its id, and its parent exists. */
function expectConsistentTree(groups: readonly Group[]): void {
  const byId = new Map(groups.map((group) => [group.id, group]));
  for (const group of groups) {
    const parent = group.parentId === null ? null : byId.get(group.parentId);
    expect(parent, `parent of ${group.id}`).not.toBeUndefined();
    expect(group.path).toBe(`${parent?.path ?? '/'}${group.id}/`);
  }
}

/** A role carrying what a JSON column or document can lose: nested conditions, unicode, order. */
const richRole: Role = buildRole({
  tenantId: tenantA,
  key: 'editor',
  name: 'Rédacteur — 編集者 🚀 "quoted" \\ back\\slash',
  description: 'Edits documents; ünïcödé and emoji 🇪🇺 survive',
  rules: [
    { effect: 'allow', permission: 'docs:*' },
    { effect: 'deny', permission: 'docs:delete', description: 'never deletes' },
    {
      effect: 'allow',
      permission: 'docs:publish:own',
      condition: {
        all: [
          { self: 'resource.ownerId' },
          { any: [{ field: 'resource.status', op: 'in', value: ['draft', 'review', 'ßpecial'] }, { not: { field: 'resource.locked', op: 'eq', value: true } }] },
          { field: 'resource.score', op: 'gte', value: 0.125 },
          { field: 'resource.archivedAt', op: 'eq', value: null },
          { field: 'principal.attributes.department', op: 'eq', value: { ref: 'context.department' } },
          { timeWindow: { daysOfWeek: [5, 1, 3], fromTime: '22:00', toTime: '06:00', timeZone: 'Europe/Berlin' } },
        ],
      },
    },
    { effect: 'allow', permission: 'comments:read' },
  ],
  inherits: ['viewer', 'author', 'commenter'],
  assignment: { restricted: true, selfAssignable: true, maxAssignments: 7, requiresApproval: true },
  origin: 'system',
  customized: true,
  version: 4,
  createdAt: fixtureEpochMs,
  updatedAt: fixtureEpochMs + 60_001,
});

function describeRoles(getStore: StoreAccessor): void {
  describe('roles', () => {
    it('round-trips every field, nested conditions and array order included', async () => {
      const store = getStore();
      expect(await store.insertRole(richRole)).toBe(true);
      expect(await store.getRole(tenantA, 'editor')).toEqual(richRole);
      expect(await store.listRoles(tenantA)).toEqual([richRole]);
      const plain = buildRole({ tenantId: tenantA, key: 'viewer', rules: [], description: '' });
      await store.insertRole(plain);
      const stored = await store.getRole(tenantA, 'viewer');
      expect(stored).toEqual(plain);
      expect(stored?.assignment.maxAssignments).toBeNull();
      expect(stored?.rules).toEqual([]);
      expect(stored?.inherits).toEqual([]);
    });

    it('returns null for a missing role and lists roles ordered by key', async () => {
      const store = getStore();
      expect(await store.getRole(tenantA, 'role_0001')).toBeNull();
      expect(await store.listRoles(tenantA)).toEqual([]);
      for (const index of [3, 1, 4, 2]) await store.insertRole(buildRole({ tenantId: tenantA, key: `role_${padIndex(index)}` }));
      expect((await store.listRoles(tenantA)).map((role) => role.key)).toEqual(['role_0001', 'role_0002', 'role_0003', 'role_0004']);
    });

    it('refuses a second role with the same key in a tenant and keeps the first', async () => {
      const store = getStore();
      const first = buildRole({ tenantId: tenantA, key: 'editor', name: 'First' });
      expect(await store.insertRole(first)).toBe(true);
      expect(await store.insertRole(buildRole({ tenantId: tenantA, key: 'editor', name: 'Second' }))).toBe(false);
      expect(await store.getRole(tenantA, 'editor')).toEqual(first);
    });

    it('keeps the same key apart in two tenants', async () => {
      const store = getStore();
      const a = buildRole({ tenantId: tenantA, key: 'editor', name: 'A editor' });
      const b = buildRole({ tenantId: tenantB, key: 'editor', name: 'B editor' });
      expect(await store.insertRole(a)).toBe(true);
      expect(await store.insertRole(b)).toBe(true);
      expect(await store.getRole(tenantA, 'editor')).toEqual(a);
      expect(await store.getRole(tenantB, 'editor')).toEqual(b);
      expect(await store.deleteRole(tenantA, 'editor')).toBe(true);
      expect(await store.getRole(tenantB, 'editor')).toEqual(b);
    });

    it('updates a role by compare-and-set on its version', async () => {
      const store = getStore();
      const role = buildRole({ tenantId: tenantA, key: 'editor', version: 1 });
      await store.insertRole(role);
      const next: Role = {
        ...role,
        name: 'Editor v2',
        rules: [{ effect: 'deny', permission: '*', condition: { not: { field: 'context.ip', op: 'eq', value: '10.0.0.1' } } }],
        inherits: ['b', 'a'],
        customized: true,
        version: 2,
        updatedAt: fixtureEpochMs + 5,
      };
      expect(await store.updateRole(next, 1)).toBe(true);
      expect(await store.getRole(tenantA, 'editor')).toEqual(next);
      // A writer that read version 1 lost the race.
      expect(await store.updateRole({ ...role, name: 'Stale', version: 2 }, 1)).toBe(false);
      expect(await store.getRole(tenantA, 'editor')).toEqual(next);
      expect(await store.updateRole({ ...next, version: 3 }, 2)).toBe(true);
      expect((await store.getRole(tenantA, 'editor'))?.version).toBe(3);
    });

    it('does not update a missing role, nor one of another tenant', async () => {
      const store = getStore();
      await store.insertRole(buildRole({ tenantId: tenantB, key: 'editor' }));
      expect(await store.updateRole(buildRole({ tenantId: tenantA, key: 'editor', version: 2 }), 1)).toBe(false);
      expect(await store.getRole(tenantA, 'editor')).toBeNull();
      expect((await store.getRole(tenantB, 'editor'))?.version).toBe(1);
    });

    it('refuses a new version that is not the expected version plus one', async () => {
      const store = getStore();
      const role = buildRole({ tenantId: tenantA, key: 'editor' });
      await store.insertRole(role);
      await expectErrorCode(store.updateRole({ ...role, version: 1 }, 1), 'VALIDATION_FAILED');
      await expectErrorCode(store.updateRole({ ...role, version: 5 }, 1), 'VALIDATION_FAILED');
      expect(await store.getRole(tenantA, 'editor')).toEqual(role);
    });

    it('deletes a role with every assignment of it in that tenant, and nothing else', async () => {
      const store = getStore();
      await store.insertRole(buildRole({ tenantId: tenantA, key: 'editor' }));
      await store.insertRole(buildRole({ tenantId: tenantA, key: 'viewer' }));
      await store.insertRole(buildRole({ tenantId: tenantB, key: 'editor' }));
      const doomed = [
        buildAssignment({ tenantId: tenantA, id: 'asg_0001', roleKey: 'editor', subjectId: 'usr_0001' }),
        buildAssignment({ tenantId: tenantA, id: 'asg_0002', roleKey: 'editor', subjectType: 'group', subjectId: 'grp_0001', status: 'pending' }),
      ];
      const kept = [
        buildAssignment({ tenantId: tenantA, id: 'asg_0003', roleKey: 'viewer', subjectId: 'usr_0001' }),
        buildAssignment({ tenantId: tenantB, id: 'asg_0004', roleKey: 'editor', subjectId: 'usr_0001' }),
      ];
      for (const assignment of [...doomed, ...kept]) expect(await store.insertAssignment(assignment, noLimit)).toBe('inserted');

      expect(await store.deleteRole(tenantA, 'editor')).toBe(true);
      expect(await store.getRole(tenantA, 'editor')).toBeNull();
      for (const assignment of doomed) expect(await store.getAssignment(tenantA, assignment.id)).toBeNull();
      expect(await store.getAssignment(tenantA, 'asg_0003')).toEqual(kept[0]);
      expect(await store.getAssignment(tenantB, 'asg_0004')).toEqual(kept[1]);
      expect((await store.getRole(tenantB, 'editor'))?.key).toBe('editor');
      expect(await store.deleteRole(tenantA, 'editor')).toBe(false);
      expect(await store.deleteRole(tenantA, 'role_none')).toBe(false);
    });

    it('copies records in and out: mutating what was passed or returned changes nothing stored', async () => {
      const store = getStore();
      const input = structuredClone(richRole) as { -readonly [K in keyof Role]: unknown } & Role;
      await store.insertRole(input);
      (input.rules as PermissionRuleLike[]).push({ effect: 'allow', permission: 'evil:*' });
      (input.inherits as string[]).length = 0;
      (input as { name: string }).name = 'mutated';
      const read = (await store.getRole(tenantA, 'editor'))!;
      expect(read).toEqual(richRole);
      try {
        (read.rules as PermissionRuleLike[]).push({ effect: 'allow', permission: 'evil:*' });
        (read as { name: string }).name = 'mutated';
        (read.assignment as { restricted: boolean }).restricted = false;
      } catch {
        // A store may hand out frozen records; refusing the mutation is fine too.
      }
      expect(await store.getRole(tenantA, 'editor')).toEqual(richRole);
      const listed = await store.listRoles(tenantA);
      try {
        listed.pop();
        (listed as unknown as Role[]).push(buildRole({ tenantId: tenantA, key: 'ghost' }));
      } catch {
        // As above.
      }
      expect(await store.listRoles(tenantA)).toEqual([richRole]);
    });
  });
}

interface PermissionRuleLike {
  effect: 'allow' | 'deny';
  permission: string;
}

function describeGlobalRoles(getStore: StoreAccessor): void {
  describe('global roles (tenantId null)', () => {
    it('keeps global roles apart from every tenant', async () => {
      const store = getStore();
      const global = buildRole({ tenantId: null, key: 'editor', name: 'Global editor', origin: 'custom' });
      const tenant = buildRole({ tenantId: tenantA, key: 'editor', name: 'Tenant editor', origin: 'global' });
      expect(await store.insertRole(global)).toBe(true);
      expect(await store.insertRole(tenant)).toBe(true);
      expect(await store.insertRole(buildRole({ tenantId: null, key: 'editor' }))).toBe(false);
      expect(await store.getRole(null, 'editor')).toEqual(global);
      expect(await store.getRole(tenantA, 'editor')).toEqual(tenant);
      expect(await store.getRole(tenantB, 'editor')).toBeNull();
      expect(await store.listRoles(null)).toEqual([global]);
      expect(await store.listRoles(tenantA)).toEqual([tenant]);
      expect(await store.listRoles(tenantB)).toEqual([]);
    });

    it('updates and deletes a global role without touching tenants, and versions them apart', async () => {
      const store = getStore();
      const global = buildRole({ tenantId: null, key: 'editor' });
      await store.insertRole(global);
      await store.insertRole(buildRole({ tenantId: tenantA, key: 'editor' }));
      expect(await store.getPolicyVersion(null)).toBe(1);
      expect(await store.getPolicyVersion(tenantA)).toBe(1);
      expect(await store.updateRole({ ...global, name: 'Renamed', version: 2 }, 1)).toBe(true);
      expect((await store.getRole(null, 'editor'))?.name).toBe('Renamed');
      expect((await store.getRole(tenantA, 'editor'))?.name).toBe('Role editor');
      expect(await store.getPolicyVersion(null)).toBe(2);
      expect(await store.getPolicyVersion(tenantA)).toBe(1);
      expect(await store.deleteRole(null, 'editor')).toBe(true);
      expect(await store.getRole(null, 'editor')).toBeNull();
      expect((await store.getRole(tenantA, 'editor'))?.key).toBe('editor');
      expect(await store.getPolicyVersion(null)).toBe(3);
    });

    it('survives deleteTenantData of every tenant', async () => {
      const store = getStore();
      const global = buildRole({ tenantId: null, key: 'viewer' });
      await store.insertRole(global);
      await store.insertRole(buildRole({ tenantId: tenantA, key: 'viewer' }));
      await store.deleteTenantData(tenantA);
      expect(await store.listRoles(null)).toEqual([global]);
      expect(await store.getPolicyVersion(null)).toBe(1);
    });
  });
}

function describeGroups(getStore: StoreAccessor): void {
  describe('groups', () => {
    it('round-trips groups and lists them ordered by path', async () => {
      const store = getStore();
      const root1 = buildGroup({ tenantId: tenantA, id: 'grp_0002', name: 'Engineering — 技術 🚀' });
      const root2 = buildGroup({ tenantId: tenantA, id: 'grp_0001', name: 'Sales' });
      const child = buildGroup({ tenantId: tenantA, id: 'grp_0003', name: 'Backend', parent: root1, createdAt: fixtureEpochMs + 7 });
      const grandchild = buildGroup({ tenantId: tenantA, id: 'grp_0004', name: 'Databases', parent: child });
      const child2 = buildGroup({ tenantId: tenantA, id: 'grp_0005', name: 'EMEA', parent: root2 });
      for (const group of [root1, child, grandchild, root2, child2]) expect(await store.insertGroup(group)).toBe(true);

      expect(await store.getGroup(tenantA, 'grp_0004')).toEqual(grandchild);
      expect((await store.getGroup(tenantA, 'grp_0002'))?.parentId).toBeNull();
      expect(await store.getGroup(tenantA, 'grp_none')).toBeNull();
      expect(await store.getGroup(tenantB, 'grp_0004')).toBeNull();
      expect(await store.listGroups(tenantA)).toEqual([root2, child2, root1, child, grandchild]);
      expect(await store.listGroups(tenantB)).toEqual([]);
    });

    it('refuses an existing id and a sibling with the same name, roots included', async () => {
      const store = getStore();
      const root = buildGroup({ tenantId: tenantA, id: 'grp_0001', name: 'Engineering' });
      await store.insertGroup(root);
      await store.insertGroup(buildGroup({ tenantId: tenantA, id: 'grp_0002', name: 'Backend', parent: root }));
      expect(await store.insertGroup(buildGroup({ tenantId: tenantA, id: 'grp_0001', name: 'Other' }))).toBe(false);
      expect(await store.insertGroup(buildGroup({ tenantId: tenantA, id: 'grp_0003', name: 'Engineering' }))).toBe(false);
      expect(await store.insertGroup(buildGroup({ tenantId: tenantA, id: 'grp_0004', name: 'Backend', parent: root }))).toBe(false);
      // The same name elsewhere in the tree, or in another tenant, is fine.
      expect(await store.insertGroup(buildGroup({ tenantId: tenantA, id: 'grp_0005', name: 'Backend' }))).toBe(true);
      expect(await store.insertGroup(buildGroup({ tenantId: tenantA, id: 'grp_0006', name: 'Engineering', parent: root }))).toBe(true);
      expect(await store.insertGroup(buildGroup({ tenantId: tenantB, id: 'grp_0007', name: 'Engineering' }))).toBe(true);
      expect(ids(await store.listGroups(tenantA))).toEqual(['grp_0001', 'grp_0002', 'grp_0006', 'grp_0005']);
    });

    it('scopes group ids to their tenant', async () => {
      const store = getStore();
      const a = buildGroup({ tenantId: tenantA, id: 'grp_0001', name: 'A' });
      const b = buildGroup({ tenantId: tenantB, id: 'grp_0001', name: 'B' });
      expect(await store.insertGroup(a)).toBe(true);
      expect(await store.insertGroup(b)).toBe(true);
      expect(await store.getGroup(tenantA, 'grp_0001')).toEqual(a);
      expect(await store.getGroup(tenantB, 'grp_0001')).toEqual(b);
    });

    it('renames a group unless a sibling has the name', async () => {
      const store = getStore();
      const root = buildGroup({ tenantId: tenantA, id: 'grp_0001', name: 'Engineering' });
      const backend = buildGroup({ tenantId: tenantA, id: 'grp_0002', name: 'Backend', parent: root });
      await store.insertGroup(root);
      await store.insertGroup(backend);
      await store.insertGroup(buildGroup({ tenantId: tenantA, id: 'grp_0003', name: 'Frontend', parent: root }));
      await store.insertGroup(buildGroup({ tenantId: tenantA, id: 'grp_0004', name: 'Platform' }));

      expect(await store.renameGroup(tenantA, 'grp_0002', 'Frontend', fixtureEpochMs + 10)).toBe(false);
      expect(await store.getGroup(tenantA, 'grp_0002')).toEqual(backend);
      // A name a group outside the siblings has is fine.
      expect(await store.renameGroup(tenantA, 'grp_0002', 'Platform', fixtureEpochMs + 20)).toBe(true);
      expect(await store.getGroup(tenantA, 'grp_0002')).toEqual({ ...backend, name: 'Platform', updatedAt: fixtureEpochMs + 20 });
      expect(await store.renameGroup(tenantA, 'grp_0004', 'Engineering', fixtureEpochMs + 30)).toBe(false);
      expect(await store.renameGroup(tenantA, 'grp_none', 'Anything', fixtureEpochMs + 30)).toBe(false);
      expect(await store.renameGroup(tenantB, 'grp_0002', 'Anything', fixtureEpochMs + 30)).toBe(false);
      expect((await store.getGroup(tenantA, 'grp_0002'))?.name).toBe('Platform');
    });
  });
}

/** Builds `/grp_0001/`, `/grp_0001/grp_0002/`, `/grp_0001/grp_0002/grp_0003/` and root `/grp_0004/`. */
async function insertChain(store: RbacStore, tenantId = tenantA): Promise<Group[]> {
  const g1 = buildGroup({ tenantId, id: 'grp_0001', name: 'One' });
  const g2 = buildGroup({ tenantId, id: 'grp_0002', name: 'Two', parent: g1 });
  const g3 = buildGroup({ tenantId, id: 'grp_0003', name: 'Three', parent: g2 });
  const g4 = buildGroup({ tenantId, id: 'grp_0004', name: 'Four' });
  for (const group of [g1, g2, g3, g4]) expect(await store.insertGroup(group)).toBe(true);
  return [g1, g2, g3, g4];
}

function describeGroupMoves(getStore: StoreAccessor): void {
  describe('moveGroup', () => {
    it('moves a subtree under a new parent, rewriting every descendant path', async () => {
      const store = getStore();
      const [g1, g2, g3, g4] = await insertChain(store);
      const movedAt = fixtureEpochMs + 99;
      expect(await store.moveGroup(tenantA, 'grp_0002', 'grp_0004', movedAt)).toBe('moved');
      expect(await store.getGroup(tenantA, 'grp_0002')).toEqual({ ...g2!, parentId: 'grp_0004', path: '/grp_0004/grp_0002/', updatedAt: movedAt });
      // Descendants get a new path and keep everything else.
      expect(await store.getGroup(tenantA, 'grp_0003')).toEqual({ ...g3!, path: '/grp_0004/grp_0002/grp_0003/' });
      expect(await store.getGroup(tenantA, 'grp_0001')).toEqual(g1);
      expect(await store.getGroup(tenantA, 'grp_0004')).toEqual(g4);
      const groups = await store.listGroups(tenantA);
      expect(ids(groups)).toEqual(['grp_0001', 'grp_0004', 'grp_0002', 'grp_0003']);
      expectConsistentTree(groups);
    });

    it('moves a subtree to the root', async () => {
      const store = getStore();
      await insertChain(store);
      expect(await store.moveGroup(tenantA, 'grp_0002', null, fixtureEpochMs + 1)).toBe('moved');
      expect((await store.getGroup(tenantA, 'grp_0002'))?.path).toBe('/grp_0002/');
      expect((await store.getGroup(tenantA, 'grp_0002'))?.parentId).toBeNull();
      expect((await store.getGroup(tenantA, 'grp_0003'))?.path).toBe('/grp_0002/grp_0003/');
      expectConsistentTree(await store.listGroups(tenantA));
    });

    it('refuses to move a group under itself or a descendant, changing nothing', async () => {
      const store = getStore();
      const chain = await insertChain(store);
      expect(await store.moveGroup(tenantA, 'grp_0001', 'grp_0001', fixtureEpochMs + 1)).toBe('cycle');
      expect(await store.moveGroup(tenantA, 'grp_0001', 'grp_0002', fixtureEpochMs + 1)).toBe('cycle');
      expect(await store.moveGroup(tenantA, 'grp_0001', 'grp_0003', fixtureEpochMs + 1)).toBe('cycle');
      expect(await store.moveGroup(tenantA, 'grp_0002', 'grp_0003', fixtureEpochMs + 1)).toBe('cycle');
      expect(await store.listGroups(tenantA)).toEqual([chain[0], chain[1], chain[2], chain[3]]);
    });

    it('reports a missing group or parent, changing nothing', async () => {
      const store = getStore();
      const chain = await insertChain(store);
      await store.insertGroup(buildGroup({ tenantId: tenantB, id: 'grp_0009', name: 'Elsewhere' }));
      expect(await store.moveGroup(tenantA, 'grp_none', null, fixtureEpochMs + 1)).toBe('not-found');
      expect(await store.moveGroup(tenantA, 'grp_0002', 'grp_none', fixtureEpochMs + 1)).toBe('parent-not-found');
      // A parent of another tenant does not exist here.
      expect(await store.moveGroup(tenantA, 'grp_0002', 'grp_0009', fixtureEpochMs + 1)).toBe('parent-not-found');
      expect(await store.moveGroup(tenantB, 'grp_0002', null, fixtureEpochMs + 1)).toBe('not-found');
      expect(await store.listGroups(tenantA)).toEqual([chain[0], chain[1], chain[2], chain[3]]);
    });

    it('refuses a move next to a sibling of the same name, changing nothing', async () => {
      const store = getStore();
      const chain = await insertChain(store);
      const twin = buildGroup({ tenantId: tenantA, id: 'grp_0005', name: 'Two', parent: chain[3]! });
      await store.insertGroup(twin);
      expect(await store.moveGroup(tenantA, 'grp_0002', 'grp_0004', fixtureEpochMs + 1)).toBe('name-taken');
      expect(await store.listGroups(tenantA)).toEqual([chain[0], chain[1], chain[2], chain[3], twin]);
      await store.insertGroup(buildGroup({ tenantId: tenantA, id: 'grp_0006', name: 'Three' }));
      expect(await store.moveGroup(tenantA, 'grp_0003', null, fixtureEpochMs + 1)).toBe('name-taken');
    });

    it('matches descendants by whole path segments, not by prefix or pattern', async () => {
      const store = getStore();
      // `_` and `%` are LIKE wildcards, and `grp_a` is a prefix of `grp_ab`.
      const a = buildGroup({ tenantId: tenantA, id: 'grp_a', name: 'A' });
      const aChild = buildGroup({ tenantId: tenantA, id: 'grp_a_child', name: 'A child', parent: a });
      const lookalike = buildGroup({ tenantId: tenantA, id: 'grpxa', name: 'Lookalike' });
      const lookalikeChild = buildGroup({ tenantId: tenantA, id: 'grpxa_child', name: 'Lookalike child', parent: lookalike });
      const prefixed = buildGroup({ tenantId: tenantA, id: 'grp_ab', name: 'Prefixed' });
      const percent = buildGroup({ tenantId: tenantA, id: 'grp%', name: 'Percent' });
      const percentChild = buildGroup({ tenantId: tenantA, id: 'grp%_child', name: 'Percent child', parent: percent });
      const target = buildGroup({ tenantId: tenantA, id: 'grp_target', name: 'Target' });
      for (const group of [a, aChild, lookalike, lookalikeChild, prefixed, percent, percentChild, target]) await store.insertGroup(group);

      // grp_ab is no descendant of grp_a, so this is no cycle.
      expect(await store.moveGroup(tenantA, 'grp_a', 'grp_ab', fixtureEpochMs + 1)).toBe('moved');
      expect(await store.moveGroup(tenantA, 'grp%', 'grp_target', fixtureEpochMs + 1)).toBe('moved');
      expect(await store.getGroup(tenantA, 'grpxa')).toEqual(lookalike);
      expect(await store.getGroup(tenantA, 'grpxa_child')).toEqual(lookalikeChild);
      expect((await store.getGroup(tenantA, 'grp_a_child'))?.path).toBe('/grp_ab/grp_a/grp_a_child/');
      expect((await store.getGroup(tenantA, 'grp%_child'))?.path).toBe('/grp_target/grp%/grp%_child/');
      expectConsistentTree(await store.listGroups(tenantA));
    });

    it('leaves the same ids in another tenant alone', async () => {
      const store = getStore();
      await insertChain(store, tenantA);
      const other = await insertChain(store, tenantB);
      expect(await store.moveGroup(tenantA, 'grp_0002', 'grp_0004', fixtureEpochMs + 1)).toBe('moved');
      expect(await store.listGroups(tenantB)).toEqual([other[0], other[1], other[2], other[3]]);
    });
  });
}

function describeGroupDeletion(getStore: StoreAccessor): void {
  describe('deleteGroup', () => {
    it('refuses a group with children and reports a missing one', async () => {
      const store = getStore();
      const chain = await insertChain(store);
      expect(await store.deleteGroup(tenantA, 'grp_0001')).toBe('has-children');
      expect(await store.deleteGroup(tenantA, 'grp_0002')).toBe('has-children');
      expect(await store.deleteGroup(tenantA, 'grp_none')).toBe('not-found');
      expect(await store.deleteGroup(tenantB, 'grp_0003')).toBe('not-found');
      expect(await store.listGroups(tenantA)).toEqual([chain[0], chain[1], chain[2], chain[3]]);
    });

    it('deletes a childless group with its memberships and assignments, and nothing else', async () => {
      const store = getStore();
      await insertChain(store);
      await insertChain(store, tenantB);
      for (const tenantId of [tenantA, tenantB]) {
        await store.addGroupMember(buildGroupMember({ tenantId, groupId: 'grp_0003', userId: 'usr_0001' }));
        await store.addGroupMember(buildGroupMember({ tenantId, groupId: 'grp_0002', userId: 'usr_0001' }));
      }
      const doomed = buildAssignment({ tenantId: tenantA, id: 'asg_0001', subjectType: 'group', subjectId: 'grp_0003', roleKey: 'editor' });
      const parentGrant = buildAssignment({ tenantId: tenantA, id: 'asg_0002', subjectType: 'group', subjectId: 'grp_0002', roleKey: 'editor' });
      // A user whose id equals the group's is another subject.
      const userGrant = buildAssignment({ tenantId: tenantA, id: 'asg_0003', subjectType: 'user', subjectId: 'grp_0003', roleKey: 'editor' });
      const otherTenant = buildAssignment({ tenantId: tenantB, id: 'asg_0004', subjectType: 'group', subjectId: 'grp_0003', roleKey: 'editor' });
      for (const assignment of [doomed, parentGrant, userGrant, otherTenant]) await store.insertAssignment(assignment, noLimit);

      expect(await store.deleteGroup(tenantA, 'grp_0003')).toBe('deleted');
      expect(await store.getGroup(tenantA, 'grp_0003')).toBeNull();
      expect(await store.listGroupMembers(tenantA, 'grp_0003')).toEqual([]);
      expect(await store.getAssignment(tenantA, 'asg_0001')).toBeNull();
      expect(await store.getAssignment(tenantA, 'asg_0002')).toEqual(parentGrant);
      expect(await store.getAssignment(tenantA, 'asg_0003')).toEqual(userGrant);
      expect(ids(await store.listUserGroups(tenantA, 'usr_0001'))).toEqual(['grp_0002']);
      expect(await store.getAssignment(tenantB, 'asg_0004')).toEqual(otherTenant);
      expect(ids(await store.listUserGroups(tenantB, 'usr_0001'))).toEqual(['grp_0002', 'grp_0003']);
      // Its parent is childless now.
      expect(await store.deleteGroup(tenantA, 'grp_0002')).toBe('deleted');
      expect(await store.deleteGroup(tenantA, 'grp_0002')).toBe('not-found');
    });
  });
}

function describeGroupMembers(getStore: StoreAccessor): void {
  describe('group members', () => {
    it('adds, lists (ordered by user id) and removes direct members', async () => {
      const store = getStore();
      await insertChain(store);
      const members = [3, 1, 2].map((index) =>
        buildGroupMember({ tenantId: tenantA, groupId: 'grp_0002', userId: `usr_${padIndex(index)}`, createdAt: fixtureEpochMs + index }),
      );
      for (const member of members) expect(await store.addGroupMember(member)).toBe(true);
      expect(await store.listGroupMembers(tenantA, 'grp_0002')).toEqual([members[1], members[2], members[0]]);
      expect(await store.listGroupMembers(tenantA, 'grp_0001')).toEqual([]);
      expect(await store.listGroupMembers(tenantA, 'grp_none')).toEqual([]);
      expect(await store.listGroupMembers(tenantB, 'grp_0002')).toEqual([]);

      expect(await store.removeGroupMember(tenantA, 'grp_0002', 'usr_0001')).toBe(true);
      expect(await store.removeGroupMember(tenantA, 'grp_0002', 'usr_0001')).toBe(false);
      expect(await store.removeGroupMember(tenantB, 'grp_0002', 'usr_0002')).toBe(false);
      expect((await store.listGroupMembers(tenantA, 'grp_0002')).map((member) => member.userId)).toEqual(['usr_0002', 'usr_0003']);
    });

    it('refuses a second direct membership and a membership of a missing group', async () => {
      const store = getStore();
      await insertChain(store);
      const first = buildGroupMember({ tenantId: tenantA, groupId: 'grp_0001', userId: 'usr_0001' });
      expect(await store.addGroupMember(first)).toBe(true);
      expect(await store.addGroupMember({ ...first, createdAt: fixtureEpochMs + 5 })).toBe(false);
      expect(await store.listGroupMembers(tenantA, 'grp_0001')).toEqual([first]);
      expect(await store.addGroupMember(buildGroupMember({ tenantId: tenantA, groupId: 'grp_none', userId: 'usr_0001' }))).toBe(false);
      // The group exists only in tenant A.
      expect(await store.addGroupMember(buildGroupMember({ tenantId: tenantB, groupId: 'grp_0001', userId: 'usr_0001' }))).toBe(false);
      // A membership of another group (a descendant included) is another membership.
      expect(await store.addGroupMember(buildGroupMember({ tenantId: tenantA, groupId: 'grp_0002', userId: 'usr_0001' }))).toBe(true);
    });

    it("lists a user's direct groups ordered by path", async () => {
      const store = getStore();
      const [g1, g2, g3, g4] = await insertChain(store);
      for (const group of [g4!, g3!, g1!]) await store.addGroupMember(buildGroupMember({ tenantId: tenantA, groupId: group.id, userId: 'usr_0001' }));
      await store.addGroupMember(buildGroupMember({ tenantId: tenantA, groupId: g2!.id, userId: 'usr_0002' }));
      expect(await store.listUserGroups(tenantA, 'usr_0001')).toEqual([g1, g3, g4]);
      expect(await store.listUserGroups(tenantA, 'usr_0002')).toEqual([g2]);
      expect(await store.listUserGroups(tenantA, 'usr_none')).toEqual([]);
      expect(await store.listUserGroups(tenantB, 'usr_0001')).toEqual([]);
      // After a move the listing shows the new paths and order.
      await store.moveGroup(tenantA, 'grp_0004', 'grp_0001', fixtureEpochMs + 1);
      expect((await store.listUserGroups(tenantA, 'usr_0001')).map((group) => group.path)).toEqual([
        '/grp_0001/',
        '/grp_0001/grp_0002/grp_0003/',
        '/grp_0001/grp_0004/',
      ]);
    });
  });
}

function describeAssignments(getStore: StoreAccessor): void {
  describe('assignments', () => {
    it('round-trips every field, nulls included', async () => {
      const store = getStore();
      const plain = buildAssignment({ tenantId: tenantA, id: 'asg_0001' });
      const full = buildAssignment({
        tenantId: tenantA,
        id: 'asg_0002',
        subjectType: 'group',
        subjectId: 'grp_0001',
        roleKey: 'editor',
        status: 'pending',
        expiresAt: now + 86_400_000,
        grantedBy: 'usr_admin',
        approvedBy: null,
        createdAt: fixtureEpochMs + 1,
        updatedAt: fixtureEpochMs + 2,
      });
      expect(await store.insertAssignment(plain, noLimit)).toBe('inserted');
      expect(await store.insertAssignment(full, noLimit)).toBe('inserted');
      const readPlain = await store.getAssignment(tenantA, 'asg_0001');
      expect(readPlain).toEqual(plain);
      expect(readPlain?.expiresAt).toBeNull();
      expect(readPlain?.grantedBy).toBeNull();
      expect(readPlain?.approvedBy).toBeNull();
      expect(await store.getAssignment(tenantA, 'asg_0002')).toEqual(full);
      expect(await store.getAssignment(tenantA, 'asg_none')).toBeNull();
      expect(await store.getAssignment(tenantB, 'asg_0001')).toBeNull();
    });

    it('refuses a second assignment of a role to the same subject', async () => {
      const store = getStore();
      const first = buildAssignment({ tenantId: tenantA, id: 'asg_0001', subjectId: 'usr_0001', roleKey: 'editor', status: 'pending' });
      expect(await store.insertAssignment(first, noLimit)).toBe('inserted');
      expect(await store.insertAssignment(buildAssignment({ tenantId: tenantA, id: 'asg_0002', subjectId: 'usr_0001', roleKey: 'editor' }), noLimit)).toBe('duplicate');
      // Still unexpired: a future expiry counts.
      expect(await store.insertAssignment(buildAssignment({ tenantId: tenantA, id: 'asg_0003', subjectId: 'usr_0002', roleKey: 'editor', expiresAt: now + 1 }), noLimit)).toBe('inserted');
      expect(await store.insertAssignment(buildAssignment({ tenantId: tenantA, id: 'asg_0004', subjectId: 'usr_0002', roleKey: 'editor' }), noLimit)).toBe('duplicate');
      expect(await store.getAssignment(tenantA, 'asg_0002')).toBeNull();
      expect(await store.getAssignment(tenantA, 'asg_0004')).toBeNull();
      expect(await store.getAssignment(tenantA, 'asg_0001')).toEqual(first);
      // Another role, a group subject with the same id, or another tenant is another assignment.
      expect(await store.insertAssignment(buildAssignment({ tenantId: tenantA, id: 'asg_0005', subjectId: 'usr_0001', roleKey: 'viewer' }), noLimit)).toBe('inserted');
      expect(
        await store.insertAssignment(buildAssignment({ tenantId: tenantA, id: 'asg_0006', subjectType: 'group', subjectId: 'usr_0001', roleKey: 'editor' }), noLimit),
      ).toBe('inserted');
      expect(await store.insertAssignment(buildAssignment({ tenantId: tenantB, id: 'asg_0007', subjectId: 'usr_0001', roleKey: 'editor' }), noLimit)).toBe('inserted');
    });

    it('replaces an expired assignment of the same subject and role (expiresAt <= now)', async () => {
      const store = getStore();
      const expired = buildAssignment({ tenantId: tenantA, id: 'asg_0001', subjectId: 'usr_0001', roleKey: 'editor', expiresAt: now - 1 });
      const expiringNow = buildAssignment({ tenantId: tenantA, id: 'asg_0002', subjectId: 'usr_0002', roleKey: 'editor', expiresAt: now, status: 'pending' });
      await store.insertAssignment(expired, { maxAssignments: null, now: now - 10 });
      await store.insertAssignment(expiringNow, { maxAssignments: null, now: now - 10 });
      const renewal = buildAssignment({ tenantId: tenantA, id: 'asg_0003', subjectId: 'usr_0001', roleKey: 'editor', expiresAt: now + 1000 });
      const renewal2 = buildAssignment({ tenantId: tenantA, id: 'asg_0004', subjectId: 'usr_0002', roleKey: 'editor' });
      expect(await store.insertAssignment(renewal, noLimit)).toBe('inserted');
      expect(await store.insertAssignment(renewal2, noLimit)).toBe('inserted');
      expect(await store.getAssignment(tenantA, 'asg_0001')).toBeNull();
      expect(await store.getAssignment(tenantA, 'asg_0002')).toBeNull();
      expect(await store.getAssignment(tenantA, 'asg_0003')).toEqual(renewal);
      expect(ids(await store.listAssignmentsForSubjects(tenantA, [userSubject('usr_0001'), userSubject('usr_0002')]))).toEqual(['asg_0003', 'asg_0004']);
    });

    it('approves a pending assignment, and only a pending one', async () => {
      const store = getStore();
      const pending = buildAssignment({ tenantId: tenantA, id: 'asg_0001', status: 'pending', grantedBy: 'usr_0009' });
      const active = buildAssignment({ tenantId: tenantA, id: 'asg_0002', subjectId: 'usr_0002' });
      const systemPending = buildAssignment({ tenantId: tenantA, id: 'asg_0003', subjectId: 'usr_0003', status: 'pending' });
      for (const assignment of [pending, active, systemPending]) await store.insertAssignment(assignment, noLimit);

      const approved = await store.approveAssignment(tenantA, 'asg_0001', 'usr_0008', fixtureEpochMs + 50);
      const expected = { ...pending, status: 'active', approvedBy: 'usr_0008', updatedAt: fixtureEpochMs + 50 };
      expect(approved).toEqual(expected);
      expect(await store.getAssignment(tenantA, 'asg_0001')).toEqual(expected);
      expect(await store.approveAssignment(tenantA, 'asg_0001', 'usr_0008', fixtureEpochMs + 60)).toBeNull();
      expect(await store.approveAssignment(tenantA, 'asg_0002', 'usr_0008', fixtureEpochMs + 60)).toBeNull();
      expect(await store.approveAssignment(tenantA, 'asg_none', 'usr_0008', fixtureEpochMs + 60)).toBeNull();
      expect(await store.approveAssignment(tenantB, 'asg_0003', 'usr_0008', fixtureEpochMs + 60)).toBeNull();
      expect(await store.getAssignment(tenantA, 'asg_0002')).toEqual(active);
      // A system approval keeps approvedBy null.
      const bySystem = await store.approveAssignment(tenantA, 'asg_0003', null, fixtureEpochMs + 70);
      expect(bySystem).toEqual({ ...systemPending, status: 'active', updatedAt: fixtureEpochMs + 70 });
      expect(bySystem?.approvedBy).toBeNull();
    });

    it('deletes an assignment and returns it', async () => {
      const store = getStore();
      const assignment = buildAssignment({ tenantId: tenantA, id: 'asg_0001', expiresAt: now + 5 });
      await store.insertAssignment(assignment, noLimit);
      await store.insertAssignment(buildAssignment({ tenantId: tenantB, id: 'asg_0001' }), noLimit);
      expect(await store.deleteAssignment(tenantA, 'asg_0001')).toEqual(assignment);
      expect(await store.deleteAssignment(tenantA, 'asg_0001')).toBeNull();
      expect(await store.getAssignment(tenantA, 'asg_0001')).toBeNull();
      expect(await store.getAssignment(tenantB, 'asg_0001')).not.toBeNull();
      // The subject can hold the role again.
      expect(await store.insertAssignment(buildAssignment({ tenantId: tenantA, id: 'asg_0002' }), noLimit)).toBe('inserted');
    });

    it('lists the assignments of several subjects, any status and expired included, ordered by id', async () => {
      const store = getStore();
      const records = [
        buildAssignment({ tenantId: tenantA, id: 'asg_0005', subjectId: 'usr_0001', roleKey: 'editor' }),
        buildAssignment({ tenantId: tenantA, id: 'asg_0002', subjectType: 'group', subjectId: 'grp_0001', roleKey: 'editor', status: 'pending' }),
        buildAssignment({ tenantId: tenantA, id: 'asg_0003', subjectId: 'usr_0001', roleKey: 'viewer', expiresAt: now - 1 }, ),
        buildAssignment({ tenantId: tenantA, id: 'asg_0001', subjectId: 'usr_0002', roleKey: 'editor' }),
        buildAssignment({ tenantId: tenantA, id: 'asg_0004', subjectType: 'group', subjectId: 'usr_0001', roleKey: 'editor' }),
        buildAssignment({ tenantId: tenantB, id: 'asg_0006', subjectId: 'usr_0001', roleKey: 'editor' }),
      ];
      for (const record of records) await store.insertAssignment(record, { maxAssignments: null, now: now - 100 });
      const found = await store.listAssignmentsForSubjects(tenantA, [userSubject('usr_0001'), groupSubject('grp_0001')]);
      expect(found).toEqual([records[1], records[2], records[0]]);
      expect(await store.listAssignmentsForSubjects(tenantA, [])).toEqual([]);
      expect(await store.listAssignmentsForSubjects(tenantA, [userSubject('usr_none')])).toEqual([]);
      expect(ids(await store.listAssignmentsForSubjects(tenantA, [groupSubject('usr_0001')]))).toEqual(['asg_0004']);
      expect(ids(await store.listAssignmentsForSubjects(tenantB, [userSubject('usr_0001'), groupSubject('grp_0001')]))).toEqual(['asg_0006']);
    });
  });
}

function describeAssignmentLimits(getStore: StoreAccessor): void {
  describe('insertAssignment limits', () => {
    it('counts unexpired active and pending assignments of the role in the tenant', async () => {
      const store = getStore();
      const limit = { maxAssignments: 3, now };
      const setup = [
        buildAssignment({ tenantId: tenantA, id: 'asg_0001', subjectId: 'usr_0001', roleKey: 'owner' }),
        buildAssignment({ tenantId: tenantA, id: 'asg_0002', subjectId: 'usr_0002', roleKey: 'owner', status: 'pending' }),
        // Expired: does not count.
        buildAssignment({ tenantId: tenantA, id: 'asg_0003', subjectId: 'usr_0003', roleKey: 'owner', expiresAt: now }),
        // Other role, other tenant: do not count.
        buildAssignment({ tenantId: tenantA, id: 'asg_0004', subjectId: 'usr_0004', roleKey: 'viewer' }),
        buildAssignment({ tenantId: tenantB, id: 'asg_0005', subjectId: 'usr_0005', roleKey: 'owner' }),
        buildAssignment({ tenantId: tenantB, id: 'asg_0006', subjectId: 'usr_0006', roleKey: 'owner' }),
        buildAssignment({ tenantId: tenantB, id: 'asg_0007', subjectId: 'usr_0007', roleKey: 'owner' }),
      ];
      for (const assignment of setup) expect(await store.insertAssignment(assignment, { maxAssignments: null, now: now - 1 })).toBe('inserted');

      expect(await store.insertAssignment(buildAssignment({ tenantId: tenantA, id: 'asg_0011', subjectId: 'usr_0011', roleKey: 'owner', expiresAt: now + 1 }), limit)).toBe('inserted');
      expect(await store.insertAssignment(buildAssignment({ tenantId: tenantA, id: 'asg_0012', subjectId: 'usr_0012', roleKey: 'owner' }), limit)).toBe('limit-reached');
      expect(await store.getAssignment(tenantA, 'asg_0012')).toBeNull();
      // Once asg_0011 has expired, there is room again.
      expect(
        await store.insertAssignment(buildAssignment({ tenantId: tenantA, id: 'asg_0013', subjectId: 'usr_0013', roleKey: 'owner' }), { maxAssignments: 3, now: now + 1 }),
      ).toBe('inserted');
      // Other tenants have their own count.
      expect(await store.insertAssignment(buildAssignment({ tenantId: tenantB, id: 'asg_0014', subjectId: 'usr_0014', roleKey: 'owner' }), { maxAssignments: 4, now })).toBe('inserted');
    });

    it('replacing an expired duplicate does not count it against the limit', async () => {
      const store = getStore();
      await store.insertAssignment(buildAssignment({ tenantId: tenantA, id: 'asg_0001', subjectId: 'usr_0001', roleKey: 'owner', expiresAt: now - 5 }), { maxAssignments: 1, now: now - 10 });
      expect(await store.insertAssignment(buildAssignment({ tenantId: tenantA, id: 'asg_0002', subjectId: 'usr_0001', roleKey: 'owner' }), { maxAssignments: 1, now })).toBe('inserted');
      expect(ids(await store.listAssignmentsForSubjects(tenantA, [userSubject('usr_0001')]))).toEqual(['asg_0002']);
    });

    it('refuses everything at a limit of 0, and a duplicate wins over a reached limit', async () => {
      const store = getStore();
      expect(await store.insertAssignment(buildAssignment({ tenantId: tenantA, id: 'asg_0001', roleKey: 'owner' }), { maxAssignments: 0, now })).toBe('limit-reached');
      expect(await store.insertAssignment(buildAssignment({ tenantId: tenantA, id: 'asg_0002', roleKey: 'owner' }), { maxAssignments: 1, now })).toBe('inserted');
      expect(await store.insertAssignment(buildAssignment({ tenantId: tenantA, id: 'asg_0003', roleKey: 'owner' }), { maxAssignments: 1, now })).toBe('duplicate');
    });
  });
}

function describeAssignmentListing(getStore: StoreAccessor): void {
  describe('listAssignments', () => {
    async function seed(store: RbacStore): Promise<RoleAssignment[]> {
      const records: RoleAssignment[] = [];
      for (let index = 1; index <= 23; index += 1) {
        records.push(
          buildAssignment({
            tenantId: tenantA,
            id: `asg_${padIndex(index)}`,
            // Users hold two roles each (editor on even, viewer on odd ids); grp_0001 holds a role of its own each time.
            subjectType: index % 4 === 0 ? 'group' : 'user',
            subjectId: index % 4 === 0 ? 'grp_0001' : `usr_${padIndex(Math.floor(index / 2))}`,
            roleKey: index % 4 === 0 ? `role_${padIndex(index)}` : index % 2 === 0 ? 'editor' : 'viewer',
            status: index % 3 === 0 ? 'pending' : 'active',
            expiresAt: index % 7 === 0 ? now - 1 : null,
          }),
        );
      }
      // Inserted out of order so insertion order cannot stand in for id order.
      const shuffled = [...records].sort((a, b) => (a.id.slice(-1) < b.id.slice(-1) ? -1 : a.id.slice(-1) > b.id.slice(-1) ? 1 : 0));
      for (const record of shuffled) expect(await store.insertAssignment(record, { maxAssignments: null, now: now - 100 })).toBe('inserted');
      await store.insertAssignment(buildAssignment({ tenantId: tenantB, id: 'asg_0001', roleKey: 'editor' }), noLimit);
      return records;
    }

    it('pages through every assignment ordered by id, expired ones included', async () => {
      const store = getStore();
      const records = await seed(store);
      for (const limit of [1, 5, 23, 500]) {
        expect(await listAllAssignments(store, tenantA, { limit })).toEqual(records);
      }
      const first = await store.listAssignments(tenantA, { limit: 10 });
      expect(first.items).toEqual(records.slice(0, 10));
      expect(first.nextCursor).not.toBeNull();
      // A full last page has no next cursor.
      const exact = await store.listAssignments(tenantA, { limit: 23 });
      expect(exact.items).toHaveLength(23);
      expect(exact.nextCursor).toBeNull();
      expect(await store.listAssignments(tenantB, { limit: 500 })).toMatchObject({ items: [{ tenantId: tenantB, id: 'asg_0001' }], nextCursor: null });
      expect(await store.listAssignments('tnt_none', { limit: 10 })).toEqual({ items: [], nextCursor: null });
    });

    it('filters by role, subject and status, alone and together', async () => {
      const store = getStore();
      const records = await seed(store);
      const cases: Omit<AssignmentListQuery, 'limit' | 'cursor'>[] = [
        { roleKey: 'editor' },
        { status: 'pending' },
        { status: 'active' },
        { subject: userSubject('usr_0003') },
        { roleKey: 'role_0008' },
        { subject: groupSubject('grp_0001') },
        { subject: userSubject('grp_0001') },
        { roleKey: 'viewer', status: 'active', subject: userSubject('usr_0003') },
        { roleKey: 'role_none' },
      ];
      for (const filter of cases) {
        const expected = records.filter(
          (record) =>
            (filter.roleKey === undefined || record.roleKey === filter.roleKey) &&
            (filter.status === undefined || record.status === filter.status) &&
            (filter.subject === undefined || (record.subjectType === filter.subject.type && record.subjectId === filter.subject.id)),
        );
        expect(await listAllAssignments(store, tenantA, { ...filter, limit: 3 }), JSON.stringify(filter)).toEqual(expected);
      }
    });

    it('refuses page sizes outside 1-500 and cursors it did not issue', async () => {
      const store = getStore();
      await seed(store);
      for (const limit of [0, -1, 501, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
        await expectErrorCode(store.listAssignments(tenantA, { limit }), 'VALIDATION_FAILED');
      }
      for (const cursor of ['', 'not a cursor', '%%%', 'eyJ4IjoxfQ', Buffer.from('[1,2,3]').toString('base64url')]) {
        await expectErrorCode(store.listAssignments(tenantA, { limit: 5, cursor }), 'VALIDATION_FAILED');
      }
    });
  });
}

function describeTenantWideDeletes(getStore: StoreAccessor): void {
  describe('deleteUserGrants and deleteTenantData', () => {
    it("deletes a user's direct assignments and memberships in one tenant only", async () => {
      const store = getStore();
      for (const tenantId of [tenantA, tenantB]) {
        await insertChain(store, tenantId);
        await store.addGroupMember(buildGroupMember({ tenantId, groupId: 'grp_0001', userId: 'usr_0001' }));
        await store.addGroupMember(buildGroupMember({ tenantId, groupId: 'grp_0003', userId: 'usr_0001' }));
        await store.addGroupMember(buildGroupMember({ tenantId, groupId: 'grp_0001', userId: 'usr_0002' }));
        await store.insertAssignment(buildAssignment({ tenantId, id: 'asg_0001', subjectId: 'usr_0001', roleKey: 'editor' }), noLimit);
        await store.insertAssignment(buildAssignment({ tenantId, id: 'asg_0002', subjectId: 'usr_0001', roleKey: 'viewer', status: 'pending' }), noLimit);
        await store.insertAssignment(buildAssignment({ tenantId, id: 'asg_0003', subjectId: 'usr_0002', roleKey: 'editor' }), noLimit);
        // A group whose id equals the user's is not the user.
        await store.insertAssignment(buildAssignment({ tenantId, id: 'asg_0004', subjectType: 'group', subjectId: 'usr_0001', roleKey: 'editor' }), noLimit);
      }
      expect(await store.deleteUserGrants(tenantA, 'usr_0001')).toEqual({ assignments: 2, groupMemberships: 2 });
      expect(await store.listUserGroups(tenantA, 'usr_0001')).toEqual([]);
      expect(ids(await store.listUserGroups(tenantA, 'usr_0002'))).toEqual(['grp_0001']);
      expect(ids(await listAllAssignments(store, tenantA, { limit: 10 }))).toEqual(['asg_0003', 'asg_0004']);
      expect(ids(await store.listUserGroups(tenantB, 'usr_0001'))).toEqual(['grp_0001', 'grp_0003']);
      expect(ids(await listAllAssignments(store, tenantB, { limit: 10 }))).toEqual(['asg_0001', 'asg_0002', 'asg_0003', 'asg_0004']);
      expect(await store.deleteUserGrants(tenantA, 'usr_0001')).toEqual({ assignments: 0, groupMemberships: 0 });
    });

    it("deletes every role, group, membership, assignment and the version of a tenant, and no other tenant's", async () => {
      const store = getStore();
      for (const tenantId of [tenantA, tenantB]) {
        await store.insertRole(buildRole({ tenantId, key: 'editor' }));
        await insertChain(store, tenantId);
        await store.addGroupMember(buildGroupMember({ tenantId, groupId: 'grp_0002', userId: 'usr_0001' }));
        await store.insertAssignment(buildAssignment({ tenantId, id: 'asg_0001', roleKey: 'editor' }), noLimit);
      }
      await store.insertRole(buildRole({ tenantId: null, key: 'editor' }));
      const versionB = await store.getPolicyVersion(tenantB);
      await store.deleteTenantData(tenantA);

      expect(await store.listRoles(tenantA)).toEqual([]);
      expect(await store.listGroups(tenantA)).toEqual([]);
      expect(await store.listGroupMembers(tenantA, 'grp_0002')).toEqual([]);
      expect(await store.listUserGroups(tenantA, 'usr_0001')).toEqual([]);
      expect(await store.listAssignments(tenantA, { limit: 10 })).toEqual({ items: [], nextCursor: null });
      expect(await store.getPolicyVersion(tenantA)).toBe(0);

      expect(await store.listRoles(tenantB)).toHaveLength(1);
      expect(await store.listGroups(tenantB)).toHaveLength(4);
      expect(ids(await store.listUserGroups(tenantB, 'usr_0001'))).toEqual(['grp_0002']);
      expect(ids((await store.listAssignments(tenantB, { limit: 10 })).items)).toEqual(['asg_0001']);
      expect(await store.getPolicyVersion(tenantB)).toBe(versionB);
      expect(await store.listRoles(null)).toHaveLength(1);

      // The tenant can start over, and deleting an empty tenant is harmless.
      await store.deleteTenantData(tenantA);
      expect(await store.insertRole(buildRole({ tenantId: tenantA, key: 'editor' }))).toBe(true);
      await store.deleteTenantData('tnt_none');
      expect(await store.getPolicyVersion('tnt_none')).toBe(0);
    });
  });
}

interface VersionCase {
  readonly name: string;
  /** Puts the store in the state the mutation starts from. */
  readonly arrange?: (store: RbacStore) => Promise<void>;
  readonly act: (store: RbacStore) => Promise<unknown>;
  readonly result: unknown;
  /** Whose version it bumps; tenant A unless told. */
  readonly tenant?: string | null;
  /** 1 when it changes something, 0 when it is a no-op. */
  readonly bump: 0 | 1;
}

async function arrangeBasics(store: RbacStore): Promise<void> {
  await store.insertRole(buildRole({ tenantId: tenantA, key: 'editor' }));
  await store.insertRole(buildRole({ tenantId: null, key: 'editor' }));
  await insertChain(store);
  await store.addGroupMember(buildGroupMember({ tenantId: tenantA, groupId: 'grp_0003', userId: 'usr_0001' }));
  await store.insertAssignment(buildAssignment({ tenantId: tenantA, id: 'asg_0001', subjectId: 'usr_0001', roleKey: 'editor', status: 'pending' }), noLimit);
  await store.insertAssignment(buildAssignment({ tenantId: tenantA, id: 'asg_0002', subjectId: 'usr_0002', roleKey: 'editor' }), noLimit);
}

const versionCases: readonly VersionCase[] = [
  { name: 'insertRole', act: (s) => s.insertRole(buildRole({ tenantId: tenantA, key: 'author' })), result: true, bump: 1 },
  { name: 'insertRole of an existing key', act: (s) => s.insertRole(buildRole({ tenantId: tenantA, key: 'editor' })), result: false, bump: 0 },
  { name: 'insertRole (global)', tenant: null, act: (s) => s.insertRole(buildRole({ tenantId: null, key: 'author' })), result: true, bump: 1 },
  { name: 'insertRole (global) of an existing key', tenant: null, act: (s) => s.insertRole(buildRole({ tenantId: null, key: 'editor' })), result: false, bump: 0 },
  { name: 'updateRole', act: (s) => s.updateRole(buildRole({ tenantId: tenantA, key: 'editor', version: 2 }), 1), result: true, bump: 1 },
  { name: 'updateRole with a stale version', act: (s) => s.updateRole(buildRole({ tenantId: tenantA, key: 'editor', version: 3 }), 2), result: false, bump: 0 },
  { name: 'updateRole of a missing role', act: (s) => s.updateRole(buildRole({ tenantId: tenantA, key: 'author', version: 2 }), 1), result: false, bump: 0 },
  { name: 'updateRole (global)', tenant: null, act: (s) => s.updateRole(buildRole({ tenantId: null, key: 'editor', version: 2 }), 1), result: true, bump: 1 },
  { name: 'deleteRole (with assignments)', act: (s) => s.deleteRole(tenantA, 'editor'), result: true, bump: 1 },
  { name: 'deleteRole of a missing role', act: (s) => s.deleteRole(tenantA, 'author'), result: false, bump: 0 },
  { name: 'deleteRole (global)', tenant: null, act: (s) => s.deleteRole(null, 'editor'), result: true, bump: 1 },
  { name: 'insertGroup', act: (s) => s.insertGroup(buildGroup({ tenantId: tenantA, id: 'grp_0009', name: 'New' })), result: true, bump: 1 },
  { name: 'insertGroup of an existing id', act: (s) => s.insertGroup(buildGroup({ tenantId: tenantA, id: 'grp_0001', name: 'New' })), result: false, bump: 0 },
  { name: 'insertGroup of a taken name', act: (s) => s.insertGroup(buildGroup({ tenantId: tenantA, id: 'grp_0009', name: 'One' })), result: false, bump: 0 },
  { name: 'renameGroup', act: (s) => s.renameGroup(tenantA, 'grp_0001', 'Uno', fixtureEpochMs + 1), result: true, bump: 1 },
  { name: 'renameGroup to a taken name', act: (s) => s.renameGroup(tenantA, 'grp_0001', 'Four', fixtureEpochMs + 1), result: false, bump: 0 },
  { name: 'renameGroup of a missing group', act: (s) => s.renameGroup(tenantA, 'grp_none', 'Uno', fixtureEpochMs + 1), result: false, bump: 0 },
  { name: 'moveGroup', act: (s) => s.moveGroup(tenantA, 'grp_0002', 'grp_0004', fixtureEpochMs + 1), result: 'moved', bump: 1 },
  { name: 'moveGroup into a cycle', act: (s) => s.moveGroup(tenantA, 'grp_0001', 'grp_0003', fixtureEpochMs + 1), result: 'cycle', bump: 0 },
  { name: 'moveGroup of a missing group', act: (s) => s.moveGroup(tenantA, 'grp_none', null, fixtureEpochMs + 1), result: 'not-found', bump: 0 },
  { name: 'moveGroup under a missing parent', act: (s) => s.moveGroup(tenantA, 'grp_0002', 'grp_none', fixtureEpochMs + 1), result: 'parent-not-found', bump: 0 },
  {
    name: 'moveGroup next to a same-named sibling',
    arrange: async (s) => {
      await s.insertGroup(buildGroup({ tenantId: tenantA, id: 'grp_0009', name: 'Two' }));
    },
    act: (s) => s.moveGroup(tenantA, 'grp_0009', 'grp_0001', fixtureEpochMs + 1),
    result: 'name-taken',
    bump: 0,
  },
  { name: 'deleteGroup', act: (s) => s.deleteGroup(tenantA, 'grp_0003'), result: 'deleted', bump: 1 },
  { name: 'deleteGroup with children', act: (s) => s.deleteGroup(tenantA, 'grp_0001'), result: 'has-children', bump: 0 },
  { name: 'deleteGroup of a missing group', act: (s) => s.deleteGroup(tenantA, 'grp_none'), result: 'not-found', bump: 0 },
  { name: 'addGroupMember', act: (s) => s.addGroupMember(buildGroupMember({ tenantId: tenantA, groupId: 'grp_0001', userId: 'usr_0001' })), result: true, bump: 1 },
  { name: 'addGroupMember again', act: (s) => s.addGroupMember(buildGroupMember({ tenantId: tenantA, groupId: 'grp_0003', userId: 'usr_0001' })), result: false, bump: 0 },
  { name: 'addGroupMember to a missing group', act: (s) => s.addGroupMember(buildGroupMember({ tenantId: tenantA, groupId: 'grp_none', userId: 'usr_0001' })), result: false, bump: 0 },
  { name: 'removeGroupMember', act: (s) => s.removeGroupMember(tenantA, 'grp_0003', 'usr_0001'), result: true, bump: 1 },
  { name: 'removeGroupMember of a non-member', act: (s) => s.removeGroupMember(tenantA, 'grp_0003', 'usr_0002'), result: false, bump: 0 },
  { name: 'insertAssignment', act: (s) => s.insertAssignment(buildAssignment({ tenantId: tenantA, id: 'asg_0009', subjectId: 'usr_0009', roleKey: 'editor' }), noLimit), result: 'inserted', bump: 1 },
  { name: 'insertAssignment of a duplicate', act: (s) => s.insertAssignment(buildAssignment({ tenantId: tenantA, id: 'asg_0009', subjectId: 'usr_0001', roleKey: 'editor' }), noLimit), result: 'duplicate', bump: 0 },
  {
    name: 'insertAssignment over the limit',
    act: (s) => s.insertAssignment(buildAssignment({ tenantId: tenantA, id: 'asg_0009', subjectId: 'usr_0009', roleKey: 'editor' }), { maxAssignments: 2, now }),
    result: 'limit-reached',
    bump: 0,
  },
  { name: 'approveAssignment', act: async (s) => (await s.approveAssignment(tenantA, 'asg_0001', null, fixtureEpochMs + 1))?.status, result: 'active', bump: 1 },
  { name: 'approveAssignment of an active one', act: (s) => s.approveAssignment(tenantA, 'asg_0002', null, fixtureEpochMs + 1), result: null, bump: 0 },
  { name: 'deleteAssignment', act: async (s) => (await s.deleteAssignment(tenantA, 'asg_0002'))?.id, result: 'asg_0002', bump: 1 },
  { name: 'deleteAssignment of a missing one', act: (s) => s.deleteAssignment(tenantA, 'asg_none'), result: null, bump: 0 },
  { name: 'deleteUserGrants', act: (s) => s.deleteUserGrants(tenantA, 'usr_0001'), result: { assignments: 1, groupMemberships: 1 }, bump: 1 },
  { name: 'deleteUserGrants of a user without grants', act: (s) => s.deleteUserGrants(tenantA, 'usr_0009'), result: { assignments: 0, groupMemberships: 0 }, bump: 0 },
];

function describePolicyVersions(getStore: StoreAccessor): void {
  describe('policy versions', () => {
    it('starts at 0 and counts every change', async () => {
      const store = getStore();
      expect(await store.getPolicyVersion(tenantA)).toBe(0);
      expect(await store.getPolicyVersion(null)).toBe(0);
      await arrangeBasics(store);
      // 1 role + 4 groups + 1 membership + 2 assignments.
      expect(await store.getPolicyVersion(tenantA)).toBe(8);
      expect(await store.getPolicyVersion(null)).toBe(1);
      expect(await store.getPolicyVersion(tenantB)).toBe(0);
    });

    it.each(versionCases.map((testCase) => [testCase.name, testCase] as const))('%s', async (_name, testCase) => {
      const store = getStore();
      await arrangeBasics(store);
      await (testCase.arrange ?? (async () => undefined))(store);
      const tenant = testCase.tenant === undefined ? tenantA : testCase.tenant;
      const other = tenant === null ? tenantA : null;
      const before = await store.getPolicyVersion(tenant);
      const otherBefore = await store.getPolicyVersion(other);
      expect(await testCase.act(store)).toEqual(testCase.result);
      expect(await store.getPolicyVersion(tenant)).toBe(before + testCase.bump);
      expect(await store.getPolicyVersion(other)).toBe(otherBefore);
      expect(await store.getPolicyVersion(tenantB)).toBe(0);
    });
  });
}

function describeConcurrency(getStore: StoreAccessor): void {
  describe('atomicity under concurrency', () => {
    it('20 concurrent inserts with maxAssignments 3 insert exactly 3', async () => {
      const store = getStore();
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          store.insertAssignment(
            buildAssignment({ tenantId: tenantA, id: `asg_${padIndex(index)}`, subjectId: `usr_${padIndex(index)}`, roleKey: 'owner' }),
            { maxAssignments: 3, now },
          ),
        ),
      );
      expect(outcomes.filter((outcome) => outcome === 'inserted')).toHaveLength(3);
      expect(outcomes.filter((outcome) => outcome === 'limit-reached')).toHaveLength(17);
      expect((await store.listAssignments(tenantA, { limit: 500 })).items).toHaveLength(3);
      expect(await store.getPolicyVersion(tenantA)).toBe(3);
    });

    it('concurrent duplicate assignments insert one', async () => {
      const store = getStore();
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, (_, index) =>
          store.insertAssignment(buildAssignment({ tenantId: tenantA, id: `asg_${padIndex(index)}`, subjectId: 'usr_0001', roleKey: 'owner' }), noLimit),
        ),
      );
      expect(outcomes.filter((outcome) => outcome === 'inserted')).toHaveLength(1);
      expect(outcomes.filter((outcome) => outcome === 'duplicate')).toHaveLength(9);
      expect(await store.listAssignmentsForSubjects(tenantA, [userSubject('usr_0001')])).toHaveLength(1);
    });

    it('concurrent replacements of one expired assignment insert one', async () => {
      const store = getStore();
      await store.insertAssignment(buildAssignment({ tenantId: tenantA, id: 'asg_0100', subjectId: 'usr_0001', roleKey: 'owner', expiresAt: now - 1 }), { maxAssignments: null, now: now - 2 });
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, (_, index) =>
          store.insertAssignment(buildAssignment({ tenantId: tenantA, id: `asg_${padIndex(index)}`, subjectId: 'usr_0001', roleKey: 'owner' }), noLimit),
        ),
      );
      expect(outcomes.filter((outcome) => outcome === 'inserted')).toHaveLength(1);
      expect(await store.listAssignmentsForSubjects(tenantA, [userSubject('usr_0001')])).toHaveLength(1);
    });

    it('concurrent updates from the same version: exactly one wins', async () => {
      const store = getStore();
      const role = buildRole({ tenantId: tenantA, key: 'editor' });
      await store.insertRole(role);
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, index) => store.updateRole({ ...role, name: `Writer ${index}`, version: 2 }, 1)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect(await store.getRole(tenantA, 'editor')).toEqual({ ...role, name: `Writer ${winner}`, version: 2 });
      expect(await store.getPolicyVersion(tenantA)).toBe(2);
    });

    it('concurrent inserts of one role key, group id or membership: exactly one wins', async () => {
      const store = getStore();
      const roles = await Promise.all(Array.from({ length: 8 }, (_, index) => store.insertRole(buildRole({ tenantId: tenantA, key: 'editor', name: `R${index}` }))));
      expect(roles.filter(Boolean)).toHaveLength(1);
      const groups = await Promise.all(Array.from({ length: 8 }, (_, index) => store.insertGroup(buildGroup({ tenantId: tenantA, id: 'grp_0001', name: `G${index}` }))));
      expect(groups.filter(Boolean)).toHaveLength(1);
      const siblings = await Promise.all(Array.from({ length: 8 }, (_, index) => store.insertGroup(buildGroup({ tenantId: tenantA, id: `grp_${padIndex(index + 10)}`, name: 'Same' }))));
      expect(siblings.filter(Boolean)).toHaveLength(1);
      const members = await Promise.all(Array.from({ length: 8 }, () => store.addGroupMember(buildGroupMember({ tenantId: tenantA, groupId: 'grp_0001', userId: 'usr_0001' }))));
      expect(members.filter(Boolean)).toHaveLength(1);
      expect(await store.listGroupMembers(tenantA, 'grp_0001')).toHaveLength(1);
    });

    it('concurrent crossing moves: one moves, the other is a cycle', async () => {
      const store = getStore();
      await store.insertGroup(buildGroup({ tenantId: tenantA, id: 'grp_0001', name: 'One' }));
      await store.insertGroup(buildGroup({ tenantId: tenantA, id: 'grp_0002', name: 'Two' }));
      const outcomes = await Promise.all([
        store.moveGroup(tenantA, 'grp_0001', 'grp_0002', fixtureEpochMs + 1),
        store.moveGroup(tenantA, 'grp_0002', 'grp_0001', fixtureEpochMs + 1),
      ]);
      expect([...outcomes].sort()).toEqual(['cycle', 'moved']);
      const groups = await store.listGroups(tenantA);
      expectConsistentTree(groups);
      expect(groups.filter((group) => group.parentId === null)).toHaveLength(1);
    });

    it('concurrent approvals: one returns the assignment, the rest null', async () => {
      const store = getStore();
      await store.insertAssignment(buildAssignment({ tenantId: tenantA, id: 'asg_0001', status: 'pending' }), noLimit);
      const results = await Promise.all(Array.from({ length: 6 }, (_, index) => store.approveAssignment(tenantA, 'asg_0001', `usr_${padIndex(index)}`, fixtureEpochMs + 1)));
      expect(results.filter((result) => result !== null)).toHaveLength(1);
    });

    it('concurrent changes of one tenant lose no version bump', async () => {
      const store = getStore();
      await Promise.all(Array.from({ length: 12 }, (_, index) => store.insertRole(buildRole({ tenantId: tenantA, key: `role_${padIndex(index)}` }))));
      expect(await store.getPolicyVersion(tenantA)).toBe(12);
      expect(await store.listRoles(tenantA)).toHaveLength(12);
    });
  });
}

function describeMalformedInput(getStore: StoreAccessor): void {
  describe('malformed input', () => {
    it('refuses a non-string tenant or id (an operator object must not become a query)', async () => {
      const store = getStore();
      await store.insertRole(buildRole({ tenantId: tenantA, key: 'editor' }));
      await store.insertAssignment(buildAssignment({ tenantId: tenantA, id: 'asg_0001' }), noLimit);
      const hostile = { $ne: null } as unknown as string;
      await expectErrorCode(store.getRole(hostile, 'editor'), 'VALIDATION_FAILED');
      await expectErrorCode(store.getRole(tenantA, hostile), 'VALIDATION_FAILED');
      await expectErrorCode(store.listRoles(hostile), 'VALIDATION_FAILED');
      await expectErrorCode(store.getAssignment(tenantA, hostile), 'VALIDATION_FAILED');
      await expectErrorCode(store.getGroup(hostile, 'grp_0001'), 'VALIDATION_FAILED');
      await expectErrorCode(store.listUserGroups(tenantA, hostile), 'VALIDATION_FAILED');
      await expectErrorCode(store.deleteTenantData(hostile), 'VALIDATION_FAILED');
      await expectErrorCode(store.deleteUserGrants(tenantA, hostile), 'VALIDATION_FAILED');
      await expectErrorCode(store.getPolicyVersion(hostile), 'VALIDATION_FAILED');
      expect(await store.listRoles(tenantA)).toHaveLength(1);
      expect(await store.getAssignment(tenantA, 'asg_0001')).not.toBeNull();
    });
  });
}

function describePrototypeKeys(getStore: StoreAccessor): void {
  describe('prototype-like ids', () => {
    it('stores and keeps apart tenants, groups, users and assignments named like Object.prototype members', async () => {
      const store = getStore();
      const names = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'];
      for (const tenantId of names) {
        for (const id of names) {
          expect(await store.insertGroup(buildGroup({ tenantId, id, name: `${tenantId}/${id}` }))).toBe(true);
          expect(await store.addGroupMember(buildGroupMember({ tenantId, groupId: id, userId: id }))).toBe(true);
          expect(await store.insertAssignment(buildAssignment({ tenantId, id, subjectId: id, roleKey: 'viewer' }), noLimit)).toBe('inserted');
        }
        expect(await store.insertRole(buildRole({ tenantId, key: 'viewer', name: tenantId }))).toBe(true);
      }
      for (const tenantId of names) {
        expect(await store.getPolicyVersion(tenantId)).toBe(names.length * 3 + 1);
        expect((await store.getRole(tenantId, 'viewer'))?.name).toBe(tenantId);
        expect((await store.listGroups(tenantId)).map((group) => group.name).sort()).toEqual(names.map((id) => `${tenantId}/${id}`).sort());
        for (const id of names) {
          expect((await store.getGroup(tenantId, id))?.name).toBe(`${tenantId}/${id}`);
          expect(ids(await store.listUserGroups(tenantId, id))).toEqual([id]);
          expect((await store.getAssignment(tenantId, id))?.tenantId).toBe(tenantId);
        }
      }
      expect(await store.listGroups('valueOf')).toEqual([]);
      expect(await store.getGroup(tenantA, '__proto__')).toBeNull();
      expect(await store.getPolicyVersion('valueOf')).toBe(0);
      expect(await store.getRole('__proto__', 'constructor')).toBeNull();
      await store.deleteTenantData('__proto__');
      expect(await store.listGroups('__proto__')).toEqual([]);
      expect(await store.listGroups('constructor')).toHaveLength(names.length);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Two-tenant isolation property. Tenants A and C receive the same random operations, tenant B
// its own, interleaved and partly concurrent, over the same keys and ids. Every read through A
// or C must return only their own records, and A must end exactly like C: B's operations can
// neither show through nor change anything A sees.

const isoRoleKeys = ['role_a', 'role_b', 'role_c'] as const;
const isoGroupIds = ['grp_0001', 'grp_0002', 'grp_0003', 'grp_0004'] as const;
const isoUserIds = ['usr_0001', 'usr_0002', 'usr_0003'] as const;
const isoGroupNames = ['Alpha', 'Beta'] as const;
const isoMaxSteps = 14;

type IsolationOperation =
  | { readonly kind: 'insertRole' | 'updateRole'; readonly role: number; readonly label: number }
  | { readonly kind: 'deleteRole'; readonly role: number }
  | { readonly kind: 'insertGroup'; readonly group: number; readonly parent: number | null; readonly name: number }
  | { readonly kind: 'renameGroup'; readonly group: number; readonly name: number }
  | { readonly kind: 'moveGroup'; readonly group: number; readonly parent: number | null }
  | { readonly kind: 'deleteGroup'; readonly group: number }
  | { readonly kind: 'addMember' | 'removeMember'; readonly group: number; readonly user: number }
  | { readonly kind: 'assign'; readonly toGroup: boolean; readonly subject: number; readonly role: number; readonly pending: boolean; readonly max: number | null }
  | { readonly kind: 'approve' | 'unassign'; readonly assignment: number }
  | { readonly kind: 'deleteUserGrants'; readonly user: number };

const roleIndex = fc.nat({ max: isoRoleKeys.length - 1 });
const groupIndex = fc.nat({ max: isoGroupIds.length - 1 });
const userIndex = fc.nat({ max: isoUserIds.length - 1 });
const parentIndex = fc.option(groupIndex, { nil: null });
const isolationOperation: fc.Arbitrary<IsolationOperation> = fc.oneof(
  fc.record({ kind: fc.constantFrom('insertRole' as const, 'updateRole' as const), role: roleIndex, label: fc.nat({ max: 9 }) }),
  fc.record({ kind: fc.constant('deleteRole' as const), role: roleIndex }),
  fc.record({ kind: fc.constant('insertGroup' as const), group: groupIndex, parent: parentIndex, name: fc.nat({ max: isoGroupNames.length - 1 }) }),
  fc.record({ kind: fc.constant('insertGroup' as const), group: groupIndex, parent: parentIndex, name: fc.nat({ max: isoGroupNames.length - 1 }) }),
  fc.record({ kind: fc.constant('renameGroup' as const), group: groupIndex, name: fc.nat({ max: isoGroupNames.length - 1 }) }),
  fc.record({ kind: fc.constant('moveGroup' as const), group: groupIndex, parent: parentIndex }),
  fc.record({ kind: fc.constant('deleteGroup' as const), group: groupIndex }),
  fc.record({ kind: fc.constantFrom('addMember' as const, 'removeMember' as const), group: groupIndex, user: userIndex }),
  fc.record({
    kind: fc.constant('assign' as const),
    toGroup: fc.boolean(),
    subject: fc.nat({ max: 3 }),
    role: roleIndex,
    pending: fc.boolean(),
    max: fc.option(fc.nat({ max: 3 }), { nil: null }),
  }),
  fc.record({ kind: fc.constantFrom('approve' as const, 'unassign' as const), assignment: fc.nat({ max: isoMaxSteps - 1 }) }),
  fc.record({ kind: fc.constant('deleteUserGrants' as const), user: userIndex }),
);

async function applyIsolationOperation(store: RbacStore, tenantId: string, marker: string, step: number, op: IsolationOperation): Promise<void> {
  const at = fixtureEpochMs + step;
  switch (op.kind) {
    case 'insertRole': {
      const key = isoRoleKeys[op.role]!;
      await store.insertRole(buildRole({ tenantId, key, name: `${marker} ${key} ${op.label}`, inherits: [...isoRoleKeys].filter((other) => other !== key) }));
      return;
    }
    case 'updateRole': {
      const role = await store.getRole(tenantId, isoRoleKeys[op.role]!);
      if (role !== null) {
        await store.updateRole({ ...role, name: `${marker} updated ${op.label}`, version: role.version + 1, updatedAt: at }, role.version);
      }
      return;
    }
    case 'deleteRole':
      await store.deleteRole(tenantId, isoRoleKeys[op.role]!);
      return;
    case 'insertGroup': {
      const parent = op.parent === null ? null : await store.getGroup(tenantId, isoGroupIds[op.parent]!);
      const id = isoGroupIds[op.group]!;
      await store.insertGroup(buildGroup({ tenantId, id, name: `${marker} ${isoGroupNames[op.name]!}`, parent, createdAt: at, updatedAt: at }));
      return;
    }
    case 'renameGroup':
      await store.renameGroup(tenantId, isoGroupIds[op.group]!, `${marker} ${isoGroupNames[op.name]!}`, at);
      return;
    case 'moveGroup':
      await store.moveGroup(tenantId, isoGroupIds[op.group]!, op.parent === null ? null : isoGroupIds[op.parent]!, at);
      return;
    case 'deleteGroup':
      await store.deleteGroup(tenantId, isoGroupIds[op.group]!);
      return;
    case 'addMember':
      await store.addGroupMember(buildGroupMember({ tenantId, groupId: isoGroupIds[op.group]!, userId: isoUserIds[op.user]!, createdAt: at }));
      return;
    case 'removeMember':
      await store.removeGroupMember(tenantId, isoGroupIds[op.group]!, isoUserIds[op.user]!);
      return;
    case 'assign': {
      const subjectId = op.toGroup ? isoGroupIds[op.subject % isoGroupIds.length]! : isoUserIds[op.subject % isoUserIds.length]!;
      await store.insertAssignment(
        buildAssignment({
          tenantId,
          id: `asg_${padIndex(step)}`,
          subjectType: op.toGroup ? 'group' : 'user',
          subjectId,
          roleKey: isoRoleKeys[op.role]!,
          status: op.pending ? 'pending' : 'active',
          // Some expire two steps later (see `now` below), so replacements happen too.
          expiresAt: step % 2 === 0 ? now + 1 : null,
          grantedBy: `${marker} grantor`,
          createdAt: at,
          updatedAt: at,
        }),
        { maxAssignments: op.max, now: now + (step % 3) },
      );
      return;
    }
    case 'approve':
      await store.approveAssignment(tenantId, `asg_${padIndex(op.assignment)}`, `${marker} approver`, at);
      return;
    case 'unassign':
      await store.deleteAssignment(tenantId, `asg_${padIndex(op.assignment)}`);
      return;
    case 'deleteUserGrants':
      await store.deleteUserGrants(tenantId, isoUserIds[op.user]!);
      return;
  }
}

/** Everything a tenant's calls can read, over the ids and keys the operations use. */
async function readTenant(store: RbacStore, tenantId: string): Promise<Record<string, unknown>> {
  const subjects: AssignmentSubject[] = [...isoUserIds.map(userSubject), ...isoGroupIds.map(groupSubject)];
  const assignmentIds = Array.from({ length: isoMaxSteps }, (_, index) => `asg_${padIndex(index)}`);
  return {
    roles: await store.listRoles(tenantId),
    rolesByKey: await Promise.all(isoRoleKeys.map((key) => store.getRole(tenantId, key))),
    groups: await store.listGroups(tenantId),
    groupsById: await Promise.all(isoGroupIds.map((id) => store.getGroup(tenantId, id))),
    members: await Promise.all(isoGroupIds.map((id) => store.listGroupMembers(tenantId, id))),
    userGroups: await Promise.all(isoUserIds.map((id) => store.listUserGroups(tenantId, id))),
    assignments: await listAllAssignments(store, tenantId, { limit: 4 }),
    bySubject: await store.listAssignmentsForSubjects(tenantId, subjects),
    byId: await Promise.all(assignmentIds.map((id) => store.getAssignment(tenantId, id))),
    version: await store.getPolicyVersion(tenantId),
  };
}

/** Fails when a record read for `tenantId` belongs elsewhere or carries a foreign marker. */
function expectOwnRecords(snapshot: Record<string, unknown>, tenantId: string, foreignMarker: string, context: string): void {
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(visit);
    } else if (typeof value === 'object' && value !== null) {
      if ('tenantId' in value && (value as { tenantId: unknown }).tenantId !== tenantId) {
        throw new Error(`${context}: CROSS-TENANT READ, a read for ${tenantId} returned ${JSON.stringify(value)}`);
      }
      Object.values(value).forEach(visit);
    }
  };
  visit(snapshot);
  const text = JSON.stringify(snapshot);
  if (text.includes(foreignMarker)) throw new Error(`${context}: CROSS-TENANT READ, a read for ${tenantId} shows ${foreignMarker} data: ${text}`);
}

function describeIsolationProperty(getStore: StoreAccessor, options: RbacStoreConformanceOptions): void {
  describe('tenant isolation (property-based)', () => {
    it("never lets one tenant's operations show through or change another tenant's data", async () => {
      const store = getStore();
      let run = 0;
      const steps = fc.array(fc.tuple(isolationOperation, isolationOperation), { minLength: 1, maxLength: isoMaxSteps });
      await fc.assert(
        fc.asyncProperty(steps, async (operations) => {
          run += 1;
          // Fresh tenants per run, one setup for all runs; B's id shares A's as a prefix.
          const a = `tnt_iso_${padIndex(run)}`;
          const b = `${a}b`;
          const c = `tnt_iso_${padIndex(run)}c`;
          for (const [index, [mine, theirs]] of operations.entries()) {
            await Promise.all([
              applyIsolationOperation(store, a, 'mine', index, mine),
              applyIsolationOperation(store, b, 'LEAKED', index, theirs),
              applyIsolationOperation(store, c, 'mine', index, mine),
            ]);
          }
          const [seenA, seenB, seenC] = await Promise.all([readTenant(store, a), readTenant(store, b), readTenant(store, c)]);
          expectOwnRecords(seenA, a, 'LEAKED', 'tenant A');
          expectOwnRecords(seenC, c, 'LEAKED', 'tenant C');
          expectOwnRecords(seenB, b, 'mine', 'tenant B');
          const normalized = (snapshot: Record<string, unknown>, tenantId: string) =>
            JSON.parse(JSON.stringify(snapshot).replaceAll(JSON.stringify(tenantId), '"T"')) as unknown;
          expect(normalized(seenA, a)).toEqual(normalized(seenC, c));
        }),
        { numRuns: options.isolationRuns ?? 20, endOnFailure: true },
      );
    }, options.propertyTimeoutMs ?? 60_000);
  });
}

function describeLeakKit(getStore: StoreAccessor, options: RbacStoreConformanceOptions): void {
  describe('leak kit', () => {
    it('leaks nothing over random operations on roles of three tenants', async () => {
      const store = getStore();
      const report = await runLeakKit(rbacStoreLeakKitTarget(store, leakKitTenants), {
        tenants: leakKitTenants,
        operations: options.leakKitOperations ?? 3_000,
      });
      expect(report.operations).toBeGreaterThanOrEqual(options.leakKitOperations ?? 3_000);
    }, options.propertyTimeoutMs ?? 60_000);
  });
}
