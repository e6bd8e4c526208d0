import { BurstyRateLimiter, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { RateLimitError } from '../errors.js';
import { maxLimitSeconds } from '../policies/limit-schemas.js';
import type { RateLimitBurst, RateLimitSubject } from '../policies/rate-limit-policy.js';
import { tenantHashTag } from '../policies/subject-key.js';
import { maxPoints } from '../stores/limiter-spec-guards.js';
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

/** A counter as `get` and `status` report it: its state, and whether it is within its limit. */
interface CounterRead {
  readonly state: CounterState;
  readonly allowed: boolean;
}

/**
 * Reads a key's counter without charging it; undefined when the window has none. With a burst
 * bucket the key is within its limit while either bucket is (a window past its points with
 * burst left is admitted by the burst, as a consume would be), and refused (a block among
 * others) only when both are past theirs; the wait is then the sooner end of the two, as
 * BurstyRateLimiter reports it.
 */
async function readCounter(store: RateLimitStore, spec: LimiterSpec, key: string): Promise<CounterRead | undefined> {
  const main = store.limiter(spec).get(key);
  if (spec.burst === undefined) {
    const state = await main;
    return state === null ? undefined : { state, allowed: state.consumedPoints <= spec.points };
  }
  const [state, burst] = await Promise.all([main, store.limiter(burstSpecOf(spec.keyPrefix, spec.burst)).get(key)]);
  if (state === null) return undefined;
  if (state.consumedPoints <= spec.points || burst === null) return { state, allowed: true };
  // RateLimiterRes keeps its fields behind getters: copy them by name, never by spread.
  const msBeforeNext = burst.msBeforeNext >= 0 ? Math.min(state.msBeforeNext, burst.msBeforeNext) : state.msBeforeNext;
  return {
    state: { consumedPoints: state.consumedPoints, remainingPoints: state.remainingPoints, msBeforeNext },
    allowed: burst.consumedPoints <= spec.burst.points,
  };
}

function assertWholeNumber(value: unknown, what: string, max = maxPoints): asserts value is number {
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
      return adjust(name, subject, async (limiter, key) => {
        const state = await limiter.reward(key, points);
        if (state.consumedPoints > 0) return state;
        // At or below zero the counter would be credit (requests passing free, `remaining`
        // above the limit): the key goes, and the next request starts a fresh window. Not atomic
        // with the reward: a consume landing between the two calls is not counted.
        await limiter.delete(key);
        return { consumedPoints: 0, remainingPoints: limiter.points, msBeforeNext: 0 };
      });
    },

    async block(name, subject, seconds) {
      if (seconds !== undefined) assertWholeNumber(seconds, 'seconds', maxLimitSeconds);
      const target = targetOf(name, subject);
      const { policy, key, prepared } = target;
      if (prepared === undefined) return unlimitedOutcome(policy, key);
      const { blockDuration, duration } = prepared.limit;
      const blockFor = seconds ?? (blockDuration > 0 ? blockDuration : duration);
      return withFailover(target, prepared, async (store, spec, degraded) => {
        const main = store.limiter(spec).block(key, blockFor);
        // A consume the window refuses goes to the burst bucket: block that too, for as long,
        // or the blocked key keeps getting in on its burst.
        const burst = spec.burst === undefined ? undefined : store.limiter(burstSpecOf(spec.keyPrefix, spec.burst)).block(key, blockFor);
        const [state] = await Promise.all([main, burst]);
        return outcomeOfCounter(policy, spec, key, state, degraded, false);
      });
    },

    async get(name, subject) {
      const target = targetOf(name, subject);
      const { policy, key, prepared } = target;
      if (prepared === undefined) return undefined;
      return withFailover(target, prepared, async (store, spec, degraded) => {
        const read = await readCounter(store, spec, key);
        return read === undefined ? undefined : outcomeOfCounter(policy, spec, key, read.state, degraded, read.allowed);
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
            const read = await readCounter(store, spec, key);
            return read === undefined
              ? untouchedOutcome(policy, spec, key, degraded)
              : outcomeOfCounter(policy, spec, key, read.state, degraded, read.allowed);
          }),
        );
      }
      return Promise.all(reads);
    },
  };
}
