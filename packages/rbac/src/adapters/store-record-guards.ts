import type { AssignmentSubject, RoleAssignment } from '../assignments/role-assignment.js';
import { RbacError } from '../errors.js';
import type { Group, GroupMember } from '../groups/group.js';
import type { Role } from '../roles/role.js';
import { assertEpochMs, assertOneOf, assertRoleTenant, assertStoreString } from './memory/store-argument-guards.js';

/*
 * The checks the memory and MongoDB stores make on records before they keep them: the same
 * `VALIDATION_FAILED` refusals everywhere, so a malformed record (an operator object as an id,
 * a fractional timestamp) fails alike whatever the store.
 */

const subjectTypes = ['user', 'group'] as const;
const assignmentStatuses = ['active', 'pending'] as const;

/**
 * Refuses a role the store cannot keep faithfully.
 *
 * @example
 * ```ts
 * assertStorableRole(role);
 * ```
 */
export function assertStorableRole(role: Role): void {
  if (typeof role !== 'object' || role === null) throw new RbacError('VALIDATION_FAILED', 'A role must be an object');
  assertRoleTenant(role.tenantId);
  assertStoreString(role.key, 'key');
  assertStoreString(role.name, 'name');
  if (!Number.isSafeInteger(role.version) || role.version < 1) {
    throw new RbacError('VALIDATION_FAILED', 'A role version must be a positive safe integer', { details: { field: 'version' } });
  }
  assertEpochMs(role.createdAt, 'createdAt');
  assertEpochMs(role.updatedAt, 'updatedAt');
}

/**
 * Refuses a group the store cannot keep faithfully (its path must end with `/`).
 *
 * @example
 * ```ts
 * assertStorableGroup(group);
 * ```
 */
export function assertStorableGroup(group: Group): void {
  if (typeof group !== 'object' || group === null) throw new RbacError('VALIDATION_FAILED', 'A group must be an object');
  assertStoreString(group.tenantId, 'tenantId');
  assertStoreString(group.id, 'id');
  assertStoreString(group.name, 'name');
  assertStoreString(group.path, 'path');
  if (!group.path.endsWith('/')) throw new RbacError('VALIDATION_FAILED', 'A group path must end with "/"', { details: { field: 'path' } });
  if (group.parentId !== null) assertStoreString(group.parentId, 'parentId');
  assertEpochMs(group.createdAt, 'createdAt');
  assertEpochMs(group.updatedAt, 'updatedAt');
}

/**
 * Refuses a membership the store cannot keep faithfully.
 *
 * @example
 * ```ts
 * assertStorableGroupMember(member);
 * ```
 */
export function assertStorableGroupMember(member: GroupMember): void {
  if (typeof member !== 'object' || member === null) throw new RbacError('VALIDATION_FAILED', 'A group member must be an object');
  assertStoreString(member.tenantId, 'tenantId');
  assertStoreString(member.groupId, 'groupId');
  assertStoreString(member.userId, 'userId');
  assertEpochMs(member.createdAt, 'createdAt');
}

/**
 * Refuses an assignment the store cannot keep faithfully.
 *
 * @example
 * ```ts
 * assertStorableAssignment(assignment);
 * ```
 */
export function assertStorableAssignment(assignment: RoleAssignment): void {
  if (typeof assignment !== 'object' || assignment === null) throw new RbacError('VALIDATION_FAILED', 'An assignment must be an object');
  assertStoreString(assignment.tenantId, 'tenantId');
  assertStoreString(assignment.id, 'id');
  assertOneOf(assignment.subjectType, subjectTypes, 'subjectType');
  assertStoreString(assignment.subjectId, 'subjectId');
  assertStoreString(assignment.roleKey, 'roleKey');
  assertOneOf(assignment.status, assignmentStatuses, 'status');
  if (assignment.expiresAt !== null) assertEpochMs(assignment.expiresAt, 'expiresAt');
  if (assignment.grantedBy !== null) assertStoreString(assignment.grantedBy, 'grantedBy');
  if (assignment.approvedBy !== null) assertStoreString(assignment.approvedBy, 'approvedBy');
  assertEpochMs(assignment.createdAt, 'createdAt');
  assertEpochMs(assignment.updatedAt, 'updatedAt');
}

/**
 * Refuses a subject that is not `{ type: 'user' | 'group', id: string }`.
 *
 * @example
 * ```ts
 * subjects.forEach(assertStorableSubject);
 * ```
 */
export function assertStorableSubject(subject: AssignmentSubject): void {
  if (typeof subject !== 'object' || subject === null) {
    throw new RbacError('VALIDATION_FAILED', 'A subject must be an object', { details: { field: 'subject' } });
  }
  assertOneOf(subject.type, subjectTypes, 'subject type');
  assertStoreString(subject.id, 'subject id');
}

/**
 * Refuses an assignment status other than `active` / `pending`.
 *
 * @example
 * ```ts
 * if (query.status !== undefined) assertAssignmentStatus(query.status);
 * ```
 */
export function assertAssignmentStatus(status: unknown): void {
  assertOneOf(status, assignmentStatuses, 'status');
}
