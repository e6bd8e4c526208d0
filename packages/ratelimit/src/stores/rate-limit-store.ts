import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { RateLimitBurst } from '../policies/rate-limit-policy.js';

/**
 * The limit one store counter enforces. Stores memoise one rate-limiter-flexible limiter per
 * distinct spec; `keyPrefix` does not include the points, so a plan change that alters
 * `points` keeps counting on the same key.
 *
 * @example
 * ```ts
 * const spec: LimiterSpec = { keyPrefix: 'tk:rl:api', points: 100, duration: 60, blockDuration: 0 };
 * ```
 */
export interface LimiterSpec {
  /** No `{` or `}` (hash tags belong to the key). */
  readonly keyPrefix: string;
  readonly points: number;
  /** Seconds. */
  readonly duration: number;
  /** Seconds; 0 for none. */
  readonly blockDuration: number;
  /** The burst bucket, counted on the same key under the prefix `${keyPrefix}:burst`. */
  readonly burst?: RateLimitBurst;
}

/**
 * One counter to charge in {@link RateLimitStore.consumeAll}.
 *
 * @example
 * ```ts
 * const entry: StoreConsumeEntry = { spec, key: '{acme}:u_1', points: 1 };
 * ```
 */
export interface StoreConsumeEntry {
  readonly spec: LimiterSpec;
  /**
   * The key below the prefix; the stored key is `${spec.keyPrefix}:${key}`. Starts with a
   * `{hash tag}` so every counter of one tenant lands in one Redis Cluster slot.
   */
  readonly key: string;
  /** Points to charge, a whole number >= 1. */
  readonly points: number;
}

/**
 * The counter state after {@link RateLimitStore.consumeAll}, one per entry, in entry order.
 *
 * @example
 * ```ts
 * const result: StoreConsumeResult = { allowed: true, consumed: 1, remaining: 99, msBeforeNext: 59_000, burst: false };
 * ```
 */
export interface StoreConsumeResult {
  readonly allowed: boolean;
  /**
   * Points consumed in the window after this call. For a refused entry: the points already
   * consumed plus this request's, which were not charged (see {@link RateLimitStore.consumeAll}).
   */
  readonly consumed: number;
  readonly remaining: number;
  /** Milliseconds until the window or block ends. */
  readonly msBeforeNext: number;
  /** Whether the burst bucket admitted the entry. */
  readonly burst: boolean;
}

/**
 * Where counters live. Memory and Redis (single node or Cluster) ship with the package.
 *
 * Semantics every store keeps (the conformance suite checks them):
 * - Fixed windows as rate-limiter-flexible counts them: the first charge starts a window of
 *   `duration` seconds; a charge that would take `consumed` past `points` refuses; with
 *   `blockDuration > 0` a refusal blocks the key for `blockDuration` seconds (the counter is
 *   set past the limit with that expiry, as rate-limiter-flexible's block does, and the burst
 *   bucket is blocked with it, so a burst never admits a blocked key).
 * - `consumeAll` is all-or-nothing and a refused request is charged nowhere: when any entry
 *   refuses, no entry is charged (only the blocks above are written). A refused request
 *   therefore never spends any budget — a refused bulk request of cost 60 leaves a tenant at
 *   50/100 able to make its next 50 requests. Concurrent calls never admit more than `points`
 *   per window per key, across processes for shared stores.
 * - A store that cannot reach its backend rejects (any Error); it never resolves a fake result.
 *   The limiter turns the rejection into its failure policy.
 *
 * @example
 * ```ts
 * const store: RateLimitStore = memoryRateLimitStore();
 * const [result] = await store.consumeAll([{ spec, key: '{acme}', points: 1 }]);
 * ```
 */
export interface RateLimitStore {
  /** `'memory'`, `'redis'`, `'redis-cluster'`, … for logs and metrics. */
  readonly kind: string;
  /** Whether counters are shared across processes (memory: false). */
  readonly shared: boolean;
  /**
   * The rate-limiter-flexible limiter for a spec, memoised; it reads and writes the same keys
   * `consumeAll` does, so `get`, `delete`, `penalty`, `reward` and `block` go through it.
   */
  limiter(spec: LimiterSpec): RateLimiterAbstract;
  /** Charges every entry at once; one round trip per Redis hash slot. */
  consumeAll(entries: readonly StoreConsumeEntry[]): Promise<readonly StoreConsumeResult[]>;
  /**
   * Optional: `consumeAll` answered synchronously (it throws instead of rejecting). Only
   * stores whose counters live in this process offer it; the limiter then decides a check
   * with no await at all.
   */
  consumeAllSync?(entries: readonly StoreConsumeEntry[]): readonly StoreConsumeResult[];
  /** Releases what the store created (never the caller's Redis client). */
  close(): Promise<void>;
}
