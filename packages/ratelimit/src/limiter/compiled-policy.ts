import type { FailurePolicy, RateLimitDimension, ResolvedPolicyLimit } from '../policies/rate-limit-policy.js';
import type { NormalizedPolicy } from '../policies/normalize-policies.js';
import { assertPlanLimits, createPlanLimitResolver, type PlanLimitResolver } from '../policies/plan-limits.js';
import { subjectKeyBuilder, type SubjectKeyBuilder } from '../policies/subject-key.js';
import type { PlanCatalog } from '@tenantkit/tenant-context';
import type { LimiterSpec, StoreConsumeEntry } from '../stores/rate-limit-store.js';
import { insuranceSpecOf } from './failure-policy.js';

/**
 * One limit of a policy with the store specs that count it, built once per limit (per plan for
 * `fromPlan` policies) so a check hands the store the same spec objects every time.
 *
 * @example
 * ```ts
 * const prepared: PreparedLimit = policy.limitFor('pro')!;
 * await store.consumeAll([{ spec: prepared.spec, key, points: 1 }]);
 * ```
 */
export interface PreparedLimit {
  readonly limit: ResolvedPolicyLimit;
  readonly spec: LimiterSpec;
  /** The spec of the insurance store: the points divided by `insurance.divideBy`. */
  readonly insuranceSpec: LimiterSpec;
}

/**
 * A policy as the limiter runs it: everything a check needs precomputed.
 *
 * @example
 * ```ts
 * const key = policy.keyOf(subject, tenantTag);
 * const prepared = key === undefined ? undefined : policy.limitFor(plan);
 * ```
 */
export interface CompiledPolicy {
  readonly name: string;
  /** Position in the declaration (outcomes come in this order). */
  readonly index: number;
  /**
   * Where the policy's entry goes in a `consumeAll` (lower first): 0 for a per-client counter
   * outside any tenant (IP, user, API key, key: its own slot), 1 for a tenant-keyed one (the
   * tenant's slot), 2 for a counter everyone shares (a route alone). See {@link chargeOrderOf}.
   */
  readonly chargeRank: number;
  /** `${limiterKeyPrefix}:${name}`. */
  readonly keyPrefix: string;
  readonly byTenant: boolean;
  readonly keyOf: SubjectKeyBuilder;
  /**
   * What a store failure does to this policy. A shadow policy never refuses, so its
   * `'closed'` becomes `'open'`: report-only rules cannot turn an outage into 503s.
   */
  readonly failure: FailurePolicy;
  readonly shadow: boolean;
  /** The limit for a plan key; `undefined` when the policy is unlimited on that plan. */
  readonly limitFor: PlanLimitResolver<PreparedLimit>;
}

/**
 * One policy charged for one request: the store entry, plus the policy and limit it counts
 * for (the store reads only `spec`, `key` and `points`).
 *
 * @example
 * ```ts
 * const entry: PolicyEntry = { spec: prepared.spec, key, points: cost, policy, prepared };
 * ```
 */
export interface PolicyEntry extends StoreConsumeEntry {
  readonly policy: CompiledPolicy;
  readonly prepared: PreparedLimit;
}

const PER_CLIENT_DIMENSIONS: ReadonlySet<RateLimitDimension> = new Set(['user', 'apiKey', 'ip', 'key']);

/**
 * The policies in the order a check charges them: by `chargeRank`, then declaration. The Redis
 * Cluster store charges one hash-tag group after another and stops at the first refusal, so a
 * client that floods is refused by its own counter before its request reaches (and, until the
 * refund, inflates) the counter its whole tenant shares; legitimate requests refused during
 * that window would keep their charges and the flood would drain the tenant's budget.
 * Outcomes are still reported in declaration order.
 *
 * @example
 * ```ts
 * chargeOrderOf(policies).map((policy) => policy.name); // ['ip', 'user', 'tenant'] for tenant, user, ip
 * ```
 */
export function chargeOrderOf(policies: readonly CompiledPolicy[]): readonly CompiledPolicy[] {
  return Object.freeze([...policies].sort((left, right) => left.chargeRank - right.chargeRank || left.index - right.index));
}

/**
 * Options of {@link compilePolicies}.
 *
 * @example
 * ```ts
 * compilePolicies({ policies: normalized.policies, plans, keyPrefix: 'tk:rl', insuranceDivideBy: 1 });
 * ```
 */
export interface CompilePoliciesOptions {
  readonly policies: readonly NormalizedPolicy[];
  readonly plans: PlanCatalog | undefined;
  readonly keyPrefix: string;
  readonly insuranceDivideBy: number;
}

/**
 * Compiles validated policies: key builders, store specs per limit, plan lookups. Every plan
 * of the catalog is resolved now, so a missing or malformed plan entry fails here.
 *
 * @throws `CONFIGURATION_INVALID` listing plan entries that are missing or malformed.
 * @example
 * ```ts
 * const policies = compilePolicies({ policies: normalized.policies, plans, keyPrefix: 'tk:rl', insuranceDivideBy: 4 });
 * ```
 */
export function compilePolicies(options: CompilePoliciesOptions): readonly CompiledPolicy[] {
  const compiled = options.policies.map((policy, index): CompiledPolicy => {
    const keyPrefix = `${options.keyPrefix}:${policy.name}`;
    const prepare = (limit: ResolvedPolicyLimit): PreparedLimit => {
      const spec: LimiterSpec = Object.freeze({
        keyPrefix,
        points: limit.points,
        duration: limit.duration,
        blockDuration: limit.blockDuration,
        ...(limit.burst === undefined ? {} : { burst: limit.burst }),
      });
      return Object.freeze({ limit, spec, insuranceSpec: insuranceSpecOf(spec, options.insuranceDivideBy) });
    };
    let limitFor: PlanLimitResolver<PreparedLimit>;
    if (policy.fromPlan === undefined || options.plans === undefined) {
      const fixed = prepare(policy.limit!);
      limitFor = () => fixed;
    } else {
      limitFor = createPlanLimitResolver(
        { plans: options.plans, policy: policy.name, fromPlan: policy.fromPlan, fallback: policy.limit, defaults: policy.defaults },
        prepare,
      );
    }
    const byTenant = policy.by.includes('tenant');
    return Object.freeze({
      name: policy.name,
      index,
      chargeRank: byTenant ? 1 : policy.by.some((dimension) => PER_CLIENT_DIMENSIONS.has(dimension)) ? 0 : 2,
      keyPrefix,
      byTenant,
      keyOf: subjectKeyBuilder(policy.by),
      failure: policy.shadow && policy.failure === 'closed' ? 'open' : policy.failure,
      shadow: policy.shadow,
      limitFor,
    });
  });
  if (options.plans !== undefined) {
    const planPolicies = compiled.filter((_, index) => options.policies[index]!.fromPlan !== undefined);
    assertPlanLimits(options.plans, planPolicies.map((policy) => policy.limitFor));
  }
  return Object.freeze(compiled);
}
