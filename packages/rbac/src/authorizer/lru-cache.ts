/**
 * A bounded least-recently-used map. `get` refreshes an entry's recency; `set` past
 * `maxEntries` evicts the least recently used one, so memory stays bounded however many
 * principals and tenants pass through.
 *
 * @example
 * ```ts
 * const cache = createLruCache<string, number>(2);
 * cache.set('a', 1); cache.set('b', 2); cache.get('a'); cache.set('c', 3);
 * cache.get('b'); // undefined (evicted)
 * ```
 */
export interface LruCache<Key, Value> {
  get(key: Key): Value | undefined;
  set(key: Key, value: Value): void;
  delete(key: Key): void;
  clear(): void;
  readonly size: number;
}

/**
 * Creates an {@link LruCache} holding at most `maxEntries` entries. A `Map` keeps insertion
 * order, so re-inserting on read makes its first key the least recently used.
 *
 * @example
 * ```ts
 * const matchers = createLruCache<string, CompiledPermissions>(10_000);
 * ```
 */
export function createLruCache<Key, Value>(maxEntries: number): LruCache<Key, Value> {
  if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
  const entries = new Map<Key, Value>();
  return {
    get(key) {
      const value = entries.get(key);
      if (value === undefined) return undefined;
      entries.delete(key);
      entries.set(key, value);
      return value;
    },
    set(key, value) {
      entries.delete(key);
      entries.set(key, value);
      if (entries.size > maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done !== true) entries.delete(oldest.value);
      }
    },
    delete(key) {
      entries.delete(key);
    },
    clear() {
      entries.clear();
    },
    get size() {
      return entries.size;
    },
  };
}
