import type * as crypto from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';

// Counts the scrypt computations node:crypto runs at once (a real scrypt underneath).
const inFlight = vi.hoisted(() => ({ now: 0, max: 0, failNext: false }));
vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof crypto>();
  const scrypt = (...args: unknown[]) => {
    const callback = args.pop() as (error: Error | null, key: Buffer) => void;
    if (inFlight.failNext) {
      inFlight.failNext = false;
      setImmediate(() => callback(new Error('scrypt failed'), Buffer.alloc(0)));
      return;
    }
    inFlight.now += 1;
    inFlight.max = Math.max(inFlight.max, inFlight.now);
    (actual.scrypt as (...rest: unknown[]) => void)(...args, (error: Error | null, key: Buffer) => {
      inFlight.now -= 1;
      callback(error, key);
    });
  };
  return { ...actual, scrypt, default: { ...actual, scrypt } };
});

const { createScryptHasher } = await import('../../src/passwords/scrypt-hasher.js');

afterEach(() => {
  inFlight.max = 0;
});

describe('createScryptHasher: maxConcurrent', () => {
  it('passwords: sign-up DoS bounded — 12 concurrent hashes and verifies run at most maxConcurrent scrypts at once, and all complete', async () => {
    const hasher = createScryptHasher({ cost: 2 ** 4, blockSize: 1, maxConcurrent: 2 });
    const phc = await hasher.hash('correct horse battery staple');
    inFlight.max = 0;
    const results = await Promise.all([
      ...Array.from({ length: 6 }, (_, index) => hasher.hash(`password number ${index}`)),
      ...Array.from({ length: 4 }, () => hasher.verify('correct horse battery staple', phc)),
      hasher.verifyDummy('x'),
      hasher.verifyDummy('y'),
    ]);
    expect(inFlight.max).toBe(2);
    expect(results.slice(6, 10)).toEqual([true, true, true, true]);
    expect(inFlight.now).toBe(0);
  });

  it('defaults to 4 at once', async () => {
    const hasher = createScryptHasher({ cost: 2 ** 4, blockSize: 1 });
    await Promise.all(Array.from({ length: 10 }, (_, index) => hasher.hash(`password number ${index}`)));
    expect(inFlight.max).toBe(4);
  });

  it('a failing scrypt frees its slot (the queue never stalls)', async () => {
    const hasher = createScryptHasher({ cost: 2 ** 4, blockSize: 1, maxConcurrent: 1 });
    inFlight.failNext = true;
    const [failed, next] = await Promise.allSettled([hasher.hash('the first one fails'), hasher.hash('the next one runs')]);
    expect(failed).toMatchObject({ status: 'rejected', reason: { message: 'scrypt failed' } });
    expect(next).toMatchObject({ status: 'fulfilled', value: expect.stringMatching(/^\$scrypt\$/) });
  });

  it.each([0, 1025, 1.5])('refuses maxConcurrent %s (CONFIGURATION_INVALID)', (maxConcurrent) => {
    expect(() => createScryptHasher({ maxConcurrent })).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
  });
});
