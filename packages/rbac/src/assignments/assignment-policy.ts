import type { CompiledPermissions } from '../compiler/compiled-permissions.js';
import { RbacError, type RbacErrorCode } from '../errors.js';
import type { RbacPrincipal } from '../principal.js';
import { inheritanceClosure, type InheritingRole } from '../roles/role-graph.js';
import type { Role } from '../roles/role.js';
import type { PermissionRule } from '../rules/permission-rule.js';
import type { CachedAuthorizer } from '../authorizer/cached-authorizer.js';
import type { ResourceAttributes } from '../conditions/condition.js';

/**
 * The management permissions the services check for an actor.
 *
 * @example
 * ```ts
 * await rbac.can(actor, managementPermissions.assignRoles);
 * ```
 */
export const managementPermissions = Object.freeze({
  readRoles: 'roles:read',
  manageRoles: 'roles:manage',
  assignRoles: 'roles:assign',
  approveAssignments: 'roles:approve',
  assignRestrictedRoles: 'roles:assign-restricted',
  readGroups: 'groups:read',
  manageGroups: 'groups:manage',
} as const);

/**
 * A role as the effective-rule computation needs it.
 *
 * @example
 * ```ts
 * const role: RuleCarryingRole = { rules: [{ effect: 'allow', permission: 'docs:read' }], inherits: [] };
 * ```
 */
export interface RuleCarryingRole extends InheritingRole {
  readonly rules: readonly PermissionRule[];
}

/**
 * Every rule a role grants: its own and those of every role it inherits (transitively).
 *
 * @example
 * ```ts
 * effectiveRoleRules(rolesByKey, 'admin'); // admin's rules, then editor's, then viewer's
 * ```
 */
export function effectiveRoleRules(roles: ReadonlyMap<string, RuleCarryingRole>, roleKey: string): PermissionRule[] {
  const rules: PermissionRule[] = [];
  for (const entry of inheritanceClosure(roles, roleKey)) rules.push(...(roles.get(entry.key)?.rules ?? []));
  return rules;
}

/**
 * The first allow rule of `rules` the actor does not hold ({@link CompiledPermissions.holds}),
 * or `null`. Deny rules take permissions away, so handing them out needs nothing.
 *
 * @example
 * ```ts
 * const missing = firstRuleNotHeld(actorPermissions, effectiveRoleRules(roles, 'editor'));
 * ```
 */
export function firstRuleNotHeld(actor: CompiledPermissions, rules: readonly PermissionRule[]): PermissionRule | null {
  for (const rule of rules) {
    if (rule.effect === 'allow' && !actor.holds(rule)) return rule;
  }
  return null;
}

/**
 * Compiles the actor's permissions in the tenant and requires `permission`.
 *
 * @throws `PERMISSION_DENIED` with `details.permission`.
 * @example
 * ```ts
 * const actorPermissions = await requireActorPermission(authorizer, actor, 'tnt_1', 'roles:manage');
 * ```
 */
export async function requireActorPermission(
  authorizer: CachedAuthorizer,
  actor: RbacPrincipal,
  tenantId: string,
  permission: string,
  resource?: ResourceAttributes,
): Promise<CompiledPermissions> {
  const compiled = await authorizer.forPrincipal(actor, { tenantId });
  if (!compiled.can(permission, resource)) {
    throw new RbacError('PERMISSION_DENIED', `Permission "${permission}" is required`, { details: { permission } });
  }
  return compiled;
}

/**
 * Why an actor may not hand out a role, or `null` when they may: a restricted role needs
 * `roles:assign-restricted`; a role granting the actor themselves needs `selfAssignable`; and
 * the actor must hold every allow rule the role grants (inherited ones included).
 *
 * @example
 * ```ts
 * const refusal = grantRefusal(actorPermissions, role, effectiveRoleRules(roles, role.key), { toSelf: false });
 * if (refusal) throw new RbacError('ASSIGNMENT_FORBIDDEN', refusal.message, { details: refusal.details });
 * ```
 */
export function grantRefusal(
  actor: CompiledPermissions,
  role: Role,
  rules: readonly PermissionRule[],
  recipient: { readonly toSelf: boolean },
): { readonly message: string; readonly details: Readonly<Record<string, unknown>> } | null {
  if (role.assignment.restricted && !actor.can(managementPermissions.assignRestrictedRoles)) {
    return {
      message: `Role "${role.key}" is restricted; handing it out needs "${managementPermissions.assignRestrictedRoles}"`,
      details: { roleKey: role.key, reason: 'restricted', permission: managementPermissions.assignRestrictedRoles },
    };
  }
  if (recipient.toSelf && !role.assignment.selfAssignable) {
    return {
      message: `Role "${role.key}" cannot be given to oneself`,
      details: { roleKey: role.key, reason: 'self-assignment' },
    };
  }
  const missing = firstRuleNotHeld(actor, rules);
  if (missing !== null) {
    return {
      message: `Role "${role.key}" grants "${missing.permission}", which the actor does not hold`,
      details: { roleKey: role.key, reason: 'permission-not-held', permission: missing.permission },
    };
  }
  return null;
}

/**
 * Throws a coded error built from a {@link grantRefusal}.
 *
 * @example
 * ```ts
 * throwRefusal('ASSIGNMENT_FORBIDDEN', refusal);
 * ```
 */
export function throwRefusal(
  code: RbacErrorCode,
  refusal: { readonly message: string; readonly details: Readonly<Record<string, unknown>> },
): never {
  throw new RbacError(code, refusal.message, { details: refusal.details });
}
