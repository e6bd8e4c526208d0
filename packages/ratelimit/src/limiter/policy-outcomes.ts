import type { LimiterSpec, StoreConsumeResult } from '../stores/rate-limit-store.js';
import type { CompiledPolicy } from './compiled-policy.js';
import type { PolicyOutcome } from './rate-limit-decision.js';

// Every builder below returns the same property set in the same order (V8 then keeps one
// object shape for all outcomes, which keeps the check path monomorphic). The counted ones all
// go through outcomeOfResult, so that shape and its clamping are written once.

/**
 * The outcome of one `consumeAll` result.
 *
 * @example
 * ```ts
 * const outcome = outcomeOfResult(policy, prepared.spec, entry.key, results[0], undefined);
 * ```
 */
export function outcomeOfResult(
  policy: CompiledPolicy,
  spec: LimiterSpec,
  key: string,
  result: StoreConsumeResult,
  degraded: PolicyOutcome['degraded'],
): PolicyOutcome {
  return {
    policy: policy.name,
    key: `${spec.keyPrefix}:${key}`,
    allowed: result.allowed,
    limit: spec.points,
    remaining: result.allowed ? Math.max(result.remaining, 0) : 0,
    consumed: result.consumed,
    resetMs: Math.max(result.msBeforeNext, 0),
    windowSeconds: spec.duration,
    shadow: policy.shadow,
    degraded,
    burst: result.burst,
  };
}

/**
 * The state of a counter as rate-limiter-flexible reports it (`RateLimiterRes`).
 *
 * @example
 * ```ts
 * const state: CounterState = await limiter.get(key);
 * ```
 */
export interface CounterState {
  readonly consumedPoints: number;
  readonly remainingPoints: number;
  readonly msBeforeNext: number;
}

/**
 * The outcome of a rate-limiter-flexible answer (per-key operations). `allowed` defaults to
 * "not over the limit"; `burst` is set when the main window was past its points yet the
 * request was admitted (the burst bucket took it).
 *
 * @example
 * ```ts
 * const outcome = outcomeOfCounter(policy, spec, key, await limiter.penalty(key, 2), undefined);
 * ```
 */
export function outcomeOfCounter(
  policy: CompiledPolicy,
  spec: LimiterSpec,
  key: string,
  state: CounterState,
  degraded: 'insurance' | undefined,
  allowed: boolean = state.consumedPoints <= spec.points,
): PolicyOutcome {
  const counted: StoreConsumeResult = {
    allowed,
    consumed: state.consumedPoints,
    remaining: spec.points - state.consumedPoints,
    msBeforeNext: state.msBeforeNext,
    burst: allowed && state.consumedPoints > spec.points,
  };
  return outcomeOfResult(policy, spec, key, counted, degraded);
}

/** A window with nothing consumed in it: what open and untouched outcomes report. */
function freshWindow(spec: LimiterSpec): StoreConsumeResult {
  return { allowed: true, consumed: 0, remaining: spec.points, msBeforeNext: 0, burst: false };
}

/**
 * The outcome of a policy that fails open while the store is down: admitted, nothing counted,
 * the whole window left.
 *
 * @example
 * ```ts
 * const outcome = openOutcome(policy, prepared.spec, key);
 * outcome.degraded; // 'open'
 * ```
 */
export function openOutcome(policy: CompiledPolicy, spec: LimiterSpec, key: string): PolicyOutcome {
  return outcomeOfResult(policy, spec, key, freshWindow(spec), 'open');
}

/**
 * The outcome of a key without a counter (nothing consumed in the current window).
 *
 * @example
 * ```ts
 * const outcome = state === null ? untouchedOutcome(policy, spec, key, undefined) : outcomeOfCounter(policy, spec, key, state, undefined);
 * ```
 */
export function untouchedOutcome(
  policy: CompiledPolicy,
  spec: LimiterSpec,
  key: string,
  degraded: 'insurance' | undefined,
): PolicyOutcome {
  return outcomeOfResult(policy, spec, key, freshWindow(spec), degraded);
}

/**
 * The outcome of a per-key operation on a policy that is unlimited for the subject's plan:
 * admitted, nothing counted, `limit` and `remaining` infinite.
 *
 * @example
 * ```ts
 * unlimitedOutcome(policy, key).limit; // Infinity
 * ```
 */
export function unlimitedOutcome(policy: CompiledPolicy, key: string): PolicyOutcome {
  return {
    policy: policy.name,
    key: `${policy.keyPrefix}:${key}`,
    allowed: true,
    limit: Number.POSITIVE_INFINITY,
    remaining: Number.POSITIVE_INFINITY,
    consumed: 0,
    resetMs: 0,
    windowSeconds: 0,
    shadow: policy.shadow,
    degraded: undefined,
    burst: false,
  };
}
