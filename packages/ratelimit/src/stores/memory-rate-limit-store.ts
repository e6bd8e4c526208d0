import { RateLimiterMemory } from 'rate-limiter-flexible';
import { RateLimitError } from '../errors.js';
import { assertConsumeEntries } from './limiter-spec-guards.js';
import type { RateLimitStore, StoreConsumeEntry, StoreConsumeResult } from './rate-limit-store.js';
import { createLimiterMemo } from './limiter-memo.js';

/**
 * Options of {@link memoryRateLimitStore}.
 *
 * @example
 * ```ts
 * const options: MemoryRateLimitStoreOptions = { kind: 'memory-insurance' };
 * ```
 */
export interface MemoryRateLimitStoreOptions {
  /** The store's `kind` in logs and metrics; default `'memory'`. */
  readonly kind?: string;
}

/** The fields the store reads of what MemoryStorage answers (a RateLimiterRes). */
interface CounterState {
  readonly consumedPoints: number;
  /** -1 for a counter without expiry. */
  readonly msBeforeNext: number;
}

/** The parts of rate-limiter-flexible's MemoryStorage (one counter map) the store calls synchronously. */
interface MemoryStorage {
  get(key: string): CounterState | null;
  incrby(key: string, value: number, durationSec: number): CounterState;
  set(key: string, value: number, durationSec: number): CounterState;
  delete(key: string): boolean;
}

const REFUSED = 0;
const WINDOW = 1;
const BURST = 2;

/** What the store decided for one entry before writing anything. */
interface EntryPlan {
  readonly entry: StoreConsumeEntry;
  /** The stored key of the window's counter. */
  readonly key: string;
  /** The stored key of the burst counter, when the burst bucket was asked. */
  readonly burstKey: string | undefined;
  /** The counters before the request (undefined: none running). */
  readonly main: CounterState | undefined;
  readonly burst: CounterState | undefined;
  readonly state: typeof REFUSED | typeof WINDOW | typeof BURST;
  /** Refused: the points the window would have reached, and how long the refusal lasts. */
  readonly reached: number;
  readonly msBeforeNext: number;
  /** Refused and to be blocked now (blockDuration > 0, not blocked yet). */
  readonly blocks: boolean;
}

const NO_PLANS: readonly EntryPlan[] = [];

function isMemoryStorage(value: unknown): value is MemoryStorage {
  const storage = value as Partial<MemoryStorage> | null;
  return (
    typeof storage === 'object' &&
    storage !== null &&
    typeof storage.get === 'function' &&
    typeof storage.incrby === 'function' &&
    typeof storage.set === 'function' &&
    typeof storage.delete === 'function'
  );
}

// rate-limiter-flexible gives every RateLimiterMemory a storage of its own. The store contract
// wants one counter per key whatever the points (a plan change keeps counting on the same key),
// so every limiter of the store is pointed at one storage. `_memoryStorage` is the field all of
// RateLimiterMemory's methods go through (rate-limiter-flexible 11.x).
function shareStorage(limiter: RateLimiterMemory, storage: MemoryStorage | undefined): MemoryStorage {
  const holder = limiter as unknown as { _memoryStorage?: MemoryStorage };
  if (!isMemoryStorage(holder._memoryStorage)) {
    throw new RateLimitError('CONFIGURATION_INVALID', 'This rate-limiter-flexible version keeps RateLimiterMemory counters where the memory store cannot share them');
  }
  if (storage === undefined) return holder._memoryStorage;
  holder._memoryStorage = storage;
  return storage;
}

function unavailable(cause: unknown): RateLimitError {
  return new RateLimitError('STORE_UNAVAILABLE', 'The memory rate-limit store failed', { cause });
}

/** The counter under `key` while its window runs; MemoryStorage keeps an ended one until its timer fires. */
function liveCounter(shared: MemoryStorage, key: string): CounterState | undefined {
  const res = shared.get(key);
  // msBeforeNext -1: a counter without expiry.
  return res !== null && (res.msBeforeNext > 0 || res.msBeforeNext === -1) ? res : undefined;
}

/** Milliseconds until a counter's window ends; the window a charge would open when none runs. */
function msLeft(counter: CounterState | undefined, duration: number): number {
  return counter !== undefined && counter.msBeforeNext > 0 ? counter.msBeforeNext : duration * 1000;
}

/** The points the first `count` plans would add to `key` (one key twice in one request). */
function pendingOn(plans: readonly EntryPlan[], count: number, key: string): number {
  let points = 0;
  for (let index = 0; index < count; index += 1) {
    const plan = plans[index]!;
    if (plan.state !== REFUSED && (plan.key === key || (plan.state === BURST && plan.burstKey === key))) points += plan.entry.points;
  }
  return points;
}

/**
 * Decides one entry on the counters as they stand plus what the earlier entries of the request
 * would charge, writing nothing: the window admits, else the burst bucket may (a blocked key's
 * bucket is blocked too, so it never does), else the entry is refused.
 */
function planEntry(entry: StoreConsumeEntry, shared: MemoryStorage, plans: readonly EntryPlan[], index: number): EntryPlan {
  const { spec, points } = entry;
  const key = `${spec.keyPrefix}:${entry.key}`;
  const main = liveCounter(shared, key);
  const current = (main?.consumedPoints ?? 0) + (index === 0 ? 0 : pendingOn(plans, index, key));
  if (current + points <= spec.points) {
    return { entry, key, burstKey: undefined, main, burst: undefined, state: WINDOW, reached: current + points, msBeforeNext: 0, blocks: false };
  }
  // Without a burst the window of a blocked key is past its points; with one, its bucket is.
  let blocked = current > spec.points;
  let msBeforeNext = msLeft(main, spec.duration);
  let burstKey: string | undefined;
  let burst: CounterState | undefined;
  if (spec.burst !== undefined) {
    burstKey = `${spec.keyPrefix}:burst:${entry.key}`;
    burst = liveCounter(shared, burstKey);
    const burstCurrent = (burst?.consumedPoints ?? 0) + (index === 0 ? 0 : pendingOn(plans, index, burstKey));
    if (burstCurrent + points <= spec.burst.points) {
      return { entry, key, burstKey, main, burst, state: BURST, reached: current + points, msBeforeNext: 0, blocks: false };
    }
    blocked = burstCurrent > spec.burst.points;
    msBeforeNext = Math.min(msBeforeNext, msLeft(burst, spec.burst.duration));
  }
  const blocks = spec.blockDuration > 0 && !blocked;
  return {
    entry,
    key,
    burstKey,
    main,
    burst,
    state: REFUSED,
    reached: current + points,
    msBeforeNext: blocks ? spec.blockDuration * 1000 : msBeforeNext,
    blocks,
  };
}

/** Charges an admitted entry: its window, and its burst bucket too when that admitted it. */
function chargeEntry(plan: EntryPlan, shared: MemoryStorage): StoreConsumeResult {
  const { spec, points } = plan.entry;
  const res = shared.incrby(plan.key, points, spec.duration);
  let msBeforeNext = res.msBeforeNext;
  if (plan.state === BURST) {
    // As BurstyRateLimiter reports it: the sooner of the two windows.
    msBeforeNext = Math.min(msBeforeNext, shared.incrby(plan.burstKey!, points, spec.burst!.duration).msBeforeNext);
  }
  return {
    allowed: true,
    consumed: res.consumedPoints,
    remaining: Math.max(spec.points - res.consumedPoints, 0),
    msBeforeNext: Math.max(msBeforeNext, 0),
    burst: plan.state === BURST,
  };
}

/** A refused entry of a refused request: nothing charged, the block written when it blocks. */
function refusedResult(plan: EntryPlan, shared: MemoryStorage): StoreConsumeResult {
  if (plan.blocks) {
    const { spec } = plan.entry;
    // As rate-limiter-flexible's block: past the points (never lowering a counter already past).
    shared.set(plan.key, Math.max(plan.main?.consumedPoints ?? 0, spec.points + 1), spec.blockDuration);
    if (spec.burst !== undefined) {
      shared.set(plan.burstKey!, Math.max(plan.burst?.consumedPoints ?? 0, spec.burst.points + 1), spec.blockDuration);
    }
  }
  return { allowed: false, consumed: plan.reached, remaining: 0, msBeforeNext: plan.msBeforeNext, burst: false };
}

/** An admitting entry of a refused request: not charged, its counter as it is. */
function unchargedResult(plan: EntryPlan): StoreConsumeResult {
  const consumed = plan.main?.consumedPoints ?? 0;
  return {
    allowed: true,
    consumed,
    remaining: Math.max(plan.entry.spec.points - consumed, 0),
    msBeforeNext: plan.main !== undefined && plan.main.msBeforeNext > 0 ? plan.main.msBeforeNext : 0,
    burst: plan.state === BURST,
  };
}

/** Decide every entry, then charge them all, or (one refused) only write the blocks. */
function decideAndCharge(entries: readonly StoreConsumeEntry[], shared: MemoryStorage): StoreConsumeResult[] {
  if (entries.length === 1) {
    const entry = entries[0]!;
    if (entry.spec.burst === undefined) {
      // The common request: charge first (one map update, as RateLimiterMemory.consume does)
      // and take it back when refused. Synchronous, so no other call sees the charge.
      const { spec, points } = entry;
      const key = `${spec.keyPrefix}:${entry.key}`;
      const res = shared.incrby(key, points, spec.duration);
      if (res.consumedPoints <= spec.points) {
        return [{ allowed: true, consumed: res.consumedPoints, remaining: spec.points - res.consumedPoints, msBeforeNext: Math.max(res.msBeforeNext, 0), burst: false }];
      }
      if (shared.incrby(key, -points, spec.duration).consumedPoints <= 0) shared.delete(key);
    }
    const plan = planEntry(entry, shared, NO_PLANS, 0);
    return [plan.state === REFUSED ? refusedResult(plan, shared) : chargeEntry(plan, shared)];
  }
  const plans = new Array<EntryPlan>(entries.length);
  let refused = false;
  for (let index = 0; index < entries.length; index += 1) {
    const plan = planEntry(entries[index]!, shared, plans, index);
    plans[index] = plan;
    if (plan.state === REFUSED) refused = true;
  }
  if (!refused) return plans.map((plan) => chargeEntry(plan, shared));
  return plans.map((plan) => (plan.state === REFUSED ? refusedResult(plan, shared) : unchargedResult(plan)));
}

/**
 * A {@link RateLimitStore} in this process, on rate-limiter-flexible's `MemoryStorage`: one
 * `RateLimiterMemory` per distinct spec (for `limiter(spec)`), all sharing one counter map, the
 * burst bucket counted under `${keyPrefix}:burst` as `BurstyRateLimiter` counts it. The
 * reference store, the default of `createRateLimiter` and the limiter's insurance while a shared
 * store is down. Counters are not shared with other processes (`shared: false`).
 *
 * `consumeAllSync` answers synchronously, so nothing else runs in between: it decides every
 * entry on the counters as they stand, then charges them all, or, when one refuses, charges
 * nothing and only blocks the refused entries that block (blockDuration > 0, with their burst
 * bucket), exactly as the Redis script does. `consumeAll` is the same in a promise.
 *
 * @example
 * ```ts
 * import { memoryRateLimitStore } from '@tenantkit/ratelimit';
 *
 * const store = memoryRateLimitStore();
 * const spec = { keyPrefix: 'tk:rl:api', points: 2, duration: 60, blockDuration: 0 };
 * const [first] = store.consumeAllSync!([{ spec, key: '{acme}', points: 1 }]);
 * first.allowed; // true, remaining 1
 * await store.limiter(spec).get('{acme}'); // consumedPoints 1
 * ```
 */
export function memoryRateLimitStore(options: MemoryRateLimitStoreOptions = {}): RateLimitStore {
  if (typeof options !== 'object' || options === null) {
    throw new RateLimitError('CONFIGURATION_INVALID', 'memoryRateLimitStore: options must be an object');
  }
  const kind = options.kind ?? 'memory';
  if (typeof kind !== 'string' || kind.length === 0) {
    throw new RateLimitError('CONFIGURATION_INVALID', 'memoryRateLimitStore: kind must be a non-empty string');
  }

  let storage: MemoryStorage | undefined;

  const limiters = createLimiterMemo((spec) => {
    const limiter = new RateLimiterMemory({
      keyPrefix: spec.keyPrefix,
      points: spec.points,
      duration: spec.duration,
      blockDuration: spec.blockDuration,
    });
    storage = shareStorage(limiter, storage);
    return limiter;
  });
  const limiterOf = limiters.of;

  function consumeAllSync(entries: readonly StoreConsumeEntry[]): StoreConsumeResult[] {
    assertConsumeEntries(entries);
    // Validates every spec (once per spec object) and creates the shared storage.
    for (let index = 0; index < entries.length; index += 1) limiterOf(entries[index]!.spec);
    if (storage === undefined) return [];
    try {
      return decideAndCharge(entries, storage);
    } catch (error) {
      throw unavailable(error);
    }
  }

  return {
    kind,
    shared: false,

    limiter(spec) {
      return limiterOf(spec);
    },

    consumeAllSync,

    // Not an async function: one frame less on the hot path.
    consumeAll(entries) {
      try {
        return Promise.resolve(consumeAllSync(entries));
      } catch (error) {
        return Promise.reject(error);
      }
    },

    async close() {
      limiters.clear();
      storage = undefined;
    },
  };
}
