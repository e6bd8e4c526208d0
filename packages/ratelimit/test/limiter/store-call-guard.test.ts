import { createManualClock } from '@tenantkit/core';
import { describe, expect, it } from 'vitest';
import { RateLimitError } from '../../src/errors.js';
import type { RateLimitEvent } from '../../src/limiter/rate-limiter.js';
import { createStoreCallGuard, isStoreOutage } from '../../src/limiter/store-call-guard.js';

function guardWith(timeouts = true) {
  const clock = createManualClock();
  const events: RateLimitEvent[] = [];
  const guard = createStoreCallGuard({ timeoutMs: 100, timeouts, clock, emit: (event) => events.push(event) });
  return { guard, clock, events };
}

const policies = [{ name: 'ip' }];
const never = () => new Promise<never>(() => undefined);

describe('createStoreCallGuard', () => {
  it('turns a driver error into STORE_UNAVAILABLE with the error as cause, and a coded non-outage error into itself', () => {
    const { guard } = guardWith();
    const driverError = new Error('ECONNRESET');
    const outage = guard.failed(guard.begin(), driverError, policies);
    expect(outage).toMatchObject({ code: 'STORE_UNAVAILABLE', message: 'The rate-limit store is unavailable', cause: driverError });
    expect(isStoreOutage(outage)).toBe(true);
    const refusal = new RateLimitError('VALIDATION_FAILED', 'bad');
    expect(guard.failed(guard.begin(), refusal, policies)).toBe(refusal);
    expect(isStoreOutage(refusal)).toBe(false);
    // A rejection with a non-Error still becomes a coded Error.
    expect(guard.failed(guard.begin(), 'string rejection', policies)).toBeInstanceOf(RateLimitError);
  });

  it('reports an outage once, and a recovery once, whatever the number of calls', () => {
    const { guard, events } = guardWith();
    const tickets = [guard.begin(), guard.begin(), guard.begin()];
    for (const ticket of tickets) guard.failed(ticket, new Error('down'), policies);
    guard.failed(guard.begin(), new Error('down'), policies);
    expect(events.map((event) => event.type)).toEqual(['store-failed']);
    expect(events[0]).toMatchObject({ policies: ['ip'] });
    expect(guard.storeDown).toBe(true);
    const during = [guard.begin(), guard.begin()];
    for (const ticket of during) guard.answered(ticket);
    expect(events.map((event) => event.type)).toEqual(['store-failed', 'store-recovered']);
    expect(guard.storeDown).toBe(false);
  });

  it('ignores answers and failures of calls started before the last change', () => {
    const { guard, events } = guardWith();
    const beforeOutage = guard.begin();
    guard.failed(guard.begin(), new Error('down'), policies);
    guard.answered(beforeOutage); // in flight when the outage began: not a recovery
    expect(guard.storeDown).toBe(true);
    const duringOutage = guard.begin();
    guard.answered(guard.begin());
    guard.failed(duringOutage, new Error('late failure'), policies); // from before the recovery: not a new outage
    expect(guard.storeDown).toBe(false);
    expect(events.map((event) => event.type)).toEqual(['store-failed', 'store-recovered']);
  });

  it('times a call out once the clock passes the timeout, and drops its late answer', async () => {
    const { guard, clock } = guardWith();
    let answer: (value: string) => void = () => undefined;
    const call = new Promise<string>((resolve) => (answer = resolve));
    const timed = Promise.resolve(guard.timed(call));
    clock.advance(99);
    await new Promise((resolve) => setTimeout(resolve, 30));
    clock.advance(1);
    await expect(timed).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', message: 'The rate-limit store did not answer within 100 ms' });
    answer('late');
    guard.close();
  });

  it('passes a fast answer through the timeout untouched', async () => {
    const { guard } = guardWith();
    await expect(guard.timed(Promise.resolve('fast'))).resolves.toBe('fast');
    await expect(guard.timed(Promise.reject(new Error('fast failure')))).rejects.toThrow('fast failure');
    guard.close();
  });

  it('hands the call back as it is when timeouts are off', () => {
    const { guard } = guardWith(false);
    const call = never();
    expect(guard.timed(call)).toBe(call);
  });

  it('rejects pending calls on close', async () => {
    const { guard } = guardWith();
    const timed = Promise.resolve(guard.timed(never()));
    guard.close();
    await expect(timed).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });
});
