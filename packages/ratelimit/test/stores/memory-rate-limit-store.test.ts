import { describeRateLimitStoreConformance } from '@tenantkit/test-utils';
import { describe, expect, it } from 'vitest';
import { memoryRateLimitStore } from '../../src/stores/memory-rate-limit-store.js';

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
