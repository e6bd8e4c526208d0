import type { AssignmentSubject, RoleAssignment } from '../assignments/role-assignment.js';
import { RbacError } from '../errors.js';
import type { Group, GroupMember } from '../groups/group.js';
import type { Role } from '../roles/role.js';
import type {
  AssignmentListQuery,
  AssignmentPage,
  DeleteGroupOutcome,
  DeletedUserGrants,
  InsertAssignmentOutcome,
  MoveGroupOutcome,
  RbacStore,
} from '../store.js';
import { decodeAssignmentCursor, encodeAssignmentCursor } from './memory/assignment-cursor.js';
import {
  assertAssignmentLimit,
  assertEpochMs,
  assertNextVersion,
  assertPageLimit,
  assertRoleTenant,
  assertStoreString,
} from './memory/store-argument-guards.js';
import { assertAssignmentStatus, assertStorableAssignment, assertStorableGroup, assertStorableRole, assertStorableSubject } from './store-record-guards.js';

/*
 * The reference implementation of `RbacStore`. It lives in one process, so every method is
 * atomic by construction: each runs its checks and writes synchronously, with no await in
 * between, so no other call can interleave. Records are copied on the way in and on the way out,
 * so what a caller passed or got back can never change what is stored. Everything is keyed by
 * `Map`, never by plain objects, so ids such as `__proto__` are ordinary keys.
 */

/**
 * Options of {@link memoryRbacStore}.
 *
 * @example
 * ```ts
 * const options: MemoryRbacStoreOptions = {
 *   initial: { roles: [editorRole], assignments: [aliceIsEditor] },
 * };
 * ```
 */
export interface MemoryRbacStoreOptions {
  /**
   * Records the store starts with, written in this order (roles, groups, memberships,
   * assignments) exactly as by the insert methods, policy version bumps included. A record an
   * insert would refuse (a duplicate, a membership of a missing group) makes
   * {@link memoryRbacStore} throw `CONFIGURATION_INVALID`.
   */
  readonly initial?: {
    readonly roles?: readonly Role[];
    readonly groups?: readonly Group[];
    readonly groupMembers?: readonly GroupMember[];
    readonly assignments?: readonly RoleAssignment[];
  };
}

/** One tenant's records (the `null` tenant holds only the global roles). */
interface TenantRecords {
  readonly roles: Map<string, Role>;
  readonly groups: Map<string, Group>;
  /** groupId → userId → membership. */
  readonly members: Map<string, Map<string, GroupMember>>;
  readonly assignments: Map<string, RoleAssignment>;
}


function copyRecord<T>(record: T): T {
  try {
    return structuredClone(record);
  } catch (cause) {
    throw new RbacError('VALIDATION_FAILED', 'The record holds values a store cannot keep (functions, symbols)', { cause });
  }
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isExpired(assignment: RoleAssignment, now: number): boolean {
  return assignment.expiresAt !== null && assignment.expiresAt <= now;
}

function isOfSubject(assignment: RoleAssignment, type: AssignmentSubject['type'], id: string): boolean {
  return assignment.subjectType === type && assignment.subjectId === id;
}

/**
 * An in-process {@link RbacStore}: roles, groups, memberships and assignments in maps, one set
 * per tenant plus one for the global roles. The reference implementation every adapter is
 * checked against; for tests, examples and single-process apps. State is lost on exit and is
 * not shared between processes.
 *
 * @throws RbacError `CONFIGURATION_INVALID` when `options.initial` holds a record an insert refuses.
 *
 * @example
 * ```ts
 * import { memoryRbacStore } from '@tenantkit/rbac';
 *
 * const store = memoryRbacStore();
 * await store.insertRole(editorRole);
 * await store.getPolicyVersion(editorRole.tenantId); // 1
 * ```
 */
export function memoryRbacStore(options: MemoryRbacStoreOptions = {}): RbacStore {
  const tenants = new Map<string | null, TenantRecords>();
  const policyVersions = new Map<string | null, number>();

  function recordsOf(tenantId: string | null): TenantRecords | undefined {
    return tenants.get(tenantId);
  }

  function writableRecordsOf(tenantId: string | null): TenantRecords {
    let records = tenants.get(tenantId);
    if (records === undefined) {
      records = { roles: new Map(), groups: new Map(), members: new Map(), assignments: new Map() };
      tenants.set(tenantId, records);
    }
    return records;
  }

  function bumpPolicyVersion(tenantId: string | null): void {
    policyVersions.set(tenantId, (policyVersions.get(tenantId) ?? 0) + 1);
  }

  function siblingHasName(records: TenantRecords, parentId: string | null, name: string, exceptId: string): boolean {
    for (const group of records.groups.values()) {
      if (group.parentId === parentId && group.name === name && group.id !== exceptId) return true;
    }
    return false;
  }

  function insertRole(role: Role): boolean {
    assertStorableRole(role);
    const stored = copyRecord(role);
    const records = writableRecordsOf(stored.tenantId);
    if (records.roles.has(stored.key)) return false;
    records.roles.set(stored.key, stored);
    bumpPolicyVersion(stored.tenantId);
    return true;
  }

  function insertGroup(group: Group): boolean {
    assertStorableGroup(group);
    const stored = copyRecord(group);
    const records = writableRecordsOf(stored.tenantId);
    if (records.groups.has(stored.id) || siblingHasName(records, stored.parentId, stored.name, stored.id)) return false;
    records.groups.set(stored.id, stored);
    bumpPolicyVersion(stored.tenantId);
    return true;
  }

  function addGroupMember(member: GroupMember): boolean {
    assertStoreString(member.tenantId, 'tenantId');
    assertStoreString(member.groupId, 'groupId');
    assertStoreString(member.userId, 'userId');
    assertEpochMs(member.createdAt, 'createdAt');
    const records = recordsOf(member.tenantId);
    if (records === undefined || !records.groups.has(member.groupId)) return false;
    let members = records.members.get(member.groupId);
    if (members === undefined) {
      members = new Map();
      records.members.set(member.groupId, members);
    }
    if (members.has(member.userId)) return false;
    members.set(member.userId, copyRecord(member));
    bumpPolicyVersion(member.tenantId);
    return true;
  }

  function insertAssignment(
    assignment: RoleAssignment,
    limits: { readonly maxAssignments: number | null; readonly now: number },
  ): InsertAssignmentOutcome {
    assertStorableAssignment(assignment);
    assertAssignmentLimit(limits.maxAssignments);
    assertEpochMs(limits.now, 'now');
    const stored = copyRecord(assignment);
    const records = writableRecordsOf(stored.tenantId);
    let expiredDuplicate: RoleAssignment | undefined;
    let unexpiredOfRole = 0;
    for (const existing of records.assignments.values()) {
      if (existing.roleKey !== stored.roleKey) continue;
      const expired = isExpired(existing, limits.now);
      if (isOfSubject(existing, stored.subjectType, stored.subjectId)) {
        // A duplicate is reported before a reached limit: it tells the caller more.
        if (!expired) return 'duplicate';
        expiredDuplicate = existing;
      }
      if (!expired) unexpiredOfRole += 1;
    }
    if (limits.maxAssignments !== null && unexpiredOfRole >= limits.maxAssignments) return 'limit-reached';
    if (records.assignments.has(stored.id) && records.assignments.get(stored.id) !== expiredDuplicate) {
      throw new RbacError('STORE_CONFLICT', 'An assignment with this id already exists', { details: { assignmentId: stored.id } });
    }
    if (expiredDuplicate !== undefined) records.assignments.delete(expiredDuplicate.id);
    records.assignments.set(stored.id, stored);
    bumpPolicyVersion(stored.tenantId);
    return 'inserted';
  }

  function loadInitialRecords(initial: NonNullable<MemoryRbacStoreOptions['initial']>): void {
    const refuse = (what: string, index: number): never => {
      throw new RbacError('CONFIGURATION_INVALID', `initial.${what}[${index}] is refused by the store (a duplicate, or its group is missing)`, {
        details: { field: `initial.${what}`, index },
      });
    };
    initial.roles?.forEach((role, index) => insertRole(role) || refuse('roles', index));
    initial.groups?.forEach((group, index) => insertGroup(group) || refuse('groups', index));
    initial.groupMembers?.forEach((member, index) => addGroupMember(member) || refuse('groupMembers', index));
    initial.assignments?.forEach((assignment, index) => {
      // The earliest `now`: nothing counts as expired, so a second grant of a role is a duplicate.
      if (insertAssignment(assignment, { maxAssignments: null, now: Number.MIN_SAFE_INTEGER }) !== 'inserted') {
        refuse('assignments', index);
      }
    });
  }

  if (options.initial !== undefined) loadInitialRecords(options.initial);

  return {
    async getRole(tenantId, key) {
      assertRoleTenant(tenantId);
      assertStoreString(key, 'key');
      const role = recordsOf(tenantId)?.roles.get(key);
      return role === undefined ? null : copyRecord(role);
    },

    async listRoles(tenantId) {
      assertRoleTenant(tenantId);
      const roles = [...(recordsOf(tenantId)?.roles.values() ?? [])];
      return copyRecord(roles.sort((a, b) => compareStrings(a.key, b.key)));
    },

    async insertRole(role) {
      return insertRole(role);
    },

    async updateRole(role, expectedVersion) {
      assertStorableRole(role);
      assertNextVersion(role.version, expectedVersion);
      const records = recordsOf(role.tenantId);
      const current = records?.roles.get(role.key);
      if (records === undefined || current === undefined || current.version !== expectedVersion) return false;
      records.roles.set(role.key, copyRecord(role));
      bumpPolicyVersion(role.tenantId);
      return true;
    },

    async deleteRole(tenantId, key) {
      assertRoleTenant(tenantId);
      assertStoreString(key, 'key');
      const records = recordsOf(tenantId);
      if (records === undefined || !records.roles.delete(key)) return false;
      for (const [id, assignment] of records.assignments) {
        if (assignment.roleKey === key) records.assignments.delete(id);
      }
      bumpPolicyVersion(tenantId);
      return true;
    },

    async insertGroup(group) {
      return insertGroup(group);
    },

    async getGroup(tenantId, groupId) {
      assertStoreString(tenantId, 'tenantId');
      assertStoreString(groupId, 'groupId');
      const group = recordsOf(tenantId)?.groups.get(groupId);
      return group === undefined ? null : copyRecord(group);
    },

    async listGroups(tenantId) {
      assertStoreString(tenantId, 'tenantId');
      const groups = [...(recordsOf(tenantId)?.groups.values() ?? [])];
      return copyRecord(groups.sort((a, b) => compareStrings(a.path, b.path)));
    },

    async renameGroup(tenantId, groupId, name, updatedAt) {
      assertStoreString(tenantId, 'tenantId');
      assertStoreString(groupId, 'groupId');
      assertStoreString(name, 'name');
      assertEpochMs(updatedAt, 'updatedAt');
      const records = recordsOf(tenantId);
      const group = records?.groups.get(groupId);
      if (records === undefined || group === undefined || siblingHasName(records, group.parentId, name, groupId)) return false;
      records.groups.set(groupId, { ...group, name, updatedAt });
      bumpPolicyVersion(tenantId);
      return true;
    },

    async moveGroup(tenantId, groupId, newParentId, updatedAt): Promise<MoveGroupOutcome> {
      assertStoreString(tenantId, 'tenantId');
      assertStoreString(groupId, 'groupId');
      if (newParentId !== null) assertStoreString(newParentId, 'newParentId');
      assertEpochMs(updatedAt, 'updatedAt');
      const records = recordsOf(tenantId);
      const group = records?.groups.get(groupId);
      if (records === undefined || group === undefined) return 'not-found';
      let parentPath = '/';
      if (newParentId !== null) {
        const parent = records.groups.get(newParentId);
        if (parent === undefined) return 'parent-not-found';
        // Paths end with `/`, so a prefix match is a whole-segment match: the group itself or a descendant.
        if (parent.path.startsWith(group.path)) return 'cycle';
        parentPath = parent.path;
      }
      if (siblingHasName(records, newParentId, group.name, groupId)) return 'name-taken';
      const oldPath = group.path;
      const newPath = `${parentPath}${groupId}/`;
      for (const [id, member] of records.groups) {
        if (!member.path.startsWith(oldPath)) continue;
        const path = newPath + member.path.slice(oldPath.length);
        // Descendants only get a new path; the moved group also a new parent and update time.
        records.groups.set(id, id === groupId ? { ...member, parentId: newParentId, path, updatedAt } : { ...member, path });
      }
      bumpPolicyVersion(tenantId);
      return 'moved';
    },

    async deleteGroup(tenantId, groupId): Promise<DeleteGroupOutcome> {
      assertStoreString(tenantId, 'tenantId');
      assertStoreString(groupId, 'groupId');
      const records = recordsOf(tenantId);
      if (records === undefined || !records.groups.has(groupId)) return 'not-found';
      for (const group of records.groups.values()) {
        if (group.parentId === groupId) return 'has-children';
      }
      records.groups.delete(groupId);
      records.members.delete(groupId);
      for (const [id, assignment] of records.assignments) {
        if (isOfSubject(assignment, 'group', groupId)) records.assignments.delete(id);
      }
      bumpPolicyVersion(tenantId);
      return 'deleted';
    },

    async addGroupMember(member) {
      return addGroupMember(member);
    },

    async removeGroupMember(tenantId, groupId, userId) {
      assertStoreString(tenantId, 'tenantId');
      assertStoreString(groupId, 'groupId');
      assertStoreString(userId, 'userId');
      const members = recordsOf(tenantId)?.members.get(groupId);
      if (members === undefined || !members.delete(userId)) return false;
      bumpPolicyVersion(tenantId);
      return true;
    },

    async listGroupMembers(tenantId, groupId) {
      assertStoreString(tenantId, 'tenantId');
      assertStoreString(groupId, 'groupId');
      const members = [...(recordsOf(tenantId)?.members.get(groupId)?.values() ?? [])];
      return copyRecord(members.sort((a, b) => compareStrings(a.userId, b.userId)));
    },

    async listUserGroups(tenantId, userId) {
      assertStoreString(tenantId, 'tenantId');
      assertStoreString(userId, 'userId');
      const records = recordsOf(tenantId);
      if (records === undefined) return [];
      const groups: Group[] = [];
      for (const [groupId, members] of records.members) {
        const group = records.groups.get(groupId);
        if (group !== undefined && members.has(userId)) groups.push(group);
      }
      return copyRecord(groups.sort((a, b) => compareStrings(a.path, b.path)));
    },

    async insertAssignment(assignment, limits) {
      return insertAssignment(assignment, limits);
    },

    async getAssignment(tenantId, assignmentId) {
      assertStoreString(tenantId, 'tenantId');
      assertStoreString(assignmentId, 'assignmentId');
      const assignment = recordsOf(tenantId)?.assignments.get(assignmentId);
      return assignment === undefined ? null : copyRecord(assignment);
    },

    async approveAssignment(tenantId, assignmentId, approvedBy, updatedAt) {
      assertStoreString(tenantId, 'tenantId');
      assertStoreString(assignmentId, 'assignmentId');
      if (approvedBy !== null) assertStoreString(approvedBy, 'approvedBy');
      assertEpochMs(updatedAt, 'updatedAt');
      const records = recordsOf(tenantId);
      const assignment = records?.assignments.get(assignmentId);
      if (records === undefined || assignment === undefined || assignment.status !== 'pending') return null;
      const approved: RoleAssignment = { ...assignment, status: 'active', approvedBy, updatedAt };
      records.assignments.set(assignmentId, approved);
      bumpPolicyVersion(tenantId);
      return copyRecord(approved);
    },

    async deleteAssignment(tenantId, assignmentId) {
      assertStoreString(tenantId, 'tenantId');
      assertStoreString(assignmentId, 'assignmentId');
      const records = recordsOf(tenantId);
      const assignment = records?.assignments.get(assignmentId);
      if (records === undefined || assignment === undefined) return null;
      records.assignments.delete(assignmentId);
      bumpPolicyVersion(tenantId);
      return copyRecord(assignment);
    },

    async listAssignmentsForSubjects(tenantId, subjects) {
      assertStoreString(tenantId, 'tenantId');
      if (!Array.isArray(subjects)) {
        throw new RbacError('VALIDATION_FAILED', 'The subjects must be a list', { details: { field: 'subjects' } });
      }
      subjects.forEach((subject) => assertStorableSubject(subject));
      const records = recordsOf(tenantId);
      if (records === undefined || subjects.length === 0) return [];
      const found = [...records.assignments.values()].filter((assignment) =>
        subjects.some((subject) => isOfSubject(assignment, subject.type, subject.id)),
      );
      return copyRecord(found.sort((a, b) => compareStrings(a.id, b.id)));
    },

    async listAssignments(tenantId, query: AssignmentListQuery): Promise<AssignmentPage> {
      assertStoreString(tenantId, 'tenantId');
      assertPageLimit(query.limit);
      if (query.roleKey !== undefined) assertStoreString(query.roleKey, 'roleKey');
      if (query.subject !== undefined) assertStorableSubject(query.subject);
      if (query.status !== undefined) assertAssignmentStatus(query.status);
      const afterId = query.cursor === undefined ? null : decodeAssignmentCursor(query.cursor);
      const matches = [...(recordsOf(tenantId)?.assignments.values() ?? [])]
        .filter(
          (assignment) =>
            (afterId === null || compareStrings(assignment.id, afterId) > 0) &&
            (query.roleKey === undefined || assignment.roleKey === query.roleKey) &&
            (query.status === undefined || assignment.status === query.status) &&
            (query.subject === undefined || isOfSubject(assignment, query.subject.type, query.subject.id)),
        )
        .sort((a, b) => compareStrings(a.id, b.id));
      const items = matches.slice(0, query.limit);
      // A cursor only when more rows follow, so an exactly full last page ends the listing.
      const nextCursor = matches.length > query.limit ? encodeAssignmentCursor(items[items.length - 1]!.id) : null;
      return { items: copyRecord(items), nextCursor };
    },

    async deleteUserGrants(tenantId, userId): Promise<DeletedUserGrants> {
      assertStoreString(tenantId, 'tenantId');
      assertStoreString(userId, 'userId');
      const records = recordsOf(tenantId);
      if (records === undefined) return { assignments: 0, groupMemberships: 0 };
      let assignments = 0;
      for (const [id, assignment] of records.assignments) {
        if (isOfSubject(assignment, 'user', userId)) {
          records.assignments.delete(id);
          assignments += 1;
        }
      }
      let groupMemberships = 0;
      for (const members of records.members.values()) {
        if (members.delete(userId)) groupMemberships += 1;
      }
      if (assignments + groupMemberships > 0) bumpPolicyVersion(tenantId);
      return { assignments, groupMemberships };
    },

    async deleteTenantData(tenantId) {
      assertStoreString(tenantId, 'tenantId');
      tenants.delete(tenantId);
      policyVersions.delete(tenantId);
    },

    async getPolicyVersion(tenantId) {
      assertRoleTenant(tenantId);
      return policyVersions.get(tenantId) ?? 0;
    },
  };
}
