// Outage events during a partial outage: a store that fails for some keys only (one Redis
// Cluster slot down) is reported down once, and recovered once it has answered for
// recoveryConfirmMs with no failure in between, instead of store-failed / store-recovered on
// every request. Limiting itself goes back to the store with its first answer.
import { createManualClock, type ManualClock } from '@tenantkit/core';
import { beforeEach, describe, expect, it } from 'vitest';
import type { RateLimitEvent, RateLimiterOptions } from '../../src/limiter/rate-limiter.js';
import type { RateLimitStore } from '../../src/stores/rate-limit-store.js';
import { useClosingLimiters } from '../support/closing-limiters.js';
import { controllableStore, type ControllableStore } from './controllable-store.js';

const limiterWith = useClosingLimiters();
const policies = [{ name: 'tenant', by: ['tenant'], points: 1_000, duration: 3600 }] as const;

let clock: ManualClock;
let events: RateLimitEvent['type'][];
let store: ControllableStore;

beforeEach(() => {
  clock = createManualClock();
  events = [];
  store = controllableStore();
});

/** The controllable store, except that consumeAll rejects for entries under a hash tag that is "down". */
function partialOutageStore(downTags: Set<string>): RateLimitStore {
  return {
    kind: 'partial',
    shared: true,
    limiter: (spec) => store.limiter(spec),
    consumeAll(entries) {
      if (entries.some((entry) => [...downTags].some((tag) => entry.key.startsWith(`{${tag}}`)))) {
        return Promise.reject(new Error('CLUSTERDOWN Hash slot not served'));
      }
      return store.consumeAll(entries);
    },
    close: () => store.close(),
  };
}

function limiterOn(limiterStore: RateLimitStore, options: Partial<RateLimiterOptions> = {}) {
  return limiterWith({
    store: limiterStore,
    clock,
    policies: [...policies],
    onEvent: (event) => {
      if (event.type !== 'decision') events.push(event.type);
    },
    ...options,
  });
}

describe('outage events during a partial outage', () => {
  it("reports one 'store-failed' and no recovery while some keys keep failing, and answers the others from the store", async () => {
    const downTags = new Set(['beta']);
    const limiter = limiterOn(partialOutageStore(downTags));
    for (let round = 0; round < 20; round += 1) {
      const [healthy, failing] = [await limiter.check({ tenantId: 'alpha' }), await limiter.check({ tenantId: 'beta' })];
      expect(healthy.outcomes[0]).toMatchObject({ degraded: undefined, consumed: round + 1 }); // on the store, at once
      expect(failing.outcomes[0]).toMatchObject({ degraded: 'insurance' });
      clock.advance(300);
    }
    expect(events).toEqual(['store-failed']); // before the fix: 20 failed and 19 recovered, alternating
  });

  it("reports 'store-recovered' once the store has answered for recoveryConfirmMs (default 1000) with no failure", async () => {
    const downTags = new Set(['beta']);
    const limiter = limiterOn(partialOutageStore(downTags));
    await limiter.check({ tenantId: 'beta' });
    downTags.clear(); // the slot is served again
    await limiter.check({ tenantId: 'beta' }); // answered: the confirmation starts now
    for (let step = 0; step < 9; step += 1) {
      clock.advance(111);
      expect((await limiter.check({ tenantId: 'beta' })).outcomes[0]).toMatchObject({ degraded: undefined });
    }
    expect(events).toEqual(['store-failed']); // 999 ms of answers: not yet
    clock.advance(1);
    await limiter.check({ tenantId: 'alpha' });
    await limiter.check({ tenantId: 'alpha' });
    expect(events).toEqual(['store-failed', 'store-recovered']);
  });

  it('restarts the confirmation on any failure in between, timeouts included', async () => {
    const limiter = limiterOn(store, { storeTimeoutMs: 100 });
    store.mode = 'reject';
    await limiter.check({ tenantId: 'alpha' });
    store.mode = 'up';
    await limiter.check({ tenantId: 'alpha' }); // confirmation from t = 0
    clock.advance(600);
    store.mode = 'hang';
    const hung = limiter.check({ tenantId: 'alpha' });
    clock.advance(100); // t = 700: the hung call times out, a failure
    expect((await hung).outcomes[0]).toMatchObject({ degraded: 'insurance' });
    store.mode = 'up';
    clock.advance(500);
    await limiter.check({ tenantId: 'alpha' }); // t = 1200: 1200 ms after the first answer, but a failure came between
    expect(events).toEqual(['store-failed']);
    clock.advance(999);
    await limiter.check({ tenantId: 'alpha' });
    expect(events).toEqual(['store-failed']);
    clock.advance(1);
    await limiter.check({ tenantId: 'alpha' }); // t = 2200: 1000 ms of answers since t = 1200
    expect(events).toEqual(['store-failed', 'store-recovered']);
    store.answerHanging(); // the late answer of the hung call changes nothing
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(events).toEqual(['store-failed', 'store-recovered']);
  });

  it('reports each outage once: a new outage after a confirmed recovery is reported again', async () => {
    const limiter = limiterOn(store);
    for (let outage = 0; outage < 3; outage += 1) {
      store.mode = 'reject';
      await limiter.check({ tenantId: 'alpha' });
      await limiter.consume('tenant', { tenantId: 'alpha' });
      await limiter.get('tenant', { tenantId: 'alpha' });
      store.mode = 'up';
      await limiter.get('tenant', { tenantId: 'alpha' });
      clock.advance(1000);
      await limiter.consume('tenant', { tenantId: 'alpha' });
    }
    expect(events).toEqual(['store-failed', 'store-recovered', 'store-failed', 'store-recovered', 'store-failed', 'store-recovered']);
  });

  it('with recoveryConfirmMs 0 reports the recovery with the first answer', async () => {
    const limiter = limiterOn(store, { recoveryConfirmMs: 0 });
    store.mode = 'reject';
    await limiter.check({ tenantId: 'alpha' });
    store.mode = 'up';
    await limiter.check({ tenantId: 'alpha' });
    expect(events).toEqual(['store-failed', 'store-recovered']);
  });

  it('validates recoveryConfirmMs: a whole number of ms from 0 to 600,000', () => {
    for (const recoveryConfirmMs of [-1, 1.5, 600_001, Number.NaN, '1000']) {
      expect(() => limiterOn(store, { recoveryConfirmMs: recoveryConfirmMs as number })).toThrow(
        expect.objectContaining({ code: 'CONFIGURATION_INVALID', message: expect.stringContaining('recoveryConfirmMs') }),
      );
    }
    expect(() => limiterOn(store, { recoveryConfirmMs: 600_000 })).not.toThrow();
  });
});
