import { createId } from '@tenantkit/core';
import { userIdSchema } from '@tenantkit/tenant-context';
import { z } from 'zod';
import { effectiveRoleRules, grantRefusal, managementPermissions, requireActorPermission } from '../assignments/assignment-policy.js';
import type { AssignmentSubject, RoleAssignment } from '../assignments/role-assignment.js';
import { checkPrincipal, grantingUserId } from '../authorizer/principal-identity.js';
import { principalEventActor, type RbacServiceContext, type TenantOption } from '../authorizer/rbac-service-context.js';
import { resolveTenantId } from '../authorizer/tenant-target.js';
import type { CompiledPermissions } from '../compiler/compiled-permissions.js';
import { RbacError } from '../errors.js';
import type { RbacPrincipal } from '../principal.js';
import { parseOrThrow } from '../rules/parse-or-throw.js';
import type { Group, GroupMember } from './group.js';

/**
 * What {@link GroupService.create} takes: a name (1-128 characters, unique among siblings) and
 * the parent group (`null` or omitted: a root group).
 *
 * @example
 * ```ts
 * const input: CreateGroupInput = { name: 'Backend', parentId: engineering.id };
 * ```
 */
export interface CreateGroupInput {
  readonly name: string;
  readonly parentId?: string | null;
}

/** Levels a group tree may have; bounds path length and the subjects one check reads. */
const MAX_GROUP_DEPTH = 32;

const groupIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ -');
const groupNameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(128)
  .regex(/^[^\p{Cc}]+$/u, 'must not contain control characters');
const createInputSchema = z.strictObject({ name: groupNameSchema, parentId: groupIdSchema.nullable().optional() });

/**
 * Hierarchical groups of a tenant. Members of a group hold the roles assigned to it and to each
 * of its ancestors. Reading needs `groups:read`, changing `groups:manage`. Because a membership
 * hands out roles, adding a member (or moving a group under a new parent) is held to the
 * assignment policy for every role it newly grants: the actor must hold the role's rules,
 * restricted roles need `roles:assign-restricted`, and adding oneself needs every such role to
 * be `selfAssignable` (`ASSIGNMENT_FORBIDDEN` otherwise). Taking roles away is held to the rule
 * of revoking them: removing a member, deleting a group or moving one away from an ancestor is
 * refused (`ASSIGNMENT_FORBIDDEN`, announced as `assignment.denied`) when a user would lose a
 * role — assigned to the group or to an ancestor they reach no other way — that the actor could
 * not revoke (a user manager cannot strip a tenant admin by emptying the admins' group).
 *
 * @example
 * ```ts
 * const engineering = await rbac.groups.create(admin, { name: 'Engineering' });
 * const backend = await rbac.groups.create(admin, { name: 'Backend', parentId: engineering.id });
 * await rbac.groups.addMember(admin, backend.id, 'usr_2');
 * ```
 */
export interface GroupService {
  /** @throws `PERMISSION_DENIED`, `GROUP_INVALID`, `GROUP_NOT_FOUND` (parent), `GROUP_ALREADY_EXISTS` (sibling name), `GROUP_HIERARCHY_INVALID` (too deep) */
  create(actor: RbacPrincipal, input: CreateGroupInput, options?: TenantOption): Promise<Group>;
  get(actor: RbacPrincipal, groupId: string, options?: TenantOption): Promise<Group | null>;
  /** Every group of the tenant, ordered by path. */
  list(actor: RbacPrincipal, options?: TenantOption): Promise<Group[]>;
  /** @throws `GROUP_NOT_FOUND`, `GROUP_ALREADY_EXISTS` (a sibling has the name) */
  rename(actor: RbacPrincipal, groupId: string, name: string, options?: TenantOption): Promise<Group>;
  /**
   * Moves a group (with its subtree) under `newParentId` (`null`: to the root).
   * Its members gain the new ancestors' roles and lose the old ones' (held to assigning and
   * revoking them).
   * @throws `GROUP_NOT_FOUND`, `GROUP_HIERARCHY_INVALID` (under itself or a descendant, or too deep), `ASSIGNMENT_FORBIDDEN`
   */
  move(actor: RbacPrincipal, groupId: string, newParentId: string | null, options?: TenantOption): Promise<Group>;
  /**
   * Deletes a childless group with its memberships and assignments.
   * @throws `GROUP_NOT_FOUND`, `GROUP_HIERARCHY_INVALID` (it has children), `ASSIGNMENT_FORBIDDEN` (a role the actor could not revoke would go)
   */
  delete(actor: RbacPrincipal, groupId: string, options?: TenantOption): Promise<Group>;
  /** @returns `false` when the user already is a direct member. @throws `GROUP_NOT_FOUND`, `ASSIGNMENT_FORBIDDEN` */
  addMember(actor: RbacPrincipal, groupId: string, userId: string, options?: TenantOption): Promise<boolean>;
  /** @returns whether the membership existed. @throws `ASSIGNMENT_FORBIDDEN` (the member would lose a role the actor could not revoke) */
  removeMember(actor: RbacPrincipal, groupId: string, userId: string, options?: TenantOption): Promise<boolean>;
  /** Direct members, by user id. @throws `GROUP_NOT_FOUND` */
  listMembers(actor: RbacPrincipal, groupId: string, options?: TenantOption): Promise<GroupMember[]>;
  /** The groups a user is a direct member of, by path. */
  listUserGroups(actor: RbacPrincipal, userId: string, options?: TenantOption): Promise<Group[]>;
}

type GrantRefusal = NonNullable<ReturnType<typeof grantRefusal>>;

function depthOf(path: string): number {
  return path.split('/').filter((id) => id.length > 0).length;
}

function ancestorIds(path: string): string[] {
  return path.split('/').filter((id) => id.length > 0);
}

/**
 * Creates the {@link GroupService} of `createRbac`.
 *
 * @example
 * ```ts
 * const groups = createGroupService(context);
 * ```
 */
export function createGroupService(context: RbacServiceContext): GroupService {
  const { store, clock, authorizer, events } = context;

  const checkGroupId = (groupId: unknown) => parseOrThrow(groupIdSchema, groupId, 'GROUP_INVALID', 'group id');
  const checkUserId = (userId: unknown) => parseOrThrow(userIdSchema, userId, 'VALIDATION_FAILED', 'user id');

  async function authorize(actor: RbacPrincipal, tenantIdOption: string | undefined, permission: string) {
    const tenantId = resolveTenantId(tenantIdOption);
    const principal = checkPrincipal(actor);
    const permissions = await requireActorPermission(authorizer, principal, tenantId, permission);
    return { tenantId, principal, permissions };
  }

  async function requireGroup(tenantId: string, groupId: string): Promise<Group> {
    const group = await store.getGroup(tenantId, groupId);
    if (group === null) throw new RbacError('GROUP_NOT_FOUND', 'No such group', { details: { groupId } });
    return group;
  }

  /**
   * Refuses a membership change that would hand the recipients roles the actor may not give:
   * the roles assigned (active or pending, unexpired) to any of `groupIds`.
   */
  async function guardGrantedRoles(
    tenantId: string,
    principal: RbacPrincipal,
    permissions: CompiledPermissions,
    groupIds: readonly string[],
    recipient: { readonly toSelf: boolean; readonly subject: AssignmentSubject },
  ): Promise<void> {
    if (groupIds.length === 0) return;
    const now = clock.now();
    const assignments = (await store.listAssignmentsForSubjects(tenantId, groupIds.map((id) => ({ type: 'group' as const, id })))).filter(
      (assignment) => assignment.expiresAt === null || assignment.expiresAt > now,
    );
    if (assignments.length === 0) return;
    const roles = new Map((await store.listRoles(tenantId)).map((role) => [role.key, role]));
    for (const assignment of assignments) {
      const role = roles.get(assignment.roleKey);
      if (role === undefined) continue;
      const refusal = grantRefusal(permissions, role, effectiveRoleRules(roles, role.key), recipient);
      if (refusal !== null) {
        const details = { ...refusal.details, via: { type: 'group', groupId: assignment.subjectId } };
        events.emit('assignment.denied', {
          tenantId,
          actor: principalEventActor(principal),
          roleKey: role.key,
          subject: recipient.subject,
          assignmentId: assignment.id,
          code: 'ASSIGNMENT_FORBIDDEN',
          details,
        });
        throw new RbacError('ASSIGNMENT_FORBIDDEN', `${refusal.message} (through group ${assignment.subjectId})`, { details });
      }
    }
  }

  /**
   * The unexpired assignments (active or pending) of `groupIds` whose roles the actor could not
   * revoke directly: taking a role away through a group is held to the rule of revoking it.
   */
  async function refusedGroupAssignments(
    tenantId: string,
    permissions: CompiledPermissions,
    groupIds: readonly string[],
  ): Promise<Array<{ readonly assignment: RoleAssignment; readonly refusal: GrantRefusal }>> {
    if (groupIds.length === 0) return [];
    const now = clock.now();
    const assignments = (await store.listAssignmentsForSubjects(tenantId, groupIds.map((id) => ({ type: 'group' as const, id })))).filter(
      (assignment) => assignment.expiresAt === null || assignment.expiresAt > now,
    );
    if (assignments.length === 0) return [];
    const roles = new Map((await store.listRoles(tenantId)).map((role) => [role.key, role]));
    const refused: Array<{ readonly assignment: RoleAssignment; readonly refusal: GrantRefusal }> = [];
    for (const assignment of assignments) {
      const role = roles.get(assignment.roleKey);
      if (role === undefined) continue;
      // As for a revoke, whether the loser is the actor does not matter.
      const refusal = grantRefusal(permissions, role, effectiveRoleRules(roles, role.key), { toSelf: false });
      if (refusal !== null) refused.push({ assignment, refusal });
    }
    return refused;
  }

  /** Announces and throws the refusal of a change that would take `entry`'s role from `subject`. */
  function denyTaking(
    tenantId: string,
    principal: RbacPrincipal,
    subject: AssignmentSubject,
    entry: { readonly assignment: RoleAssignment; readonly refusal: GrantRefusal },
  ): never {
    const { assignment, refusal } = entry;
    const details = { ...refusal.details, via: { type: 'group', groupId: assignment.subjectId } };
    events.emit('assignment.denied', {
      tenantId,
      actor: principalEventActor(principal),
      roleKey: assignment.roleKey,
      subject,
      assignmentId: assignment.id,
      code: 'ASSIGNMENT_FORBIDDEN',
      details,
    });
    throw new RbacError('ASSIGNMENT_FORBIDDEN', `${refusal.message}; the change would take it away (through group ${assignment.subjectId})`, {
      details,
    });
  }

  /**
   * The first refused entry some user loses: a user loses a group's roles when, of the groups
   * they are in after the change (`groupsAfter`, ids of every ancestor included), none is or is
   * below that group any more.
   */
  async function firstLoss(
    tenantId: string,
    refused: ReadonlyArray<{ readonly assignment: RoleAssignment; readonly refusal: GrantRefusal }>,
    userIds: Iterable<string>,
    groupsAfter: (groups: readonly Group[]) => readonly Group[],
  ): Promise<{ readonly userId: string; readonly entry: (typeof refused)[number] } | null> {
    for (const userId of userIds) {
      const reached = new Set(groupsAfter(await store.listUserGroups(tenantId, userId)).flatMap((group) => ancestorIds(group.path)));
      const entry = refused.find((candidate) => !reached.has(candidate.assignment.subjectId));
      if (entry !== undefined) return { userId, entry };
    }
    return null;
  }

  return {
    async create(actor, input, options) {
      const { tenantId, principal } = await authorize(actor, options?.tenantId, managementPermissions.manageGroups);
      const { name, parentId = null } = parseOrThrow(createInputSchema, input, 'GROUP_INVALID', 'group');
      const parent = parentId === null ? null : await requireGroup(tenantId, parentId);
      if (parent !== null && depthOf(parent.path) >= MAX_GROUP_DEPTH) {
        throw new RbacError('GROUP_HIERARCHY_INVALID', `Groups nest at most ${MAX_GROUP_DEPTH} levels deep`);
      }
      const id = createId('grp');
      const now = clock.now();
      const group: Group = { tenantId, id, name, parentId, path: `${parent?.path ?? '/'}${id}/`, createdAt: now, updatedAt: now };
      if (!(await store.insertGroup(group))) {
        throw new RbacError('GROUP_ALREADY_EXISTS', 'A sibling group has this name', { details: { name, parentId } });
      }
      await context.afterChange(tenantId);
      events.emit('group.created', { group, actor: principalEventActor(principal) });
      return group;
    },

    async get(actor, groupId, options) {
      const { tenantId } = await authorize(actor, options?.tenantId, managementPermissions.readGroups);
      return store.getGroup(tenantId, checkGroupId(groupId));
    },

    async list(actor, options) {
      const { tenantId } = await authorize(actor, options?.tenantId, managementPermissions.readGroups);
      return store.listGroups(tenantId);
    },

    async rename(actor, groupId, name, options) {
      const { tenantId, principal } = await authorize(actor, options?.tenantId, managementPermissions.manageGroups);
      const id = checkGroupId(groupId);
      const checkedName = parseOrThrow(groupNameSchema, name, 'GROUP_INVALID', 'group name');
      const previous = await requireGroup(tenantId, id);
      const now = clock.now();
      if (!(await store.renameGroup(tenantId, id, checkedName, now))) {
        if ((await store.getGroup(tenantId, id)) === null) throw new RbacError('GROUP_NOT_FOUND', 'No such group', { details: { groupId: id } });
        throw new RbacError('GROUP_ALREADY_EXISTS', 'A sibling group has this name', { details: { name: checkedName } });
      }
      const group: Group = { ...previous, name: checkedName, updatedAt: now };
      await context.afterChange(tenantId);
      events.emit('group.renamed', { group, previous, actor: principalEventActor(principal) });
      return group;
    },

    async move(actor, groupId, newParentId, options) {
      const { tenantId, principal, permissions } = await authorize(actor, options?.tenantId, managementPermissions.manageGroups);
      const id = checkGroupId(groupId);
      const parentId = newParentId === null ? null : checkGroupId(newParentId);
      const previous = await requireGroup(tenantId, id);
      const parent = parentId === null ? null : await requireGroup(tenantId, parentId);
      if (parent !== null && parent.path.startsWith(previous.path)) {
        throw new RbacError('GROUP_HIERARCHY_INVALID', 'A group cannot move under itself or one of its descendants', { details: { groupId: id, parentId } });
      }
      const subtree = (await store.listGroups(tenantId)).filter((group) => group.path.startsWith(previous.path));
      const height = Math.max(...subtree.map((group) => depthOf(group.path))) - depthOf(previous.path) + 1;
      if ((parent === null ? 0 : depthOf(parent.path)) + height > MAX_GROUP_DEPTH) {
        throw new RbacError('GROUP_HIERARCHY_INVALID', `Groups nest at most ${MAX_GROUP_DEPTH} levels deep`);
      }
      // The subtree's members gain the roles of the ancestors they did not have before.
      const oldAncestors = new Set(ancestorIds(previous.path));
      const gained = parent === null ? [] : ancestorIds(parent.path).filter((ancestor) => !oldAncestors.has(ancestor));
      const actorUser = grantingUserId(principal);
      const toSelf =
        actorUser !== null && (await store.listUserGroups(tenantId, actorUser)).some((group) => group.path.startsWith(previous.path));
      await guardGrantedRoles(tenantId, principal, permissions, gained, { toSelf, subject: { type: 'group', id } });
      // ...and lose those of the old ancestors that are not ancestors any more, unless they still
      // reach them through another membership.
      const newAncestors = new Set(parent === null ? [] : ancestorIds(parent.path));
      const lost = ancestorIds(previous.path).filter((ancestor) => ancestor !== id && !newAncestors.has(ancestor));
      const refusedLosses = await refusedGroupAssignments(tenantId, permissions, lost);
      if (refusedLosses.length > 0) {
        const members = new Set<string>();
        for (const group of subtree) for (const member of await store.listGroupMembers(tenantId, group.id)) members.add(member.userId);
        const oldPrefix = previous.path.slice(0, previous.path.length - id.length - 1);
        const newPrefix = parent?.path ?? '/';
        const loss = await firstLoss(tenantId, refusedLosses, members, (groups) =>
          groups.map((group) => (group.path.startsWith(previous.path) ? { ...group, path: newPrefix + group.path.slice(oldPrefix.length) } : group)),
        );
        if (loss !== null) denyTaking(tenantId, principal, { type: 'user', id: loss.userId }, loss.entry);
      }

      const outcome = await store.moveGroup(tenantId, id, parentId, clock.now());
      if (outcome === 'not-found') throw new RbacError('GROUP_NOT_FOUND', 'No such group', { details: { groupId: id } });
      if (outcome === 'parent-not-found') throw new RbacError('GROUP_NOT_FOUND', 'No such parent group', { details: { groupId: parentId } });
      if (outcome === 'cycle') {
        throw new RbacError('GROUP_HIERARCHY_INVALID', 'A group cannot move under itself or one of its descendants', { details: { groupId: id, parentId } });
      }
      if (outcome === 'name-taken') {
        throw new RbacError('GROUP_ALREADY_EXISTS', 'The new parent already has a group with this name', { details: { groupId: id, parentId } });
      }
      const group = await requireGroup(tenantId, id);
      await context.afterChange(tenantId);
      events.emit('group.moved', { group, previous, actor: principalEventActor(principal) });
      return group;
    },

    async delete(actor, groupId, options) {
      const { tenantId, principal, permissions } = await authorize(actor, options?.tenantId, managementPermissions.manageGroups);
      const id = checkGroupId(groupId);
      const group = await requireGroup(tenantId, id);
      // Deleting the group deletes its assignments (a revoke) and its memberships: each member
      // loses the group's roles and those of ancestors they reach no other way.
      const refused = await refusedGroupAssignments(tenantId, permissions, ancestorIds(group.path));
      const own = refused.find((entry) => entry.assignment.subjectId === id);
      if (own !== undefined) denyTaking(tenantId, principal, { type: 'group', id }, own);
      if (refused.length > 0) {
        const members = (await store.listGroupMembers(tenantId, id)).map((member) => member.userId);
        const loss = await firstLoss(tenantId, refused, members, (groups) => groups.filter((candidate) => candidate.id !== id));
        if (loss !== null) denyTaking(tenantId, principal, { type: 'user', id: loss.userId }, loss.entry);
      }
      const outcome = await store.deleteGroup(tenantId, id);
      if (outcome === 'not-found') throw new RbacError('GROUP_NOT_FOUND', 'No such group', { details: { groupId: id } });
      if (outcome === 'has-children') {
        throw new RbacError('GROUP_HIERARCHY_INVALID', 'A group with child groups cannot be deleted; move or delete them first', { details: { groupId: id } });
      }
      await context.afterChange(tenantId);
      events.emit('group.deleted', { group, actor: principalEventActor(principal) });
      return group;
    },

    async addMember(actor, groupId, userId, options) {
      const { tenantId, principal, permissions } = await authorize(actor, options?.tenantId, managementPermissions.manageGroups);
      const id = checkGroupId(groupId);
      const user = checkUserId(userId);
      const group = await requireGroup(tenantId, id);
      const toSelf = grantingUserId(principal) === user;
      await guardGrantedRoles(tenantId, principal, permissions, ancestorIds(group.path), { toSelf, subject: { type: 'user', id: user } });
      const member: GroupMember = { tenantId, groupId: id, userId: user, createdAt: clock.now() };
      if (!(await store.addGroupMember(member))) {
        if ((await store.getGroup(tenantId, id)) === null) throw new RbacError('GROUP_NOT_FOUND', 'No such group', { details: { groupId: id } });
        return false;
      }
      await context.afterChange(tenantId);
      events.emit('group.member_added', { member, actor: principalEventActor(principal) });
      return true;
    },

    async removeMember(actor, groupId, userId, options) {
      const { tenantId, principal, permissions } = await authorize(actor, options?.tenantId, managementPermissions.manageGroups);
      const id = checkGroupId(groupId);
      const user = checkUserId(userId);
      // The member loses the roles of the group and of its ancestors they reach no other way.
      // (Someone who is not a member loses nothing, and the removal below reports false.)
      const userGroups = await store.listUserGroups(tenantId, user);
      const group = userGroups.find((candidate) => candidate.id === id);
      if (group !== undefined) {
        const reached = new Set(userGroups.filter((candidate) => candidate.id !== id).flatMap((candidate) => ancestorIds(candidate.path)));
        const lost = ancestorIds(group.path).filter((ancestor) => !reached.has(ancestor));
        const [refused] = await refusedGroupAssignments(tenantId, permissions, lost);
        if (refused !== undefined) denyTaking(tenantId, principal, { type: 'user', id: user }, refused);
      }
      if (!(await store.removeGroupMember(tenantId, id, user))) return false;
      await context.afterChange(tenantId);
      events.emit('group.member_removed', { tenantId, groupId: id, userId: user, actor: principalEventActor(principal) });
      return true;
    },

    async listMembers(actor, groupId, options) {
      const { tenantId } = await authorize(actor, options?.tenantId, managementPermissions.readGroups);
      const id = checkGroupId(groupId);
      await requireGroup(tenantId, id);
      return store.listGroupMembers(tenantId, id);
    },

    async listUserGroups(actor, userId, options) {
      const { tenantId } = await authorize(actor, options?.tenantId, managementPermissions.readGroups);
      return store.listUserGroups(tenantId, checkUserId(userId));
    },
  };
}
