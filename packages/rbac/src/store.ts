import type { AssignmentSubject, RoleAssignment } from './assignments/role-assignment.js';
import type { Group, GroupMember } from './groups/group.js';
import type { Role } from './roles/role.js';

/**
 * The outcome of {@link RbacStore.insertAssignment}.
 *
 * @example
 * ```ts
 * const outcome: InsertAssignmentOutcome = 'limit-reached';
 * ```
 */
export type InsertAssignmentOutcome = 'inserted' | 'duplicate' | 'limit-reached';

/**
 * The outcome of {@link RbacStore.moveGroup}.
 *
 * @example
 * ```ts
 * const outcome: MoveGroupOutcome = 'cycle';
 * ```
 */
export type MoveGroupOutcome = 'moved' | 'not-found' | 'parent-not-found' | 'cycle' | 'name-taken';

/**
 * The outcome of {@link RbacStore.deleteGroup}.
 *
 * @example
 * ```ts
 * const outcome: DeleteGroupOutcome = 'has-children';
 * ```
 */
export type DeleteGroupOutcome = 'deleted' | 'not-found' | 'has-children';

/**
 * A page query over a tenant's assignments. Results are ordered by `id` ascending; `cursor`
 * is the opaque `nextCursor` of the previous page.
 *
 * @example
 * ```ts
 * const query: AssignmentListQuery = { roleKey: 'editor', status: 'active', limit: 50 };
 * ```
 */
export interface AssignmentListQuery {
  readonly roleKey?: string;
  readonly subject?: AssignmentSubject;
  readonly status?: 'active' | 'pending';
  /** 1-500. */
  readonly limit: number;
  readonly cursor?: string;
}

/**
 * One page of assignments.
 *
 * @example
 * ```ts
 * const page = await store.listAssignments('tnt_1', { limit: 50 });
 * if (page.nextCursor) await store.listAssignments('tnt_1', { limit: 50, cursor: page.nextCursor });
 * ```
 */
export interface AssignmentPage {
  readonly items: readonly RoleAssignment[];
  readonly nextCursor: string | null;
}

/**
 * How many rows {@link RbacStore.deleteUserGrants} removed.
 *
 * @example
 * ```ts
 * const { assignments, groupMemberships } = await store.deleteUserGrants('tnt_1', 'usr_1');
 * ```
 */
export interface DeletedUserGrants {
  readonly assignments: number;
  readonly groupMemberships: number;
}

/**
 * Storage of roles, groups and role assignments. Every record carries its tenant and every
 * method takes the tenant explicitly: a store never reads the ambient scope and never returns a
 * row of another tenant. `tenantId === null` addresses global roles (templates), which are kept
 * apart from every tenant's roles.
 *
 * Contract shared by every adapter (memory, Kysely, MongoDB), pinned by the conformance suite:
 * - Records are returned as plain objects equal to what was written (times as epoch ms,
 *   `null` never turned into `undefined`); arrays come back in the order written.
 * - Every mutating method bumps the tenant's policy version (global roles: the `null`
 *   version) in the same atomic step as the change, and only when something changed, so
 *   {@link RbacStore.getPolicyVersion} tells any process whether its cached checks are stale.
 * - Methods that say "atomically" do their check and write as one step that concurrent callers
 *   in other processes cannot interleave.
 * - Records are trusted to be validated by the services; adapters still refuse malformed
 *   input they cannot store faithfully with `VALIDATION_FAILED`, and driver failures surface
 *   as `STORE_UNAVAILABLE` (coded {@link RbacError}s, the driver error as `cause`).
 *
 * @example
 * ```ts
 * const store: RbacStore = memoryRbacStore();
 * await store.insertRole(role);
 * await store.getPolicyVersion('tnt_1'); // 1
 * ```
 */
export interface RbacStore {
  /** The role `key` of a tenant (or the global role when `tenantId` is `null`). */
  getRole(tenantId: string | null, key: string): Promise<Role | null>;
  /** Every role of a tenant (or every global role), ordered by key. */
  listRoles(tenantId: string | null): Promise<Role[]>;
  /** Inserts a new role. @returns `false` when a role with that key exists in that tenant. */
  insertRole(role: Role): Promise<boolean>;
  /**
   * Replaces a role when the stored version is `expectedVersion` (compare-and-set); `role.version`
   * is the new version. @returns `false` when the role is gone or its version moved.
   */
  updateRole(role: Role, expectedVersion: number): Promise<boolean>;
  /**
   * Deletes a role and, atomically with it, every assignment of it in that tenant.
   * @returns whether the role existed.
   */
  deleteRole(tenantId: string | null, key: string): Promise<boolean>;

  /** Inserts a group. @returns `false` when the id exists or a sibling has the same name. */
  insertGroup(group: Group): Promise<boolean>;
  getGroup(tenantId: string, groupId: string): Promise<Group | null>;
  /** Every group of a tenant, ordered by path. */
  listGroups(tenantId: string): Promise<Group[]>;
  /** Renames a group. @returns `false` when it is gone or a sibling has the name. */
  renameGroup(tenantId: string, groupId: string, name: string, updatedAt: number): Promise<boolean>;
  /**
   * Moves a group (and its subtree) under `newParentId` (`null`: to the root), rewriting every
   * descendant's path, atomically. `'cycle'` when the new parent is the group or one of its
   * descendants; `'name-taken'` when another child of the new parent has the group's name
   * (names are unique among siblings); nothing changes unless the outcome is `'moved'`.
   */
  moveGroup(tenantId: string, groupId: string, newParentId: string | null, updatedAt: number): Promise<MoveGroupOutcome>;
  /**
   * Deletes a childless group with its memberships and its assignments, atomically.
   */
  deleteGroup(tenantId: string, groupId: string): Promise<DeleteGroupOutcome>;
  /** @returns `false` when the user already is a direct member (or the group is gone). */
  addGroupMember(member: GroupMember): Promise<boolean>;
  /** @returns whether the membership existed. */
  removeGroupMember(tenantId: string, groupId: string, userId: string): Promise<boolean>;
  /** Direct members of a group, ordered by user id. */
  listGroupMembers(tenantId: string, groupId: string): Promise<GroupMember[]>;
  /** The groups a user is a direct member of, ordered by path. */
  listUserGroups(tenantId: string, userId: string): Promise<Group[]>;

  /**
   * Inserts an assignment, atomically checking that no other assignment of the same
   * (tenant, subject, role) exists — one whose `expiresAt <= now` does not count and is replaced —
   * and, when `maxAssignments` is a number, that fewer than that many unexpired assignments
   * (active or pending) of the role exist in the tenant.
   */
  insertAssignment(
    assignment: RoleAssignment,
    limits: { readonly maxAssignments: number | null; readonly now: number },
  ): Promise<InsertAssignmentOutcome>;
  getAssignment(tenantId: string, assignmentId: string): Promise<RoleAssignment | null>;
  /**
   * Turns a `pending` assignment `active`, atomically. @returns the updated assignment, or `null`
   * when it is gone or not pending.
   */
  approveAssignment(tenantId: string, assignmentId: string, approvedBy: string | null, updatedAt: number): Promise<RoleAssignment | null>;
  /** Deletes an assignment. @returns the deleted assignment, or `null` when there was none. */
  deleteAssignment(tenantId: string, assignmentId: string): Promise<RoleAssignment | null>;
  /** Every assignment (any status, expired included) of any of `subjects`, ordered by id. */
  listAssignmentsForSubjects(tenantId: string, subjects: readonly AssignmentSubject[]): Promise<RoleAssignment[]>;
  listAssignments(tenantId: string, query: AssignmentListQuery): Promise<AssignmentPage>;
  /**
   * Deletes a user's direct assignments and group memberships in a tenant, atomically (a
   * membership of the tenant was removed).
   */
  deleteUserGrants(tenantId: string, userId: string): Promise<DeletedUserGrants>;
  /** Deletes every role, group, membership, assignment and the version of a tenant. */
  deleteTenantData(tenantId: string): Promise<void>;
  /** The tenant's policy version (`null`: global roles); `0` before the first change. */
  getPolicyVersion(tenantId: string | null): Promise<number>;
}
