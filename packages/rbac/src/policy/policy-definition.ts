import type { ParsedRoleDefinition } from '../roles/role-definition.js';
import type { RoleDefinition } from '../roles/role.js';
import type { PermissionRule, PermissionRuleInput } from '../rules/permission-rule.js';

/**
 * A role in a policy: a {@link RoleDefinition} declared under its key, so `key` may be left
 * out (when given it must equal the key it is declared under).
 *
 * @example
 * ```ts
 * const editor: PolicyRoleDefinition = { name: 'Editor', permissions: ['docs:*', '!docs:delete'], inherits: ['viewer'] };
 * ```
 */
export type PolicyRoleDefinition = Omit<RoleDefinition, 'key'> & { readonly key?: string };

/**
 * A plan in a policy: the permissions a tenant on that plan may use at most (a ceiling over
 * every role of the tenant; see {@link planRulesFromPolicy}).
 *
 * @example
 * ```ts
 * const free: PolicyPlanDefinition = { permissions: ['docs:*', '!docs:export'] };
 * ```
 */
export interface PolicyPlanDefinition {
  readonly permissions: readonly PermissionRuleInput[];
}

/**
 * Roles and plans as an app declares them in code or in a policy file:
 * - `roles`: the roles every tenant gets, synced into one tenant by `syncPolicy(store, policy, { tenantId })`;
 * - `globalRoles`: global role templates (`tenantId: null`), synced by `syncPolicy(..., { tenantId: null })`;
 * - `plans`: the permission ceiling of each plan key.
 *
 * Keys are role keys (`a-z 0-9 _ -`, starting with a letter) and plan keys (`A-Z a-z 0-9 _ . -`,
 * starting with a letter or digit). A role may inherit roles the policy does not declare as
 * long as they exist in the store when it is synced (the seeded `viewer`, say).
 *
 * @example
 * ```ts
 * const definition: PolicyDefinition = {
 *   roles: {
 *     author: { permissions: ['docs:create', { permission: 'docs:update', condition: { self: 'resource.ownerId' } }] },
 *     editor: { permissions: ['docs:*', '!docs:delete'], inherits: ['author'] },
 *   },
 *   plans: { free: { permissions: ['docs:*'] }, pro: { permissions: ['*'] } },
 * };
 * ```
 */
export interface PolicyDefinition {
  readonly roles: Readonly<Record<string, PolicyRoleDefinition>>;
  readonly globalRoles?: Readonly<Record<string, PolicyRoleDefinition>>;
  readonly plans?: Readonly<Record<string, PolicyPlanDefinition>>;
}

/**
 * A validated policy, as {@link definePolicy}, `parsePolicyYaml` and `loadPolicyFile` return
 * it: every role parsed with its defaults filled in and its rules normalised, every plan's
 * rules normalised, all of it frozen. Maps, not objects, so no lookup by a key from elsewhere
 * (a tenant's plan key) can reach a prototype.
 *
 * @example
 * ```ts
 * const policy: Policy = definePolicy({ roles: { viewer: { permissions: ['*:read'] } } });
 * policy.roles.get('viewer')?.rules; // [{ effect: 'allow', permission: '*:read' }]
 * ```
 */
export interface Policy {
  readonly roles: ReadonlyMap<string, Readonly<ParsedRoleDefinition>>;
  readonly globalRoles: ReadonlyMap<string, Readonly<ParsedRoleDefinition>>;
  readonly plans: ReadonlyMap<string, readonly PermissionRule[]>;
}
