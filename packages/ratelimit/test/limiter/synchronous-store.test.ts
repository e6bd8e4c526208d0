// The check's synchronous path: an in-process store with consumeAllSync is charged without an
// await, and everything the async path does (failure policies, events, coded errors, shadow
// policies, refusals) comes out the same.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RateLimitError } from '../../src/errors.js';
import type { RateLimitDecision } from '../../src/limiter/rate-limit-decision.js';
import type { RateLimitPolicyDefinition, RateLimitSubject } from '../../src/policies/rate-limit-policy.js';
import { memoryRateLimitStore } from '../../src/stores/memory-rate-limit-store.js';
import type { RateLimitStore, StoreConsumeEntry, StoreConsumeResult } from '../../src/stores/rate-limit-store.js';
import { useClosingLimiters } from '../support/closing-limiters.js';
import { withCode } from './fixtures.js';

const limiterWith = useClosingLimiters();
const ip = '203.0.113.7';

type SyncMode = 'up' | 'throw' | 'invalid' | 'short';

/** The memory store with its calls counted and a consumeAllSync that can be made to throw. */
function syncStore(options: { shared?: boolean; withSync?: boolean } = {}) {
  const inner = memoryRateLimitStore();
  const calls = { consumeAll: 0, consumeAllSync: 0 };
  let mode: SyncMode = 'up';
  const consumeAllSync = (entries: readonly StoreConsumeEntry[]): readonly StoreConsumeResult[] => {
    calls.consumeAllSync += 1;
    if (mode === 'throw') throw new Error('the in-process counters failed');
    if (mode === 'invalid') throw new RateLimitError('VALIDATION_FAILED', 'bad entry');
    const results = inner.consumeAllSync!(entries);
    return mode === 'short' ? results.slice(1) : results;
  };
  const store: RateLimitStore = {
    kind: 'sync-test',
    shared: options.shared ?? false,
    limiter: (spec) => inner.limiter(spec),
    consumeAll(entries) {
      calls.consumeAll += 1;
      try {
        return Promise.resolve(consumeAllSync(entries));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    ...(options.withSync === false ? {} : { consumeAllSync }),
    close: () => inner.close(),
  };
  return {
    store,
    calls,
    setMode: (next: SyncMode) => {
      mode = next;
    },
  };
}

describe('check on a store with consumeAllSync', () => {
  it('charges through consumeAllSync only, and answers with a promise whatever happens', async () => {
    const { store, calls } = syncStore();
    const limiter = limiterWith({ store, policies: [{ name: 'ip', by: ['ip'], points: 2, duration: 60 }] });
    const first = limiter.check({ ip });
    expect(first).toBeInstanceOf(Promise);
    expect(await first).toMatchObject({ allowed: true, outcomes: [{ policy: 'ip', remaining: 1, consumed: 1 }] });
    expect((await limiter.check({ ip })).allowed).toBe(true);
    expect(await limiter.check({ ip })).toMatchObject({ allowed: false, reason: 'limited', deciding: { policy: 'ip' } });
    expect(calls).toEqual({ consumeAll: 0, consumeAllSync: 3 });
    // Argument errors reject, never throw.
    const invalid = limiter.check({ ip: 'not an ip' });
    expect(invalid).toBeInstanceOf(Promise);
    await expect(invalid).rejects.toEqual(withCode('RATE_LIMIT_KEY_INVALID'));
  });

  it('keeps the async path for a shared store, whose calls need a timeout', async () => {
    const { store, calls } = syncStore({ shared: true });
    const limiter = limiterWith({ store, policies: [{ name: 'ip', by: ['ip'], points: 2, duration: 60 }] });
    expect((await limiter.check({ ip })).allowed).toBe(true);
    expect(calls).toEqual({ consumeAll: 1, consumeAllSync: 1 });
  });

  it('answers a throwing consumeAllSync by the failure policies, with the events of the async path', async () => {
    const policies: RateLimitPolicyDefinition[] = [
      { name: 'open', by: ['ip'], points: 10, duration: 60, failure: 'open' },
      { name: 'insured', by: ['ip'], points: 4, duration: 60, failure: 'insurance' },
    ];
    // The same outage on a store with consumeAllSync and on one without.
    const run = async (withSync: boolean) => {
      const { store, setMode } = syncStore({ withSync });
      const events: string[] = [];
      const limiter = limiterWith({
        store,
        policies,
        insurance: { divideBy: 2 },
        onEvent: (event) => {
          if (event.type === 'store-failed') events.push(`${event.type} ${(event.error as RateLimitError).code} ${event.policies.join(',')}`);
          else if (event.type !== 'decision') events.push(event.type);
        },
      });
      setMode('throw');
      const down = [await limiter.check({ ip }), await limiter.check({ ip }), await limiter.check({ ip })];
      setMode('up');
      const back = await limiter.check({ ip });
      return { down, back, events };
    };
    const sync = await run(true);
    expect(sync.down[0]!.outcomes).toMatchObject([
      { policy: 'open', degraded: 'open', allowed: true },
      { policy: 'insured', degraded: 'insurance', limit: 2, remaining: 1 },
    ]);
    expect(sync.down[2]).toMatchObject({ allowed: false, deciding: { policy: 'insured', degraded: 'insurance' } });
    expect(sync.back.outcomes[1]).toMatchObject({ degraded: undefined, consumed: 1 });
    expect(sync.events[0]).toBe('store-failed STORE_UNAVAILABLE open,insured');
    const async = await run(false);
    const waitless = (decision: RateLimitDecision) => ({
      ...decision,
      retryAfterMs: 0,
      outcomes: decision.outcomes.map((outcome) => ({ ...outcome, resetMs: 0 })),
      deciding: decision.deciding?.policy,
    });
    expect(sync.down.map(waitless)).toEqual(async.down.map(waitless));
    expect(waitless(sync.back)).toEqual(waitless(async.back));
    expect(sync.events).toEqual(async.events);
  });

  it("fails closed with STORE_UNAVAILABLE, and passes a store's own coded refusal on", async () => {
    const { store, setMode } = syncStore();
    const limiter = limiterWith({ store, policies: [{ name: 'ip', by: ['ip'], points: 2, duration: 60, failure: 'closed' }] });
    setMode('throw');
    await expect(limiter.check({ ip })).rejects.toEqual(withCode('STORE_UNAVAILABLE'));
    setMode('invalid');
    await expect(limiter.check({ ip })).rejects.toEqual(withCode('VALIDATION_FAILED'));
  });

  it('treats an answer with another number of results as a store failure', async () => {
    const { store, setMode } = syncStore();
    const limiter = limiterWith({ store, failure: 'open', policies: [{ name: 'ip', by: ['ip'], points: 2, duration: 60 }] });
    setMode('short');
    expect((await limiter.check({ ip })).outcomes[0]).toMatchObject({ degraded: 'open' });
  });

  it('decides exactly as the async path does, on any sequence of checks (property)', async () => {
    const policies: RateLimitPolicyDefinition[] = [
      // Windows far apart, so the longest wait (which decides) never ties between policies.
      { name: 'tenant', by: ['tenant'], points: 6, duration: 60 },
      { name: 'user', by: ['tenant', 'user'], points: 3, duration: 120, blockDuration: 45 },
      { name: 'ip', by: ['ip'], points: 4, duration: 300, burst: { points: 2, duration: 200 } },
      { name: 'watch', by: ['ip'], points: 2, duration: 400, shadow: true },
    ];
    const subject = fc.record(
      {
        tenantId: fc.constantFrom('acme', 'globex'),
        userId: fc.constantFrom('u1', 'u2'),
        ip: fc.constantFrom('203.0.113.7', '198.51.100.4'),
      },
      { requiredKeys: ['tenantId'] },
    );
    const call = fc.record({ subject, cost: fc.integer({ min: 1, max: 3 }), only: fc.option(fc.subarray(['tenant', 'user', 'ip', 'watch'], { minLength: 1 })) });
    // The two limiters read the clock a moment apart: compare waits by whether there is one.
    const strip = (decision: RateLimitDecision) => ({
      ...decision,
      outcomes: decision.outcomes.map((outcome) => ({ ...outcome, resetMs: outcome.resetMs > 0 })),
      deciding: decision.deciding?.policy,
      retryAfterMs: decision.retryAfterMs > 0,
    });
    await fc.assert(
      fc.asyncProperty(fc.array(call, { minLength: 1, maxLength: 25 }), async (calls) => {
        const now = syncStore();
        const later = syncStore({ withSync: false });
        const sync = limiterWith({ store: now.store, policies });
        const async = limiterWith({ store: later.store, policies });
        for (const { subject: who, cost, only } of calls) {
          const options = only === null ? { cost } : { cost, policies: only };
          const [left, right] = await Promise.all([sync.check(who as RateLimitSubject, options), async.check(who as RateLimitSubject, options)]);
          expect(strip(left)).toEqual(strip(right));
        }
        // Only the limiter without consumeAllSync went through consumeAll for every charge.
        expect(later.calls.consumeAllSync).toBe(later.calls.consumeAll);
      }),
      { numRuns: 60 },
    );
  });
});
