import type { RoleAssignment } from '../../assignments/role-assignment.js';
import type { Group, GroupMember } from '../../groups/group.js';
import type { Role, RoleAssignmentPolicy, RoleOrigin } from '../../roles/role.js';
import type { PermissionRule } from '../../rules/permission-rule.js';
import { readJson, readNullableSafeInteger, readNullableText, readSafeInteger, readText, writeJson } from './column-values.js';
import { globalRolesTenantKey, type RbacDatabase, type RbacRow } from './schema.js';
import type { Insertable } from 'kysely';

/**
 * A role from its row; the global roles' tenant marker becomes `tenantId: null`.
 *
 * @example
 * ```ts
 * const role = roleFromRow(row);
 * ```
 */
export function roleFromRow(row: RbacRow<'rbac_roles'>): Role {
  const tenantId = readText(row.tenant_id, 'tenant_id');
  return {
    tenantId: tenantId === globalRolesTenantKey ? null : tenantId,
    key: readText(row.role_key, 'role_key'),
    name: readText(row.name, 'name'),
    description: readText(row.description, 'description'),
    rules: readJson<PermissionRule[]>(row.rules, 'rules'),
    inherits: readJson<string[]>(row.inherits, 'inherits'),
    assignment: readJson<RoleAssignmentPolicy>(row.assignment_policy, 'assignment_policy'),
    origin: readText(row.origin, 'origin') as RoleOrigin,
    customized: readSafeInteger(row.customized, 'customized') === 1,
    version: readSafeInteger(row.version, 'version'),
    createdAt: readSafeInteger(row.created_at, 'created_at'),
    updatedAt: readSafeInteger(row.updated_at, 'updated_at'),
  };
}

/**
 * The row of a role (validated by the caller first).
 *
 * @example
 * ```ts
 * await db.insertInto(tables.rbac_roles).values(roleToRow(role)).execute();
 * ```
 */
export function roleToRow(role: Role): Insertable<RbacDatabase['rbac_roles']> {
  return {
    tenant_id: role.tenantId ?? globalRolesTenantKey,
    role_key: role.key,
    name: role.name,
    description: role.description,
    rules: writeJson(role.rules, 'role rules'),
    inherits: writeJson(role.inherits, 'role inherits'),
    assignment_policy: writeJson(role.assignment, 'role assignment policy'),
    origin: role.origin,
    customized: role.customized ? 1 : 0,
    version: role.version,
    created_at: role.createdAt,
    updated_at: role.updatedAt,
  };
}

/**
 * A group from its row; the root marker `''` of `parent_id` becomes `parentId: null`.
 *
 * @example
 * ```ts
 * const group = groupFromRow(row);
 * ```
 */
export function groupFromRow(row: RbacRow<'rbac_groups'>): Group {
  const parentId = readText(row.parent_id, 'parent_id');
  return {
    tenantId: readText(row.tenant_id, 'tenant_id'),
    id: readText(row.group_id, 'group_id'),
    name: readText(row.name, 'name'),
    parentId: parentId === '' ? null : parentId,
    path: readText(row.path, 'path'),
    createdAt: readSafeInteger(row.created_at, 'created_at'),
    updatedAt: readSafeInteger(row.updated_at, 'updated_at'),
  };
}

/**
 * A direct group membership from its row.
 *
 * @example
 * ```ts
 * const member = groupMemberFromRow(row);
 * ```
 */
export function groupMemberFromRow(row: RbacRow<'rbac_group_members'>): GroupMember {
  return {
    tenantId: readText(row.tenant_id, 'tenant_id'),
    groupId: readText(row.group_id, 'group_id'),
    userId: readText(row.user_id, 'user_id'),
    createdAt: readSafeInteger(row.created_at, 'created_at'),
  };
}

/**
 * A role assignment from its row.
 *
 * @example
 * ```ts
 * const assignment = assignmentFromRow(row);
 * ```
 */
export function assignmentFromRow(row: RbacRow<'rbac_assignments'>): RoleAssignment {
  return {
    tenantId: readText(row.tenant_id, 'tenant_id'),
    id: readText(row.assignment_id, 'assignment_id'),
    subjectType: readText(row.subject_type, 'subject_type') as RoleAssignment['subjectType'],
    subjectId: readText(row.subject_id, 'subject_id'),
    roleKey: readText(row.role_key, 'role_key'),
    status: readText(row.status, 'status') as RoleAssignment['status'],
    expiresAt: readNullableSafeInteger(row.expires_at, 'expires_at'),
    grantedBy: readNullableText(row.granted_by, 'granted_by'),
    approvedBy: readNullableText(row.approved_by, 'approved_by'),
    createdAt: readSafeInteger(row.created_at, 'created_at'),
    updatedAt: readSafeInteger(row.updated_at, 'updated_at'),
  };
}

/**
 * The row of an assignment (validated by the caller first).
 *
 * @example
 * ```ts
 * await trx.insertInto(tables.rbac_assignments).values(assignmentToRow(assignment)).execute();
 * ```
 */
export function assignmentToRow(assignment: RoleAssignment): Insertable<RbacDatabase['rbac_assignments']> {
  return {
    tenant_id: assignment.tenantId,
    assignment_id: assignment.id,
    subject_type: assignment.subjectType,
    subject_id: assignment.subjectId,
    role_key: assignment.roleKey,
    status: assignment.status,
    expires_at: assignment.expiresAt,
    granted_by: assignment.grantedBy,
    approved_by: assignment.approvedBy,
    created_at: assignment.createdAt,
    updated_at: assignment.updatedAt,
  };
}
