import type { AnyBulkWriteOperation, Filter, UpdateFilter } from 'mongodb';
import type { AssignmentSubject } from '../../assignments/role-assignment.js';
import { RbacError } from '../../errors.js';
import type { AssignmentListQuery } from '../../store.js';
import { assertRoleTenant, assertStoreString } from '../memory/store-argument-guards.js';
import type { AssignmentDocument, GroupDocument, GroupMemberDocument, PolicyVersionDocument, RoleDocument } from './rbac-documents.js';

/*
 * Pure builders of every filter and update the MongoDB RBAC store sends. Caller-supplied ids are
 * checked to be strings before they enter a document, so none can smuggle in an operator
 * (`{ $ne: null }` as a tenant id would otherwise match every tenant).
 */

/**
 * The filter of one role by its `_id`.
 *
 * @throws RbacError `VALIDATION_FAILED` when the tenant is neither a string nor `null`, or the key is not a string.
 *
 * @example
 * ```ts
 * roleFilter('tnt_1', 'editor'); // { _id: { tenantId: 'tnt_1', key: 'editor' } }
 * ```
 */
export function roleFilter(tenantId: string | null, key: string): Filter<RoleDocument> {
  assertRoleTenant(tenantId);
  assertStoreString(key, 'key');
  return { _id: { tenantId, key } };
}

/**
 * The compare-and-set filter of {@link RbacStore.updateRole}: the role, at `expectedVersion`.
 *
 * @example
 * ```ts
 * roleVersionFilter('tnt_1', 'editor', 3); // { _id: { tenantId: 'tnt_1', key: 'editor' }, version: 3 }
 * ```
 */
export function roleVersionFilter(tenantId: string | null, key: string, expectedVersion: number): Filter<RoleDocument> {
  return { ...roleFilter(tenantId, key), version: expectedVersion };
}

/**
 * The filter of every role of a tenant (or, `null`, every global role).
 *
 * @example
 * ```ts
 * rolesOfTenantFilter(null); // { tenantId: null }
 * ```
 */
export function rolesOfTenantFilter(tenantId: string | null): Filter<RoleDocument> {
  assertRoleTenant(tenantId);
  // `tenantId: null` also matches a missing field; every stored role has the field.
  return { tenantId };
}

/**
 * The filter of one group by its `_id`.
 *
 * @example
 * ```ts
 * groupFilter('tnt_1', 'grp_1'); // { _id: { tenantId: 'tnt_1', id: 'grp_1' } }
 * ```
 */
export function groupFilter(tenantId: string, groupId: string): Filter<GroupDocument> {
  assertStoreString(tenantId, 'tenantId');
  assertStoreString(groupId, 'groupId');
  return { _id: { tenantId, id: groupId } };
}

/**
 * The filter of another group named `name` under `parentId` (`null`: among the roots).
 *
 * @example
 * ```ts
 * siblingNameFilter('tnt_1', null, 'Engineering', 'grp_1');
 * // { tenantId: 'tnt_1', parentId: null, name: 'Engineering', id: { $ne: 'grp_1' } }
 * ```
 */
export function siblingNameFilter(tenantId: string, parentId: string | null, name: string, exceptId: string): Filter<GroupDocument> {
  assertStoreString(tenantId, 'tenantId');
  if (parentId !== null) assertStoreString(parentId, 'parentId');
  assertStoreString(name, 'name');
  assertStoreString(exceptId, 'groupId');
  return { tenantId, parentId, name, id: { $ne: exceptId } };
}

/**
 * The filter of a group and all its descendants: the paths starting with `path`, as a range
 * (`path` ≤ p < `path` with its final `/` raised to `0`), which uses the `(tenantId, path)` index
 * and treats no character as a pattern, unlike a regular expression. Paths end with `/`, so the
 * range holds whole-segment descendants only (`/a/` never takes in `/ab/`).
 *
 * @throws RbacError `VALIDATION_FAILED` when `path` does not end with `/`.
 *
 * @example
 * ```ts
 * subtreeFilter('tnt_1', '/grp_a/'); // { tenantId: 'tnt_1', path: { $gte: '/grp_a/', $lt: '/grp_a0' } }
 * ```
 */
export function subtreeFilter(tenantId: string, path: string): Filter<GroupDocument> {
  assertStoreString(tenantId, 'tenantId');
  assertStoreString(path, 'path');
  if (!path.endsWith('/')) throw new RbacError('VALIDATION_FAILED', 'A group path must end with "/"', { details: { field: 'path' } });
  return { tenantId, path: { $gte: path, $lt: `${path.slice(0, -1)}0` } };
}

/**
 * The writes of a move: every group of the subtree gets `newPath` in place of `oldPath` at the
 * start of its path; the moved group also gets its new parent and `updatedAt` (descendants keep
 * theirs).
 *
 * @example
 * ```ts
 * groupMoveWrites(subtree, { groupId: 'grp_b', oldPath: '/grp_a/grp_b/', newPath: '/grp_b/', newParentId: null, updatedAt });
 * ```
 */
export function groupMoveWrites(
  subtree: readonly Pick<GroupDocument, '_id' | 'id' | 'path'>[],
  move: { readonly groupId: string; readonly oldPath: string; readonly newPath: string; readonly newParentId: string | null; readonly updatedAt: number },
): AnyBulkWriteOperation<GroupDocument>[] {
  return subtree.map((group) => {
    if (!group.path.startsWith(move.oldPath)) {
      throw new RbacError('STORE_CONFLICT', 'A group left the subtree being moved', { details: { groupId: group.id } });
    }
    const path = move.newPath + group.path.slice(move.oldPath.length);
    const $set = group.id === move.groupId ? { path, parentId: move.newParentId, updatedAt: move.updatedAt } : { path };
    return { updateOne: { filter: { _id: group._id }, update: { $set } } };
  });
}

/**
 * The filter of a direct membership by its `_id`.
 *
 * @example
 * ```ts
 * groupMemberFilter('tnt_1', 'grp_1', 'usr_1'); // { _id: { tenantId: 'tnt_1', groupId: 'grp_1', userId: 'usr_1' } }
 * ```
 */
export function groupMemberFilter(tenantId: string, groupId: string, userId: string): Filter<GroupMemberDocument> {
  assertStoreString(tenantId, 'tenantId');
  assertStoreString(groupId, 'groupId');
  assertStoreString(userId, 'userId');
  return { _id: { tenantId, groupId, userId } };
}

/**
 * The filter of one assignment by its `_id`.
 *
 * @example
 * ```ts
 * assignmentFilter('tnt_1', 'asg_1'); // { _id: { tenantId: 'tnt_1', id: 'asg_1' } }
 * ```
 */
export function assignmentFilter(tenantId: string, assignmentId: string): Filter<AssignmentDocument> {
  assertStoreString(tenantId, 'tenantId');
  assertStoreString(assignmentId, 'assignmentId');
  return { _id: { tenantId, id: assignmentId } };
}

/**
 * The filter of the assignment of `roleKey` to a subject (at most one exists).
 *
 * @example
 * ```ts
 * subjectRoleFilter('tnt_1', 'user', 'usr_1', 'editor');
 * // { tenantId: 'tnt_1', subjectType: 'user', subjectId: 'usr_1', roleKey: 'editor' }
 * ```
 */
export function subjectRoleFilter(tenantId: string, subjectType: string, subjectId: string, roleKey: string): Filter<AssignmentDocument> {
  assertStoreString(tenantId, 'tenantId');
  assertStoreString(subjectType, 'subjectType');
  assertStoreString(subjectId, 'subjectId');
  assertStoreString(roleKey, 'roleKey');
  return { tenantId, subjectType: subjectType as AssignmentDocument['subjectType'], subjectId, roleKey };
}

/**
 * The filter of the assignments of a role that still count against its limit at `now`: any
 * status, not expired (`expiresAt` null or after `now`).
 *
 * @example
 * ```ts
 * unexpiredOfRoleFilter('tnt_1', 'owner', now);
 * // { tenantId: 'tnt_1', roleKey: 'owner', $or: [{ expiresAt: null }, { expiresAt: { $gt: now } }] }
 * ```
 */
export function unexpiredOfRoleFilter(tenantId: string, roleKey: string, now: number): Filter<AssignmentDocument> {
  assertStoreString(tenantId, 'tenantId');
  assertStoreString(roleKey, 'roleKey');
  return { tenantId, roleKey, $or: [{ expiresAt: null }, { expiresAt: { $gt: now } }] };
}

/**
 * The filter of every assignment of any of `subjects` (none match an empty list).
 *
 * @example
 * ```ts
 * subjectsFilter('tnt_1', [{ type: 'user', id: 'usr_1' }]);
 * // { tenantId: 'tnt_1', $or: [{ subjectType: 'user', subjectId: 'usr_1' }] }
 * ```
 */
export function subjectsFilter(tenantId: string, subjects: readonly AssignmentSubject[]): Filter<AssignmentDocument> {
  assertStoreString(tenantId, 'tenantId');
  return {
    tenantId,
    $or: subjects.map((subject) => {
      assertStoreString(subject.type, 'subject type');
      assertStoreString(subject.id, 'subject id');
      return { subjectType: subject.type, subjectId: subject.id };
    }),
  };
}

/**
 * The filter of one page of {@link RbacStore.listAssignments}: the query's filters and the ids
 * after the cursor's (keyset paging on the `(tenantId, id)` index).
 *
 * @example
 * ```ts
 * assignmentListFilter('tnt_1', { limit: 50, roleKey: 'editor' }, 'asg_0042');
 * // { tenantId: 'tnt_1', roleKey: 'editor', id: { $gt: 'asg_0042' } }
 * ```
 */
export function assignmentListFilter(tenantId: string, query: AssignmentListQuery, afterId: string | null): Filter<AssignmentDocument> {
  assertStoreString(tenantId, 'tenantId');
  const filter: Record<string, unknown> = { tenantId };
  if (query.roleKey !== undefined) {
    assertStoreString(query.roleKey, 'roleKey');
    filter.roleKey = query.roleKey;
  }
  if (query.status !== undefined) filter.status = query.status;
  if (query.subject !== undefined) {
    assertStoreString(query.subject.type, 'subject type');
    assertStoreString(query.subject.id, 'subject id');
    filter.subjectType = query.subject.type;
    filter.subjectId = query.subject.id;
  }
  if (afterId !== null) filter.id = { $gt: afterId };
  return filter as Filter<AssignmentDocument>;
}

/**
 * The update of {@link RbacStore.approveAssignment}, applied with the filter
 * `{ _id, status: 'pending' }` so only one of concurrent approvals matches.
 *
 * @example
 * ```ts
 * approveUpdate('usr_2', now); // { $set: { status: 'active', approvedBy: 'usr_2', updatedAt: now } }
 * ```
 */
export function approveUpdate(approvedBy: string | null, updatedAt: number): UpdateFilter<AssignmentDocument> {
  return { $set: { status: 'active', approvedBy, updatedAt } };
}

/**
 * The filter of a tenant's policy version document.
 *
 * @example
 * ```ts
 * policyVersionFilter('tnt_1'); // { _id: { tenantId: 'tnt_1' } }
 * ```
 */
export function policyVersionFilter(tenantId: string | null): Filter<PolicyVersionDocument> {
  assertRoleTenant(tenantId);
  return { _id: { tenantId } };
}

/**
 * The upsert that bumps a policy version by one (creating it at 1).
 *
 * @example
 * ```ts
 * policyVersionBump('tnt_1'); // { $inc: { version: 1 }, $setOnInsert: { tenantId: 'tnt_1' } }
 * ```
 */
export function policyVersionBump(tenantId: string | null): UpdateFilter<PolicyVersionDocument> {
  return { $inc: { version: 1 }, $setOnInsert: { tenantId } };
}
