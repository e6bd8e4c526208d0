import { describeRateLimitStoreConformance } from '@tenantkit/test-utils';
import { BurstyRateLimiter, RateLimiterRes } from 'rate-limiter-flexible';
import { describe, expect, it } from 'vitest';
import { memoryRateLimitStore } from '../../src/stores/memory-rate-limit-store.js';
import type { LimiterSpec } from '../../src/stores/rate-limit-store.js';

describeRateLimitStoreConformance('memory', async () => {
  const store = memoryRateLimitStore();
  return { store, cleanup: () => store.close() };
});

describe('memoryRateLimitStore', () => {
  it('is an unshared store named memory unless told otherwise', () => {
    expect(memoryRateLimitStore()).toMatchObject({ kind: 'memory', shared: false });
    expect(memoryRateLimitStore({ kind: 'memory-insurance' }).kind).toBe('memory-insurance');
  });

  it('rejects bad options with CONFIGURATION_INVALID', () => {
    expect(() => memoryRateLimitStore({ kind: '' })).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
    expect(() => memoryRateLimitStore(null as never)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
  });

  it('keeps the counters of two stores apart', async () => {
    const spec = { keyPrefix: 'tk:rl:api', points: 1, duration: 60, blockDuration: 0 };
    const first = memoryRateLimitStore();
    const second = memoryRateLimitStore();
    await first.consumeAll([{ spec, key: '{acme}', points: 1 }]);
    expect((await second.consumeAll([{ spec, key: '{acme}', points: 1 }]))[0]?.consumed).toBe(1);
  });

  it('answers consumeAllSync synchronously, on the counters consumeAll uses', async () => {
    const store = memoryRateLimitStore();
    const spec: LimiterSpec = { keyPrefix: 'tk:rl:api', points: 2, duration: 60, blockDuration: 0 };
    const [first] = store.consumeAllSync!([{ spec, key: '{acme}', points: 1 }]);
    expect(first).toMatchObject({ allowed: true, consumed: 1, remaining: 1 });
    expect((await store.consumeAll([{ spec, key: '{acme}', points: 1 }]))[0]).toMatchObject({ allowed: true, consumed: 2 });
    expect(store.consumeAllSync!([{ spec, key: '{acme}', points: 1 }])[0]).toMatchObject({ allowed: false, consumed: 3 });
    expect(store.consumeAllSync!([])).toEqual([]);
  });

  it('throws from consumeAllSync what consumeAll rejects with (and consumeAll never throws)', async () => {
    const store = memoryRateLimitStore();
    const spec: LimiterSpec = { keyPrefix: 'tk:rl:api', points: 2, duration: 60, blockDuration: 0 };
    const bad = [{ spec, key: '{acme}', points: 0 }];
    expect(() => store.consumeAllSync!(bad)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    const rejected = store.consumeAll(bad);
    await expect(rejected).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(() => store.consumeAllSync!([{ spec: { ...spec, points: 2 ** 31 }, key: '{acme}', points: 1 }])).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
  });

  it('turns a failure of the counter map into STORE_UNAVAILABLE with the cause', async () => {
    const store = memoryRateLimitStore();
    const spec: LimiterSpec = { keyPrefix: 'tk:rl:api', points: 2, duration: 60, blockDuration: 0 };
    // The store's limiters share one counter map; break its read and its increment.
    const storage = (store.limiter(spec) as unknown as { _memoryStorage: { get: () => never; incrby: () => never } })._memoryStorage;
    storage.get = () => {
      throw new Error('broken map');
    };
    storage.incrby = storage.get;
    expect(() => store.consumeAllSync!([{ spec, key: '{acme}', points: 1 }])).toThrow(expect.objectContaining({ code: 'STORE_UNAVAILABLE' }));
    const failure = await store.consumeAll([{ spec, key: '{acme}', points: 1 }]).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'STORE_UNAVAILABLE', cause: expect.objectContaining({ message: 'broken map' }) });
  });

  it("shares counters with rate-limiter-flexible's own BurstyRateLimiter over the store's limiters", async () => {
    const store = memoryRateLimitStore();
    const api: LimiterSpec = { keyPrefix: 'tk:rl:api', points: 1, duration: 60, blockDuration: 0, burst: { points: 2, duration: 30 } };
    const bursty = new BurstyRateLimiter(store.limiter(api), store.limiter({ keyPrefix: 'tk:rl:api:burst', points: 2, duration: 30, blockDuration: 0 }));
    await bursty.consume('{acme}'); // window
    expect((await store.consumeAll([{ spec: api, key: '{acme}', points: 1 }]))[0]).toMatchObject({ allowed: true, burst: true });
    await bursty.consume('{acme}'); // the second burst point
    expect((await store.consumeAll([{ spec: api, key: '{acme}', points: 1 }]))[0]).toMatchObject({ allowed: false, consumed: 4 });
    await expect(bursty.consume('{acme}')).rejects.toBeInstanceOf(RateLimiterRes);
  });

  it('rejects a spec with VALIDATION_FAILED from limiter()', () => {
    const store = memoryRateLimitStore();
    expect(() => store.limiter({ keyPrefix: 'tk:rl:api', points: 1, duration: 0, blockDuration: 0 })).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED' }),
    );
    expect(() =>
      store.limiter({ keyPrefix: 'tk:rl:api', points: 1, duration: 1, blockDuration: 0, burst: { points: 0, duration: 1 } }),
    ).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});
