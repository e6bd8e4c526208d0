import type { AuthPrincipal } from '../principal.js';

/**
 * What a cached key remembers: enough to check the presented secret again (its stored HMAC,
 * never the secret) and the principal to hand out.
 *
 * @example
 * ```ts
 * const entry: VerifiedApiKey = { hashKeyId: 'v1', digest, tenantId: 'tnt_acme', createdBy: 'usr_1', principal, validUntil: now + 30_000 };
 * ```
 */
export interface VerifiedApiKey {
  readonly hashKeyId: string;
  /** The stored `secretHash`, decoded. */
  readonly digest: Buffer;
  readonly tenantId: string;
  /** The user whose grants the key acts with (`null`: a scopes-only key); their user epoch revokes it. */
  readonly createdBy: string | null;
  readonly principal: AuthPrincipal;
  /** Epoch ms: the cache TTL or the key's own expiry, whichever comes first. */
  readonly validUntil: number;
}

/**
 * A bounded, TTL-limited map of keys verified against the store, by key id.
 *
 * Revocation drops an entry at once ({@link VerifiedApiKeyCache.delete}). A verification that
 * read the store before a revocation arrived must not put the key back afterwards: `set` takes
 * the {@link VerifiedApiKeyCache.generation} read before the store call and refuses when any
 * entry was dropped since (revocations are rare, so a skipped fill costs nothing).
 *
 * @example
 * ```ts
 * const cache = verifiedApiKeyCache(10_000);
 * const generation = cache.generation;
 * const record = await store.findById(id);
 * cache.set(id, entry, generation);
 * ```
 */
export interface VerifiedApiKeyCache {
  readonly generation: number;
  /** The live entry, or `undefined` (missing or stale: a stale entry is removed). */
  get(id: string, now: number): VerifiedApiKey | undefined;
  set(id: string, entry: VerifiedApiKey, generation: number): void;
  delete(id: string): void;
  /** Drops every entry `matches` selects (a user's or a tenant's keys after an epoch raise). */
  deleteWhere(matches: (entry: VerifiedApiKey) => boolean): void;
  clear(): void;
}

/**
 * A {@link VerifiedApiKeyCache} holding at most `maxEntries` keys (the oldest insertion goes
 * first when it is full).
 *
 * @example
 * ```ts
 * const cache = verifiedApiKeyCache(10_000);
 * ```
 */
export function verifiedApiKeyCache(maxEntries: number): VerifiedApiKeyCache {
  const entries = new Map<string, VerifiedApiKey>();
  let generation = 0;
  return {
    get generation() {
      return generation;
    },
    get(id, now) {
      const entry = entries.get(id);
      if (entry === undefined) return undefined;
      if (now < entry.validUntil) return entry;
      entries.delete(id);
      return undefined;
    },
    set(id, entry, readAt) {
      if (readAt !== generation) return;
      entries.delete(id);
      if (entries.size >= maxEntries) {
        const oldest = entries.keys().next();
        if (oldest.done !== true) entries.delete(oldest.value);
      }
      entries.set(id, entry);
    },
    delete(id) {
      generation += 1;
      entries.delete(id);
    },
    deleteWhere(matches) {
      generation += 1;
      for (const [id, entry] of entries) if (matches(entry)) entries.delete(id);
    },
    clear() {
      generation += 1;
      entries.clear();
    },
  };
}
