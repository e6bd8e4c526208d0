import type { RevocationChannel, RevocationEvent } from '../store.js';

/**
 * A {@link RevocationChannel} inside one process: `publish` calls every listener subscribed to
 * this channel object, synchronously, before it resolves. It is the default of
 * `createRevocationService`; share one between several services of a process (or in tests),
 * and use `redisRevocationChannel` from `@tenantkit/auth/redis` across processes. A listener
 * that throws does not keep the others from hearing the event. It never loses a message, so it
 * never calls `onResync`.
 *
 * @example
 * ```ts
 * const channel = createInProcessRevocationChannel();
 * const a = createRevocationService({ store, channel });
 * const b = createRevocationService({ store, channel }); // hears a's revocations at once
 * ```
 */
export function createInProcessRevocationChannel(): RevocationChannel {
  const listeners = new Set<(event: RevocationEvent) => void>();
  return {
    async publish(event) {
      for (const listener of [...listeners]) {
        try {
          listener(event);
        } catch {
          // Delivery is allowed to be lossy; the store re-check bounds what a failed listener misses.
        }
      }
    },
    async subscribe(listener) {
      // A fresh wrapper per call, so subscribing one function twice yields two subscriptions.
      const wrapper = (event: RevocationEvent) => listener(event);
      listeners.add(wrapper);
      return async () => {
        listeners.delete(wrapper);
      };
    },
    async close() {
      listeners.clear();
    },
  };
}
