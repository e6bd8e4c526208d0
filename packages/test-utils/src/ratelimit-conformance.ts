import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LimiterSpec, RateLimitStore, StoreConsumeEntry, StoreConsumeResult } from '@tenantkit/ratelimit';
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
 * as rate-limiter-flexible counts them, refusal past the points, remaining and msBeforeNext,
 * the block on the first crossing, the burst bucket under `${keyPrefix}:burst`,
 * all-or-nothing `consumeAll` (sequential and with 50 concurrent calls), tenants' keys
 * independent, keys with hash-tag characters in later parts, `limiter(spec)`'s
 * get/delete/penalty/reward/block on the keys `consumeAll` writes, a plan change keeping the
 * counter, and window expiry (one wait of about 1.2 s).
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

    it('refuses past the points and still charges the refused calls', async () => {
      const api = spec('api', { points: 2, duration: 60, blockDuration: 0 });
      const results: StoreConsumeResult[] = [];
      for (let call = 0; call < 4; call += 1) results.push(await consumeOne(store(), api, '{acme}'));
      expect(results.map((result) => [result.allowed, result.consumed, result.remaining])).toEqual([
        [true, 1, 1],
        [true, 2, 0],
        [false, 3, 0],
        [false, 4, 0],
      ]);
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

    it('keeps counting on the same key when the points of the spec change (a plan change)', async () => {
      const free = spec('tenant', { points: 2, duration: 60, blockDuration: 0 });
      const pro = { ...free, points: 5 };
      await consumeOne(store(), free, '{acme}');
      await consumeOne(store(), free, '{acme}');
      expect(await consumeOne(store(), free, '{acme}')).toMatchObject({ allowed: false, consumed: 3 });
      expect(await consumeOne(store(), pro, '{acme}')).toMatchObject({ allowed: true, consumed: 4, remaining: 1 });
      expect((await store().limiter(pro).get('{acme}'))?.consumedPoints).toBe(4);
    });

    it('returns no results for no entries', async () => {
      expect(await store().consumeAll([])).toEqual([]);
    });
  });
}

function describeBlocks({ store, spec }: SuiteContext): void {
  describe('blocks', () => {
    it('blocks the key for blockDuration on the charge that first crosses the limit, not again later', async () => {
      const login = spec('login', { points: 2, duration: 5, blockDuration: 120 });
      await consumeOne(store(), login, '{acme}:ip=1');
      await consumeOne(store(), login, '{acme}:ip=1');
      const crossing = await consumeOne(store(), login, '{acme}:ip=1');
      expect(crossing).toMatchObject({ allowed: false, consumed: 3, remaining: 0 });
      // The block (120 s), not the window (5 s).
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

    it('charges nothing on the admitting entries of a refused request, and charges the refused ones', async () => {
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
      expect((await store().limiter(ip).get('{acme}:ip=203.0.113.7'))?.consumedPoints).toBe(7);
    });

    it('leaves no counter behind for an admitting entry of a refused request that had none', async () => {
      const ip = spec('ip', { points: 1, duration: 60, blockDuration: 0 });
      const user = spec('user', { points: 5, duration: 60, blockDuration: 0 });
      await consumeOne(store(), ip, '{acme}:ip=1');
      const refused = await store().consumeAll([entry(user, '{acme}:u=new'), entry(ip, '{acme}:ip=1')]);
      expect(refused[0]).toMatchObject({ allowed: true, consumed: 0, remaining: 5 });
      expect(await store().limiter(user).get('{acme}:u=new')).toBeNull();
    });

    it('gives the burst points back to an entry its burst bucket admitted when another entry refuses', async () => {
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
      // The main window refused that entry, so its charge stays, as a refused entry's does.
      expect((await store().limiter(user).get('{acme}:u=1'))?.consumedPoints).toBe(2);
    });

    it('refuses across tenants in one request and charges only the refused tenant', async () => {
      const tenant = spec('tenant', { points: 1, duration: 60, blockDuration: 0 });
      await consumeOne(store(), tenant, '{globex}');
      const results = await store().consumeAll([entry(tenant, '{acme}'), entry(tenant, '{globex}')]);
      expect(results.map((result) => result.allowed)).toEqual([true, false]);
      expect(await store().limiter(tenant).get('{acme}')).toBeNull();
      expect((await store().limiter(tenant).get('{globex}'))?.consumedPoints).toBe(2);
    });
  });
}

function describeConcurrency({ store, spec }: SuiteContext): void {
  describe('concurrency', () => {
    it('admits exactly the points out of 50 concurrent calls on one key', async () => {
      const api = spec('api', { points: 10, duration: 60, blockDuration: 0 });
      const results = await Promise.all(Array.from({ length: 50 }, () => consumeOne(store(), api, '{acme}')));
      expect(results.filter((result) => result.allowed)).toHaveLength(10);
      expect((await store().limiter(api).get('{acme}'))?.consumedPoints).toBe(50);
    });

    it('admits exactly the tightest limit out of 50 concurrent two-policy calls, and the looser counter ends at the admitted', async () => {
      const tenant = spec('tenant', { points: 100, duration: 60, blockDuration: 0 });
      const user = spec('user', { points: 10, duration: 60, blockDuration: 0 });
      const results = await Promise.all(
        Array.from({ length: 50 }, () => store().consumeAll([entry(tenant, '{acme}'), entry(user, '{acme}:u=1')])),
      );
      expect(results.filter((pair) => pair.every((result) => result.allowed))).toHaveLength(10);
      expect((await store().limiter(tenant).get('{acme}'))?.consumedPoints).toBe(10);
      expect((await store().limiter(user).get('{acme}:u=1'))?.consumedPoints).toBe(50);
    });
  });
}

function describeKeys({ store, spec }: SuiteContext): void {
  describe('keys', () => {
    it("keeps two tenants' counters apart", async () => {
      const user = spec('user', { points: 2, duration: 60, blockDuration: 0 });
      for (let call = 0; call < 3; call += 1) await consumeOne(store(), user, '{acme}:u=1');
      expect(await consumeOne(store(), user, '{globex}:u=1')).toMatchObject({ allowed: true, consumed: 1 });
      expect((await store().limiter(user).get('{acme}:u=1'))?.consumedPoints).toBe(3);
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
      ];
      for (const entries of bad) {
        await expect(store().consumeAll(entries)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      }
      expect(await store().limiter(api).get('{acme}')).toBeNull();
    });
  });
}
