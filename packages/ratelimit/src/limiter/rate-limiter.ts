import type { Clock } from '@tenantkit/core';
import type { PlanCatalog } from '@tenantkit/tenant-context';
import type { AccessListOptions } from '../access-lists/access-list.js';
import type { TenantMetering } from '../metering/tenant-metering.js';
import type {
  FailurePolicy,
  RateLimitPolicyDefinition,
  RateLimitSubject,
  ResolvedPolicyLimit,
} from '../policies/rate-limit-policy.js';
import type { RateLimitStore } from '../stores/rate-limit-store.js';
import type { PolicyOutcome, RateLimitDecision } from './rate-limit-decision.js';

/**
 * What the limiter reports to `onEvent`: store failures and recoveries (so an operator sees
 * a degraded limiter) and every decision (for custom metrics).
 *
 * - `store-failed`: once when an outage begins (a store call rejects or times out while no
 *   outage is announced), whatever the number of failing calls.
 * - `store-recovered`: once per outage, when the store has answered for `recoveryConfirmMs`
 *   (default 1000 ms, by the limiter's clock) with no failure in between, so a store that
 *   fails for some keys only (one Redis Cluster slot down) is reported down once rather than
 *   flapping with every request. Only the event waits: every call tries the store, so
 *   limiting is back on the store with its first answer.
 *
 * @example
 * ```ts
 * const onEvent = (event: RateLimitEvent) => {
 *   if (event.type === 'store-failed') log.warn({ err: event.error }, 'rate limit store down');
 * };
 * ```
 */
export type RateLimitEvent =
  | { readonly type: 'store-failed'; readonly error: Error; readonly policies: readonly string[] }
  | { readonly type: 'store-recovered' }
  | { readonly type: 'decision'; readonly decision: RateLimitDecision; readonly subject: RateLimitSubject };

/**
 * Options of `createRateLimiter`, validated when it is called (`CONFIGURATION_INVALID`).
 *
 * @example
 * ```ts
 * const options: RateLimiterOptions = {
 *   store: redisRateLimitStore(redis),
 *   plans,
 *   policies: [
 *     { name: 'tenant', by: ['tenant'], fromPlan: 'requests' },
 *     { name: 'user', by: ['tenant', 'user'], points: 600, duration: 60 },
 *     { name: 'ip', by: ['ip'], points: 1200, duration: 60, failure: 'open' },
 *   ],
 *   failure: 'insurance',
 * };
 * ```
 */
export interface RateLimiterOptions {
  /** Default: a new `memoryRateLimitStore()` (one process only). */
  readonly store?: RateLimitStore;
  /** The rules; at least one, unique names. */
  readonly policies: readonly RateLimitPolicyDefinition[];
  /** Needed when any policy uses `fromPlan`. */
  readonly plans?: PlanCatalog;
  /** What to do while the store is down; default `'insurance'`. */
  readonly failure?: FailurePolicy;
  /**
   * Insurance counters live in this process only; with N processes behind a balancer set
   * `divideBy: N` so the fleet admits about the real limit. Default 1.
   */
  readonly insurance?: { readonly divideBy?: number };
  /** A store call slower than this counts as a failure; default 500 ms. */
  readonly storeTimeoutMs?: number;
  /**
   * How long the store must keep answering, with no failure in between, before
   * `'store-recovered'` is reported (measured with `clock`); 0 to 600,000 ms, default 1000.
   * 0 reports the first answer, which flaps while a store fails for some keys only. Limiting
   * itself returns to the store at once whatever this is.
   */
  readonly recoveryConfirmMs?: number;
  /** Prefix of every store key, no `{` `}` `:`-only; default `'tk:rl'`. */
  readonly keyPrefix?: string;
  /** Clients admitted or refused without touching the store. */
  readonly allowList?: AccessListOptions;
  readonly denyList?: AccessListOptions;
  /** Report-only for every policy. Default false. */
  readonly shadow?: boolean;
  /** Per-tenant counters; default `{ maxTenants: 10_000 }`. `false` turns metering off. */
  readonly metering?: { readonly maxTenants?: number } | false;
  readonly onEvent?: (event: RateLimitEvent) => void;
  readonly clock?: Clock;
}

/**
 * Options of one {@link RateLimiter.check}.
 *
 * @example
 * ```ts
 * await limiter.check(subject, { policies: ['tenant', 'bulk'], cost: 10 });
 * ```
 */
export interface RateLimitCheckOptions {
  /** Only these policies (by name); default every policy. Unknown names: `RATE_LIMIT_POLICY_NOT_FOUND`. */
  readonly policies?: readonly string[];
  /** Points this request costs, a whole number >= 1; default 1. */
  readonly cost?: number;
}

/**
 * A configured limiter. Checks for a request go through {@link RateLimiter.check} (every
 * applicable policy at once, one store round trip per slot); other packages (auth's brute
 * force counters) use the per-policy operations.
 *
 * @example
 * ```ts
 * const limiter = createRateLimiter({ policies: [{ name: 'login', by: ['key'], points: 5, duration: 900, blockDuration: 900 }] });
 * const outcome = await limiter.consume('login', { key: 'alice@example.com' });
 * if (!outcome.allowed) throw new Error('locked');
 * await limiter.delete('login', { key: 'alice@example.com' }); // after a successful login
 * ```
 */
export interface RateLimiter {
  /** Charges `cost` to every applicable policy (all-or-nothing) and decides. Never throws `RATE_LIMITED`. */
  check(subject: RateLimitSubject, options?: RateLimitCheckOptions): Promise<RateLimitDecision>;
  /** `check`, then throws `RATE_LIMITED` (429) or `CLIENT_DENIED` (403) when refused. */
  enforce(subject: RateLimitSubject, options?: RateLimitCheckOptions): Promise<RateLimitDecision>;
  /** Charges one policy; the outcome says whether it admitted. */
  consume(policy: string, subject: RateLimitSubject, points?: number): Promise<PolicyOutcome>;
  /** Adds points without deciding anything (a failed login costs extra). */
  penalty(policy: string, subject: RateLimitSubject, points?: number): Promise<PolicyOutcome>;
  /** Gives points back. */
  reward(policy: string, subject: RateLimitSubject, points?: number): Promise<PolicyOutcome>;
  /** Blocks the key for `seconds` (default: the policy's blockDuration, else its window). */
  block(policy: string, subject: RateLimitSubject, seconds?: number): Promise<PolicyOutcome>;
  /** The counter without charging; undefined when the key has no counter. */
  get(policy: string, subject: RateLimitSubject): Promise<PolicyOutcome | undefined>;
  /** Resets the key; true when a counter existed. */
  delete(policy: string, subject: RateLimitSubject): Promise<boolean>;
  /** The read-only state of every applicable policy for a subject. */
  status(subject: RateLimitSubject): Promise<readonly PolicyOutcome[]>;
  /** The limit a policy has for a plan (undefined: unlimited on that plan). */
  limitFor(policy: string, plan?: string): ResolvedPolicyLimit | undefined;
  /** The policy names, in declaration order. */
  readonly policyNames: readonly string[];
  /** Per-tenant admitted/rejected counters; undefined when metering is off. */
  readonly metering: TenantMetering | undefined;
  /** Releases timers and the stores the limiter created itself. */
  close(): Promise<void>;
}
