import { isTenantkitError } from '@tenantkit/core';
import type { PlanCatalog } from '@tenantkit/tenant-context';
import { z } from 'zod';
import { RateLimitError } from '../errors.js';
import { blockSecondsSchema, burstSchema, limitPointsSchema, windowSecondsSchema } from './limit-schemas.js';
import { parseOrThrow } from './parse-or-throw.js';
import type { ResolvedPolicyLimit } from './rate-limit-policy.js';

/**
 * One entry of a plan's `rateLimits` section as @tenantkit/ratelimit reads it:
 * `{ points, windowSeconds, blockSeconds?, burst? }`, with `points: -1` for unlimited (then
 * `windowSeconds` may be left out). Unknown fields are refused, so a typo such as `window`
 * fails loudly instead of being ignored.
 *
 * @example
 * ```ts
 * planRateLimitSchema.parse({ points: 1000, windowSeconds: 3600 });
 * planRateLimitSchema.parse({ points: -1 }); // unlimited
 * ```
 */
export const planRateLimitSchema = z.union([
  z.strictObject({
    points: z.literal(-1),
    windowSeconds: windowSecondsSchema.optional(),
    blockSeconds: blockSecondsSchema.optional(),
    burst: burstSchema.optional(),
  }),
  z.strictObject({
    points: limitPointsSchema,
    windowSeconds: windowSecondsSchema,
    blockSeconds: blockSecondsSchema.optional(),
    burst: burstSchema.optional(),
  }),
]);

/**
 * Where one policy's limit comes from when it uses `fromPlan`.
 *
 * @example
 * ```ts
 * const source: PlanLimitSource = { plans, policy: 'tenant', fromPlan: 'requests', fallback: undefined, defaults: { blockDuration: 0 } };
 * ```
 */
export interface PlanLimitSource {
  readonly plans: PlanCatalog;
  /** The policy name, for error messages. */
  readonly policy: string;
  /** The key in the plan's `rateLimits` section. */
  readonly fromPlan: string;
  /** The policy's own points and window: used when no plan is known or the plan has no entry. */
  readonly fallback: ResolvedPolicyLimit | undefined;
  /** The policy's block duration and burst, for plan entries that set none of their own. */
  readonly defaults: Pick<ResolvedPolicyLimit, 'blockDuration' | 'burst'>;
}

/**
 * A policy's limit for a plan key, prepared by the caller (`undefined`: unlimited on that
 * plan). See {@link createPlanLimitResolver}.
 *
 * @example
 * ```ts
 * const limit = resolve('pro'); // prepared limit, or undefined when 'pro' is unlimited
 * ```
 */
export type PlanLimitResolver<Prepared> = (planKey: string | undefined) => Prepared | undefined;

function planNotFound(source: PlanLimitSource, planKey: unknown, cause?: unknown): RateLimitError {
  return new RateLimitError('PLAN_NOT_FOUND', `Rate-limit policy "${source.policy}" found no plan "${String(planKey)}" in the catalog`, {
    details: { policy: source.policy },
    ...(cause === undefined ? {} : { cause }),
  });
}

function readEntry(source: PlanLimitSource, planKey: string): ResolvedPolicyLimit | null {
  let section: Readonly<Record<string, unknown>>;
  try {
    section = source.plans.rateLimitsOf({ plan: planKey });
  } catch (error) {
    if (isTenantkitError(error, 'PLAN_NOT_FOUND')) throw planNotFound(source, planKey, error);
    throw new RateLimitError('CONFIGURATION_INVALID', `The plan catalog failed to give the rate limits of plan "${planKey}"`, { cause: error });
  }
  const raw = typeof section === 'object' && section !== null && Object.hasOwn(section, source.fromPlan) ? section[source.fromPlan] : undefined;
  if (raw === undefined) {
    if (source.fallback !== undefined) return source.fallback;
    throw new RateLimitError(
      'CONFIGURATION_INVALID',
      `Plan "${planKey}" has no rateLimits.${source.fromPlan} entry, and rate-limit policy "${source.policy}" has no points and duration to fall back on`,
      { details: { policy: source.policy, plan: planKey } },
    );
  }
  const entry = parseOrThrow(planRateLimitSchema, raw, 'CONFIGURATION_INVALID', `rateLimits.${source.fromPlan} of plan "${planKey}"`);
  if (entry.points === -1) return null;
  const burst = entry.burst ?? source.defaults.burst;
  return Object.freeze({
    points: entry.points,
    duration: entry.windowSeconds!, // required by the schema whenever points is not -1
    blockDuration: entry.blockSeconds ?? source.defaults.blockDuration,
    ...(burst === undefined ? {} : { burst: Object.freeze({ points: burst.points, duration: burst.duration }) }),
  });
}

/**
 * Builds the per-check lookup of a `fromPlan` policy's limit. A plan's entry is read from the
 * catalog and validated once, then cached by plan key (the catalog is immutable), so a tenant
 * that moves to another plan gets that plan's limit on its next check, at the cost of one `Map`
 * lookup. `prepare` turns a limit into whatever the caller keeps per limit (store specs), once.
 *
 * - plan key `undefined` (no plan known): the policy's fallback, else `PLAN_NOT_FOUND`;
 * - a plan the catalog does not have: `PLAN_NOT_FOUND` (not cached, so bad input cannot grow
 *   the cache);
 * - a plan without the entry: the fallback, else `CONFIGURATION_INVALID`;
 * - a malformed entry: `CONFIGURATION_INVALID` listing the issues; `points: -1`: `undefined`.
 *
 * An entry without `blockSeconds` or `burst` takes the policy's own `blockDuration` and `burst`.
 *
 * @example
 * ```ts
 * const resolve = createPlanLimitResolver(
 *   { plans, policy: 'tenant', fromPlan: 'requests', fallback: undefined, defaults: { blockDuration: 0 } },
 *   (limit) => limit,
 * );
 * resolve('free'); // { points: 1000, duration: 3600, blockDuration: 0 }
 * resolve('enterprise-unlimited'); // undefined
 * ```
 */
export function createPlanLimitResolver<Prepared>(
  source: PlanLimitSource,
  prepare: (limit: ResolvedPolicyLimit) => Prepared,
): PlanLimitResolver<Prepared> {
  // A Map, not an object: a plan key from a request can never reach a prototype.
  const cache = new Map<string, Prepared | null>();
  let preparedFallback: Prepared | undefined;
  const fallbackPrepared = (): Prepared => (preparedFallback ??= prepare(source.fallback!));

  return (planKey) => {
    if (planKey === undefined) {
      if (source.fallback !== undefined) return fallbackPrepared();
      throw new RateLimitError(
        'PLAN_NOT_FOUND',
        `Rate-limit policy "${source.policy}" takes its limit from the tenant's plan, and no plan is known: pass subject.plan or open the tenant scope with the tenant record`,
        { details: { policy: source.policy } },
      );
    }
    const cached = cache.get(planKey);
    if (cached !== undefined) return cached ?? undefined;
    if (typeof planKey !== 'string' || !source.plans.hasPlan(planKey)) throw planNotFound(source, planKey);
    const limit = readEntry(source, planKey);
    const prepared = limit === null ? null : limit === source.fallback ? fallbackPrepared() : prepare(limit);
    cache.set(planKey, prepared);
    return prepared ?? undefined;
  };
}

/**
 * Resolves every plan of the catalog through each resolver now, so a plan entry that is
 * missing or malformed fails `createRateLimiter` instead of a request later.
 *
 * @throws `CONFIGURATION_INVALID` listing every problem found.
 * @example
 * ```ts
 * assertPlanLimits(plans, [resolveTenantLimit, resolveUserLimit]);
 * ```
 */
export function assertPlanLimits(plans: PlanCatalog, resolvers: readonly PlanLimitResolver<unknown>[]): void {
  const problems: string[] = [];
  for (const planKey of plans.planKeys) {
    for (const resolve of resolvers) {
      try {
        resolve(planKey);
      } catch (error) {
        problems.push(error instanceof Error ? error.message : String(error));
      }
    }
  }
  if (problems.length > 0) {
    throw new RateLimitError('CONFIGURATION_INVALID', `Invalid plan rate limits: ${problems.join('; ')}`, {
      details: { issues: problems.map((message) => ({ path: 'plans', message })) },
    });
  }
}
