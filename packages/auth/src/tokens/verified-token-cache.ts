import { type KeyObject, hash } from 'node:crypto';
import type { RevocationSubject } from '../revocation/revocation-service.js';
import type { AccessTokenClaims } from './access-token-service.js';

/**
 * What the cache keeps of a token whose signature and claims were verified: everything the hit
 * path compares, prepared once so that a hit allocates nothing. It is its own
 * {@link RevocationSubject}, so the revocation check needs no object of its own either.
 */
export interface VerifiedTokenEntry extends RevocationSubject {
  readonly claims: AccessTokenClaims;
  readonly kid: string;
  /** The verification key object the keyset returned; a hit re-checks it is still the kid's key. */
  readonly key: KeyObject | Uint8Array;
  /** `(exp + clock tolerance)` in epoch ms: at or after it the token is expired. */
  readonly expiresAtMs: number;
}

/**
 * The verified-token cache of the access-token service: a bounded LRU keyed by the SHA-256 of
 * the token (the token itself is never kept), entries dropped at their token's expiry and when
 * their signing key is retired.
 *
 * @example
 * ```ts
 * const cache = createVerifiedTokenCache(10_000);
 * const key = cache.keyOf(token);
 * cache.get(key, Date.now());
 * ```
 */
export interface VerifiedTokenCache {
  /** The cache key of a token (base64url SHA-256). */
  keyOf(token: string): string;
  /** The live entry for `key`, refreshed as most recently used; an expired entry is dropped. */
  get(key: string, nowMs: number): VerifiedTokenEntry | undefined;
  /** Stores a newly verified token, evicting the least recently used one when full. */
  set(key: string, entry: VerifiedTokenEntry): void;
  delete(key: string): void;
  /** Drops every entry verified with `kid`. */
  flushKid(kid: string): void;
  clear(): void;
  readonly size: number;
}

// The one-shot crypto.hash (Node >= 20.12) costs a good deal less than createHash per token.
const sha256 = (token: string): string => hash('sha256', token, 'base64url');

/**
 * Creates a {@link VerifiedTokenCache} holding at most `maxEntries` tokens.
 *
 * @example
 * ```ts
 * const cache = createVerifiedTokenCache(10_000);
 * ```
 */
export function createVerifiedTokenCache(maxEntries: number): VerifiedTokenCache {
  // Map iteration order is insertion order: re-inserting on a hit makes the first key the LRU one.
  const entries = new Map<string, VerifiedTokenEntry>();
  return {
    keyOf: sha256,

    get(key, nowMs) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (nowMs >= entry.expiresAtMs) {
        entries.delete(key);
        return undefined;
      }
      entries.delete(key);
      entries.set(key, entry);
      return entry;
    },

    set(key, entry) {
      // Called after a miss, so the key is almost always new: one insert, and at most one
      // eviction (the map never holds more than maxEntries). A key set twice (two verifies of
      // one token racing) keeps its first place in the LRU order, which is harmless.
      if (entries.size >= maxEntries && !entries.has(key)) {
        const oldest = entries.keys().next();
        if (oldest.done !== true) entries.delete(oldest.value);
      }
      entries.set(key, entry);
    },

    delete(key) {
      entries.delete(key);
    },

    flushKid(kid) {
      for (const [key, entry] of entries) if (entry.kid === kid) entries.delete(key);
    },

    clear() {
      entries.clear();
    },

    get size() {
      return entries.size;
    },
  };
}
