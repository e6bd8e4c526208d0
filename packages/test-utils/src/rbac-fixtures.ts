import type { Group, GroupMember, Role, RoleAssignment } from '@tenantkit/rbac';
import { fixtureEpochMs } from './tenant-context-fixtures.js';

/**
 * A role record with sensible defaults (a custom, unrestricted role granting `docs:read`,
 * version 1); pass only the fields a test cares about.
 *
 * @example
 * ```ts
 * await store.insertRole(buildRole({ tenantId: 'tnt_a', key: 'editor', rules: [{ effect: 'allow', permission: 'docs:*' }] }));
 * ```
 */
export function buildRole(overrides: Partial<Role> & Pick<Role, 'tenantId' | 'key'>): Role {
  return {
    name: `Role ${overrides.key}`,
    description: '',
    rules: [{ effect: 'allow', permission: 'docs:read' }],
    inherits: [],
    assignment: { restricted: false, selfAssignable: false, maxAssignments: null, requiresApproval: false },
    origin: 'custom',
    customized: false,
    version: 1,
    createdAt: fixtureEpochMs,
    updatedAt: fixtureEpochMs,
    ...overrides,
  };
}

/**
 * A group record. Without `path`, it is computed from `parent` (a root group when there is none),
 * so a test can build a tree without spelling out materialized paths.
 *
 * @example
 * ```ts
 * const eng = buildGroup({ tenantId: 'tnt_a', id: 'grp_0001' });
 * const backend = buildGroup({ tenantId: 'tnt_a', id: 'grp_0002', parent: eng });
 * backend.path; // '/grp_0001/grp_0002/'
 * ```
 */
export function buildGroup(
  overrides: Partial<Group> & Pick<Group, 'tenantId' | 'id'> & { readonly parent?: Pick<Group, 'id' | 'path'> | null },
): Group {
  const { parent, ...fields } = overrides;
  const parentId = fields.parentId ?? parent?.id ?? null;
  return {
    name: `Group ${fields.id}`,
    parentId,
    path: `${parent?.path ?? '/'}${fields.id}/`,
    createdAt: fixtureEpochMs,
    updatedAt: fixtureEpochMs,
    ...fields,
  };
}

/**
 * A direct group membership record.
 *
 * @example
 * ```ts
 * await store.addGroupMember(buildGroupMember({ tenantId: 'tnt_a', groupId: 'grp_0001', userId: 'usr_0001' }));
 * ```
 */
export function buildGroupMember(overrides: Partial<GroupMember> & Pick<GroupMember, 'tenantId' | 'groupId' | 'userId'>): GroupMember {
  return { createdAt: fixtureEpochMs, ...overrides };
}

/**
 * A role assignment record: an active, never-expiring grant of `viewer` to user `usr_0001` by
 * nobody (a system grant) unless told otherwise.
 *
 * @example
 * ```ts
 * await store.insertAssignment(buildAssignment({ tenantId: 'tnt_a', id: 'asg_0001', roleKey: 'editor' }), { maxAssignments: null, now });
 * ```
 */
export function buildAssignment(overrides: Partial<RoleAssignment> & Pick<RoleAssignment, 'tenantId' | 'id'>): RoleAssignment {
  return {
    subjectType: 'user',
    subjectId: 'usr_0001',
    roleKey: 'viewer',
    status: 'active',
    expiresAt: null,
    grantedBy: null,
    approvedBy: null,
    createdAt: fixtureEpochMs,
    updatedAt: fixtureEpochMs,
    ...overrides,
  };
}
