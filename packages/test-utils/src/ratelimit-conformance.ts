import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { memoryRateLimitStore, type LimiterSpec, type RateLimitStore, type StoreConsumeEntry, type StoreConsumeResult } from '@tenantkit/ratelimit';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

/**
 * What the factory of {@link describeRateLimitStoreConformance} returns for one test.
 *
 * @example
 * ```ts
 * const made: RateLimitStoreUnderTest = { store: memoryRateLimitStore(), cleanup: async () => {} };
 * ```
 */
export interface RateLimitStoreUnderTest {
  readonly store: RateLimitStore;
  /** Runs after the test: close the store, delete the keys under `keyPrefix`. */
  readonly cleanup: () => Promise<void>;
  /**
   * Every spec of the suite has a `keyPrefix` below this one (no `{` `}`), so a shared backend
   * can be cleaned by prefix; default `'tk:rl-conformance'`. Each test adds a random part.
   */
  readonly keyPrefix?: string;
}

/**
 * Makes the store for one test of {@link describeRateLimitStoreConformance}.
 *
 * @example
 * ```ts
 * const makeStore: RateLimitStoreConformanceFactory = async () => ({ store: memoryRateLimitStore(), cleanup: async () => {} });
 * ```
 */
export type RateLimitStoreConformanceFactory = () => Promise<RateLimitStoreUnderTest>;

interface SuiteContext {
  readonly store: () => RateLimitStore;
  /** A spec under this test's own prefix. */
  readonly spec: (name: string, limit: Omit<LimiterSpec, 'keyPrefix'>) => LimiterSpec;
}

function entry(spec: LimiterSpec, key: string, points = 1): StoreConsumeEntry {
  return { spec, key, points };
}

async function consumeOne(store: RateLimitStore, spec: LimiterSpec, key: string, points = 1): Promise<StoreConsumeResult> {
  const [result] = await store.consumeAll([entry(spec, key, points)]);
  if (result === undefined) throw new Error('consumeAll returned no result for one entry');
  return result;
}

/**
 * Registers the shared tests of the `RateLimitStore` contract (packages/ratelimit
 * src/stores/rate-limit-store.ts). Every store runs it against its real backend: fixed windows
 * as rate-limiter-flexible counts them, refusal past the points with nothing charged (a refused
 * heavy request spends no budget), remaining and msBeforeNext, the block a refusal writes
 * (points + 1, also for a cost past the points; the burst bucket blocked with it), the burst
 * bucket under `${keyPrefix}:burst`, all-or-nothing `consumeAll` (sequential and with 50
 * concurrent calls), tenants' keys independent, keys with hash-tag characters in later parts,
 * `limiter(spec)`'s get/delete/penalty/reward/block on the keys `consumeAll` writes, a plan
 * change keeping the counter, window expiry (one wait of about 1.2 s), the 2^31 - 1 caps, and
 * agreement with `memoryRateLimitStore` (the reference) on random request sequences.
 *
 * The factory runs before each test and `cleanup` after it; each test uses specs under a random
 * prefix of its own, so a store over a shared Redis needs no flush.
 *
 * @example
 * ```ts
 * import { describeRateLimitStoreConformance } from '@tenantkit/test-utils';
 * import { memoryRateLimitStore } from '@tenantkit/ratelimit';
 *
 * describeRateLimitStoreConformance('memory', async () => {
 *   const store = memoryRateLimitStore();
 *   return { store, cleanup: () => store.close() };
 * });
 * ```
 */
export function describeRateLimitStoreConformance(name: string, makeStore: RateLimitStoreConformanceFactory): void {
  describe(`${name}: rate-limit store conformance`, () => {
    let made: RateLimitStoreUnderTest | undefined;
    let testPrefix = '';

    beforeEach(async () => {
      made = await makeStore();
      testPrefix = `${made.keyPrefix ?? 'tk:rl-conformance'}:${randomBytes(6).toString('hex')}`;
    });

    afterEach(async () => {
      await made?.cleanup();
      made = undefined;
    });

    const context: SuiteContext = {
      store: () => {
        if (made === undefined) throw new Error('the store is made in beforeEach');
        return made.store;
      },
      spec: (policy, limit) => ({ keyPrefix: `${testPrefix}:${policy}`, ...limit }),
    };

    describeFixedWindows(context);
    describeBlocks(context);
    describeBursts(context);
    describeAllOrNothing(context);
    describeConcurrency(context);
    describeKeys(context);
    describeLimiterInterop(context);
    describeWindowExpiry(context);
    describeMalformedInput(context);
    describeReferenceAgreement(context);
  });
}

function describeFixedWindows({ store, spec }: SuiteContext): void {
  describe('fixed windows', () => {
    it('counts every charge in the window and reports remaining and msBeforeNext', async () => {
      const api = spec('api', { points: 5, duration: 60, blockDuration: 0 });
      const results: StoreConsumeResult[] = [];
      for (let call = 0; call < 3; call += 1) results.push(await consumeOne(store(), api, '{acme}'));
      expect(results.map((result) => [result.allowed, result.consumed, result.remaining, result.burst])).toEqual([
        [true, 1, 4, false],
        [true, 2, 3, false],
        [true, 3, 2, false],
      ]);
      for (const result of results) {
        expect(result.msBeforeNext).toBeGreaterThan(50_000);
        expect(result.msBeforeNext).toBeLessThanOrEqual(60_000);
      }
    });

    it('refuses past the points and charges the refused calls nowhere', async () => {
      const api = spec('api', { points: 2, duration: 60, blockDuration: 0 });
      const results: StoreConsumeResult[] = [];
      for (let call = 0; call < 4; call += 1) results.push(await consumeOne(store(), api, '{acme}'));
      // A refused entry reports the points it would have reached; they are not stored.
      expect(results.map((result) => [result.allowed, result.consumed, result.remaining])).toEqual([
        [true, 1, 1],
        [true, 2, 0],
        [false, 3, 0],
        [false, 3, 0],
      ]);
      expect((await store().limiter(api).get('{acme}'))?.consumedPoints).toBe(2);
      // Without a block the refusal lasts until the window ends.
      expect(results[3]!.msBeforeNext).toBeGreaterThan(50_000);
      expect(results[3]!.msBeforeNext).toBeLessThanOrEqual(60_000);
    });

    it('charges weighted entries by their points: the charge that passes the limit is refused', async () => {
      const bulk = spec('bulk', { points: 10, duration: 60, blockDuration: 0 });
      expect(await consumeOne(store(), bulk, '{acme}', 6)).toMatchObject({ allowed: true, consumed: 6, remaining: 4 });
      expect(await consumeOne(store(), bulk, '{acme}', 4)).toMatchObject({ allowed: true, consumed: 10, remaining: 0 });
      expect(await consumeOne(store(), bulk, '{acme}', 1)).toMatchObject({ allowed: false, consumed: 11, remaining: 0 });
    });

    it('a refused heavy request spends nothing: at 50/100 a refused cost of 60 leaves the 50 usable', async () => {
      const tenant = spec('tenant', { points: 100, duration: 60, blockDuration: 0 });
      expect(await consumeOne(store(), tenant, '{acme}', 50)).toMatchObject({ allowed: true, consumed: 50, remaining: 50 });
      expect(await consumeOne(store(), tenant, '{acme}', 60)).toMatchObject({ allowed: false, consumed: 110, remaining: 0 });
      expect((await store().limiter(tenant).get('{acme}'))?.consumedPoints).toBe(50);
      expect(await consumeOne(store(), tenant, '{acme}', 1)).toMatchObject({ allowed: true, consumed: 51, remaining: 49 });
      expect(await consumeOne(store(), tenant, '{acme}', 49)).toMatchObject({ allowed: true, consumed: 100, remaining: 0 });
      expect(await consumeOne(store(), tenant, '{acme}', 1)).toMatchObject({ allowed: false, consumed: 101 });
    });

    it('refuses a cost past the points on an empty key and leaves no counter behind (no block)', async () => {
      const bulk = spec('bulk', { points: 10, duration: 60, blockDuration: 0 });
      expect(await consumeOne(store(), bulk, '{acme}', 11)).toMatchObject({ allowed: false, consumed: 11, remaining: 0 });
      expect(await store().limiter(bulk).get('{acme}')).toBeNull();
      expect(await consumeOne(store(), bulk, '{acme}', 10)).toMatchObject({ allowed: true, consumed: 10 });
    });

    it('keeps counting on the same key when the points of the spec change (a plan change)', async () => {
      const free = spec('tenant', { points: 2, duration: 60, blockDuration: 0 });
      const pro = { ...free, points: 5 };
      await consumeOne(store(), free, '{acme}');
      await consumeOne(store(), free, '{acme}');
      expect(await consumeOne(store(), free, '{acme}')).toMatchObject({ allowed: false, consumed: 3 });
      expect(await consumeOne(store(), pro, '{acme}')).toMatchObject({ allowed: true, consumed: 3, remaining: 2 });
      expect((await store().limiter(pro).get('{acme}'))?.consumedPoints).toBe(3);
    });

    it('returns no results for no entries', async () => {
      expect(await store().consumeAll([])).toEqual([]);
    });
  });
}

function describeBlocks({ store, spec }: SuiteContext): void {
  describe('blocks', () => {
    it('blocks the key for blockDuration on a refusal (set past the points, as rate-limiter-flexible blocks), not again later', async () => {
      const login = spec('login', { points: 2, duration: 5, blockDuration: 120 });
      await consumeOne(store(), login, '{acme}:ip=1');
      await consumeOne(store(), login, '{acme}:ip=1');
      const crossing = await consumeOne(store(), login, '{acme}:ip=1');
      expect(crossing).toMatchObject({ allowed: false, consumed: 3, remaining: 0 });
      // The block (120 s), not the window (5 s); the counter is set to points + 1.
      expect(crossing.msBeforeNext).toBeGreaterThan(100_000);
      expect(crossing.msBeforeNext).toBeLessThanOrEqual(120_000);
      const stored = await store().limiter(login).get('{acme}:ip=1');
      expect(stored?.consumedPoints).toBe(3);
      expect(stored?.msBeforeNext).toBeGreaterThan(100_000);

      const later = await consumeOne(store(), login, '{acme}:ip=1');
      expect(later).toMatchObject({ allowed: false, consumed: 4 });
      // Only the first crossing sets the block: a later refusal does not push it further.
      expect(later.msBeforeNext).toBeLessThanOrEqual(crossing.msBeforeNext);
    });

    it('blocks even an empty key when a cost past the points is refused, with points + 1', async () => {
      const bulk = spec('bulk', { points: 10, duration: 5, blockDuration: 60 });
      const refused = await consumeOne(store(), bulk, '{acme}', 15);
      expect(refused).toMatchObject({ allowed: false, consumed: 15, remaining: 0 });
      expect(refused.msBeforeNext).toBeGreaterThan(50_000);
      expect(refused.msBeforeNext).toBeLessThanOrEqual(60_000);
      const stored = await store().limiter(bulk).get('{acme}');
      expect(stored?.consumedPoints).toBe(11);
      expect(stored?.msBeforeNext).toBeGreaterThan(50_000);
      // Blocked: even the smallest request is refused, and the block is not pushed further.
      const next = await consumeOne(store(), bulk, '{acme}', 1);
      expect(next).toMatchObject({ allowed: false, consumed: 12 });
      expect(next.msBeforeNext).toBeLessThanOrEqual(refused.msBeforeNext);
    });

    it('does not block without blockDuration', async () => {
      const api = spec('api', { points: 1, duration: 5, blockDuration: 0 });
      await consumeOne(store(), api, '{acme}');
      const refused = await consumeOne(store(), api, '{acme}');
      expect(refused.allowed).toBe(false);
      expect(refused.msBeforeNext).toBeLessThanOrEqual(5_000);
    });
  });
}

function describeBursts({ store, spec }: SuiteContext): void {
  describe('burst bucket', () => {
    it('admits from the burst bucket once the window is used up, then refuses', async () => {
      const api = spec('api', { points: 2, duration: 60, blockDuration: 0, burst: { points: 2, duration: 30 } });
      const results: StoreConsumeResult[] = [];
      for (let call = 0; call < 5; call += 1) results.push(await consumeOne(store(), api, '{acme}'));
      expect(results.map((result) => [result.allowed, result.burst, result.consumed, result.remaining])).toEqual([
        [true, false, 1, 1],
        [true, false, 2, 0],
        [true, true, 3, 0],
        [true, true, 4, 0],
        [false, false, 5, 0],
      ]);
      // As BurstyRateLimiter reports it: the sooner of the two windows.
      expect(results[4]!.msBeforeNext).toBeLessThanOrEqual(30_000);
      expect(results[4]!.msBeforeNext).toBeGreaterThan(20_000);
      // A burst admission charges both counters; the refusal charged neither.
      const burstBucket = store().limiter({ keyPrefix: `${api.keyPrefix}:burst`, points: 2, duration: 30, blockDuration: 0 });
      expect((await store().limiter(api).get('{acme}'))?.consumedPoints).toBe(4);
      expect((await burstBucket.get('{acme}'))?.consumedPoints).toBe(2);
    });

    it('blocks the burst bucket with a blocked key: the burst never admits it during the block', async () => {
      const api = spec('api', { points: 2, duration: 60, blockDuration: 120, burst: { points: 5, duration: 30 } });
      const burstBucket = store().limiter({ keyPrefix: `${api.keyPrefix}:burst`, points: 5, duration: 30, blockDuration: 0 });
      expect(await consumeOne(store(), api, '{acme}')).toMatchObject({ allowed: true, burst: false, consumed: 1 });
      // Past the window and past the burst bucket: refused, so the key is blocked.
      const refused = await consumeOne(store(), api, '{acme}', 6);
      expect(refused).toMatchObject({ allowed: false, burst: false, consumed: 7, remaining: 0 });
      expect(refused.msBeforeNext).toBeGreaterThan(100_000);
      expect(refused.msBeforeNext).toBeLessThanOrEqual(120_000);
      expect((await store().limiter(api).get('{acme}'))?.consumedPoints).toBe(3);
      const blockedBurst = await burstBucket.get('{acme}');
      expect(blockedBurst?.consumedPoints).toBe(6);
      expect(blockedBurst?.msBeforeNext).toBeGreaterThan(100_000);
      // The bucket had room for 5 before the block; now even 1 point is refused, for the block.
      const later = await consumeOne(store(), api, '{acme}');
      expect(later).toMatchObject({ allowed: false, burst: false });
      expect(later.msBeforeNext).toBeGreaterThan(100_000);
    });

    it('admits from the burst bucket a request the window refuses, without blocking, even with blockDuration', async () => {
      const api = spec('api', { points: 2, duration: 60, blockDuration: 120, burst: { points: 5, duration: 30 } });
      expect(await consumeOne(store(), api, '{acme}', 3)).toMatchObject({ allowed: true, burst: true, consumed: 3, remaining: 0 });
      expect(await consumeOne(store(), api, '{acme}', 2)).toMatchObject({ allowed: true, burst: true, consumed: 5 });
      const refused = await consumeOne(store(), api, '{acme}', 1);
      expect(refused).toMatchObject({ allowed: false, consumed: 6 });
      expect(refused.msBeforeNext).toBeGreaterThan(100_000);
    });

    it('counts the burst bucket under `${keyPrefix}:burst`, readable by a plain limiter', async () => {
      const api = spec('api', { points: 1, duration: 60, blockDuration: 0, burst: { points: 3, duration: 30 } });
      for (let call = 0; call < 3; call += 1) await consumeOne(store(), api, '{acme}:u=1');
      const burstBucket = store().limiter({ keyPrefix: `${api.keyPrefix}:burst`, points: 3, duration: 30, blockDuration: 0 });
      expect((await burstBucket.get('{acme}:u=1'))?.consumedPoints).toBe(2);
      expect((await store().limiter(api).get('{acme}:u=1'))?.consumedPoints).toBe(3);
    });
  });
}

function describeAllOrNothing({ store, spec }: SuiteContext): void {
  describe('consumeAll is all-or-nothing', () => {
    it('returns one result per entry, in entry order', async () => {
      const tenant = spec('tenant', { points: 10, duration: 60, blockDuration: 0 });
      const user = spec('user', { points: 3, duration: 60, blockDuration: 0 });
      await consumeOne(store(), user, '{acme}:u=1', 2);
      const results = await store().consumeAll([entry(tenant, '{acme}'), entry(user, '{acme}:u=1')]);
      expect(results.map((result) => [result.allowed, result.consumed, result.remaining])).toEqual([
        [true, 1, 9],
        [true, 3, 0],
      ]);
    });

    it('charges a refused request nowhere: neither its admitting entries nor the refused ones', async () => {
      const tenant = spec('tenant', { points: 100, duration: 60, blockDuration: 0 });
      const ip = spec('ip', { points: 1, duration: 60, blockDuration: 0 });
      const request = [entry(tenant, '{acme}'), entry(ip, '{acme}:ip=203.0.113.7')];
      expect((await store().consumeAll(request)).map((result) => result.allowed)).toEqual([true, true]);

      const refused = await store().consumeAll(request);
      expect(refused.map((result) => result.allowed)).toEqual([true, false]);
      expect(refused[0]).toMatchObject({ consumed: 1, remaining: 99 });
      expect(refused[1]).toMatchObject({ consumed: 2, remaining: 0 });
      for (let call = 0; call < 5; call += 1) await store().consumeAll(request);

      expect((await store().limiter(tenant).get('{acme}'))?.consumedPoints).toBe(1);
      expect((await store().limiter(ip).get('{acme}:ip=203.0.113.7'))?.consumedPoints).toBe(1);
    });

    it('leaves no counter behind for an admitting entry of a refused request that had none', async () => {
      const ip = spec('ip', { points: 1, duration: 60, blockDuration: 0 });
      const user = spec('user', { points: 5, duration: 60, blockDuration: 0 });
      await consumeOne(store(), ip, '{acme}:ip=1');
      const refused = await store().consumeAll([entry(user, '{acme}:u=new'), entry(ip, '{acme}:ip=1')]);
      expect(refused[0]).toMatchObject({ allowed: true, consumed: 0, remaining: 5 });
      expect(await store().limiter(user).get('{acme}:u=new')).toBeNull();
    });

    it('charges neither counter of an entry its burst bucket would admit when another entry refuses', async () => {
      const user = spec('user', { points: 1, duration: 60, blockDuration: 0, burst: { points: 5, duration: 30 } });
      const ip = spec('ip', { points: 1, duration: 60, blockDuration: 0 });
      const request = [entry(user, '{acme}:u=1'), entry(ip, '{acme}:ip=1')];
      await store().consumeAll(request);
      const refused = await store().consumeAll(request);
      expect(refused.map((result) => [result.allowed, result.burst])).toEqual([
        [true, true],
        [false, false],
      ]);
      const burstBucket = store().limiter({ keyPrefix: `${user.keyPrefix}:burst`, points: 5, duration: 30, blockDuration: 0 });
      expect(await burstBucket.get('{acme}:u=1')).toBeNull();
      expect((await store().limiter(user).get('{acme}:u=1'))?.consumedPoints).toBe(1);
      expect((await store().limiter(ip).get('{acme}:ip=1'))?.consumedPoints).toBe(1);
    });

    it('refuses across tenants in one request and charges neither tenant', async () => {
      const tenant = spec('tenant', { points: 1, duration: 60, blockDuration: 0 });
      await consumeOne(store(), tenant, '{globex}');
      const results = await store().consumeAll([entry(tenant, '{acme}'), entry(tenant, '{globex}')]);
      expect(results.map((result) => result.allowed)).toEqual([true, false]);
      expect(await store().limiter(tenant).get('{acme}')).toBeNull();
      expect((await store().limiter(tenant).get('{globex}'))?.consumedPoints).toBe(1);
    });

    it('blocks every refused entry of a refused request, also across tenants', async () => {
      const tenant = spec('tenant', { points: 1, duration: 60, blockDuration: 300 });
      await consumeOne(store(), tenant, '{acme}');
      await consumeOne(store(), tenant, '{globex}');
      const results = await store().consumeAll([entry(tenant, '{initech}'), entry(tenant, '{acme}'), entry(tenant, '{globex}')]);
      expect(results.map((result) => result.allowed)).toEqual([true, false, false]);
      expect(await store().limiter(tenant).get('{initech}')).toBeNull();
      for (const key of ['{acme}', '{globex}']) {
        const blocked = await store().limiter(tenant).get(key);
        expect(blocked?.consumedPoints).toBe(2);
        expect(blocked?.msBeforeNext).toBeGreaterThan(250_000);
      }
    });
  });
}

function describeConcurrency({ store, spec }: SuiteContext): void {
  describe('concurrency', () => {
    it('admits exactly the points out of 50 concurrent calls on one key', async () => {
      const api = spec('api', { points: 10, duration: 60, blockDuration: 0 });
      const results = await Promise.all(Array.from({ length: 50 }, () => consumeOne(store(), api, '{acme}')));
      expect(results.filter((result) => result.allowed)).toHaveLength(10);
      expect((await store().limiter(api).get('{acme}'))?.consumedPoints).toBe(10);
    });

    it('admits exactly the tightest limit out of 50 concurrent two-policy calls, and both counters end at the admitted', async () => {
      const tenant = spec('tenant', { points: 100, duration: 60, blockDuration: 0 });
      const user = spec('user', { points: 10, duration: 60, blockDuration: 0 });
      const results = await Promise.all(
        Array.from({ length: 50 }, () => store().consumeAll([entry(tenant, '{acme}'), entry(user, '{acme}:u=1')])),
      );
      expect(results.filter((pair) => pair.every((result) => result.allowed))).toHaveLength(10);
      expect((await store().limiter(tenant).get('{acme}'))?.consumedPoints).toBe(10);
      expect((await store().limiter(user).get('{acme}:u=1'))?.consumedPoints).toBe(10);
    });
  });
}

function describeKeys({ store, spec }: SuiteContext): void {
  describe('keys', () => {
    it("keeps two tenants' counters apart", async () => {
      const user = spec('user', { points: 2, duration: 60, blockDuration: 0 });
      for (let call = 0; call < 3; call += 1) await consumeOne(store(), user, '{acme}:u=1');
      expect(await consumeOne(store(), user, '{globex}:u=1')).toMatchObject({ allowed: true, consumed: 1 });
      expect((await store().limiter(user).get('{acme}:u=1'))?.consumedPoints).toBe(2);
    });

    it('treats keys as plain strings: braces or percent signs in later parts are not another key', async () => {
      const user = spec('user', { points: 1, duration: 60, blockDuration: 0 });
      // The limiter percent-encodes parts; a store must still never reinterpret what it gets.
      const forged = '{acme}:u={globex}';
      const encoded = '{acme}:u=%7Bglobex%7D';
      expect(await consumeOne(store(), user, forged)).toMatchObject({ allowed: true, consumed: 1 });
      expect(await consumeOne(store(), user, encoded)).toMatchObject({ allowed: true, consumed: 1 });
      expect(await consumeOne(store(), user, '{globex}')).toMatchObject({ allowed: true, consumed: 1 });
      const results = await store().consumeAll([entry(user, forged), entry(user, '{globex}:u=2')]);
      expect(results.map((result) => result.allowed)).toEqual([false, true]);
      expect(await store().limiter(user).get('{globex}:u=2')).toBeNull();
    });
  });
}

function describeLimiterInterop({ store, spec }: SuiteContext): void {
  describe('limiter(spec) reads and writes the keys consumeAll writes', () => {
    it('is memoised per spec', () => {
      const api = spec('api', { points: 5, duration: 60, blockDuration: 0 });
      expect(store().limiter(api)).toBe(store().limiter({ ...api }));
    });

    it('get sees the count and window of consumeAll', async () => {
      const api = spec('api', { points: 5, duration: 60, blockDuration: 0 });
      expect(await store().limiter(api).get('{acme}')).toBeNull();
      await consumeOne(store(), api, '{acme}', 2);
      const stored = await store().limiter(api).get('{acme}');
      expect(stored?.consumedPoints).toBe(2);
      expect(stored?.remainingPoints).toBe(3);
      expect(stored?.msBeforeNext).toBeGreaterThan(50_000);
      expect(stored?.msBeforeNext).toBeLessThanOrEqual(60_000);
    });

    it('delete resets the counter consumeAll counts on', async () => {
      const api = spec('api', { points: 1, duration: 60, blockDuration: 0 });
      await consumeOne(store(), api, '{acme}');
      expect((await consumeOne(store(), api, '{acme}')).allowed).toBe(false);
      expect(await store().limiter(api).delete('{acme}')).toBe(true);
      expect(await consumeOne(store(), api, '{acme}')).toMatchObject({ allowed: true, consumed: 1 });
    });

    it('penalty and reward move the counter consumeAll counts on', async () => {
      const api = spec('api', { points: 5, duration: 60, blockDuration: 0 });
      await consumeOne(store(), api, '{acme}');
      await store().limiter(api).penalty('{acme}', 3);
      expect(await consumeOne(store(), api, '{acme}')).toMatchObject({ allowed: true, consumed: 5, remaining: 0 });
      await store().limiter(api).reward('{acme}', 2);
      expect(await consumeOne(store(), api, '{acme}')).toMatchObject({ allowed: true, consumed: 4, remaining: 1 });
    });

    it('a penalty on a fresh key opens the window consumeAll continues', async () => {
      const api = spec('api', { points: 3, duration: 60, blockDuration: 0 });
      await store().limiter(api).penalty('{acme}', 3);
      expect(await consumeOne(store(), api, '{acme}')).toMatchObject({ allowed: false, consumed: 4 });
    });

    it('block refuses consumeAll until the block ends', async () => {
      const api = spec('api', { points: 5, duration: 10, blockDuration: 0 });
      await consumeOne(store(), api, '{acme}');
      await store().limiter(api).block('{acme}', 300);
      const refused = await consumeOne(store(), api, '{acme}');
      expect(refused.allowed).toBe(false);
      expect(refused.msBeforeNext).toBeGreaterThan(250_000);
      expect(refused.msBeforeNext).toBeLessThanOrEqual(300_000);
    });
  });
}

function describeWindowExpiry({ store, spec }: SuiteContext): void {
  describe('window expiry', () => {
    it('admits again once the window has ended', async () => {
      const api = spec('api', { points: 1, duration: 1, blockDuration: 0, burst: { points: 1, duration: 1 } });
      expect((await consumeOne(store(), api, '{acme}')).allowed).toBe(true);
      expect((await consumeOne(store(), api, '{acme}')).burst).toBe(true);
      expect((await consumeOne(store(), api, '{acme}')).allowed).toBe(false);
      await sleep(1_200);
      expect(await consumeOne(store(), api, '{acme}')).toMatchObject({ allowed: true, consumed: 1, burst: false });
    });
  });
}

function describeMalformedInput({ store, spec }: SuiteContext): void {
  describe('malformed input', () => {
    it('rejects bad entries with VALIDATION_FAILED and charges nothing', async () => {
      const api = spec('api', { points: 5, duration: 60, blockDuration: 0 });
      const bad: StoreConsumeEntry[][] = [
        [entry(api, '{acme}'), entry(api, '{acme}', 0)],
        [entry(api, '{acme}'), entry(api, '{acme}', 1.5)],
        [entry(api, '{acme}'), entry(api, '')],
        [entry(api, '{acme}'), entry({ ...api, points: 0 }, '{acme}')],
        [entry(api, '{acme}'), entry({ ...api, keyPrefix: `${api.keyPrefix}:{x}` }, '{acme}')],
        // Costs and points stop at 2^31 - 1.
        [entry(api, '{acme}'), entry(api, '{acme}', 2 ** 31)],
        [entry(api, '{acme}'), entry({ ...api, points: 2 ** 31 }, '{acme}')],
        [entry(api, '{acme}'), entry({ ...api, burst: { points: 2 ** 31, duration: 10 } }, '{acme}')],
      ];
      for (const entries of bad) {
        await expect(store().consumeAll(entries)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      }
      expect(await store().limiter(api).get('{acme}')).toBeNull();
    });
  });
}

/** The limits the agreement test draws from: plain, blocking, bursty, and bursty with a block. */
const AGREEMENT_LIMITS: readonly Omit<LimiterSpec, 'keyPrefix'>[] = [
  { points: 5, duration: 60, blockDuration: 0 },
  { points: 4, duration: 60, blockDuration: 90 },
  { points: 3, duration: 60, blockDuration: 0, burst: { points: 3, duration: 30 } },
  { points: 4, duration: 60, blockDuration: 120, burst: { points: 2, duration: 30 } },
  { points: 1, duration: 60, blockDuration: 30, burst: { points: 4, duration: 30 } },
];
/** Three hash tags (three groups on a Cluster), one with a second key. */
const AGREEMENT_KEYS = ['{acme}', '{acme}:u=1', '{globex}', '{ip=203.0.113.7}'] as const;

/** What two stores must agree on; msBeforeNext is compared apart (clocks run on). */
function decisionOf(result: StoreConsumeResult): unknown[] {
  return [result.allowed, result.burst, result.consumed, result.remaining];
}

function describeReferenceAgreement({ store, spec }: SuiteContext): void {
  describe('agreement with the memory store (the reference)', () => {
    it('decides, reports, charges and blocks as memoryRateLimitStore on random request sequences', async () => {
      const entryOf = fc.record({
        limit: fc.integer({ min: 0, max: AGREEMENT_LIMITS.length - 1 }),
        key: fc.integer({ min: 0, max: AGREEMENT_KEYS.length - 1 }),
        points: fc.integer({ min: 1, max: 8 }),
      });
      // Up to 4 entries: one key twice in a request happens too.
      const requestsOf = fc.array(fc.array(entryOf, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 20 });
      let run = 0;
      await fc.assert(
        fc.asyncProperty(requestsOf, async (requests) => {
          run += 1;
          // Fresh counters per run (shrinking reruns too), under the test's prefix for cleanup.
          const specs = AGREEMENT_LIMITS.map((limit, index) => spec(`agree-${run}-${index}`, limit));
          const reference = memoryRateLimitStore();
          try {
            for (const [step, request] of requests.entries()) {
              const entries = request.map(({ limit, key, points }) => entry(specs[limit]!, AGREEMENT_KEYS[key]!, points));
              const ours = await store().consumeAll(entries);
              const theirs = await reference.consumeAll(entries);
              expect({ step, results: ours.map(decisionOf) }).toEqual({ step, results: theirs.map(decisionOf) });
              ours.forEach((result, index) => expect(Math.abs(result.msBeforeNext - theirs[index]!.msBeforeNext)).toBeLessThan(2_000));
            }
            for (const limitSpec of specs) {
              const buckets = [limitSpec];
              if (limitSpec.burst !== undefined) {
                buckets.push({ keyPrefix: `${limitSpec.keyPrefix}:burst`, ...limitSpec.burst, blockDuration: 0 });
              }
              for (const bucket of buckets) {
                for (const key of AGREEMENT_KEYS) {
                  const [stored, expected] = await Promise.all([store().limiter(bucket).get(key), reference.limiter(bucket).get(key)]);
                  expect({ bucket: bucket.keyPrefix, key, consumed: stored?.consumedPoints }).toEqual({
                    bucket: bucket.keyPrefix,
                    key,
                    consumed: expected?.consumedPoints,
                  });
                  if (stored !== null && expected !== null) expect(Math.abs(stored.msBeforeNext - expected.msBeforeNext)).toBeLessThan(2_000);
                }
              }
            }
          } finally {
            await reference.close();
          }
        }),
        { numRuns: 25, endOnFailure: true },
      );
    });
  });
}
