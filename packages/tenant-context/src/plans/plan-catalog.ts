import { z } from 'zod';
import { TenantContextError } from '../errors.js';
import { limitValueSchema } from '../registry/tenant-input-schemas.js';
import type { JsonValue } from '../tenant.js';
import { parseOrThrow } from '../validation.js';
import { catalogPlanKeySchema, entitlementKeySchema, rejectingPrototypeKeys } from './entitlement-keys.js';
import {
  featureOverrideOf,
  tenantFeatureOverrides,
  tenantLimitOverrides,
  type TenantEntitlements,
} from './tenant-overrides.js';

/**
 * One plan as the application declares it to {@link definePlans}.
 *
 * - `limits`: quota per resource, a whole number of units; `-1` means unlimited. A resource
 *   no plan and no tenant override names has limit `0` (see {@link PlanCatalog.resolveLimit}).
 * - `features`: the features the plan includes.
 * - `rateLimits`: an opaque JSON section that @tenantkit/ratelimit reads from the same plan,
 *   e.g. `{ requests: { points: 1000, windowSeconds: 3600 } }`. The catalog only checks that it
 *   is JSON with safe keys.
 * - `metadata`: anything else the application wants on the plan (price ids, marketing copy).
 *
 * @example
 * ```ts
 * const pro: PlanDefinition = {
 *   name: 'Pro',
 *   limits: { users: 50, projects: -1, storageBytes: 100_000_000_000 },
 *   features: ['basic-reports', 'advanced-reports'],
 *   rateLimits: { requests: { points: 10_000, windowSeconds: 3600 } },
 * };
 * ```
 */
export interface PlanDefinition {
  /** Display name. Default: the plan key. */
  name?: string;
  description?: string;
  limits?: Record<string, number>;
  features?: readonly string[];
  rateLimits?: Record<string, JsonValue>;
  metadata?: Record<string, JsonValue>;
}

/**
 * A validated, deeply frozen plan from a {@link PlanCatalog}.
 *
 * @example
 * ```ts
 * const plan = catalog.getPlan('pro');
 * plan.limits.projects; // -1
 * plan.features.includes('advanced-reports'); // true
 * ```
 */
export interface Plan {
  readonly key: string;
  readonly name: string;
  readonly description: string | null;
  readonly limits: Readonly<Record<string, number>>;
  /** Sorted, without duplicates. */
  readonly features: readonly string[];
  readonly rateLimits: Readonly<Record<string, JsonValue>>;
  readonly metadata: Readonly<Record<string, JsonValue>>;
}

/**
 * Where a tenant's limit for a resource comes from.
 *
 * @example
 * ```ts
 * const { limit, source } = catalog.resolveLimit(tenant, 'projects');
 * if (source === 'undefined') log.warn('no plan defines "projects"; it is not allowed');
 * ```
 */
export interface ResolvedLimit {
  /** Whole units, `-1` for unlimited, `0` when nothing defines the resource. */
  readonly limit: number;
  /** `'tenant'` override, the tenant's `'plan'`, or `'undefined'` (neither names it). */
  readonly source: 'tenant' | 'plan' | 'undefined';
}

/**
 * The plans an application sells, and the answers that combine a plan with a tenant's own
 * overrides. The catalog keeps no tenant data: pass the current tenant record to every call,
 * so a plan change or an override takes effect on the next call.
 *
 * @example
 * ```ts
 * const tenant = await registry.getTenantOrThrow(tenantId);
 * catalog.effectiveLimits(tenant);              // { users: 5, projects: 3, storageBytes: 1e9 }
 * catalog.hasFeature(tenant, 'basic-reports');  // true
 * ```
 */
export interface PlanCatalog<PlanKey extends string = string> {
  /** Every plan key, in declaration order. Pass it to `createTenantRegistry({ plans })`. */
  readonly planKeys: readonly PlanKey[];
  /** Every feature any plan includes, sorted. */
  readonly allFeatures: readonly string[];
  /** Whether a plan with this key exists. */
  hasPlan(key: string): boolean;
  /** @throws `PLAN_NOT_FOUND` */
  getPlan(key: string): Plan;
  /**
   * The tenant's limits: its plan's limits with the tenant's `limits` overrides on top.
   * @throws `PLAN_NOT_FOUND` (the tenant's plan is not in the catalog), `CONFIGURATION_INVALID`
   *   (a malformed override in the record).
   */
  effectiveLimits(tenant: Pick<TenantEntitlements, 'plan' | 'limits'>): Readonly<Record<string, number>>;
  /**
   * One resource's limit and where it comes from. A resource neither the plan nor an
   * override names gets limit `0` — not allowed — because treating an unknown resource as
   * unlimited would let a typo or a forgotten plan entry hand out unlimited quota.
   * @throws `PLAN_NOT_FOUND`, `CONFIGURATION_INVALID`, `VALIDATION_FAILED` (malformed resource name)
   */
  resolveLimit(tenant: Pick<TenantEntitlements, 'plan' | 'limits'>, resource: string): ResolvedLimit;
  /**
   * Whether the tenant has a feature: its explicit `features` override wins, otherwise its
   * plan's feature list decides.
   * @throws `PLAN_NOT_FOUND`, `CONFIGURATION_INVALID`, `VALIDATION_FAILED` (malformed feature name)
   */
  hasFeature(tenant: Pick<TenantEntitlements, 'plan' | 'features'>, feature: string): boolean;
  /**
   * Every feature the tenant has, sorted: its plan's features plus overrides forced on,
   * minus overrides forced off.
   * @throws `PLAN_NOT_FOUND`, `CONFIGURATION_INVALID`
   */
  effectiveFeatures(tenant: Pick<TenantEntitlements, 'plan' | 'features'>): readonly string[];
  /**
   * The opaque rate-limit section of the tenant's plan, for @tenantkit/ratelimit.
   * @throws `PLAN_NOT_FOUND`
   */
  rateLimitsOf(tenant: Pick<TenantEntitlements, 'plan'>): Readonly<Record<string, JsonValue>>;
}

/** JSON data; zod's `z.json()` alone lets a cyclic object through, which is not JSON. */
const jsonDataSchema = z.json().superRefine((value, context) => {
  try {
    JSON.stringify(value);
  } catch {
    context.addIssue({ code: 'custom', message: 'must be JSON data (it contains a cycle)' });
  }
});

const planDefinitionSchema = z.strictObject({
  name: z.string().trim().min(1).max(200).optional(),
  description: z.string().max(2000).optional(),
  limits: z.record(entitlementKeySchema, limitValueSchema).optional(),
  features: z.array(entitlementKeySchema).max(1000).optional(),
  rateLimits: z.record(entitlementKeySchema, jsonDataSchema).optional(),
  metadata: z.record(entitlementKeySchema, jsonDataSchema).optional(),
});

// Prototype keys are refused at any depth up front: zod records would silently drop them.
const planDefinitionsSchema = rejectingPrototypeKeys(
  z
    .record(catalogPlanKeySchema, planDefinitionSchema)
    .refine((plans) => Object.keys(plans).length > 0, 'must define at least one plan'),
);

/** Copies JSON into a deeply frozen structure so nobody can edit a plan after validation. */
function deepFreezeCopy<Value>(value: Value): Value {
  const copy = structuredClone(value);
  const pending: unknown[] = [copy];
  while (pending.length > 0) {
    const current = pending.pop();
    if (typeof current !== 'object' || current === null || Object.isFrozen(current)) continue;
    Object.freeze(current);
    pending.push(...Object.values(current));
  }
  return copy;
}

/**
 * Declares the plan catalog. Definitions are validated now (`CONFIGURATION_INVALID` listing
 * every issue): plan keys in the registry's plan-key format, resource and feature names safe
 * identifiers, limits whole numbers `>= -1` (`-1` unlimited). The catalog and its plans are
 * immutable.
 *
 * @example
 * ```ts
 * const plans = definePlans({
 *   free: { limits: { users: 5, projects: 3, storageBytes: 1_000_000_000 }, features: ['basic-reports'] },
 *   pro: {
 *     name: 'Pro',
 *     limits: { users: 50, projects: -1, storageBytes: 100_000_000_000 },
 *     features: ['basic-reports', 'advanced-reports'],
 *     rateLimits: { requests: { points: 10_000, windowSeconds: 3600 } },
 *   },
 * });
 * const registry = createTenantRegistry({ store, plans: plans.planKeys, defaultPlan: 'free' });
 * ```
 */
export function definePlans<const Definitions extends Record<string, PlanDefinition>>(
  definitions: Definitions,
): PlanCatalog<Extract<keyof Definitions, string>> {
  type PlanKey = Extract<keyof Definitions, string>;
  const parsed = parseOrThrow(planDefinitionsSchema, definitions, 'CONFIGURATION_INVALID', 'plan definitions');

  // A Map, not an object, so no lookup by a tenant-supplied plan key can reach a prototype.
  const plans = new Map<string, Plan>();
  for (const [key, definition] of Object.entries(parsed)) {
    plans.set(
      key,
      deepFreezeCopy({
        key,
        name: definition.name ?? key,
        description: definition.description ?? null,
        limits: definition.limits ?? {},
        features: [...new Set(definition.features ?? [])].sort(),
        rateLimits: (definition.rateLimits ?? {}) as Record<string, JsonValue>,
        metadata: (definition.metadata ?? {}) as Record<string, JsonValue>,
      }),
    );
  }
  const planKeys = Object.freeze([...plans.keys()] as PlanKey[]);
  const allFeatures = Object.freeze([...new Set([...plans.values()].flatMap((plan) => plan.features))].sort());

  function getPlan(key: string): Plan {
    const plan = typeof key === 'string' ? plans.get(key) : undefined;
    if (plan === undefined) {
      throw new TenantContextError('PLAN_NOT_FOUND', `Unknown plan "${String(key)}"`, { details: { plan: key } });
    }
    return plan;
  }

  function effectiveLimits(tenant: Pick<TenantEntitlements, 'plan' | 'limits'>): Readonly<Record<string, number>> {
    const plan = getPlan(tenant.plan);
    return Object.freeze({ ...plan.limits, ...tenantLimitOverrides(tenant) });
  }

  return Object.freeze({
    planKeys,
    allFeatures,

    hasPlan(key: string) {
      return typeof key === 'string' && plans.has(key);
    },

    getPlan,

    effectiveLimits,

    resolveLimit(tenant, resource) {
      parseOrThrow(entitlementKeySchema, resource, 'VALIDATION_FAILED', 'resource name');
      const plan = getPlan(tenant.plan);
      const overrides = tenantLimitOverrides(tenant);
      const override = Object.hasOwn(overrides, resource) ? overrides[resource] : undefined;
      if (override !== undefined) return Object.freeze({ limit: override, source: 'tenant' as const });
      const planLimit = Object.hasOwn(plan.limits, resource) ? plan.limits[resource] : undefined;
      if (planLimit !== undefined) return Object.freeze({ limit: planLimit, source: 'plan' as const });
      return Object.freeze({ limit: 0, source: 'undefined' as const });
    },

    hasFeature(tenant, feature) {
      parseOrThrow(entitlementKeySchema, feature, 'VALIDATION_FAILED', 'feature name');
      const plan = getPlan(tenant.plan);
      return featureOverrideOf(tenant, feature) ?? plan.features.includes(feature);
    },

    effectiveFeatures(tenant) {
      const enabled = new Set(getPlan(tenant.plan).features);
      for (const [feature, on] of Object.entries(tenantFeatureOverrides(tenant))) {
        if (on) enabled.add(feature);
        else enabled.delete(feature);
      }
      return Object.freeze([...enabled].sort());
    },

    rateLimitsOf(tenant) {
      return getPlan(tenant.plan).rateLimits;
    },
  } satisfies PlanCatalog<PlanKey>);
}
