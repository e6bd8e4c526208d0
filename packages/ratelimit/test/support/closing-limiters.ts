// Limiters a test file creates, closed after each test so no timer or store outlives it.
import { afterEach } from 'vitest';
import { createRateLimiter } from '../../src/limiter/create-rate-limiter.js';
import type { RateLimiter, RateLimiterOptions } from '../../src/limiter/rate-limiter.js';

/**
 * Registers an `afterEach` that closes every limiter created through the returned function, which
 * is `createRateLimiter`. Call it at the top of a test file. Hooks run in stack order (vitest's
 * default), so an `afterEach` registered after this call runs before the limiters close.
 *
 * @example
 * ```ts
 * const limiterWith = useClosingLimiters();
 * it('admits', async () => {
 *   const limiter = limiterWith({ policies: [{ name: 'ip', by: ['ip'], points: 2, duration: 60 }] });
 *   expect((await limiter.check({ ip: '203.0.113.7' })).allowed).toBe(true);
 * });
 * ```
 */
export function useClosingLimiters(): (options: RateLimiterOptions) => RateLimiter {
  const open: RateLimiter[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((limiter) => limiter.close()));
  });
  return (options) => {
    const limiter = createRateLimiter(options);
    open.push(limiter);
    return limiter;
  };
}
