import type { Clock } from '@tenantkit/core';
import type { PlanCatalog } from '@tenantkit/tenant-context';
import { z } from 'zod';
import type { AccessListOptions } from '../access-lists/access-list.js';
import type { RateLimitEvent, RateLimiterOptions } from '../limiter/rate-limiter.js';
import type { RateLimitStore } from '../stores/rate-limit-store.js';
import { blockSecondsSchema, burstSchema, limitPointsSchema, windowSecondsSchema } from './limit-schemas.js';
import { parseOrThrow } from './parse-or-throw.js';
import type { FailurePolicy, RateLimitDimension, ResolvedPolicyLimit } from './rate-limit-policy.js';

/** The default prefix of every store key. */
const DEFAULT_KEY_PREFIX = 'tk:rl';
const DEFAULT_STORE_TIMEOUT_MS = 500;
const DEFAULT_RECOVERY_CONFIRM_MS = 1000;
const DEFAULT_MAX_METERED_TENANTS = 10_000;
const MAX_POLICIES = 64;

/**
 * A policy name: 1-64 characters of `a-z 0-9 _ -`, starting with a letter or digit. It is part
 * of store keys and of the `RateLimit-Policy` header, so it holds nothing that needs escaping.
 *
 * @example
 * ```ts
 * policyNameSchema.parse('tenant-requests');
 * ```
 */
export const policyNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be 1-64 characters of a-z 0-9 _ -, starting with a letter or digit');

const dimensionSchema = z.enum(['tenant', 'user', 'apiKey', 'ip', 'route', 'key'] satisfies RateLimitDimension[]);
const failureSchema = z.enum(['open', 'closed', 'insurance'] satisfies FailurePolicy[]);
// The catalog's own format for keys of a plan's sections.
const planSectionKeySchema = z.string().regex(/^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/, 'must be a plan rateLimits key');
// Colon-separated segments without braces: a brace would become the Redis Cluster hash tag.
const keyPrefixSchema = z
  .string()
  .max(128)
  .regex(/^[A-Za-z0-9_.-]+(?::[A-Za-z0-9_.-]+)*$/, 'must be colon-separated segments of A-Z a-z 0-9 _ . - (no braces)');

const policyDefinitionSchema = z
  .strictObject({
    name: policyNameSchema,
    by: z
      .array(dimensionSchema)
      .min(1, 'must name at least one dimension')
      .refine((dimensions) => new Set(dimensions).size === dimensions.length, 'must not repeat a dimension'),
    points: limitPointsSchema.optional(),
    duration: windowSecondsSchema.optional(),
    fromPlan: planSectionKeySchema.optional(),
    blockDuration: blockSecondsSchema.optional(),
    burst: burstSchema.optional(),
    failure: failureSchema.optional(),
    shadow: z.boolean().optional(),
  })
  .superRefine((policy, context) => {
    if (policy.points !== undefined && policy.duration === undefined) {
      context.addIssue({ code: 'custom', message: 'is required with points', path: ['duration'] });
    }
    if (policy.points === undefined && policy.duration !== undefined) {
      context.addIssue({ code: 'custom', message: 'is required with duration', path: ['points'] });
    }
    if (policy.points === undefined && policy.duration === undefined && policy.fromPlan === undefined) {
      context.addIssue({ code: 'custom', message: 'needs points and duration, or fromPlan', path: ['points'] });
    }
  });

function hasMethods(value: unknown, names: readonly string[]): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function')
  );
}

const isPlainObject = (value: unknown): boolean => typeof value === 'object' && value !== null && !Array.isArray(value);

const rateLimiterOptionsSchema = z
  .strictObject({
    store: z
      .custom<RateLimitStore>((value) => hasMethods(value, ['limiter', 'consumeAll', 'close']), 'must be a RateLimitStore')
      .optional(),
    policies: z.array(policyDefinitionSchema).min(1, 'must define at least one policy').max(MAX_POLICIES),
    plans: z
      .custom<PlanCatalog>(
        (value) => hasMethods(value, ['hasPlan', 'rateLimitsOf']) && Array.isArray((value as PlanCatalog).planKeys),
        'must be a PlanCatalog (definePlans)',
      )
      .optional(),
    failure: failureSchema.optional(),
    insurance: z.strictObject({ divideBy: z.int().min(1).max(10_000).optional() }).optional(),
    storeTimeoutMs: z.int().min(1).max(60_000).optional(),
    recoveryConfirmMs: z.int().min(0).max(600_000).optional(),
    keyPrefix: keyPrefixSchema.optional(),
    // The access lists validate their own entries (createAccessList).
    allowList: z.custom<AccessListOptions>(isPlainObject, 'must be an object').optional(),
    denyList: z.custom<AccessListOptions>(isPlainObject, 'must be an object').optional(),
    shadow: z.boolean().optional(),
    metering: z.union([z.literal(false), z.strictObject({ maxTenants: z.int().min(1).max(1_000_000).optional() })]).optional(),
    onEvent: z.custom<(event: RateLimitEvent) => void>((value) => typeof value === 'function', 'must be a function').optional(),
    clock: z.custom<Clock>((value) => hasMethods(value, ['now']), 'must have now()').optional(),
  })
  .superRefine((options, context) => {
    const seen = new Set<string>();
    options.policies.forEach((policy, index) => {
      if (seen.has(policy.name)) context.addIssue({ code: 'custom', message: 'is used by another policy', path: ['policies', index, 'name'] });
      seen.add(policy.name);
      if (policy.fromPlan !== undefined && options.plans === undefined) {
        context.addIssue({ code: 'custom', message: 'needs the plans option (a PlanCatalog)', path: ['policies', index, 'fromPlan'] });
      }
    });
  });

/**
 * A policy after validation, with the limiter's defaults applied.
 *
 * @example
 * ```ts
 * const policy: NormalizedPolicy = {
 *   name: 'ip', by: ['ip'], fromPlan: undefined, failure: 'open', shadow: false,
 *   limit: { points: 300, duration: 60, blockDuration: 0 }, defaults: { blockDuration: 0 },
 * };
 * ```
 */
export interface NormalizedPolicy {
  readonly name: string;
  readonly by: readonly RateLimitDimension[];
  readonly fromPlan: string | undefined;
  /** The policy's own limit: the limit of a fixed policy, the fallback of a `fromPlan` one. */
  readonly limit: ResolvedPolicyLimit | undefined;
  /** Block duration and burst for plan entries that set none. */
  readonly defaults: Pick<ResolvedPolicyLimit, 'blockDuration' | 'burst'>;
  readonly failure: FailurePolicy;
  /** The policy's `shadow` or the limiter's. */
  readonly shadow: boolean;
}

/**
 * `createRateLimiter`'s options after validation, defaults applied.
 *
 * @example
 * ```ts
 * const normalized: NormalizedRateLimiterOptions = normalizeRateLimiterOptions({ policies: [{ name: 'ip', by: ['ip'], points: 10, duration: 1 }] });
 * normalized.keyPrefix; // 'tk:rl'
 * ```
 */
export interface NormalizedRateLimiterOptions {
  readonly store: RateLimitStore | undefined;
  readonly policies: readonly NormalizedPolicy[];
  readonly plans: PlanCatalog | undefined;
  readonly insuranceDivideBy: number;
  readonly storeTimeoutMs: number;
  readonly recoveryConfirmMs: number;
  readonly keyPrefix: string;
  readonly allowList: AccessListOptions | undefined;
  readonly denyList: AccessListOptions | undefined;
  readonly metering: { readonly maxTenants: number } | false;
  readonly onEvent: ((event: RateLimitEvent) => void) | undefined;
  readonly clock: Clock | undefined;
}

/**
 * Validates `createRateLimiter`'s options with zod, once, and applies the defaults: failure
 * `'insurance'`, `divideBy` 1, `storeTimeoutMs` 500, `recoveryConfirmMs` 1000, `keyPrefix`
 * `'tk:rl'`, metering for 10,000 tenants. Names are `[a-z0-9][a-z0-9_-]{0,63}` and unique; `by` is non-empty without
 * repeats; `points` and `duration` come together; a policy has them or `fromPlan` (which needs
 * `plans`); numbers are whole and in range.
 *
 * @throws `CONFIGURATION_INVALID` listing every issue (path and message) in its message and
 *   `details.issues`.
 * @example
 * ```ts
 * const options = normalizeRateLimiterOptions({
 *   policies: [{ name: 'tenant', by: ['tenant'], fromPlan: 'requests' }],
 *   plans,
 * });
 * ```
 */
export function normalizeRateLimiterOptions(options: RateLimiterOptions): NormalizedRateLimiterOptions {
  const parsed = parseOrThrow(rateLimiterOptionsSchema, options, 'CONFIGURATION_INVALID', 'createRateLimiter options');
  const defaultFailure = parsed.failure ?? 'insurance';
  const shadowAll = parsed.shadow ?? false;
  return Object.freeze({
    store: parsed.store,
    policies: Object.freeze(
      parsed.policies.map((policy) => {
        const burst = policy.burst === undefined ? undefined : Object.freeze({ ...policy.burst });
        const blockDuration = policy.blockDuration ?? 0;
        const defaults = Object.freeze({ blockDuration, ...(burst === undefined ? {} : { burst }) });
        const limit =
          policy.points === undefined || policy.duration === undefined
            ? undefined
            : Object.freeze({ points: policy.points, duration: policy.duration, ...defaults });
        return Object.freeze({
          name: policy.name,
          by: Object.freeze([...policy.by]),
          fromPlan: policy.fromPlan,
          limit,
          defaults,
          failure: policy.failure ?? defaultFailure,
          shadow: policy.shadow === true || shadowAll,
        });
      }),
    ),
    plans: parsed.plans,
    insuranceDivideBy: parsed.insurance?.divideBy ?? 1,
    storeTimeoutMs: parsed.storeTimeoutMs ?? DEFAULT_STORE_TIMEOUT_MS,
    recoveryConfirmMs: parsed.recoveryConfirmMs ?? DEFAULT_RECOVERY_CONFIRM_MS,
    keyPrefix: parsed.keyPrefix ?? DEFAULT_KEY_PREFIX,
    allowList: parsed.allowList,
    denyList: parsed.denyList,
    metering: parsed.metering === false ? false : { maxTenants: parsed.metering?.maxTenants ?? DEFAULT_MAX_METERED_TENANTS },
    onEvent: parsed.onEvent,
    clock: parsed.clock,
  });
}
