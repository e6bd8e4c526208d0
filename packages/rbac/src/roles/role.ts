import type { PermissionRule, PermissionRuleInput } from '../rules/permission-rule.js';

/**
 * The rules that govern who may hand out a role.
 *
 * - `restricted`: only a principal holding `roles:assign-restricted` may assign it.
 * - `selfAssignable`: whether an actor may assign it to themselves (default `false`).
 * - `maxAssignments`: at most this many active or pending assignments in the tenant (`null`:
 *   no limit); enforced atomically by the store.
 * - `requiresApproval`: a new assignment stays `pending` until a second principal approves it.
 *
 * @example
 * ```ts
 * const ownerPolicy: RoleAssignmentPolicy = { restricted: true, selfAssignable: false, maxAssignments: 3, requiresApproval: true };
 * ```
 */
export interface RoleAssignmentPolicy {
  readonly restricted: boolean;
  readonly selfAssignable: boolean;
  readonly maxAssignments: number | null;
  readonly requiresApproval: boolean;
}

/**
 * Where a tenant role came from: written by the tenant (`custom`), seeded from the default
 * system roles (`system`), synced from a global role (`global`), or declared in the app's
 * policy file and written by `syncPolicy` (`policy`; only these may a pruning sync delete).
 *
 * @example
 * ```ts
 * const origin: RoleOrigin = 'system';
 * ```
 */
export type RoleOrigin = 'custom' | 'system' | 'global' | 'policy';

/**
 * A stored role. `tenantId` is `null` for a global role — a template that
 * `syncGlobalRoles` copies into tenants; checks only ever read tenant roles. `key` is
 * 1-64 characters of `a-z 0-9 _ -` starting with a letter; `inherits` names roles of the same
 * tenant (a DAG: cycles are rejected, diamonds are fine). `customized` marks a seeded or synced
 * role the tenant has edited, which later syncs leave alone. `version` starts at 1 and grows by
 * one on every update (compare-and-set).
 *
 * @example
 * ```ts
 * const role = await rbac.roles.get(actor, 'editor', { tenantId: 'tnt_1' });
 * role?.rules; // [{ effect: 'allow', permission: 'docs:*' }, ...]
 * ```
 */
export interface Role {
  readonly tenantId: string | null;
  readonly key: string;
  readonly name: string;
  readonly description: string;
  readonly rules: readonly PermissionRule[];
  readonly inherits: readonly string[];
  readonly assignment: RoleAssignmentPolicy;
  readonly origin: RoleOrigin;
  readonly customized: boolean;
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/**
 * A role as an app declares it (in code, a policy file, or an API payload).
 *
 * @example
 * ```ts
 * const editor: RoleDefinition = {
 *   key: 'editor',
 *   name: 'Editor',
 *   permissions: ['docs:*', '!docs:delete'],
 *   inherits: ['viewer'],
 * };
 * ```
 */
export interface RoleDefinition {
  readonly key: string;
  readonly name?: string;
  readonly description?: string;
  readonly permissions: readonly PermissionRuleInput[];
  readonly inherits?: readonly string[];
  readonly assignment?: Partial<RoleAssignmentPolicy>;
}
