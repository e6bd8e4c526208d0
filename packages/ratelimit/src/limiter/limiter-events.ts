import type { RateLimitEvent } from './rate-limiter.js';

/**
 * Delivers one event to the application's `onEvent`.
 *
 * @example
 * ```ts
 * const emit: EmitRateLimitEvent = eventEmitterFor(options.onEvent);
 * emit({ type: 'store-recovered' });
 * ```
 */
export type EmitRateLimitEvent = (event: RateLimitEvent) => void;

const ignoreEvent: EmitRateLimitEvent = () => undefined;

/**
 * Wraps `onEvent` so that an observer can never break the check it observes: a listener that
 * throws is ignored, and one that returns a rejected promise (an async listener) has the
 * rejection swallowed instead of left unhandled, which by Node's default would end the process.
 *
 * @example
 * ```ts
 * const emit = eventEmitterFor(() => { throw new Error('buggy metrics'); });
 * emit({ type: 'store-recovered' }); // returns normally
 * ```
 */
export function eventEmitterFor(onEvent: ((event: RateLimitEvent) => void) | undefined): EmitRateLimitEvent {
  if (onEvent === undefined) return ignoreEvent;
  return (event) => {
    try {
      const result: unknown = onEvent(event);
      if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
        Promise.resolve(result).catch(() => undefined);
      }
    } catch {
      // Deliberately ignored; see above.
    }
  };
}
