import type { RoleAssignment } from '../../assignments/role-assignment.js';
import { RbacError } from '../../errors.js';
import type { Group, GroupMember } from '../../groups/group.js';
import type { Role } from '../../roles/role.js';

/*
 * The documents the MongoDB RBAC store keeps: the record itself, field by field, under a natural
 * `_id` made of the record's own key (an embedded document whose fields are always built in the
 * same order, since an embedded `_id` matches only field-for-field). `tenantId` is also kept at
 * the top level, where every secondary index (and a shard key) leads with it.
 */

/**
 * A role as stored; `_id` is `{ tenantId, key }` (`tenantId: null` for a global role).
 *
 * @example
 * ```ts
 * const document: RoleDocument = roleToDocument(role);
 * ```
 */
export type RoleDocument = Role & { _id: { tenantId: string | null; key: string } };

/**
 * A group as stored; `_id` is `{ tenantId, id }`.
 *
 * @example
 * ```ts
 * const document: GroupDocument = groupToDocument(group);
 * ```
 */
export type GroupDocument = Group & { _id: { tenantId: string; id: string } };

/**
 * A direct membership as stored; `_id` is `{ tenantId, groupId, userId }`, so a second
 * membership of the same user in the same group is impossible by construction.
 *
 * @example
 * ```ts
 * const document: GroupMemberDocument = groupMemberToDocument(member);
 * ```
 */
export type GroupMemberDocument = GroupMember & { _id: { tenantId: string; groupId: string; userId: string } };

/**
 * An assignment as stored; `_id` is `{ tenantId, id }`.
 *
 * @example
 * ```ts
 * const document: AssignmentDocument = assignmentToDocument(assignment);
 * ```
 */
export type AssignmentDocument = RoleAssignment & { _id: { tenantId: string; id: string } };

/**
 * A tenant's policy version (`tenantId: null`: the global roles'). Every mutation of the tenant
 * increments it inside its transaction, which also makes it the tenant's write lock (see
 * {@link mongoRbacStore}).
 *
 * @example
 * ```ts
 * const document: PolicyVersionDocument = { _id: { tenantId: 'tnt_1' }, tenantId: 'tnt_1', version: 3 };
 * ```
 */
export interface PolicyVersionDocument {
  _id: { tenantId: string | null };
  tenantId: string | null;
  version: number;
}

/**
 * A JSON-exact copy of a record: `undefined` members disappear (BSON would store them as
 * `null`), and what JSON cannot hold fails with `VALIDATION_FAILED`, so the MongoDB store keeps
 * exactly what the memory and SQL stores keep.
 *
 * @example
 * ```ts
 * const stored = toStoredJson(role, 'role');
 * ```
 */
export function toStoredJson<T>(record: T, what: string): T {
  let serialized: string | undefined;
  try {
    serialized = JSON.stringify(record);
  } catch (cause) {
    throw new RbacError('VALIDATION_FAILED', `The ${what} is not JSON-serializable`, { cause });
  }
  if (serialized === undefined) throw new RbacError('VALIDATION_FAILED', `The ${what} is not JSON-serializable`);
  return JSON.parse(serialized) as T;
}

/**
 * The document stored for a role.
 *
 * @example
 * ```ts
 * await roles.insertOne(roleToDocument(role), { session });
 * ```
 */
export function roleToDocument(role: Role): RoleDocument {
  const stored = toStoredJson(role, 'role');
  return {
    _id: { tenantId: stored.tenantId, key: stored.key },
    tenantId: stored.tenantId,
    key: stored.key,
    name: stored.name,
    description: stored.description,
    rules: stored.rules,
    inherits: stored.inherits,
    assignment: stored.assignment,
    origin: stored.origin,
    customized: stored.customized,
    version: stored.version,
    createdAt: stored.createdAt,
    updatedAt: stored.updatedAt,
  };
}

/**
 * The role of a stored document, field by field (the `_id` left out).
 *
 * @example
 * ```ts
 * const role = roleFromDocument(document);
 * ```
 */
export function roleFromDocument(document: RoleDocument): Role {
  return {
    tenantId: document.tenantId,
    key: document.key,
    name: document.name,
    description: document.description,
    rules: document.rules,
    inherits: document.inherits,
    assignment: document.assignment,
    origin: document.origin,
    customized: document.customized,
    version: document.version,
    createdAt: document.createdAt,
    updatedAt: document.updatedAt,
  };
}

/**
 * The document stored for a group.
 *
 * @example
 * ```ts
 * await groups.insertOne(groupToDocument(group), { session });
 * ```
 */
export function groupToDocument(group: Group): GroupDocument {
  const stored = toStoredJson(group, 'group');
  return {
    _id: { tenantId: stored.tenantId, id: stored.id },
    tenantId: stored.tenantId,
    id: stored.id,
    name: stored.name,
    parentId: stored.parentId,
    path: stored.path,
    createdAt: stored.createdAt,
    updatedAt: stored.updatedAt,
  };
}

/**
 * The group of a stored document.
 *
 * @example
 * ```ts
 * const group = groupFromDocument(document);
 * ```
 */
export function groupFromDocument(document: GroupDocument): Group {
  return {
    tenantId: document.tenantId,
    id: document.id,
    name: document.name,
    parentId: document.parentId,
    path: document.path,
    createdAt: document.createdAt,
    updatedAt: document.updatedAt,
  };
}

/**
 * The document stored for a direct membership.
 *
 * @example
 * ```ts
 * await members.insertOne(groupMemberToDocument(member), { session });
 * ```
 */
export function groupMemberToDocument(member: GroupMember): GroupMemberDocument {
  const stored = toStoredJson(member, 'group member');
  return {
    _id: { tenantId: stored.tenantId, groupId: stored.groupId, userId: stored.userId },
    tenantId: stored.tenantId,
    groupId: stored.groupId,
    userId: stored.userId,
    createdAt: stored.createdAt,
  };
}

/**
 * The membership of a stored document.
 *
 * @example
 * ```ts
 * const member = groupMemberFromDocument(document);
 * ```
 */
export function groupMemberFromDocument(document: GroupMemberDocument): GroupMember {
  return { tenantId: document.tenantId, groupId: document.groupId, userId: document.userId, createdAt: document.createdAt };
}

/**
 * The document stored for an assignment.
 *
 * @example
 * ```ts
 * await assignments.insertOne(assignmentToDocument(assignment), { session });
 * ```
 */
export function assignmentToDocument(assignment: RoleAssignment): AssignmentDocument {
  const stored = toStoredJson(assignment, 'assignment');
  return {
    _id: { tenantId: stored.tenantId, id: stored.id },
    tenantId: stored.tenantId,
    id: stored.id,
    subjectType: stored.subjectType,
    subjectId: stored.subjectId,
    roleKey: stored.roleKey,
    status: stored.status,
    expiresAt: stored.expiresAt,
    grantedBy: stored.grantedBy,
    approvedBy: stored.approvedBy,
    createdAt: stored.createdAt,
    updatedAt: stored.updatedAt,
  };
}

/**
 * The assignment of a stored document.
 *
 * @example
 * ```ts
 * const assignment = assignmentFromDocument(document);
 * ```
 */
export function assignmentFromDocument(document: AssignmentDocument): RoleAssignment {
  return {
    tenantId: document.tenantId,
    id: document.id,
    subjectType: document.subjectType,
    subjectId: document.subjectId,
    roleKey: document.roleKey,
    status: document.status,
    expiresAt: document.expiresAt,
    grantedBy: document.grantedBy,
    approvedBy: document.approvedBy,
    createdAt: document.createdAt,
    updatedAt: document.updatedAt,
  };
}
