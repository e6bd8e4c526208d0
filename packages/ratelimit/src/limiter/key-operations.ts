import { BurstyRateLimiter, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { RateLimitError } from '../errors.js';
import { maxLimitSeconds } from '../policies/limit-schemas.js';
import type { RateLimitBurst, RateLimitSubject } from '../policies/rate-limit-policy.js';
import { tenantHashTag } from '../policies/subject-key.js';
import type { LimiterSpec, RateLimitStore } from '../stores/rate-limit-store.js';
import type { CompiledPolicy, PreparedLimit } from './compiled-policy.js';
import { openOutcome, outcomeOfCounter, unlimitedOutcome, untouchedOutcome, type CounterState } from './policy-outcomes.js';
import type { PolicyOutcome } from './rate-limit-decision.js';
import type { RateLimiter } from './rate-limiter.js';
import { isStoreOutage, type StoreCallGuard } from './store-call-guard.js';
import { resolveSubjectScope } from './subject-scope.js';

/**
 * What the per-key operations share with the rest of the limiter.
 *
 * @example
 * ```ts
 * const operations = createKeyOperations({ store, insuranceStore, guard, policyNamed, policies });
 * ```
 */
export interface KeyOperationsContext {
  readonly store: RateLimitStore;
  /** The limiter's in-memory insurance store (created on first use). */
  readonly insuranceStore: () => RateLimitStore;
  readonly guard: StoreCallGuard;
  /** @throws `RATE_LIMIT_POLICY_NOT_FOUND` */
  readonly policyNamed: (name: string) => CompiledPolicy;
  readonly policies: readonly CompiledPolicy[];
}

/**
 * The per-key half of {@link RateLimiter}: consume, penalty, reward, block, get, delete and
 * status.
 *
 * @example
 * ```ts
 * const { consume } = createKeyOperations(context);
 * ```
 */
export type KeyOperations = Pick<RateLimiter, 'consume' | 'penalty' | 'reward' | 'block' | 'get' | 'delete' | 'status'>;

interface KeyTarget {
  readonly policy: CompiledPolicy;
  readonly key: string;
}

type Degraded = 'insurance' | undefined;
type StoreOperation<Value> = (store: RateLimitStore, spec: LimiterSpec, degraded: Degraded) => Promise<Value>;

function isCounterState(value: unknown): value is CounterState {
  return !(value instanceof Error) && typeof value === 'object' && value !== null && typeof (value as CounterState).msBeforeNext === 'number';
}

/** The spec of a spec's burst bucket, whose keys live under `${keyPrefix}:burst` (as in consumeAll). */
function burstSpecOf(keyPrefix: string, burst: RateLimitBurst): LimiterSpec {
  return { keyPrefix: `${keyPrefix}:burst`, points: burst.points, duration: burst.duration, blockDuration: 0 };
}

function assertWholeNumber(value: unknown, what: string, max = Number.MAX_SAFE_INTEGER): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new RateLimitError('VALIDATION_FAILED', `${what} must be a whole number from 1 to ${max}`, { details: { field: what } });
  }
}

/**
 * Builds the per-key operations. Each goes through the store's rate-limiter-flexible limiter
 * for the policy's spec (the same keys `check` counts), under the same timeout and outage
 * reporting as `check`. While the store is down: `'closed'` policies throw
 * `STORE_UNAVAILABLE`; `'insurance'` ones use the insurance store (divided points), and so do
 * `'open'` ones, except that an `'open'` consume admits without counting.
 *
 * @example
 * ```ts
 * const operations = createKeyOperations(context);
 * await operations.penalty('login', { key: 'alice@example.com' }, 2);
 * ```
 */
export function createKeyOperations(context: KeyOperationsContext): KeyOperations {
  const { guard } = context;
  const burstyLimiters = new WeakMap<RateLimitStore, WeakMap<LimiterSpec, BurstyRateLimiter>>();

  function targetOf(policyName: string, subject: RateLimitSubject): KeyTarget & { readonly prepared: PreparedLimit | undefined } {
    const policy = context.policyNamed(policyName);
    const { tenantId, plan } = resolveSubjectScope(subject);
    const key = policy.keyOf(subject, policy.byTenant && tenantId !== undefined ? tenantHashTag(tenantId) : undefined);
    if (key === undefined) {
      throw new RateLimitError('RATE_LIMIT_KEY_INVALID', `The subject lacks a field that rate-limit policy "${policy.name}" keys by`, {
        details: { policy: policy.name },
      });
    }
    return { policy, key, prepared: policy.limitFor(plan) };
  }

  // Consume through BurstyRateLimiter when the spec has a burst, over the store's own limiters
  // for both buckets, so a per-key consume counts exactly as check() does.
  function consumingLimiter(store: RateLimitStore, spec: LimiterSpec): Pick<RateLimiterAbstract, 'consume'> {
    if (spec.burst === undefined) return store.limiter(spec);
    let bySpec = burstyLimiters.get(store);
    if (bySpec === undefined) burstyLimiters.set(store, (bySpec = new WeakMap()));
    let bursty = bySpec.get(spec);
    if (bursty === undefined) {
      bursty = new BurstyRateLimiter(store.limiter(spec), store.limiter(burstSpecOf(spec.keyPrefix, spec.burst)));
      bySpec.set(spec, bursty);
    }
    return bursty;
  }

  async function withFailover<Value>(
    target: KeyTarget,
    prepared: PreparedLimit,
    operation: StoreOperation<Value>,
    whenOpen?: () => Value,
  ): Promise<Value> {
    const ticket = guard.begin();
    try {
      const value = await guard.timed(operation(context.store, prepared.spec, undefined));
      guard.answered(ticket);
      return value;
    } catch (rejection) {
      const error = guard.failed(ticket, rejection, [target.policy]);
      if (!isStoreOutage(error) || target.policy.failure === 'closed') throw error;
      if (target.policy.failure === 'open' && whenOpen !== undefined) return whenOpen();
      try {
        return await operation(context.insuranceStore(), prepared.insuranceSpec, 'insurance');
      } catch (insuranceError) {
        if (insuranceError instanceof RateLimitError && insuranceError.code !== 'STORE_UNAVAILABLE') throw insuranceError;
        throw new RateLimitError('STORE_UNAVAILABLE', 'The rate-limit store is unavailable and its insurance failed', { cause: insuranceError });
      }
    }
  }

  function counterOperation(
    target: KeyTarget,
    run: (limiter: RateLimiterAbstract, key: string) => Promise<CounterState>,
    allowed?: boolean,
  ): StoreOperation<PolicyOutcome> {
    return async (store, spec, degraded) => outcomeOfCounter(target.policy, spec, target.key, await run(store.limiter(spec), target.key), degraded, allowed);
  }

  async function adjust(
    name: string,
    subject: RateLimitSubject,
    run: (limiter: RateLimiterAbstract, key: string) => Promise<CounterState>,
    allowed?: boolean,
  ): Promise<PolicyOutcome> {
    const target = targetOf(name, subject);
    if (target.prepared === undefined) return unlimitedOutcome(target.policy, target.key);
    return withFailover(target, target.prepared, counterOperation(target, run, allowed));
  }

  return {
    async consume(name, subject, points = 1) {
      assertWholeNumber(points, 'points');
      const target = targetOf(name, subject);
      const { policy, key, prepared } = target;
      if (prepared === undefined) return unlimitedOutcome(policy, key);
      return withFailover(
        target,
        prepared,
        async (store, spec, degraded) => {
          // rate-limiter-flexible rejects a refusal with its result object, an outage with an Error.
          const answer = await consumingLimiter(store, spec)
            .consume(key, points)
            .then(
              (state) => ({ state, allowed: true }),
              (rejection: unknown) => {
                if (isCounterState(rejection)) return { state: rejection, allowed: false };
                throw rejection;
              },
            );
          return outcomeOfCounter(policy, spec, key, answer.state, degraded, answer.allowed);
        },
        () => openOutcome(policy, prepared.spec, key),
      );
    },

    async penalty(name, subject, points = 1) {
      assertWholeNumber(points, 'points');
      return adjust(name, subject, (limiter, key) => limiter.penalty(key, points));
    },

    async reward(name, subject, points = 1) {
      assertWholeNumber(points, 'points');
      return adjust(name, subject, (limiter, key) => limiter.reward(key, points));
    },

    async block(name, subject, seconds) {
      if (seconds !== undefined) assertWholeNumber(seconds, 'seconds', maxLimitSeconds);
      const target = targetOf(name, subject);
      const { policy, key, prepared } = target;
      if (prepared === undefined) return unlimitedOutcome(policy, key);
      const { blockDuration, duration } = prepared.limit;
      const blockFor = seconds ?? (blockDuration > 0 ? blockDuration : duration);
      return withFailover(target, prepared, counterOperation(target, (limiter) => limiter.block(key, blockFor), false));
    },

    async get(name, subject) {
      const target = targetOf(name, subject);
      const { policy, key, prepared } = target;
      if (prepared === undefined) return undefined;
      return withFailover(target, prepared, async (store, spec, degraded) => {
        const state = await store.limiter(spec).get(key);
        return state === null ? undefined : outcomeOfCounter(policy, spec, key, state, degraded);
      });
    },

    async delete(name, subject) {
      const target = targetOf(name, subject);
      const { key, prepared } = target;
      if (prepared === undefined) return false;
      return withFailover(target, prepared, async (store, spec) => {
        const main = store.limiter(spec).delete(key);
        if (spec.burst === undefined) return main;
        const burstSpec = burstSpecOf(spec.keyPrefix, spec.burst);
        const [mainExisted, burstExisted] = await Promise.all([main, store.limiter(burstSpec).delete(key)]);
        return mainExisted || burstExisted;
      });
    },

    async status(subject) {
      const { tenantId, plan } = resolveSubjectScope(subject);
      let tenantTag: string | undefined;
      const reads: Promise<PolicyOutcome>[] = [];
      for (const policy of context.policies) {
        if (policy.byTenant && tenantId !== undefined) tenantTag ??= tenantHashTag(tenantId);
        const key = policy.keyOf(subject, policy.byTenant ? tenantTag : undefined);
        if (key === undefined) continue;
        const prepared = policy.limitFor(plan);
        if (prepared === undefined) continue;
        reads.push(
          withFailover({ policy, key }, prepared, async (store, spec, degraded) => {
            const state = await store.limiter(spec).get(key);
            return state === null ? untouchedOutcome(policy, spec, key, degraded) : outcomeOfCounter(policy, spec, key, state, degraded);
          }),
        );
      }
      return Promise.all(reads);
    },
  };
}
