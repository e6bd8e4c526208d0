import type { ApiKeyStore } from '../store.js';

/**
 * Last-used times kept in memory and written to the store in batches, so authenticating a key
 * costs no write. A failed flush keeps its batch for the next one (merged: times only move
 * forward), so nothing is lost to a brief store outage; at most one flush runs at a time.
 *
 * @example
 * ```ts
 * const usage = apiKeyUsageTracker(store);
 * usage.record('k4x...', Date.now());
 * await usage.flush(); // one store.recordUsage([...]) call
 * ```
 */
export interface ApiKeyUsageTracker {
  record(id: string, at: number): void;
  /** How many keys wait to be written. */
  readonly pending: number;
  flush(): Promise<void>;
}

/**
 * An {@link ApiKeyUsageTracker} over `store`.
 *
 * @example
 * ```ts
 * const usage = apiKeyUsageTracker(stores.apiKeys);
 * ```
 */
export function apiKeyUsageTracker(store: Pick<ApiKeyStore, 'recordUsage'>): ApiKeyUsageTracker {
  let pending = new Map<string, number>();
  let running: Promise<void> | undefined;

  const record = (id: string, at: number): void => {
    const previous = pending.get(id);
    if (previous === undefined || previous < at) pending.set(id, at);
  };

  async function write(): Promise<void> {
    if (pending.size === 0) return;
    const batch = pending;
    pending = new Map();
    try {
      await store.recordUsage(Array.from(batch, ([id, lastUsedAt]) => ({ id, lastUsedAt })));
    } catch (error) {
      for (const [id, at] of batch) record(id, at);
      throw error;
    }
  }

  return {
    record,
    get pending() {
      return pending.size;
    },
    async flush() {
      // A flush asked for while one runs waits for it, then writes what came in meanwhile.
      while (running !== undefined) await running.catch(() => undefined);
      running = write();
      try {
        await running;
      } finally {
        running = undefined;
      }
    },
  };
}
