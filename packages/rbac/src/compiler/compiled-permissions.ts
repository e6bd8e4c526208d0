import type { Clock } from '@tenantkit/core';
import type { Condition, ConditionContext, ResourceAttributes } from '../conditions/condition.js';
import type { RbacPrincipal } from '../principal.js';
import type { Role } from '../roles/role.js';
import type { PermissionRule, RuleEffect } from '../rules/permission-rule.js';

/**
 * How a principal came to hold a role: directly, or through a group (`groupPath` is the
 * materialized path of the group the assignment is on).
 *
 * @example
 * ```ts
 * const grant: GrantSource = { assignmentId: 'asg_1', roleKey: 'editor', via: { type: 'user' }, expiresAt: null };
 * ```
 */
export interface GrantSource {
  readonly assignmentId: string;
  readonly roleKey: string;
  readonly via: { readonly type: 'user' } | { readonly type: 'group'; readonly groupId: string; readonly groupPath: string };
  readonly expiresAt: number | null;
}

/**
 * Everything {@link compilePermissions} needs: the principal's active, unexpired grants and the
 * tenant's roles (for the inheritance closure). `planRules`, when given, is a ceiling: a
 * permission must also be allowed by the tenant plan's rules. `scopes` on the principal is a
 * second ceiling.
 *
 * @example
 * ```ts
 * const compiled = compilePermissions({ tenantId: 'tnt_1', principal, grants, roles, clock: systemClock });
 * ```
 */
export interface CompileInput {
  readonly tenantId: string;
  readonly principal: RbacPrincipal;
  readonly grants: readonly GrantSource[];
  readonly roles: ReadonlyMap<string, Role>;
  readonly planRules?: readonly PermissionRule[] | null;
  readonly clock: Clock;
}

/**
 * The rule that decided, and the path to it: the grant, then the chain of role keys from the
 * assigned role down to the role that carries the rule (`['admin', 'editor']` when `admin`
 * inherits `editor`). Plan and scope ceilings report `source: 'plan' | 'scope'`.
 *
 * @example
 * ```ts
 * decision.rule?.roleChain; // ['admin', 'editor']
 * ```
 */
export interface DecidingRule {
  readonly effect: RuleEffect;
  readonly permission: string;
  readonly condition?: Condition;
  readonly source: 'role' | 'plan' | 'scope';
  readonly grant?: GrantSource;
  readonly roleChain?: readonly string[];
}

/**
 * The answer of {@link CompiledPermissions.explain}.
 *
 * - `allowed`: an allow rule matched (with its condition true) and no deny applied.
 * - `denied-by-rule`: a deny rule matched (its condition true or unknown).
 * - `no-matching-rule`: nothing allows it (deny by default).
 * - `condition-not-met`: allow rules matched but every condition was false.
 * - `missing-attributes`: an allow rule needed attributes the check did not supply (fail closed).
 * - `outside-plan` / `outside-scopes`: allowed by roles but not by the plan or the principal's scopes.
 *
 * @example
 * ```ts
 * const decision = compiled.explain('docs:delete', doc);
 * if (!decision.allowed) console.log(decision.reason, decision.rule?.roleChain);
 * ```
 */
export interface PermissionDecision {
  readonly allowed: boolean;
  readonly permission: string;
  readonly reason:
    | 'allowed'
    | 'denied-by-rule'
    | 'no-matching-rule'
    | 'condition-not-met'
    | 'missing-attributes'
    | 'outside-plan'
    | 'outside-scopes';
  readonly rule: DecidingRule | null;
  /** Attribute paths (`resource.ownerId`) a condition needed but did not get. */
  readonly missing: readonly string[];
}

/**
 * One entry of {@link CompiledPermissions.permissions}: a rule the principal holds, where it
 * came from, and its condition.
 *
 * @example
 * ```ts
 * for (const entry of compiled.permissions()) console.log(entry.effect, entry.permission, entry.roleChain.join(' > '));
 * ```
 */
export interface EffectivePermission {
  readonly effect: RuleEffect;
  readonly permission: string;
  readonly condition?: Condition;
  readonly grant: GrantSource;
  readonly roleChain: readonly string[];
}

/**
 * A condition reduced for a data query: every `principal.*` and `context.*` reference is
 * replaced by its value and time windows are evaluated, so only `resource.*` fields remain.
 *
 * - `all`: the principal may act on every row (no filter needed).
 * - `none`: on no row.
 * - `some`: on rows matching any of `allow` and none of `deny`; adapters turn that into a
 *   Kysely where-clause or a MongoDB filter.
 *
 * @example
 * ```ts
 * const query = compiled.queryConditions('docs:read');
 * if (query.kind === 'none') return [];
 * ```
 */
export type QueryConditions =
  | { readonly kind: 'all' }
  | { readonly kind: 'none' }
  | { readonly kind: 'some'; readonly allow: readonly ResourceCondition[]; readonly deny: readonly ResourceCondition[] };

/**
 * A condition over `resource.*` fields only, the input of the query-filter adapters. `true` /
 * `false` leaves are what reduction leaves behind.
 *
 * @example
 * ```ts
 * const own: ResourceCondition = { field: 'resource.ownerId', op: 'eq', value: 'usr_1' };
 * ```
 */
export type ResourceCondition =
  | { readonly field: string; readonly op: 'eq' | 'ne' | 'lt' | 'lte' | 'gt' | 'gte' | 'contains'; readonly value: string | number | boolean | null }
  | { readonly field: string; readonly op: 'in' | 'nin'; readonly value: readonly (string | number | boolean)[] }
  | { readonly field: string; readonly op: 'exists'; readonly value: boolean }
  | { readonly all: readonly ResourceCondition[] }
  | { readonly any: readonly ResourceCondition[] }
  | { readonly not: ResourceCondition }
  | boolean;

/**
 * A principal's permissions in one tenant, compiled into a matcher. Immutable; checks are
 * synchronous and allocation-free on repeated permission strings. Invalid permission strings
 * throw `PERMISSION_INVALID`; a valid permission nobody granted is simply denied.
 *
 * @example
 * ```ts
 * const compiled = await rbac.forPrincipal(principal);
 * compiled.can('docs:read'); // true
 * compiled.can('docs:update', { ownerId: principal.id }); // condition evaluated
 * ```
 */
export interface CompiledPermissions {
  readonly tenantId: string;
  readonly principal: RbacPrincipal;
  /**
   * Epoch ms at which a grant expires and this matcher should be recompiled (`Infinity`: never).
   * Used at or after it (by its clock), the matcher answers as if the expired grants were absent.
   */
  readonly validUntil: number;
  /** Whether the principal may do `permission` (on `resource`, given `context`). */
  can(permission: string, resource?: ResourceAttributes, context?: ConditionContext): boolean;
  /** The same decision as `can`, with the rule that decided and why. */
  explain(permission: string, resource?: ResourceAttributes, context?: ConditionContext): PermissionDecision;
  /** Every rule the principal holds, with its provenance (ceilings not applied). */
  permissions(): readonly EffectivePermission[];
  /** The rows-level form of a check, for "list what I can see" queries. */
  queryConditions(permission: string, context?: ConditionContext): QueryConditions;
  /**
   * Whether the principal holds everything `rule` grants: an allow of theirs subsumes its
   * pattern with no condition or an identical one, and no deny of theirs overlaps it. The
   * assignment policy uses it ("nobody grants a role carrying permissions they lack").
   */
  holds(rule: PermissionRule): boolean;
}
