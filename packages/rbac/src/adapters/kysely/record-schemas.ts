import { z } from 'zod';
import type { AssignmentSubject, RoleAssignment } from '../../assignments/role-assignment.js';
import { RbacError } from '../../errors.js';
import type { Group, GroupMember } from '../../groups/group.js';
import type { Role } from '../../roles/role.js';
import { globalRolesTenantKey, rbacColumnLengths } from './schema.js';

/*
 * What a record must look like before it is written. The store does not check business rules
 * (the services do); these schemas only keep out what a column would store differently from
 * what was given: strings longer than their column (silently truncated by a non-strict MySQL),
 * NUL characters (refused by Postgres, kept by MySQL), lone UTF-16 surrogates (replaced by
 * U+FFFD on the way to UTF-8), numbers that are not safe integers, and the empty string where
 * it is the store's own marker (global roles' tenant, a root group's parent).
 */

// With the `u` flag, \p{Cs} only matches surrogates that are not part of a pair.
const UNSTORABLE_CHARACTERS = /[\u0000\p{Cs}]/u;

function storableText(maxLength?: number) {
  const text = maxLength === undefined ? z.string() : z.string().max(maxLength);
  return text.refine((value) => !UNSTORABLE_CHARACTERS.test(value), 'must not contain NUL or unpaired surrogate characters');
}

function storableKey(maxLength: number) {
  return storableText(maxLength).refine((value) => value.length > 0, 'must not be empty');
}

const safeInteger = z.number().refine(Number.isSafeInteger, 'must be a safe integer');
const tenantId = storableKey(rbacColumnLengths.tenantId);

const roleRecordSchema = z.object({
  tenantId: tenantId.nullable(),
  key: storableKey(rbacColumnLengths.roleKey),
  name: storableText(),
  description: storableText(),
  rules: z.array(z.unknown()),
  inherits: z.array(storableKey(rbacColumnLengths.roleKey)),
  assignment: z.record(z.string(), z.unknown()),
  origin: storableText(rbacColumnLengths.label),
  customized: z.boolean(),
  version: safeInteger,
  createdAt: safeInteger,
  updatedAt: safeInteger,
});

const groupRecordSchema = z.object({
  tenantId,
  id: storableKey(rbacColumnLengths.groupId),
  name: storableText(rbacColumnLengths.groupName),
  parentId: storableKey(rbacColumnLengths.groupId).nullable(),
  path: storableKey(rbacColumnLengths.groupPath).refine(
    (value) => value.startsWith('/') && value.endsWith('/'),
    'must be a materialized path /<rootId>/.../<id>/',
  ),
  createdAt: safeInteger,
  updatedAt: safeInteger,
});

const groupMemberRecordSchema = z.object({
  tenantId,
  groupId: storableKey(rbacColumnLengths.groupId),
  userId: storableKey(rbacColumnLengths.userId),
  createdAt: safeInteger,
});

const assignmentRecordSchema = z.object({
  tenantId,
  id: storableKey(rbacColumnLengths.assignmentId),
  subjectType: storableKey(rbacColumnLengths.label),
  subjectId: storableKey(rbacColumnLengths.subjectId),
  roleKey: storableKey(rbacColumnLengths.roleKey),
  status: storableKey(rbacColumnLengths.label),
  expiresAt: safeInteger.nullable(),
  grantedBy: storableText(rbacColumnLengths.userId).nullable(),
  approvedBy: storableText(rbacColumnLengths.userId).nullable(),
  createdAt: safeInteger,
  updatedAt: safeInteger,
});

const assignmentLimitsSchema = z.object({
  maxAssignments: safeInteger.refine((value) => value >= 0, 'must not be negative').nullable(),
  now: safeInteger,
});

function parseStorable<Schema extends z.ZodType>(schema: Schema, value: unknown, what: string): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  // Paths and messages only: the offending values may be anything a caller passed.
  const issues = result.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
  const summary = issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join('; ');
  throw new RbacError('VALIDATION_FAILED', `Invalid ${what}: ${summary}`, { details: { issues } });
}

/**
 * Throws `VALIDATION_FAILED` unless the role's columns can be stored exactly.
 *
 * @example
 * ```ts
 * assertStorableRole(role);
 * ```
 */
export function assertStorableRole(role: Role): void {
  parseStorable(roleRecordSchema, role, 'role record');
}

/**
 * Throws `VALIDATION_FAILED` unless the group's columns can be stored exactly.
 *
 * @example
 * ```ts
 * assertStorableGroup(group);
 * ```
 */
export function assertStorableGroup(group: Group): void {
  parseStorable(groupRecordSchema, group, 'group record');
}

/**
 * Throws `VALIDATION_FAILED` unless `name` can be stored as a group's name.
 *
 * @example
 * ```ts
 * assertStorableGroupName('Backend');
 * ```
 */
export function assertStorableGroupName(name: string): void {
  parseStorable(groupRecordSchema.shape.name, name, 'group name');
}

/**
 * Throws `VALIDATION_FAILED` unless `userId` can be stored as who approved an assignment.
 *
 * @example
 * ```ts
 * assertStorableApprover('usr_2');
 * ```
 */
export function assertStorableApprover(approvedBy: string | null): void {
  parseStorable(assignmentRecordSchema.shape.approvedBy, approvedBy, 'approver');
}

/**
 * Throws `VALIDATION_FAILED` unless the membership's columns can be stored exactly.
 *
 * @example
 * ```ts
 * assertStorableGroupMember(member);
 * ```
 */
export function assertStorableGroupMember(member: GroupMember): void {
  parseStorable(groupMemberRecordSchema, member, 'group member record');
}

/**
 * Throws `VALIDATION_FAILED` unless the assignment's columns can be stored exactly.
 *
 * @example
 * ```ts
 * assertStorableAssignment(assignment);
 * ```
 */
export function assertStorableAssignment(assignment: RoleAssignment): void {
  parseStorable(assignmentRecordSchema, assignment, 'role assignment record');
}

/**
 * Throws `VALIDATION_FAILED` unless `limits` of `insertAssignment` are whole numbers.
 *
 * @example
 * ```ts
 * assertAssignmentLimits({ maxAssignments: 3, now: Date.now() });
 * ```
 */
export function assertAssignmentLimits(limits: { readonly maxAssignments: number | null; readonly now: number }): void {
  parseStorable(assignmentLimitsSchema, limits, 'assignment limits');
}

/**
 * A safe integer for a column, or `VALIDATION_FAILED` (epoch ms and versions passed as
 * separate arguments).
 *
 * @example
 * ```ts
 * assertSafeIntegerArgument(updatedAt, 'updatedAt');
 * ```
 */
export function assertSafeIntegerArgument(value: unknown, what: string): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new RbacError('VALIDATION_FAILED', `${what} must be a safe integer`, { details: { argument: what } });
  }
}

/**
 * The `tenant_id` a tenant-scoped method reads or writes. `''` is refused with
 * `VALIDATION_FAILED`, because it is where the global roles live.
 *
 * @example
 * ```ts
 * const key = tenantKey(tenantId); // 'tnt_1'
 * ```
 */
export function tenantKey(tenantId: unknown): string {
  if (typeof tenantId !== 'string' || tenantId === globalRolesTenantKey) {
    throw new RbacError('VALIDATION_FAILED', 'A tenant id must be a non-empty string', { details: { argument: 'tenantId' } });
  }
  return tenantId;
}

/**
 * The `tenant_id` of a role method: the tenant's (see {@link tenantKey}), or the global roles'
 * marker for `null`.
 *
 * @example
 * ```ts
 * roleTenantKey(null); // ''
 * ```
 */
export function roleTenantKey(tenantId: unknown): string {
  return tenantId === null ? globalRolesTenantKey : tenantKey(tenantId);
}

/**
 * A name or id argument of a lookup: any string (one that no column can hold simply matches
 * nothing), otherwise `VALIDATION_FAILED`.
 *
 * @example
 * ```ts
 * assertStringArgument(groupId, 'groupId');
 * ```
 */
export function assertStringArgument(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string') {
    throw new RbacError('VALIDATION_FAILED', `${what} must be a string`, { details: { argument: what } });
  }
}

/**
 * Throws `VALIDATION_FAILED` unless every subject is `{ type: 'user' | 'group', id: string }`.
 *
 * @example
 * ```ts
 * assertSubjects([{ type: 'user', id: 'usr_1' }]);
 * ```
 */
export function assertSubjects(subjects: readonly AssignmentSubject[]): void {
  parseStorable(z.array(z.object({ type: z.enum(['user', 'group']), id: z.string() })), subjects, 'assignment subjects');
}
