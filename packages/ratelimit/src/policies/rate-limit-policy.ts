/**
 * What a policy keys its counter by. Each names one field of {@link RateLimitSubject}:
 * `tenant` → `tenantId`, `user` → `userId`, `apiKey` → `apiKeyId`, `ip` → `ip` (IPv6 keyed
 * by its /64), `route` → `route`, `key` → `key` (any caller-chosen key, e.g. an account
 * e-mail for brute-force counters).
 *
 * @example
 * ```ts
 * const by: RateLimitDimension[] = ['tenant', 'user'];
 * ```
 */
export type RateLimitDimension = 'tenant' | 'user' | 'apiKey' | 'ip' | 'route' | 'key';

/**
 * What a store does while it is down, per policy.
 * - `open`: admit (the decision says `degraded: 'open'`).
 * - `closed`: refuse with `STORE_UNAVAILABLE` (503), never with a 429.
 * - `insurance`: count in process memory (limit divided by `insurance.divideBy`) until the
 *   store answers again; the next call after recovery goes to the store.
 *
 * @example
 * ```ts
 * const failure: FailurePolicy = 'insurance';
 * ```
 */
export type FailurePolicy = 'open' | 'closed' | 'insurance';

/**
 * An extra bucket that admits short bursts over the steady limit (rate-limiter-flexible's
 * `BurstyRateLimiter`): a request the main window refuses is admitted if the burst bucket
 * still has points.
 *
 * @example
 * ```ts
 * const burst: RateLimitBurst = { points: 20, duration: 10 };
 * ```
 */
export interface RateLimitBurst {
  /** Points of the burst bucket, a whole number >= 1. */
  readonly points: number;
  /** Window of the burst bucket in seconds, a whole number >= 1. */
  readonly duration: number;
}

/**
 * One rate-limit rule as the application declares it to `createRateLimiter`.
 *
 * Points and window come either from the policy itself or, with `fromPlan`, from the tenant's
 * plan: `plan.rateLimits[fromPlan]` must be `{ points, windowSeconds, blockSeconds?, burst? }`
 * (`points: -1` means unlimited: the policy is skipped for that plan). The limit is read on
 * every check, so a plan change applies to the tenant's next request without a restart; the
 * counter is kept (the key does not contain the plan).
 *
 * @example
 * ```ts
 * const perTenant: RateLimitPolicyDefinition = { name: 'tenant-requests', by: ['tenant'], fromPlan: 'requests' };
 * const perIp: RateLimitPolicyDefinition = { name: 'ip', by: ['ip'], points: 300, duration: 60, blockDuration: 300 };
 * ```
 */
export interface RateLimitPolicyDefinition {
  /** `[a-z0-9][a-z0-9_-]{0,63}`, unique in the limiter; part of the store key and of the headers. */
  readonly name: string;
  /** Key parts, in order; non-empty, no repeats. */
  readonly by: readonly RateLimitDimension[];
  /** Points per window, a whole number >= 1; the fallback when `fromPlan` finds no plan entry. */
  readonly points?: number;
  /** Window in seconds, a whole number >= 1. Required with `points`. */
  readonly duration?: number;
  /** The key in the tenant plan's `rateLimits` section that gives points and window. */
  readonly fromPlan?: string;
  /** Seconds a key stays blocked after it first exceeds the limit; default 0 (no block). */
  readonly blockDuration?: number;
  /** An optional burst bucket. */
  readonly burst?: RateLimitBurst;
  /** Overrides the limiter's failure policy for this rule. */
  readonly failure?: FailurePolicy;
  /** Only report: a refusal is recorded (decision, metering) but the request is admitted. */
  readonly shadow?: boolean;
}

/**
 * A policy after validation, with the limit it has for one plan resolved.
 *
 * @example
 * ```ts
 * const limit: ResolvedPolicyLimit = { points: 1000, duration: 3600, blockDuration: 0 };
 * ```
 */
export interface ResolvedPolicyLimit {
  readonly points: number;
  readonly duration: number;
  readonly blockDuration: number;
  readonly burst?: RateLimitBurst;
}

/**
 * Who and what a request is, as far as rate limits care. Fields a policy does not key by are
 * ignored; a policy keyed by a field the subject lacks is skipped (it does not apply), except
 * `tenant`, which falls back to the ambient tenant scope and otherwise throws
 * `TENANT_SCOPE_REQUIRED`.
 *
 * @example
 * ```ts
 * const subject: RateLimitSubject = { tenantId: 'acme', plan: 'pro', userId: 'u_1', ip: '2001:db8::1', route: 'POST /projects' };
 * ```
 */
export interface RateLimitSubject {
  readonly tenantId?: string;
  /** The tenant's plan key, for `fromPlan` policies; default: the ambient tenant record's plan. */
  readonly plan?: string;
  readonly userId?: string;
  readonly apiKeyId?: string;
  /** The client IP (already resolved through trusted proxies). */
  readonly ip?: string;
  readonly route?: string;
  /** A free-form key for the `key` dimension. */
  readonly key?: string;
}
