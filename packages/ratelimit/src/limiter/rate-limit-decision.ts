/**
 * The state of one policy's counter for one subject after a check.
 *
 * @example
 * ```ts
 * const outcome: PolicyOutcome = {
 *   policy: 'tenant-requests', key: 'tk:rl:tenant-requests:{acme}', allowed: true, limit: 1000,
 *   remaining: 999, consumed: 1, resetMs: 3_599_000, windowSeconds: 3600, shadow: false,
 * };
 * ```
 */
export interface PolicyOutcome {
  /** The policy name. */
  readonly policy: string;
  /** The full store key (contains user ids and IPs: never send it to a client unhashed). */
  readonly key: string;
  /** Whether this policy admits the request (a shadow policy's refusal still says `false`). */
  readonly allowed: boolean;
  /** Points per window in force for this subject. */
  readonly limit: number;
  /** Points left in the window (0 when refused). */
  readonly remaining: number;
  /** Points consumed in the current window, this request included. */
  readonly consumed: number;
  /** Milliseconds until the window (or block) ends. */
  readonly resetMs: number;
  /** The window in seconds. */
  readonly windowSeconds: number;
  /** Whether the policy only reports. */
  readonly shadow: boolean;
  /** Set when the store failed and the failure policy answered instead. */
  readonly degraded?: 'open' | 'insurance';
  /** Whether the burst bucket admitted the request. */
  readonly burst?: boolean;
}

/**
 * Why a check ended as it did.
 * - `allowed`: every applicable policy admitted (or none applied).
 * - `limited`: a policy refused.
 * - `allow-listed` / `deny-listed`: an access list decided without touching the store.
 * - `shadow-limited`: only shadow policies refused; the request is admitted.
 *
 * @example
 * ```ts
 * const reason: RateLimitReason = 'limited';
 * ```
 */
export type RateLimitReason = 'allowed' | 'limited' | 'allow-listed' | 'deny-listed' | 'shadow-limited';

/**
 * The answer of one combined check. The most restrictive outcome decides: a refusing policy
 * with the longest wait, else the admitting one with the fewest remaining points (relative to
 * its limit).
 *
 * @example
 * ```ts
 * const decision = await limiter.check({ tenantId: 'acme', ip });
 * if (!decision.allowed) reply.header('Retry-After', String(Math.ceil(decision.retryAfterMs / 1000)));
 * ```
 */
export interface RateLimitDecision {
  readonly allowed: boolean;
  readonly reason: RateLimitReason;
  /** One entry per policy that applied, in policy declaration order. */
  readonly outcomes: readonly PolicyOutcome[];
  /** The most restrictive outcome; undefined when no policy applied. */
  readonly deciding: PolicyOutcome | undefined;
  /** When refused: milliseconds until a retry can succeed; otherwise 0. */
  readonly retryAfterMs: number;
  /** The tenant the check counted for (metering), if any. */
  readonly tenantId: string | undefined;
}
