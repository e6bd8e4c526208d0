import { z } from 'zod';
import { TenantContextError } from '../errors.js';
import { tenantStatuses, type Tenant } from '../tenant.js';
import { parseOrThrow } from '../validation.js';
import { entitlementKeySchema, rejectingPrototypeKeys } from './entitlement-keys.js';
import type { PlanCatalog } from './plan-catalog.js';
import { rolloutBucket, rolloutBucketCount } from './rollout-bucket.js';
import { tenantFeatureOverrides } from './tenant-overrides.js';

/**
 * A value a rule can match: compared with `===`, never as a pattern.
 *
 * @example
 * ```ts
 * const value: FlagAttributeValue = 'eu-west';
 * ```
 */
export type FlagAttributeValue = string | number | boolean;

/**
 * One targeting rule. It applies when every `match` attribute equals the given value (or is
 * one of the listed values) and, with `percentage`, when the subject's stable rollout bucket
 * falls inside the percentage. The first rule that applies decides the flag's value.
 *
 * Attributes are the tenant's `plan`, `region`, `status`, `id` and `slug`, plus the
 * caller's `attributes`. A missing attribute (or a `null` region) matches nothing.
 *
 * @example
 * ```ts
 * const rules: FeatureFlagRule[] = [
 *   { match: { plan: ['pro', 'enterprise'] }, value: true },
 *   { match: { region: 'eu-west' }, value: false },
 *   { percentage: 25, value: true },
 * ];
 * ```
 */
export interface FeatureFlagRule {
  match?: Readonly<Record<string, FlagAttributeValue | readonly FlagAttributeValue[]>>;
  /** 0 to 100, at most two decimals. */
  percentage?: number;
  value: boolean;
}

/**
 * A feature flag: its rules in order and the value when none applies.
 *
 * @example
 * ```ts
 * const newEditor: FeatureFlagDefinition = {
 *   description: 'The rewritten editor',
 *   default: false,
 *   rules: [{ match: { plan: ['pro'] }, value: true }, { percentage: 10, value: true }],
 * };
 * ```
 */
export interface FeatureFlagDefinition {
  description?: string;
  /** Default: `false`. */
  default?: boolean;
  rules?: readonly FeatureFlagRule[];
}

/**
 * Options of {@link createFeatureFlags}.
 *
 * @example
 * ```ts
 * createFeatureFlags({ flags: { 'new-editor': { default: false } }, plans });
 * ```
 */
export interface FeatureFlagsOptions {
  flags: Readonly<Record<string, FeatureFlagDefinition>>;
  /**
   * With a catalog, every feature a plan lists is a flag too, decided by the tenant's plan
   * (after the tenant's own override). A defined flag may not share a plan feature's name.
   */
  plans?: PlanCatalog;
}

/**
 * What a flag is evaluated for.
 *
 * @example
 * ```ts
 * const context: FlagContext = { tenant, attributes: { country: 'DE', beta: true }, subjectKey: user.id };
 * ```
 */
export interface FlagContext {
  tenant: Pick<Tenant<unknown>, 'id' | 'slug' | 'status' | 'plan' | 'region' | 'features'>;
  /**
   * Extra attributes rules can match. The names `plan`, `region`, `status`, `id` and `slug`
   * belong to the tenant and are refused here, so a caller cannot pose as another plan.
   */
  attributes?: Readonly<Record<string, FlagAttributeValue | null>>;
  /** Who percentage rollouts bucket: default the tenant id; pass a user id for per-user rollouts. */
  subjectKey?: string;
}

/**
 * Which step decided a flag, from {@link FeatureFlags.explain}.
 *
 * - `tenant-override`: the tenant's `features` record forces it on or off.
 * - `plan`: the flag is a plan feature; `plan` is the tenant's plan.
 * - `rule`: the rule at `ruleIndex` applied; `bucket` is the subject's rollout bucket
 *   (0-9999) when that rule has a percentage, else `null`.
 * - `default`: no rule applied.
 *
 * @example
 * ```ts
 * const decision = flags.explain('new-editor', { tenant });
 * if (decision.step === 'rule') console.log(`rule #${decision.ruleIndex}`);
 * ```
 */
export type FlagDecision =
  | { readonly flag: string; readonly value: boolean; readonly step: 'tenant-override' }
  | { readonly flag: string; readonly value: boolean; readonly step: 'plan'; readonly plan: string }
  | {
      readonly flag: string;
      readonly value: boolean;
      readonly step: 'rule';
      readonly ruleIndex: number;
      readonly bucket: number | null;
    }
  | { readonly flag: string; readonly value: boolean; readonly step: 'default' };

/**
 * Evaluates feature flags for a tenant. Evaluation order: the tenant's explicit `features`
 * override → the plan's feature list (plan features only) → the flag's rules in order →
 * its default. Evaluation is synchronous and pure: no I/O, no caching of tenant data.
 *
 * @example
 * ```ts
 * if (flags.isEnabled('new-editor', { tenant: currentTenant()! })) renderNewEditor();
 * ```
 */
export interface FeatureFlags {
  /** Every flag name, defined flags and plan features, sorted. */
  readonly flagKeys: readonly string[];
  /**
   * The flag's value for this context.
   * @throws `VALIDATION_FAILED` (unknown flag, malformed context), `PLAN_NOT_FOUND` (plan
   *   feature, tenant on an unknown plan), `CONFIGURATION_INVALID` (malformed tenant overrides)
   */
  isEnabled(flag: string, context: FlagContext): boolean;
  /** Every flag's value, keyed by flag name. @throws like `isEnabled` */
  evaluateAll(context: FlagContext): Readonly<Record<string, boolean>>;
  /** The value and the step that decided it. @throws like `isEnabled` */
  explain(flag: string, context: FlagContext): FlagDecision;
}

const TENANT_ATTRIBUTES = ['plan', 'region', 'status', 'id', 'slug'] as const;
const TENANT_ATTRIBUTE_SET: ReadonlySet<string> = new Set(TENANT_ATTRIBUTES);

const attributeValueSchema = z.union([z.string().max(1000), z.number(), z.boolean()]);
const matchValueSchema = z.union([attributeValueSchema, z.array(attributeValueSchema).min(1).max(1000)]);

const ruleSchema = z
  .strictObject({
    match: z
      .record(entitlementKeySchema, matchValueSchema)
      .refine((match) => Object.keys(match).length > 0, 'must name at least one attribute')
      .optional(),
    percentage: z
      .number()
      .min(0)
      .max(100)
      .refine((value) => Math.abs(value * 100 - Math.round(value * 100)) < 1e-9, 'must have at most two decimals')
      .optional(),
    value: z.boolean(),
  })
  .refine((rule) => rule.match !== undefined || rule.percentage !== undefined, 'needs match or percentage (or both)');

const flagDefinitionSchema = z.strictObject({
  description: z.string().max(2000).optional(),
  default: z.boolean().optional(),
  rules: z.array(ruleSchema).max(200).optional(),
});

const optionsSchema = z.strictObject({
  flags: rejectingPrototypeKeys(z.record(entitlementKeySchema, flagDefinitionSchema)),
  plans: z
    .custom<PlanCatalog>(
      (value) => typeof (value as PlanCatalog | undefined)?.getPlan === 'function',
      'must be a PlanCatalog from definePlans()',
    )
    .optional(),
});

const contextSchema = z.object({
  tenant: z.object({
    id: z.string(),
    slug: z.string(),
    status: z.string(),
    plan: z.string(),
    region: z.string().nullable(),
    features: z.unknown(),
  }),
  attributes: rejectingPrototypeKeys(
    z
      .record(entitlementKeySchema, attributeValueSchema.nullable())
      .refine(
        (attributes) => Object.keys(attributes).every((name) => !TENANT_ATTRIBUTE_SET.has(name)),
        `must not use the tenant attribute names ${TENANT_ATTRIBUTES.join(', ')}`,
      ),
  ).optional(),
  subjectKey: z.string().min(1).max(256).optional(),
});

interface CompiledRule {
  readonly match: ReadonlyArray<readonly [attribute: string, accepted: readonly FlagAttributeValue[]]>;
  /** Subjects whose bucket is below this are in; `null` when the rule has no percentage. */
  readonly bucketsBelow: number | null;
  readonly value: boolean;
}

interface CompiledFlag {
  readonly defaultValue: boolean;
  readonly rules: readonly CompiledRule[];
}

/**
 * Creates {@link FeatureFlags}. Definitions are validated now (`CONFIGURATION_INVALID`):
 * names are safe identifiers; rules are plain data compared with `===` (no expressions, no
 * patterns); with `plans`, a rule matching `plan` may only name catalog plans, and a flag
 * may not reuse a plan feature's name (plan features are flags already).
 *
 * Percentage rollouts use {@link rolloutBucket} over `flag:subjectKey`, so a subject's
 * answer is the same in every process and release, and a subject in at 10 % stays in at 20 %.
 *
 * @example
 * ```ts
 * const flags = createFeatureFlags({
 *   plans,
 *   flags: {
 *     'new-editor': {
 *       default: false,
 *       rules: [
 *         { match: { plan: ['pro', 'enterprise'] }, value: true },
 *         { match: { region: ['eu-west'] }, value: false },
 *         { percentage: 25, value: true },
 *       ],
 *     },
 *   },
 * });
 * flags.isEnabled('new-editor', { tenant });
 * flags.explain('new-editor', { tenant }); // { flag: 'new-editor', value: true, step: 'rule', ruleIndex: 0, bucket: null }
 * ```
 */
export function createFeatureFlags(options: FeatureFlagsOptions): FeatureFlags {
  const parsed = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'feature flag options');
  const plans = parsed.plans;
  const planFeatures: ReadonlySet<string> = new Set(plans?.allFeatures ?? []);

  const configurationIssues: string[] = [];
  const flags = new Map<string, CompiledFlag>();
  for (const [flag, definition] of Object.entries(parsed.flags)) {
    if (planFeatures.has(flag)) {
      configurationIssues.push(`flags.${flag}: is a plan feature; plans decide it, so it cannot have its own definition`);
      continue;
    }
    const rules = (definition.rules ?? []).map((rule, index): CompiledRule => {
      const match = Object.entries(rule.match ?? {}).map(([attribute, expected]) => {
        const accepted = Array.isArray(expected) ? expected : [expected];
        for (const value of accepted) {
          if (attribute === 'plan' && plans !== undefined && (typeof value !== 'string' || !plans.hasPlan(value))) {
            configurationIssues.push(`flags.${flag}.rules.${index}.match.plan: "${String(value)}" is not a plan`);
          }
          if (attribute === 'status' && !tenantStatuses.includes(value as never)) {
            configurationIssues.push(`flags.${flag}.rules.${index}.match.status: "${String(value)}" is not a tenant status`);
          }
        }
        return Object.freeze([attribute, Object.freeze(accepted)] as const);
      });
      return Object.freeze({
        match: Object.freeze(match),
        bucketsBelow: rule.percentage === undefined ? null : Math.round(rule.percentage * (rolloutBucketCount / 100)),
        value: rule.value,
      });
    });
    flags.set(flag, Object.freeze({ defaultValue: definition.default ?? false, rules: Object.freeze(rules) }));
  }
  if (configurationIssues.length > 0) {
    throw new TenantContextError('CONFIGURATION_INVALID', `Invalid feature flag options: ${configurationIssues.join('; ')}`, {
      details: { issues: configurationIssues.map((message) => ({ message })) },
    });
  }
  const flagKeys = Object.freeze([...new Set([...flags.keys(), ...planFeatures])].sort());

  function parseContext(context: FlagContext): FlagContext {
    parseOrThrow(contextSchema, context, 'VALIDATION_FAILED', 'feature flag context');
    return context;
  }

  function attributeOf(context: FlagContext, attribute: string): FlagAttributeValue | undefined {
    if (TENANT_ATTRIBUTE_SET.has(attribute)) {
      const value = context.tenant[attribute as (typeof TENANT_ATTRIBUTES)[number]];
      return value === null ? undefined : value;
    }
    const attributes = context.attributes;
    if (attributes === undefined || !Object.hasOwn(attributes, attribute)) return undefined;
    return attributes[attribute] ?? undefined;
  }

  function ruleApplies(flag: string, rule: CompiledRule, context: FlagContext): { applies: boolean; bucket: number | null } {
    for (const [attribute, accepted] of rule.match) {
      const actual = attributeOf(context, attribute);
      if (actual === undefined || !accepted.includes(actual)) return { applies: false, bucket: null };
    }
    if (rule.bucketsBelow === null) return { applies: true, bucket: null };
    const bucket = rolloutBucket(flag, context.subjectKey ?? context.tenant.id);
    return { applies: bucket < rule.bucketsBelow, bucket };
  }

  function decide(flag: string, context: FlagContext, overrides: Readonly<Record<string, boolean>>): FlagDecision {
    if (Object.hasOwn(overrides, flag)) {
      return Object.freeze({ flag, value: overrides[flag] === true, step: 'tenant-override' as const });
    }
    if (plans !== undefined && planFeatures.has(flag)) {
      const plan = plans.getPlan(context.tenant.plan);
      return Object.freeze({ flag, value: plan.features.includes(flag), step: 'plan' as const, plan: plan.key });
    }
    const definition = flags.get(flag);
    if (definition === undefined) {
      throw new TenantContextError('VALIDATION_FAILED', `Unknown feature flag "${flag}"`, { details: { flag } });
    }
    for (const [ruleIndex, rule] of definition.rules.entries()) {
      const { applies, bucket } = ruleApplies(flag, rule, context);
      if (applies) return Object.freeze({ flag, value: rule.value, step: 'rule' as const, ruleIndex, bucket });
    }
    return Object.freeze({ flag, value: definition.defaultValue, step: 'default' as const });
  }

  function explain(flag: string, context: FlagContext): FlagDecision {
    parseOrThrow(entitlementKeySchema, flag, 'VALIDATION_FAILED', 'feature flag name');
    if (!flags.has(flag) && !planFeatures.has(flag)) {
      throw new TenantContextError('VALIDATION_FAILED', `Unknown feature flag "${flag}"`, { details: { flag } });
    }
    const checked = parseContext(context);
    return decide(flag, checked, tenantFeatureOverrides(checked.tenant));
  }

  return Object.freeze({
    flagKeys,

    isEnabled(flag: string, context: FlagContext) {
      return explain(flag, context).value;
    },

    evaluateAll(context: FlagContext) {
      const checked = parseContext(context);
      const overrides = tenantFeatureOverrides(checked.tenant);
      const values: Record<string, boolean> = {};
      // Flag keys are validated safe identifiers, so plain assignment cannot touch a prototype.
      for (const flag of flagKeys) values[flag] = decide(flag, checked, overrides).value;
      return Object.freeze(values);
    },

    explain,
  } satisfies FeatureFlags);
}
