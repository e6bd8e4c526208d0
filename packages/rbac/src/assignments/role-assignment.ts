/**
 * Who a role is assigned to: a user directly, or a group (whose members, including members of
 * descendant groups, inherit it).
 *
 * @example
 * ```ts
 * const subject: AssignmentSubject = { type: 'group', id: 'grp_eng' };
 * ```
 */
export interface AssignmentSubject {
  readonly type: 'user' | 'group';
  readonly id: string;
}

/**
 * A grant of a role in a tenant — the single source of truth for who holds which role.
 * `pending` assignments (approval required) grant nothing until approved; an assignment past
 * `expiresAt` (epoch ms) grants nothing and may be replaced. At most one assignment exists per
 * (tenant, subject, role). `grantedBy` is `null` for a system grant.
 *
 * @example
 * ```ts
 * const grant = await rbac.assignments.assign(actor, {
 *   subject: { type: 'user', id: 'usr_2' },
 *   roleKey: 'editor',
 *   expiresAt: Date.now() + 7 * 86_400_000,
 * });
 * grant.status; // 'active'
 * ```
 */
export interface RoleAssignment {
  readonly tenantId: string;
  readonly id: string;
  readonly subjectType: 'user' | 'group';
  readonly subjectId: string;
  readonly roleKey: string;
  readonly status: 'active' | 'pending';
  readonly expiresAt: number | null;
  readonly grantedBy: string | null;
  readonly approvedBy: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}
