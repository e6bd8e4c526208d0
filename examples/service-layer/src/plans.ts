import { TenantkitError } from '@tenantkit/core';
import { definePlans, type PlanDefinition } from '@tenantkit/tenant-context';

const planDefinitions = {
  free: {
    name: 'Free',
    limits: { projects: 3, domains: 0 },
    features: [],
    rateLimits: { requests: { points: 1_000, windowSeconds: 3_600 } },
  },
  pro: {
    name: 'Pro',
    limits: { projects: 100, domains: 3 },
    features: ['custom-domains', 'audit-export'],
    rateLimits: { requests: { points: 100_000, windowSeconds: 3_600 } },
  },
  enterprise: {
    name: 'Enterprise',
    limits: { projects: -1, domains: 20 },
    features: ['custom-domains', 'audit-export', 'sso'],
    rateLimits: { requests: { points: 1_000_000, windowSeconds: 3_600 } },
  },
} as const satisfies Record<string, PlanDefinition>;

/** A plan key of the example. */
export type ExamplePlanKey = keyof typeof planDefinitions;

/**
 * The example's plans, with request budgets per tenant and hour (`rateLimits.requests`, read by
 * @tenantkit/ratelimit's `fromPlan: 'requests'` policy).
 *
 * @example
 * ```ts
 * examplePlans.rateLimitsOf({ plan: 'free' }).requests; // { points: 1000, windowSeconds: 3600 }
 * ```
 */
export const examplePlans = definePlans(planDefinitions);

/**
 * The example's plans with other request budgets (`config.rateLimits.planRequestPoints`, for
 * load tests and end-to-end tests); windows, quotas and features stay as they are.
 *
 * @throws `CONFIGURATION_INVALID` when an override names a plan the example does not have (a typo would
 *   otherwise leave the real budget in force unnoticed).
 * @example
 * ```ts
 * const plans = defineExamplePlans({ free: 5, pro: 50 });
 * plans.rateLimitsOf({ plan: 'free' }).requests; // { points: 5, windowSeconds: 3600 }
 * ```
 */
export function defineExamplePlans(requestPoints: Readonly<Record<string, number>> = {}): typeof examplePlans {
  const unknown = Object.keys(requestPoints).filter((plan) => !Object.hasOwn(planDefinitions, plan));
  if (unknown.length > 0) {
    throw new TenantkitError('CONFIGURATION_INVALID', `RATE_LIMIT_PLAN_REQUESTS names unknown plans: ${unknown.join(', ')}`);
  }
  if (Object.keys(requestPoints).length === 0) return examplePlans;
  const withPoints = (plan: ExamplePlanKey) => {
    const definition = planDefinitions[plan];
    const points = requestPoints[plan] ?? definition.rateLimits.requests.points;
    return { ...definition, rateLimits: { requests: { ...definition.rateLimits.requests, points } } };
  };
  return definePlans({ free: withPoints('free'), pro: withPoints('pro'), enterprise: withPoints('enterprise') });
}
