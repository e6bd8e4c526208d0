import { createManualClock } from '@tenantkit/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RateLimitError } from '../../src/errors.js';
import { createRateLimiter } from '../../src/limiter/create-rate-limiter.js';
import type { RateLimitEvent } from '../../src/limiter/rate-limiter.js';
import type { RateLimitStore } from '../../src/stores/rate-limit-store.js';
import { useClosingLimiters } from '../support/closing-limiters.js';
import { controllableStore, type ControllableStore } from './controllable-store.js';
import { withCode } from './fixtures.js';

let store: ControllableStore;
let events: RateLimitEvent[];
const storeEvents = () => events.filter((event) => event.type !== 'decision');
const unhandled = vi.fn();

beforeEach(() => {
  store = controllableStore();
  events = [];
  unhandled.mockClear();
  process.on('unhandledRejection', unhandled);
});
afterEach(async () => {
  // Give a late rejection the chance to show up as unhandled before the check.
  await new Promise((resolve) => setTimeout(resolve, 5));
  process.off('unhandledRejection', unhandled);
  expect(unhandled).not.toHaveBeenCalled();
});
// Registered after the check above, so (hooks run in stack order) the limiters close before it.
const limiterWith = useClosingLimiters();

const ip = '203.0.113.7';

describe('while the store rejects', () => {
  it("'open' admits without counting (degraded 'open')", async () => {
    const limiter = limiterWith({ store, failure: 'open', policies: [{ name: 'ip', by: ['ip'], points: 1, duration: 60 }] });
    store.mode = 'reject';
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const decision = await limiter.check({ ip });
      expect(decision).toMatchObject({ allowed: true, reason: 'allowed', retryAfterMs: 0 });
      expect(decision.outcomes[0]).toMatchObject({ policy: 'ip', allowed: true, degraded: 'open', limit: 1, remaining: 1, consumed: 0 });
    }
  });

  it("'closed' throws STORE_UNAVAILABLE (503) with the driver error as cause, never a 429", async () => {
    const limiter = limiterWith({ store, failure: 'closed', policies: [{ name: 'ip', by: ['ip'], points: 1, duration: 60 }] });
    store.mode = 'reject';
    const error: unknown = await limiter.check({ ip }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE', status: 503, message: 'The rate-limit store is unavailable' });
    expect((error as Error).cause).toEqual(expect.objectContaining({ message: 'connect ECONNREFUSED 127.0.0.1:6399' }));
    await expect(limiter.enforce({ ip })).rejects.toEqual(withCode('STORE_UNAVAILABLE'));
  });

  it("'insurance' (the default) counts in process memory with the points divided by divideBy", async () => {
    const limiter = limiterWith({ store, insurance: { divideBy: 4 }, policies: [{ name: 'ip', by: ['ip'], points: 10, duration: 60 }] });
    store.mode = 'reject';
    const decisions = [];
    for (let attempt = 0; attempt < 4; attempt += 1) decisions.push(await limiter.check({ ip }));
    expect(decisions.map((decision) => decision.allowed)).toEqual([true, true, false, false]); // floor(10 / 4) = 2
    expect(decisions[0]!.outcomes[0]).toMatchObject({ degraded: 'insurance', limit: 2, remaining: 1, key: 'tk:rl:ip:{ip=203.0.113.7}' });
    expect(decisions[2]).toMatchObject({ reason: 'limited', deciding: { policy: 'ip', degraded: 'insurance' } });
    expect(decisions[2]!.retryAfterMs).toBeGreaterThan(0);
  });

  it('divides to at least one point', async () => {
    const limiter = limiterWith({ store, insurance: { divideBy: 8 }, policies: [{ name: 'ip', by: ['ip'], points: 3, duration: 60 }] });
    store.mode = 'reject';
    expect((await limiter.check({ ip })).outcomes[0]).toMatchObject({ allowed: true, limit: 1 });
    expect((await limiter.check({ ip })).allowed).toBe(false);
  });

  it('answers each policy by its own failure policy; a closed one among them makes the whole check a 503', async () => {
    const limiter = limiterWith({
      store,
      policies: [
        { name: 'insured', by: ['ip'], points: 1, duration: 60, failure: 'insurance' },
        { name: 'lenient', by: ['ip'], points: 1, duration: 60, failure: 'open' },
        { name: 'strict', by: ['user'], points: 1, duration: 60, failure: 'closed' },
      ],
    });
    store.mode = 'reject';
    const first = await limiter.check({ ip });
    expect(first.outcomes.map((outcome) => [outcome.policy, outcome.degraded, outcome.allowed])).toEqual([
      ['insured', 'insurance', true],
      ['lenient', 'open', true],
    ]);
    expect(await limiter.check({ ip })).toMatchObject({ allowed: false, deciding: { policy: 'insured' } });
    await expect(limiter.check({ ip, userId: 'u_1' })).rejects.toEqual(withCode('STORE_UNAVAILABLE'));
  });

  it('never lets a shadow policy that fails closed refuse', async () => {
    const limiter = limiterWith({ store, failure: 'closed', shadow: true, policies: [{ name: 'ip', by: ['ip'], points: 1, duration: 60 }] });
    store.mode = 'reject';
    expect((await limiter.check({ ip })).outcomes[0]).toMatchObject({ degraded: 'open', shadow: true });
  });

  it('tries the store on every call and returns to it as soon as it answers', async () => {
    const limiter = limiterWith({ store, policies: [{ name: 'ip', by: ['ip'], points: 3, duration: 60 }] });
    await limiter.check({ ip });
    store.mode = 'reject';
    await limiter.check({ ip });
    await limiter.check({ ip });
    expect(store.calls.consumeAll).toBe(3);
    store.mode = 'up';
    const back = await limiter.check({ ip });
    expect(back.outcomes[0]).toMatchObject({ degraded: undefined, consumed: 2, remaining: 1 });
  });

  it("reports 'store-failed' once per outage with the error and policies, and 'store-recovered' once", async () => {
    const clock = createManualClock();
    const limiter = limiterWith({
      store,
      clock,
      onEvent: (event) => events.push(event),
      policies: [{ name: 'tenant', by: ['tenant'], points: 9, duration: 60 }, { name: 'ip', by: ['ip'], points: 9, duration: 60 }],
    });
    await limiter.check({ ip, tenantId: 'acme' });
    expect(storeEvents()).toEqual([]);
    store.mode = 'reject';
    await Promise.all([limiter.check({ ip, tenantId: 'acme' }), limiter.check({ ip, tenantId: 'acme' })]);
    await limiter.check({ ip, tenantId: 'acme' });
    await limiter.consume('ip', { ip });
    expect(storeEvents()).toEqual([
      { type: 'store-failed', error: expect.objectContaining({ code: 'STORE_UNAVAILABLE', cause: expect.any(Error) }), policies: ['ip', 'tenant'] },
    ]);
    store.mode = 'up';
    await limiter.check({ ip, tenantId: 'acme' });
    clock.advance(1000); // recoveryConfirmMs: answers for a second before the recovery is announced
    await limiter.check({ ip, tenantId: 'acme' });
    expect(storeEvents().map((event) => event.type)).toEqual(['store-failed', 'store-recovered']);
    // A second outage is reported again.
    store.mode = 'reject';
    await limiter.check({ ip, tenantId: 'acme' });
    expect(storeEvents().map((event) => event.type)).toEqual(['store-failed', 'store-recovered', 'store-failed']);
  });

  it('keeps working when onEvent throws on a store event', async () => {
    const limiter = limiterWith({
      store,
      onEvent: () => {
        throw new Error('alerting is down too');
      },
      policies: [{ name: 'ip', by: ['ip'], points: 9, duration: 60 }],
    });
    store.mode = 'reject';
    await expect(limiter.check({ ip })).resolves.toMatchObject({ allowed: true });
    store.mode = 'up';
    await expect(limiter.check({ ip })).resolves.toMatchObject({ allowed: true });
  });

  it('passes on a coded error that is not an outage (a store refusing bad input) instead of degrading', async () => {
    const refusing: RateLimitStore = {
      ...store,
      consumeAll: () => Promise.reject(new RateLimitError('VALIDATION_FAILED', 'bad entry')),
    };
    const limiter = limiterWith({ store: refusing, failure: 'open', onEvent: (event) => events.push(event), policies: [{ name: 'ip', by: ['ip'], points: 9, duration: 60 }] });
    await expect(limiter.check({ ip })).rejects.toEqual(withCode('VALIDATION_FAILED'));
    expect(storeEvents()).toEqual([]);
  });

  it('treats a store that throws, or answers with the wrong number of results, as failing', async () => {
    const throwing: RateLimitStore = {
      ...store,
      consumeAll: () => {
        throw new TypeError('client is undefined');
      },
    };
    const short: RateLimitStore = { ...store, consumeAll: async () => [] };
    for (const broken of [throwing, short]) {
      const limiter = limiterWith({ store: broken, failure: 'open', policies: [{ name: 'ip', by: ['ip'], points: 9, duration: 60 }] });
      expect((await limiter.check({ ip })).outcomes[0]).toMatchObject({ degraded: 'open' });
    }
  });
});

describe('while the store hangs', () => {
  it('times out after storeTimeoutMs, answers by the failure policy and drops the late answer', async () => {
    const clock = createManualClock();
    const limiter = limiterWith({
      store,
      clock,
      storeTimeoutMs: 200,
      onEvent: (event) => events.push(event),
      policies: [{ name: 'ip', by: ['ip'], points: 2, duration: 60 }],
    });
    store.mode = 'hang';
    let settled = false;
    const pending = limiter.check({ ip }).finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(settled).toBe(false); // the clock has not moved: no timeout yet
    clock.advance(200);
    const decision = await pending;
    expect(decision.outcomes[0]).toMatchObject({ allowed: true, degraded: 'insurance' });
    expect(storeEvents()).toEqual([
      { type: 'store-failed', error: expect.objectContaining({ code: 'STORE_UNAVAILABLE', message: 'The rate-limit store did not answer within 200 ms' }), policies: ['ip'] },
    ]);
    // The hung call answers late: nothing happens (no recovery announced from a stale call, nothing unhandled).
    store.answerHanging();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(storeEvents()).toHaveLength(1);
  });

  it('swallows a late failure after the timeout', async () => {
    const clock = createManualClock();
    const limiter = limiterWith({ store, clock, storeTimeoutMs: 50, failure: 'closed', policies: [{ name: 'ip', by: ['ip'], points: 2, duration: 60 }] });
    store.mode = 'hang';
    const pending = limiter.check({ ip });
    clock.advance(50);
    await expect(pending).rejects.toEqual(withCode('STORE_UNAVAILABLE'));
    expect(store.hanging).toBe(1);
    store.failHanging();
  });

  it('times out per-key operations too', async () => {
    const clock = createManualClock();
    const limiter = limiterWith({ store, clock, storeTimeoutMs: 50, failure: 'closed', policies: [{ name: 'login', by: ['key'], points: 2, duration: 60 }] });
    store.mode = 'hang';
    const pending = limiter.get('login', { key: 'alice' });
    clock.advance(50);
    await expect(pending).rejects.toEqual(withCode('STORE_UNAVAILABLE'));
    store.answerHanging();
  });

  it('rejects calls still pending when the limiter closes', async () => {
    const limiter = createRateLimiter({ store, failure: 'closed', policies: [{ name: 'ip', by: ['ip'], points: 2, duration: 60 }] });
    store.mode = 'hang';
    const pending = limiter.check({ ip });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await limiter.close();
    await expect(pending).rejects.toEqual(withCode('STORE_UNAVAILABLE'));
    store.answerHanging();
  });
});

describe('per-key operations while the store is down', () => {
  const policies = (failure: 'open' | 'closed' | 'insurance') => [{ name: 'login', by: ['key'] as const, points: 4, duration: 60, failure }];
  const subject = { key: 'alice@example.com' };

  it("'closed' throws STORE_UNAVAILABLE for every operation", async () => {
    const limiter = limiterWith({ store, policies: policies('closed') });
    store.mode = 'reject';
    for (const operation of [
      () => limiter.consume('login', subject),
      () => limiter.penalty('login', subject),
      () => limiter.reward('login', subject),
      () => limiter.block('login', subject),
      () => limiter.get('login', subject),
      () => limiter.delete('login', subject),
      () => limiter.status(subject),
    ]) {
      await expect(operation()).rejects.toEqual(withCode('STORE_UNAVAILABLE'));
    }
  });

  it("'open' admits a consume without counting, and reads and writes the insurance store otherwise", async () => {
    const limiter = limiterWith({ store, policies: policies('open') });
    store.mode = 'reject';
    expect(await limiter.consume('login', subject)).toMatchObject({ allowed: true, degraded: 'open', consumed: 0 });
    expect(await limiter.penalty('login', subject, 3)).toMatchObject({ degraded: 'insurance', consumed: 3 });
    expect(await limiter.get('login', subject)).toMatchObject({ degraded: 'insurance', consumed: 3 });
    expect(await limiter.delete('login', subject)).toBe(true);
    expect(await limiter.get('login', subject)).toBeUndefined();
  });

  it("'insurance' counts on the insurance store, divided", async () => {
    const limiter = limiterWith({ store, insurance: { divideBy: 2 }, policies: policies('insurance') });
    store.mode = 'reject';
    expect(await limiter.consume('login', subject)).toMatchObject({ allowed: true, degraded: 'insurance', limit: 2 });
    expect(await limiter.consume('login', subject)).toMatchObject({ allowed: true, remaining: 0 });
    expect(await limiter.consume('login', subject)).toMatchObject({ allowed: false, degraded: 'insurance' });
    expect(await limiter.reward('login', subject, 2)).toMatchObject({ consumed: 1 });
    expect(await limiter.block('login', subject, 30)).toMatchObject({ allowed: false, degraded: 'insurance', resetMs: 30_000 });
    expect(await limiter.status(subject)).toEqual([expect.objectContaining({ policy: 'login', allowed: false, degraded: 'insurance' })]);
    // Back up: the store's own counter, untouched by the outage.
    store.mode = 'up';
    expect(await limiter.get('login', subject)).toBeUndefined();
    expect(await limiter.consume('login', subject)).toMatchObject({ allowed: true, degraded: undefined, consumed: 1, limit: 4 });
  });
});
