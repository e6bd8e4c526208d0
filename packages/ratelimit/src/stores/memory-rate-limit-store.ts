import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { RateLimitError } from '../errors.js';
import { assertConsumeEntries, assertLimiterSpec, limiterSpecId } from './limiter-spec-guards.js';
import type { LimiterSpec, RateLimitStore, StoreConsumeEntry, StoreConsumeResult } from './rate-limit-store.js';

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

/** The limiters of one spec: the main window, and the burst bucket when the spec has one. */
interface MemoryBucket {
  readonly spec: LimiterSpec;
  readonly main: RateLimiterMemory;
  readonly burst: RateLimiterMemory | undefined;
  readonly bursty: BurstyRateLimiter | undefined;
}

/** What charging one entry did. */
interface EntryCharge {
  readonly bucket: MemoryBucket;
  readonly entry: StoreConsumeEntry;
  readonly allowed: boolean;
  /** The main window admitted it (a burst admission leaves this false). */
  readonly byMain: boolean;
  readonly res: CounterState;
}

/** rate-limiter-flexible's in-process counter map; one per store, shared by every limiter. */
/** What MemoryStorage answers: a RateLimiterRes, whose fields rate-limiter-flexible itself sets. */
interface CounterState {
  consumedPoints: number;
  remainingPoints: number;
  msBeforeNext: number;
}

/** The parts of rate-limiter-flexible's MemoryStorage the store calls synchronously. */
interface MemoryStorage {
  incrby(key: string, value: number, durationSec: number): CounterState;
  set(key: string, value: number, durationSec: number): CounterState;
  delete(key: string): boolean;
}

function isMemoryStorage(value: unknown): value is MemoryStorage {
  const storage = value as Partial<MemoryStorage> | null;
  return (
    typeof storage === 'object' &&
    storage !== null &&
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

function resultOf(res: Readonly<CounterState>, allowed: boolean, burst: boolean): StoreConsumeResult {
  return {
    allowed,
    consumed: res.consumedPoints,
    remaining: res.remainingPoints,
    msBeforeNext: Math.max(res.msBeforeNext, 0),
    burst,
  };
}

/**
 * A {@link RateLimitStore} in this process, on rate-limiter-flexible's `RateLimiterMemory`
 * (one per distinct spec, all sharing one counter map) and `BurstyRateLimiter` for specs with
 * a burst, whose bucket is counted under `${keyPrefix}:burst`. The reference store, the
 * default of `createRateLimiter` and the limiter's insurance while a shared store is down.
 * Counters are not shared with other processes (`shared: false`).
 *
 * `consumeAll` charges every entry, and when any is refused gives back what the admitting
 * entries were charged (an entry the burst bucket admitted gets its burst points back; its main
 * window refused it and stays charged, as a refused entry's does). A counter a refund brings
 * to 0 is deleted, so the next charge opens a fresh window, as in the Redis store. Between the
 * charge and the refund (a few microtasks) a concurrent call on the same key can see the
 * higher count: it may be refused, never over-admitted.
 *
 * @example
 * ```ts
 * import { memoryRateLimitStore } from '@tenantkit/ratelimit';
 *
 * const store = memoryRateLimitStore();
 * const spec = { keyPrefix: 'tk:rl:api', points: 2, duration: 60, blockDuration: 0 };
 * const [first] = await store.consumeAll([{ spec, key: '{acme}', points: 1 }]);
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

  const buckets = new Map<string, MemoryBucket>();
  // The limiter hands the same resolved spec objects back on every check: skip the string id.
  let bucketsBySpec = new WeakMap<LimiterSpec, MemoryBucket>();
  let storage: MemoryStorage | undefined;

  function bucketOf(spec: LimiterSpec): MemoryBucket {
    const cached = bucketsBySpec.get(spec);
    if (cached !== undefined) return cached;
    assertLimiterSpec(spec);
    const id = limiterSpecId(spec);
    let bucket = buckets.get(id);
    if (bucket === undefined) {
      const main = new RateLimiterMemory({
        keyPrefix: spec.keyPrefix,
        points: spec.points,
        duration: spec.duration,
        blockDuration: spec.blockDuration,
      });
      storage = shareStorage(main, storage);
      let burst: RateLimiterMemory | undefined;
      let bursty: BurstyRateLimiter | undefined;
      if (spec.burst !== undefined) {
        burst = new RateLimiterMemory({
          keyPrefix: `${spec.keyPrefix}:burst`,
          points: spec.burst.points,
          duration: spec.burst.duration,
        });
        shareStorage(burst, storage);
        bursty = new BurstyRateLimiter(main, burst);
      }
      bucket = { spec, main, burst, bursty };
      buckets.set(id, bucket);
    }
    bucketsBySpec.set(spec, bucket);
    return bucket;
  }

  /**
   * RateLimiterMemory.consume without its promise, on the same storage: increment, and block
   * the key on the charge that first crosses the limit. Synchronous, so the charges and the
   * refunds of one consumeAll happen with nothing in between: no other call can see them.
   */
  function chargeNow(bucket: MemoryBucket, entry: StoreConsumeEntry, shared: MemoryStorage): EntryCharge {
    const { spec } = bucket;
    const rlKey = `${spec.keyPrefix}:${entry.key}`;
    let res = shared.incrby(rlKey, entry.points, spec.duration);
    res.remainingPoints = Math.max(spec.points - res.consumedPoints, 0);
    if (res.consumedPoints <= spec.points) return { bucket, entry, allowed: true, byMain: true, res };
    if (spec.blockDuration > 0 && res.consumedPoints <= spec.points + entry.points) {
      res = shared.set(rlKey, res.consumedPoints, spec.blockDuration);
      res.remainingPoints = 0;
    }
    return { bucket, entry, allowed: false, byMain: false, res };
  }

  function refundNow(charged: EntryCharge, shared: MemoryStorage): StoreConsumeResult {
    const { bucket, entry } = charged;
    const rlKey = `${bucket.spec.keyPrefix}:${entry.key}`;
    const res = shared.incrby(rlKey, -entry.points, bucket.spec.duration);
    if (res.consumedPoints <= 0) {
      shared.delete(rlKey);
      return { allowed: true, consumed: 0, remaining: bucket.spec.points, msBeforeNext: 0, burst: false };
    }
    res.remainingPoints = Math.max(bucket.spec.points - res.consumedPoints, 0);
    return resultOf(res, true, false);
  }

  /** consumeAll for entries without a burst bucket: all synchronous, one promise in all. */
  function consumeAllNow(entryBuckets: readonly MemoryBucket[], entries: readonly StoreConsumeEntry[], shared: MemoryStorage): StoreConsumeResult[] {
    if (entries.length === 1) {
      const charged = chargeNow(entryBuckets[0]!, entries[0]!, shared);
      return [resultOf(charged.res, charged.allowed, false)];
    }
    const charges = entries.map((entry, index) => chargeNow(entryBuckets[index]!, entry, shared));
    if (charges.every((charged) => charged.allowed)) return charges.map((charged) => resultOf(charged.res, true, false));
    return charges.map((charged) => (charged.allowed ? refundNow(charged, shared) : resultOf(charged.res, false, false)));
  }

  async function charge(bucket: MemoryBucket, entry: StoreConsumeEntry): Promise<EntryCharge> {
    try {
      const res = await (bucket.bursty ?? bucket.main).consume(entry.key, entry.points);
      // BurstyRateLimiter reports the main window's counter: past the points means the burst admitted.
      return { bucket, entry, allowed: true, byMain: res.consumedPoints <= bucket.spec.points, res };
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return { bucket, entry, allowed: false, byMain: false, res: rejection };
      throw unavailable(rejection);
    }
  }

  async function refund(charged: EntryCharge): Promise<StoreConsumeResult> {
    const { bucket, entry } = charged;
    const limiter = charged.byMain ? bucket.main : bucket.burst;
    if (limiter === undefined) return resultOf(charged.res, true, !charged.byMain);
    const res = await limiter.reward(entry.key, entry.points);
    // 0 (or below, had the window just ended) means nothing of this window is left to count.
    if (res.consumedPoints <= 0) await limiter.delete(entry.key);
    if (!charged.byMain) return resultOf(charged.res, true, true);
    if (res.consumedPoints <= 0) {
      return { allowed: true, consumed: 0, remaining: bucket.spec.points, msBeforeNext: 0, burst: false };
    }
    return resultOf(res, true, false);
  }

  return {
    kind,
    shared: false,

    limiter(spec) {
      return bucketOf(spec).main;
    },

    async consumeAll(entries) {
      assertConsumeEntries(entries);
      const entryBuckets = entries.map((entry) => bucketOf(entry.spec));
      if (storage !== undefined && entryBuckets.every((bucket) => bucket.burst === undefined)) {
        try {
          return consumeAllNow(entryBuckets, entries, storage);
        } catch (error) {
          throw unavailable(error);
        }
      }
      // With a burst bucket, BurstyRateLimiter decides. Every consume starts in this same synchronous loop, so the charges land together.
      const charges = await Promise.all(entries.map((entry, index) => charge(entryBuckets[index]!, entry)));
      if (charges.every((charged) => charged.allowed)) {
        return charges.map((charged) => resultOf(charged.res, true, !charged.byMain));
      }
      try {
        return await Promise.all(
          charges.map((charged) => (charged.allowed ? refund(charged) : Promise.resolve(resultOf(charged.res, false, false)))),
        );
      } catch (error) {
        throw error instanceof RateLimitError ? error : unavailable(error);
      }
    },

    async close() {
      buckets.clear();
      bucketsBySpec = new WeakMap();
      storage = undefined;
    },
  };
}
