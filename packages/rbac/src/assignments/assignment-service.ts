import { createId } from '@tenantkit/core';
import { userIdSchema } from '@tenantkit/tenant-context';
import { z } from 'zod';
import { checkPrincipal, grantingUserId } from '../authorizer/principal-identity.js';
import {
  principalEventActor,
  systemEventActor,
  type RbacServiceContext,
  type SystemActor,
  type TenantOption,
} from '../authorizer/rbac-service-context.js';
import { resolveTenantId } from '../authorizer/tenant-target.js';
import type { CompiledPermissions } from '../compiler/compiled-permissions.js';
import { RbacError } from '../errors.js';
import type { RbacEventActor } from '../events/rbac-events.js';
import type { RbacPrincipal } from '../principal.js';
import { roleKeySchema } from '../roles/role-definition.js';
import type { Role } from '../roles/role.js';
import { parseOrThrow } from '../rules/parse-or-throw.js';
import type { AssignmentListQuery, AssignmentPage } from '../store.js';
import { effectiveRoleRules, grantRefusal, managementPermissions, requireActorPermission } from './assignment-policy.js';
import type { AssignmentSubject, RoleAssignment } from './role-assignment.js';

/**
 * What {@link AssignmentService.assign} takes. `expiresAt` (epoch ms, in the future) makes the
 * grant time-bound; `reason` goes into the `assignment.created` event for the audit log.
 *
 * @example
 * ```ts
 * const input: AssignRoleInput = { subject: { type: 'user', id: 'usr_2' }, roleKey: 'editor', expiresAt: Date.now() + 86_400_000, reason: 'on call' };
 * ```
 */
export interface AssignRoleInput {
  readonly subject: AssignmentSubject;
  readonly roleKey: string;
  readonly expiresAt?: number | null;
  readonly reason?: string;
}

/**
 * Options of {@link AssignmentService.revoke}.
 *
 * @example
 * ```ts
 * await rbac.assignments.revoke(admin, assignment.id, { reason: 'left the project' });
 * ```
 */
export interface RevokeAssignmentOptions extends TenantOption {
  readonly reason?: string;
}

/**
 * Who holds which role in a tenant. Assigning and revoking need `roles:assign`, approving
 * `roles:approve`, reading `roles:read`, and each is held to the assignment policy: the actor
 * must hold every allow rule the role grants, inherited ones included (nobody hands out — or
 * takes away — permissions they lack); restricted roles need `roles:assign-restricted`; a role
 * given to oneself (directly or through one's group) must be `selfAssignable`; the role's
 * `maxAssignments` is enforced atomically by the store; a role that `requiresApproval` is
 * assigned `pending` and grants nothing until a different principal, who could have assigned
 * it, approves it. Refusals announce `assignment.denied`.
 *
 * @example
 * ```ts
 * const grant = await rbac.assignments.assign(admin, { subject: { type: 'user', id: 'usr_2' }, roleKey: 'editor' });
 * await rbac.assignments.revoke(admin, grant.id);
 * ```
 */
export interface AssignmentService {
  /**
   * @throws `PERMISSION_DENIED` (no `roles:assign`), `ASSIGNMENT_FORBIDDEN` (with
   *   `details.reason` and `details.permission`), `ROLE_NOT_FOUND`, `GROUP_NOT_FOUND`,
   *   `ASSIGNMENT_ALREADY_EXISTS`, `ASSIGNMENT_LIMIT_REACHED`, `VALIDATION_FAILED` (an
   *   `expiresAt` not in the future)
   */
  assign(actor: RbacPrincipal, input: AssignRoleInput, options?: TenantOption): Promise<RoleAssignment>;
  /** @throws `PERMISSION_DENIED`, `ASSIGNMENT_NOT_FOUND`, `ASSIGNMENT_NOT_PENDING`, `ASSIGNMENT_FORBIDDEN` (the requester or recipient approving, or the role beyond the approver) */
  approve(actor: RbacPrincipal, assignmentId: string, options?: TenantOption): Promise<RoleAssignment>;
  /** @returns the deleted assignment. @throws `PERMISSION_DENIED`, `ASSIGNMENT_NOT_FOUND`, `ASSIGNMENT_FORBIDDEN` */
  revoke(actor: RbacPrincipal, assignmentId: string, options?: RevokeAssignmentOptions): Promise<RoleAssignment>;
  get(actor: RbacPrincipal, assignmentId: string, options?: TenantOption): Promise<RoleAssignment | null>;
  /** One page, ordered by id (`limit` default 50, at most 500). */
  list(actor: RbacPrincipal, query?: Partial<AssignmentListQuery>, options?: TenantOption): Promise<AssignmentPage>;
  /**
   * Assigns without an actor — bootstrapping a tenant's first admin, seeding. Active at once
   * (no approval); duplicates and `maxAssignments` still apply.
   */
  assignAsSystem(system: SystemActor, input: AssignRoleInput, options?: TenantOption): Promise<RoleAssignment>;
  /** Revokes without an actor. */
  revokeAsSystem(system: SystemActor, assignmentId: string, options?: TenantOption): Promise<RoleAssignment>;
}

const subjectSchema = z.strictObject({
  type: z.enum(['user', 'group']),
  id: z.string(),
});
const assignInputSchema = z.strictObject({
  subject: subjectSchema,
  roleKey: roleKeySchema,
  expiresAt: z.int().min(0).max(8_640_000_000_000_000).nullable().optional(),
  reason: z.string().trim().min(1).max(500).optional(),
});
const assignmentIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ -');
const groupIdSchema = assignmentIdSchema;
const listQuerySchema = z.strictObject({
  roleKey: roleKeySchema.optional(),
  subject: subjectSchema.optional(),
  status: z.enum(['active', 'pending']).optional(),
  limit: z.int().min(1).max(500).optional(),
  cursor: z.string().min(1).max(1024).optional(),
});
const reasonSchema = z.string().trim().min(1).max(500).optional();

type Refusal = { readonly message: string; readonly details: Readonly<Record<string, unknown>> };

/**
 * Creates the {@link AssignmentService} of `createRbac`.
 *
 * @example
 * ```ts
 * const assignments = createAssignmentService(context);
 * ```
 */
export function createAssignmentService(context: RbacServiceContext): AssignmentService {
  const { store, clock, authorizer, events } = context;

  function checkSubject(subject: { type: 'user' | 'group'; id: string }): AssignmentSubject {
    if (subject.type === 'user') return { type: 'user', id: parseOrThrow(userIdSchema, subject.id, 'VALIDATION_FAILED', 'subject user id') };
    return { type: 'group', id: parseOrThrow(groupIdSchema, subject.id, 'GROUP_INVALID', 'subject group id') };
  }

  function checkAssignInput(input: AssignRoleInput) {
    const parsed = parseOrThrow(assignInputSchema, input, 'VALIDATION_FAILED', 'assignment');
    const expiresAt = parsed.expiresAt ?? null;
    if (expiresAt !== null && expiresAt <= clock.now()) {
      throw new RbacError('VALIDATION_FAILED', 'expiresAt must be in the future', { details: { expiresAt } });
    }
    return { subject: checkSubject(parsed.subject), roleKey: parsed.roleKey, expiresAt, reason: parsed.reason ?? null };
  }

  const checkAssignmentId = (id: unknown) => parseOrThrow(assignmentIdSchema, id, 'VALIDATION_FAILED', 'assignment id');

  async function roleAndRules(tenantId: string, roleKey: string): Promise<{ role: Role; rules: ReturnType<typeof effectiveRoleRules> }> {
    const roles = new Map((await store.listRoles(tenantId)).map((role) => [role.key, role]));
    const role = roles.get(roleKey);
    if (role === undefined) throw new RbacError('ROLE_NOT_FOUND', `Role "${roleKey}" does not exist`, { details: { key: roleKey } });
    return { role, rules: effectiveRoleRules(roles, roleKey) };
  }

  async function requireAssignment(tenantId: string, id: string): Promise<RoleAssignment> {
    const assignment = await store.getAssignment(tenantId, id);
    if (assignment === null) throw new RbacError('ASSIGNMENT_NOT_FOUND', 'No such assignment', { details: { assignmentId: id } });
    return assignment;
  }

  /** Whether the subject is the actor: their user, or a group they are in (or below). */
  async function isSelf(tenantId: string, principal: RbacPrincipal, subject: AssignmentSubject): Promise<boolean> {
    const user = grantingUserId(principal);
    if (subject.type === 'user') return subject.id === user || subject.id === principal.id;
    if (user === null) return false;
    return (await store.listUserGroups(tenantId, user)).some((group) => group.path.includes(`/${subject.id}/`));
  }

  function deny(
    tenantId: string,
    actor: RbacPrincipal,
    target: { roleKey: string; subject: AssignmentSubject | null; assignmentId: string | null },
    refusal: Refusal,
  ): never {
    events.emit('assignment.denied', { tenantId, actor: principalEventActor(actor), ...target, code: 'ASSIGNMENT_FORBIDDEN', details: refusal.details });
    throw new RbacError('ASSIGNMENT_FORBIDDEN', refusal.message, { details: refusal.details });
  }

  async function insert(
    tenantId: string,
    input: ReturnType<typeof checkAssignInput>,
    role: Role,
    grant: { status: RoleAssignment['status']; grantedBy: string | null },
    actor: RbacEventActor,
  ): Promise<RoleAssignment> {
    if (input.subject.type === 'group' && (await store.getGroup(tenantId, input.subject.id)) === null) {
      throw new RbacError('GROUP_NOT_FOUND', 'No such group', { details: { groupId: input.subject.id } });
    }
    const now = clock.now();
    const assignment: RoleAssignment = {
      tenantId,
      id: createId('asg'),
      subjectType: input.subject.type,
      subjectId: input.subject.id,
      roleKey: role.key,
      status: grant.status,
      expiresAt: input.expiresAt,
      grantedBy: grant.grantedBy,
      approvedBy: null,
      createdAt: now,
      updatedAt: now,
    };
    const outcome = await store.insertAssignment(assignment, { maxAssignments: role.assignment.maxAssignments, now });
    if (outcome === 'duplicate') {
      throw new RbacError('ASSIGNMENT_ALREADY_EXISTS', `The subject already has role "${role.key}"`, {
        details: { roleKey: role.key, subject: input.subject },
      });
    }
    if (outcome === 'limit-reached') {
      throw new RbacError('ASSIGNMENT_LIMIT_REACHED', `Role "${role.key}" is assigned at most ${role.assignment.maxAssignments} times`, {
        details: { roleKey: role.key, maxAssignments: role.assignment.maxAssignments },
      });
    }
    // The store does not know roles, so a role deleted (or deleted and re-created) between our read
    // and the insert would leave an orphan grant for whatever role later carries the key. Re-read it
    // and take the grant back if the role we checked is not the one stored now.
    const current = await store.getRole(tenantId, role.key);
    if (current === null || current.createdAt !== role.createdAt) {
      await store.deleteAssignment(tenantId, assignment.id);
      throw new RbacError('ROLE_NOT_FOUND', `Role "${role.key}" was deleted while it was being assigned`, {
        details: { roleKey: role.key },
      });
    }
    await context.afterChange(tenantId);
    events.emit('assignment.created', { assignment, actor, reason: input.reason });
    return assignment;
  }

  async function remove(tenantId: string, assignment: RoleAssignment, actor: RbacEventActor, reason: string | null): Promise<RoleAssignment> {
    const deleted = await store.deleteAssignment(tenantId, assignment.id);
    if (deleted === null) throw new RbacError('ASSIGNMENT_NOT_FOUND', 'No such assignment', { details: { assignmentId: assignment.id } });
    await context.afterChange(tenantId);
    events.emit('assignment.revoked', { assignment: deleted, actor, reason });
    return deleted;
  }

  async function authorize(actor: RbacPrincipal, tenantIdOption: string | undefined, permission: string) {
    const tenantId = resolveTenantId(tenantIdOption);
    const principal = checkPrincipal(actor);
    const permissions: CompiledPermissions = await requireActorPermission(authorizer, principal, tenantId, permission);
    return { tenantId, principal, permissions };
  }

  return {
    async assign(actor, rawInput, options) {
      const { tenantId, principal, permissions } = await authorize(actor, options?.tenantId, managementPermissions.assignRoles);
      const input = checkAssignInput(rawInput);
      const { role, rules } = await roleAndRules(tenantId, input.roleKey);
      const toSelf = await isSelf(tenantId, principal, input.subject);
      const refusal = grantRefusal(permissions, role, rules, { toSelf });
      if (refusal !== null) deny(tenantId, principal, { roleKey: role.key, subject: input.subject, assignmentId: null }, refusal);
      return insert(
        tenantId,
        input,
        role,
        // The person behind an API key is the requester, so their own key cannot approve.
        { status: role.assignment.requiresApproval ? 'pending' : 'active', grantedBy: grantingUserId(principal) ?? principal.id },
        principalEventActor(principal),
      );
    },

    async approve(actor, assignmentId, options) {
      const { tenantId, principal, permissions } = await authorize(actor, options?.tenantId, managementPermissions.approveAssignments);
      const id = checkAssignmentId(assignmentId);
      const assignment = await requireAssignment(tenantId, id);
      const now = clock.now();
      if (assignment.status !== 'pending' || (assignment.expiresAt !== null && assignment.expiresAt <= now)) {
        throw new RbacError('ASSIGNMENT_NOT_PENDING', assignment.status === 'pending' ? 'The assignment has expired' : 'The assignment is not pending', {
          details: { assignmentId: id, status: assignment.status },
        });
      }
      const subject: AssignmentSubject = { type: assignment.subjectType, id: assignment.subjectId };
      const target = { roleKey: assignment.roleKey, subject, assignmentId: id };
      const approverUser = grantingUserId(principal) ?? principal.id;
      if (assignment.grantedBy !== null && (assignment.grantedBy === approverUser || assignment.grantedBy === principal.id)) {
        deny(tenantId, principal, target, {
          message: 'An assignment is approved by someone other than its requester',
          details: { roleKey: assignment.roleKey, reason: 'approver-is-requester' },
        });
      }
      const { role, rules } = await roleAndRules(tenantId, assignment.roleKey);
      const refusal = grantRefusal(permissions, role, rules, { toSelf: await isSelf(tenantId, principal, subject) });
      if (refusal !== null) deny(tenantId, principal, target, refusal);
      const approved = await store.approveAssignment(tenantId, id, principal.id, now);
      if (approved === null) throw new RbacError('ASSIGNMENT_NOT_PENDING', 'The assignment is not pending', { details: { assignmentId: id } });
      await context.afterChange(tenantId);
      events.emit('assignment.approved', { assignment: approved, actor: principalEventActor(principal) });
      return approved;
    },

    async revoke(actor, assignmentId, options) {
      const { tenantId, principal, permissions } = await authorize(actor, options?.tenantId, managementPermissions.assignRoles);
      const id = checkAssignmentId(assignmentId);
      const reason = parseOrThrow(reasonSchema, options?.reason, 'VALIDATION_FAILED', 'reason') ?? null;
      const assignment = await requireAssignment(tenantId, id);
      const roles = new Map((await store.listRoles(tenantId)).map((role) => [role.key, role]));
      const role = roles.get(assignment.roleKey);
      // Taking a role away is held to the same rule as handing it out (a user manager must not
      // strip the tenant's admins); whether it is one's own does not matter.
      if (role !== undefined) {
        const refusal = grantRefusal(permissions, role, effectiveRoleRules(roles, role.key), { toSelf: false });
        if (refusal !== null) {
          deny(tenantId, principal, { roleKey: role.key, subject: { type: assignment.subjectType, id: assignment.subjectId }, assignmentId: id }, refusal);
        }
      }
      return remove(tenantId, assignment, principalEventActor(principal), reason);
    },

    async get(actor, assignmentId, options) {
      const { tenantId } = await authorize(actor, options?.tenantId, managementPermissions.readRoles);
      return store.getAssignment(tenantId, checkAssignmentId(assignmentId));
    },

    async list(actor, query, options) {
      const { tenantId } = await authorize(actor, options?.tenantId, managementPermissions.readRoles);
      const parsed = parseOrThrow(listQuerySchema, query ?? {}, 'VALIDATION_FAILED', 'assignment query');
      return store.listAssignments(tenantId, {
        ...parsed,
        ...(parsed.subject === undefined ? {} : { subject: checkSubject(parsed.subject) }),
        limit: parsed.limit ?? 50,
      });
    },

    async assignAsSystem(system, rawInput, options) {
      const actor = systemEventActor(system);
      const tenantId = resolveTenantId(options?.tenantId);
      const input = checkAssignInput(rawInput);
      const { role } = await roleAndRules(tenantId, input.roleKey);
      return insert(tenantId, input, role, { status: 'active', grantedBy: null }, actor);
    },

    async revokeAsSystem(system, assignmentId, options) {
      const actor = systemEventActor(system);
      const tenantId = resolveTenantId(options?.tenantId);
      const assignment = await requireAssignment(tenantId, checkAssignmentId(assignmentId));
      return remove(tenantId, assignment, actor, system.reason);
    },
  };
}
