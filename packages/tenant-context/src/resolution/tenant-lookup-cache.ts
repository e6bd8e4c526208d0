import type { Clock } from '@tenantkit/core';
import type { Tenant } from '../tenant.js';
import type { TenantIdentifierKind } from './tenant-source.js';

/**
 * Settings of a {@link TenantLookupCache}; all required here, defaults live in the resolver.
 *
 * @example
 * ```ts
 * const settings: TenantLookupCacheSettings = { ttlMs: 30_000, negativeTtlMs: 5_000, maxEntries: 10_000, clock: systemClock };
 * ```
 */
export interface TenantLookupCacheSettings {
  /** How long an active tenant stays cached. */
  ttlMs: number;
  /** How long an unknown identifier or a tenant that is not active stays cached. */
  negativeTtlMs: number;
  /** Entries across all identifier kinds before the least recently used are evicted. */
  maxEntries: number;
  clock: Clock;
}

/**
 * The resolver's bounded, expiring memo of registry lookups, keyed by identifier kind and
 * value. A hit costs two Map reads and a clock read; it allocates nothing.
 *
 * @example
 * ```ts
 * const cache = createTenantLookupCache({ ttlMs: 30_000, negativeTtlMs: 5_000, maxEntries: 10_000, clock });
 * cache.set('slug', 'acme', tenant);
 * cache.get('slug', 'acme'); // tenant
 * ```
 */
export interface TenantLookupCache {
  /** The cached lookup result (`null`: known not to exist), or `undefined` on a miss. */
  get(by: TenantIdentifierKind, value: string): Tenant | null | undefined;
  set(by: TenantIdentifierKind, value: string, tenant: Tenant | null): void;
  delete(by: TenantIdentifierKind, value: string): void;
  /** Drops every entry that resolved to `tenantId`, and the id's own entry. */
  deleteTenant(tenantId: string): void;
  clear(): void;
  readonly size: number;
}

interface CacheEntry {
  readonly tenant: Tenant | null;
  readonly expiresAt: number;
  /** Insertion order across the three maps; a Map iterates in the order its keys were set. */
  sequence: number;
}

/**
 * Creates a {@link TenantLookupCache}.
 *
 * Recency is approximate, to keep hits free: an entry is moved to the young end only once it
 * has fallen a quarter of the capacity behind, so anything used within the last three quarters
 * of the capacity's worth of insertions survives eviction.
 *
 * @example
 * ```ts
 * const cache = createTenantLookupCache({ ttlMs: 30_000, negativeTtlMs: 5_000, maxEntries: 10_000, clock: systemClock });
 * ```
 */
export function createTenantLookupCache(settings: TenantLookupCacheSettings): TenantLookupCache {
  const { ttlMs, negativeTtlMs, maxEntries, clock } = settings;
  const promoteAfter = Math.max(1, Math.floor(maxEntries / 4));
  const byId = new Map<string, CacheEntry>();
  const bySlug = new Map<string, CacheEntry>();
  const byHostname = new Map<string, CacheEntry>();
  const maps = [byId, bySlug, byHostname] as const;
  let sequence = 0;
  let size = 0;

  const mapFor = (by: TenantIdentifierKind): Map<string, CacheEntry> =>
    by === 'id' ? byId : by === 'slug' ? bySlug : byHostname;

  function evictOldest(): void {
    let oldestMap: Map<string, CacheEntry> | undefined;
    let oldestKey: string | undefined;
    let oldestSequence = Number.POSITIVE_INFINITY;
    for (const map of maps) {
      const first = map.entries().next();
      if (first.done === true) continue;
      const [key, entry] = first.value;
      if (entry.sequence < oldestSequence) {
        oldestSequence = entry.sequence;
        oldestMap = map;
        oldestKey = key;
      }
    }
    if (oldestMap !== undefined && oldestKey !== undefined) {
      oldestMap.delete(oldestKey);
      size -= 1;
    }
  }

  return {
    get size() {
      return size;
    },
    get(by, value) {
      const map = mapFor(by);
      const entry = map.get(value);
      if (entry === undefined) return undefined;
      if (entry.expiresAt <= clock.now()) {
        map.delete(value);
        size -= 1;
        return undefined;
      }
      if (sequence - entry.sequence > promoteAfter) {
        map.delete(value);
        sequence += 1;
        entry.sequence = sequence;
        map.set(value, entry);
      }
      return entry.tenant;
    },
    set(by, value, tenant) {
      const map = mapFor(by);
      const ttl = tenant !== null && tenant.status === 'active' ? ttlMs : negativeTtlMs;
      if (ttl <= 0) return;
      if (map.delete(value)) size -= 1;
      sequence += 1;
      map.set(value, { tenant, expiresAt: clock.now() + ttl, sequence });
      size += 1;
      while (size > maxEntries) evictOldest();
    },
    delete(by, value) {
      if (mapFor(by).delete(value)) size -= 1;
    },
    deleteTenant(tenantId) {
      if (byId.delete(tenantId)) size -= 1;
      // Slug and domain entries are found by scanning: invalidations are rare, hits are not,
      // and a reverse index would cost every insertion.
      for (const map of maps) {
        for (const [key, entry] of map) {
          if (entry.tenant !== null && entry.tenant.id === tenantId) {
            map.delete(key);
            size -= 1;
          }
        }
      }
    },
    clear() {
      for (const map of maps) map.clear();
      size = 0;
    },
  };
}
