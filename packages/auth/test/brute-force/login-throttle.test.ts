import { createManualClock } from '@tenantkit/core';
import { memoryRateLimitStore, type RateLimitStore } from '@tenantkit/ratelimit';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLoginThrottle, type LoginAttempt, type LoginThrottleOptions } from '@tenantkit/auth';

// The memory rate-limit store times windows and blocks with Date.now() and setTimeout
// (rate-limiter-flexible), not with an injected clock: fake timers move both, deterministically.
beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2026, 0, 1), toFake: ['Date', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const victim = 'victim@example.com';
const ipOf = (index: number) => `198.51.${Math.floor(index / 250)}.${(index % 250) + 1}`;
const throttleWith = (options: LoginThrottleOptions = {}) => createLoginThrottle({ store: memoryRateLimitStore(), clock: createManualClock(), ...options });

async function refusal(promise: Promise<unknown>): Promise<{ code: string; status: number; retryAfterSeconds: number }> {
  const error = await promise.then(
    () => expect.unreachable('the attempt was allowed'),
    (rejection: { code: string; status: number; details: { retryAfterSeconds: number } }) => rejection,
  );
  return { code: error.code, status: error.status, retryAfterSeconds: error.details.retryAfterSeconds };
}

type Throttle = ReturnType<typeof createLoginThrottle>;

/** `times` attempts with a wrong password, one after another. */
async function fail(throttle: Throttle, attempt: LoginAttempt, times = 1): Promise<void> {
  for (let count = 0; count < times; count += 1) await (await throttle.beginAttempt(attempt)).failed();
}

/** One attempt with the right password: admitted, then settled as a success. Returns its delay. */
async function succeed(throttle: Throttle, attempt: LoginAttempt): Promise<number> {
  const charge = await throttle.beginAttempt(attempt);
  await charge.succeeded();
  return charge.delayMs;
}

describe('checklist: throttling per account and per IP with 429 + Retry-After', () => {
  it('per (account, IP): 5 failures are admitted, then RATE_LIMITED with 429 and retryAfterSeconds for 900 s', async () => {
    const throttle = throttleWith();
    const attempt = { email: victim, ip: '203.0.113.7' };
    await fail(throttle, attempt, 5);
    expect(await refusal(throttle.beginAttempt(attempt))).toEqual({ code: 'RATE_LIMITED', status: 429, retryAfterSeconds: 900 });
    // Only that pair: the account from another IP, and that IP for another account, go on.
    expect(await succeed(throttle, { email: victim, ip: '203.0.113.8' })).toBe(0);
    expect(await succeed(throttle, { email: 'other@example.com', ip: '203.0.113.7' })).toBe(0);

    vi.advanceTimersByTime(600_000);
    expect((await refusal(throttle.beginAttempt(attempt))).retryAfterSeconds).toBe(300);
    vi.advanceTimersByTime(300_000);
    expect(await succeed(throttle, attempt)).toBe(0);
  });

  it('brute force: 40 concurrent attempts of one account from one IP get exactly 5 admissions, the other 35 are RATE_LIMITED', async () => {
    const throttle = throttleWith();
    const attempt = { email: victim, ip: '203.0.113.7' };
    const results = await Promise.allSettled(Array.from({ length: 40 }, () => throttle.beginAttempt(attempt)));
    const admitted = results.filter((result) => result.status === 'fulfilled');
    const refused = results.filter((result) => result.status === 'rejected' && (result.reason as { code?: string }).code === 'RATE_LIMITED');
    expect(admitted).toHaveLength(5);
    expect(refused).toHaveLength(35);
    // Running attempts count: the delays are those of 0..4 earlier attempts.
    expect(admitted.map((result) => (result as PromiseFulfilledResult<{ delayMs: number }>).value.delayMs)).toEqual([0, 0, 250, 500, 1000]);
  });

  it('per IP: an address failing against 100 accounts is refused for every account for 3600 s', async () => {
    const throttle = throttleWith();
    const ip = '203.0.113.50';
    for (let index = 0; index < 99; index += 1) await fail(throttle, { email: `user${index}@example.com`, ip });
    expect(await succeed(throttle, { email: 'fresh@example.com', ip })).toBe(0);
    await fail(throttle, { email: 'user99@example.com', ip });
    expect(await refusal(throttle.beginAttempt({ email: 'fresh@example.com', ip }))).toEqual({ code: 'RATE_LIMITED', status: 429, retryAfterSeconds: 3600 });
    // It holds for trusted devices too: only the account-wide block is skipped for them.
    expect((await refusal(throttle.beginAttempt({ email: 'fresh@example.com', ip, trustedDevice: true }))).code).toBe('RATE_LIMITED');
    expect(await succeed(throttle, { email: 'fresh@example.com', ip: '203.0.113.51' })).toBe(0);
  });

  it('successful sign-ins give their point back: 300 successes from one IP never fill its counter of 100', async () => {
    const throttle = throttleWith({ perAccount: { failures: 2 } });
    const ip = '203.0.113.60';
    for (let index = 0; index < 300; index += 1) await succeed(throttle, { email: `user${index % 3}@example.com`, ip });
    // Nor the per-account counters (2): each account succeeded 100 times.
    await fail(throttle, { email: 'user0@example.com', ip: '198.51.100.1' });
    expect(await succeed(throttle, { email: 'user0@example.com', ip })).toBe(0);
  });

  it('per account: 50 failures from 50 IPs refuse the account from any new IP', async () => {
    const throttle = throttleWith();
    for (let index = 0; index < 50; index += 1) await fail(throttle, { email: victim, ip: ipOf(index) });
    expect(await refusal(throttle.beginAttempt({ email: victim, ip: '192.0.2.200' }))).toEqual({ code: 'RATE_LIMITED', status: 429, retryAfterSeconds: 900 });
  });

  it('keys accounts by the normalized email, so unknown accounts are throttled exactly like known ones', async () => {
    const throttle = throttleWith();
    // The throttle never looks the account up: no store holds 'nobody@example.com'.
    await fail(throttle, { email: ' Nobody@Example.COM ', ip: '203.0.113.7' }, 3);
    await fail(throttle, { email: 'nobody@example.com', ip: '203.0.113.7' }, 2);
    expect((await refusal(throttle.beginAttempt({ email: 'NOBODY@example.com', ip: '203.0.113.7' }))).code).toBe('RATE_LIMITED');
  });

  it('counts IPv6 clients by their /64', async () => {
    const throttle = throttleWith();
    for (let index = 1; index <= 5; index += 1) await fail(throttle, { email: victim, ip: `2001:db8:1:2::${index}` });
    expect((await refusal(throttle.beginAttempt({ email: victim, ip: '2001:db8:1:2:ffff::9' }))).code).toBe('RATE_LIMITED');
    expect(await succeed(throttle, { email: victim, ip: '2001:db8:1:3::1' })).toBe(0);
  });

  it('a refused attempt charges nothing, on any counter: a thousand refusals neither extend a block nor fill the other counters', async () => {
    const throttle = throttleWith({ perAccount: { failures: 3 } });
    for (let index = 0; index < 3; index += 1) await fail(throttle, { email: victim, ip: ipOf(index) });
    const blockedByAccount = { email: victim, ip: '192.0.2.10' };
    for (let count = 0; count < 1000; count += 1) await refusal(throttle.beginAttempt(blockedByAccount));
    // The (account, IP) and IP counters of that address were not charged: a trusted device
    // there still has its 5 attempts, the first without delay.
    const trusted = { ...blockedByAccount, trustedDevice: true };
    const delays: number[] = [];
    for (let count = 0; count < 5; count += 1) {
      const charge = await throttle.beginAttempt(trusted);
      delays.push(charge.delayMs);
      await charge.failed();
    }
    expect(delays).toEqual([0, 0, 250, 500, 1000]);
    expect((await refusal(throttle.beginAttempt(trusted))).code).toBe('RATE_LIMITED');
    // And the account-wide block ends on time.
    vi.advanceTimersByTime(900_000);
    expect(await succeed(throttle, { email: victim, ip: '192.0.2.11' })).toBe(0);
  });

  it('an attempt is settled once: a second failed() or a succeeded() after it changes nothing', async () => {
    const throttle = throttleWith({ perAccountAndIp: { failures: 2 } });
    const attempt = { email: victim, ip: '203.0.113.7' };
    const first = await throttle.beginAttempt(attempt);
    await first.failed();
    await first.failed();
    await first.succeeded();
    const second = await throttle.beginAttempt(attempt);
    expect(second.delayMs).toBe(0);
    await second.failed();
    expect((await refusal(throttle.beginAttempt(attempt))).code).toBe('RATE_LIMITED');
  });
});

describe('checklist: lockout capped so attackers cannot lock victims out', () => {
  it('an attacker spraying from many IPs cannot lock out a trusted device', async () => {
    const throttle = throttleWith();
    // Past the 50th failure the attacker's attempts are refused (and charge nothing).
    for (let index = 0; index < 200; index += 1) await fail(throttle, { email: victim, ip: ipOf(index) }).catch(() => undefined);
    const untrusted = { email: victim, ip: '192.0.2.10' };
    expect((await refusal(throttle.beginAttempt(untrusted))).code).toBe('RATE_LIMITED');
    expect(await succeed(throttle, { ...untrusted, trustedDevice: true })).toBe(0);
    // The trusted device keeps its own (account, IP) limit: its own mistakes still count.
    await fail(throttle, { ...untrusted, trustedDevice: true }, 5);
    expect((await refusal(throttle.beginAttempt({ ...untrusted, trustedDevice: true }))).retryAfterSeconds).toBe(900);
  });

  it('the account-wide block lasts exactly maxBlockSeconds, is not extended by failures during it, and then the account can sign in even while the attack goes on', async () => {
    const throttle = throttleWith({ perAccount: { failures: 50, windowSeconds: 3600, maxBlockSeconds: 900 } });
    let next = 0;
    // Every attacker failure comes from an IP not seen before.
    const attackerFails = async (times: number) => {
      for (let count = 0; count < times; count += 1) {
        await throttle.beginAttempt({ email: victim, ip: ipOf(next++) }).then((charge) => charge.failed(), () => undefined);
      }
    };
    const victimOnNewDevice = { email: victim, ip: '192.0.2.77' };

    await attackerFails(50);
    expect((await refusal(throttle.beginAttempt(victimOnNewDevice))).retryAfterSeconds).toBe(900);
    // Attempts keep arriving during the block (from IPs the throttle has not seen yet)…
    vi.advanceTimersByTime(600_000);
    await attackerFails(100);
    // …and the block still ends 900 s after it began.
    expect((await refusal(throttle.beginAttempt(victimOnNewDevice))).retryAfterSeconds).toBe(300);
    vi.advanceTimersByTime(300_000);
    expect(await succeed(throttle, victimOnNewDevice)).toBe(0);

    // The counter starts again from zero: 49 more attacker failures leave the victim's attempt allowed…
    await attackerFails(49);
    expect(await succeed(throttle, victimOnNewDevice)).toBe(0);
    // …the 50th blocks again, once more for at most maxBlockSeconds, although the window is 3600 s.
    await attackerFails(1);
    expect((await refusal(throttle.beginAttempt(victimOnNewDevice))).retryAfterSeconds).toBe(900);
    vi.advanceTimersByTime(900_000);
    expect(await succeed(throttle, victimOnNewDevice)).toBe(0);
  });

  it('the cap holds when the block write failed: the next attempt blocks for maxBlockSeconds, not the 3600 s window', async () => {
    const memory = memoryRateLimitStore();
    let failingBlocks = 0;
    // A store whose block() fails while failingBlocks > 0 (the limiter then blocks in its
    // in-process insurance store only, and the shared counter keeps its window).
    const store: RateLimitStore = {
      kind: 'flaky-memory',
      shared: memory.shared,
      consumeAll: (entries) => memory.consumeAll(entries),
      close: () => memory.close(),
      limiter: (spec) => {
        const limiter = memory.limiter(spec);
        return new Proxy(limiter, {
          get(target, property, receiver) {
            if (property === 'block' && failingBlocks > 0) {
              failingBlocks -= 1;
              return () => Promise.reject(new Error('connection reset'));
            }
            const value = Reflect.get(target, property, receiver);
            return typeof value === 'function' ? value.bind(target) : value;
          },
        });
      },
    };
    const throttle = throttleWith({ store, perAccount: { failures: 3, windowSeconds: 3600, maxBlockSeconds: 900 } });
    await fail(throttle, { email: victim, ip: ipOf(1) });
    await fail(throttle, { email: victim, ip: ipOf(2) });
    failingBlocks = 1;
    await fail(throttle, { email: victim, ip: ipOf(3) });
    expect(failingBlocks).toBe(0);
    const victimOnNewDevice = { email: victim, ip: '192.0.2.77' };
    expect((await refusal(throttle.beginAttempt(victimOnNewDevice))).retryAfterSeconds).toBe(900);
    vi.advanceTimersByTime(900_000);
    expect(await succeed(throttle, victimOnNewDevice)).toBe(0);
  });

  it('a success clears the (account, IP) counter, not the account-wide one', async () => {
    const throttle = throttleWith({ perAccount: { failures: 6 } });
    const attempt = { email: victim, ip: '203.0.113.7' };
    await fail(throttle, attempt, 4);
    expect(await succeed(throttle, attempt)).toBe(1000);
    expect(await succeed(throttle, attempt)).toBe(0);
    await fail(throttle, { email: victim, ip: '203.0.113.99' }, 2);
    expect((await refusal(throttle.beginAttempt(attempt))).code).toBe('RATE_LIMITED');
  });
});

describe('progressive delay', () => {
  async function delaysOf(throttle: Throttle, attempts: number): Promise<number[]> {
    const attempt = { email: victim, ip: '203.0.113.7' };
    const delays: number[] = [];
    for (let count = 0; count < attempts; count += 1) {
      const charge = await throttle.beginAttempt(attempt);
      delays.push(charge.delayMs);
      await charge.failed();
    }
    return delays;
  }

  it('grows after afterFailures failures, doubling from baseMs, and is capped at maxMs', async () => {
    expect(await delaysOf(throttleWith({ perAccountAndIp: { failures: 20 } }), 10)).toEqual([0, 0, 250, 500, 1000, 2000, 4000, 4000, 4000, 4000]);
  });

  it('follows the configured settings, and progressiveDelay: false turns it off', async () => {
    const custom = throttleWith({ perAccountAndIp: { failures: 20 }, progressiveDelay: { afterFailures: 0, baseMs: 100, maxMs: 300 } });
    const off = throttleWith({ perAccountAndIp: { failures: 20 }, progressiveDelay: false });
    expect([await delaysOf(custom, 4), await delaysOf(off, 4)]).toEqual([[100, 200, 300, 300], [0, 0, 0, 0]]);
  });
});

describe('createLoginThrottle: validation', () => {
  it('refuses attempts without a usable email or IP with VALIDATION_FAILED', async () => {
    const throttle = throttleWith();
    await expect(throttle.beginAttempt({ email: '', ip: '203.0.113.7' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(throttle.beginAttempt({ email: victim, ip: 'not an ip' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(throttle.beginAttempt({ email: victim } as LoginAttempt)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(throttle.beginAttempt({ email: victim, ip: '203.0.113.7', trustedDevice: 'yes' as unknown as boolean })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    // The shared key of requests without a known client IP is accepted.
    await expect(throttle.beginAttempt({ email: victim, ip: 'unknown' })).resolves.toMatchObject({ delayMs: 0 });
  });

  it.each([
    ['failures 0', { perAccountAndIp: { failures: 0 } }],
    ['a window of 0 s', { perIp: { windowSeconds: 0 } }],
    ['maxBlockSeconds above a day', { perAccount: { maxBlockSeconds: 86_401 } }],
    ['blockSeconds on perAccount (it is maxBlockSeconds)', { perAccount: { blockSeconds: 60 } }],
    ['baseMs above maxMs', { progressiveDelay: { baseMs: 5000, maxMs: 1000 } }],
    ['progressiveDelay: true', { progressiveDelay: true }],
    ['a key prefix with a hash tag', { keyPrefix: 'tk:{auth}' }],
    ['a store that is not a RateLimitStore', { store: {} }],
    ['an unknown option', { perUser: { failures: 3 } }],
  ])('refuses %s with CONFIGURATION_INVALID', (_case, options) => {
    expect(() => createLoginThrottle(options as never)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
  });
});
