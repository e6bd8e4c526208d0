import { RbacError } from '../errors.js';
import type { PermissionRule } from '../rules/permission-rule.js';
import type { Policy } from './policy-definition.js';

/**
 * Options of {@link planRulesFromPolicy}.
 *
 * @example
 * ```ts
 * const options: PlanRulesFromPolicyOptions = { planOf: async (tenantId) => (await registry.getTenant(tenantId))?.plan };
 * ```
 */
export interface PlanRulesFromPolicyOptions {
  /** The plan key of a tenant (`null`/`undefined`: it has none, e.g. it was deleted). */
  readonly planOf: (tenantId: string) => string | null | undefined | Promise<string | null | undefined>;
}

/**
 * Turns a policy's `plans` into the `planRules` option of `createRbac`: for each tenant, the
 * rules of its plan, a ceiling over every role the tenant's principals hold. Fails closed: a
 * tenant without a plan, or on a plan the policy does not declare (a typo, a plan added to the
 * catalog but not to the policy), may do nothing at all — declare `permissions: ['*']` for a
 * plan without a ceiling. The rules returned for a plan are the same frozen array every time,
 * so the authorizer keeps its compiled matchers while a tenant's plan stays the same.
 *
 * @throws RbacError `CONFIGURATION_INVALID` when `policy` is not a parsed policy or `planOf` is not a function.
 * @example
 * ```ts
 * const rbac = createRbac({
 *   store,
 *   planRules: planRulesFromPolicy(policy, { planOf: async (tenantId) => (await registry.getTenant(tenantId))?.plan }),
 * });
 * ```
 */
export function planRulesFromPolicy(
  policy: Policy,
  options: PlanRulesFromPolicyOptions,
): (tenantId: string) => Promise<readonly PermissionRule[]> {
  if (!(policy?.plans instanceof Map)) {
    throw new RbacError('CONFIGURATION_INVALID', 'planRulesFromPolicy: pass a policy from definePolicy, parsePolicyYaml or loadPolicyFile');
  }
  if (typeof options?.planOf !== 'function') throw new RbacError('CONFIGURATION_INVALID', 'planRulesFromPolicy: planOf must be a function');
  const { plans } = policy;
  const { planOf } = options;
  const nothing: readonly PermissionRule[] = Object.freeze([]);
  return async (tenantId) => {
    const plan = await planOf(tenantId);
    return (typeof plan === 'string' ? plans.get(plan) : undefined) ?? nothing;
  };
}
