import type { InvalidationChannel } from './invalidation-channel.js';

/**
 * An {@link InvalidationChannel} inside one process: `publish` calls every listener
 * subscribed to this channel object. Share one between several `createRbac` instances of a
 * process (or in tests); across processes use a Redis channel. A listener that throws does not
 * keep the others from hearing the message.
 *
 * @example
 * ```ts
 * const invalidation = createInProcessInvalidationChannel();
 * const rbacA = createRbac({ store, invalidation });
 * const rbacB = createRbac({ store, invalidation }); // hears rbacA's changes at once
 * ```
 */
export function createInProcessInvalidationChannel(): InvalidationChannel {
  const listeners = new Set<(tenantId: string | null) => void>();
  return {
    async publish(tenantId) {
      for (const listener of [...listeners]) {
        try {
          listener(tenantId);
        } catch {
          // A lossy channel is allowed; the policy version bounds what a failed listener misses.
        }
      }
    },
    async subscribe(listener) {
      // A fresh wrapper per call, so subscribing the same function twice yields two subscriptions.
      const wrapper = (tenantId: string | null) => listener(tenantId);
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
