/**
 * Carries "the policy of this tenant changed" between processes, so every process drops its
 * cached matchers for the tenant at once instead of waiting out the staleness bound. Delivery
 * may be lossy (Redis pub/sub is): the per-tenant policy version in the store is the backstop.
 *
 * @example
 * ```ts
 * const channel: InvalidationChannel = redisInvalidationChannel({ publisher: redis, subscriber: redis.duplicate() });
 * const rbac = createRbac({ store, invalidation: channel });
 * ```
 */
export interface InvalidationChannel {
  /** Tells every subscribed process (this one included) that `tenantId`'s policy changed; `null`: global roles. */
  publish(tenantId: string | null): Promise<void>;
  /**
   * Registers a listener. `onResync`, when given, is called when the channel may have missed
   * messages (its subscriber connection dropped and came back): the caller should then treat
   * every tenant as changed. A channel that cannot lose messages (in-process) never calls it.
   * @returns a function that removes the listener.
   */
  subscribe(listener: (tenantId: string | null) => void, onResync?: () => void): Promise<() => Promise<void>>;
  /** Releases connections the channel opened itself. */
  close(): Promise<void>;
}
