import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/**
 * A server-side secret (pepper) that API key secrets are hashed with, and the id stored next to
 * each hash so the pepper can rotate: the first of `hashKeys` hashes new keys, the others still
 * verify the keys they hashed.
 *
 * @example
 * ```ts
 * const hashKey: ApiKeyHashKey = { id: 'v2', secret: process.env.API_KEY_PEPPER! };
 * ```
 */
export interface ApiKeyHashKey {
  /** Stored as `hashKeyId` in each record; 1 to 64 characters of `[A-Za-z0-9._-]`. */
  readonly id: string;
  /** At least 32 bytes (a string counts its UTF-8 bytes). */
  readonly secret: string | Uint8Array;
}

/**
 * The smallest pepper accepted, in bytes: as long as the HMAC-SHA256 output.
 *
 * @example
 * ```ts
 * const pepper = randomBytes(MIN_HASH_KEY_BYTES);
 * ```
 */
export const MIN_HASH_KEY_BYTES = 32;

const DIGEST_BYTES = 32;

/**
 * The peppers of one service, imported once as `KeyObject`s.
 *
 * @example
 * ```ts
 * const hashing = apiKeyHashing([{ id: 'v1', secret: pepper }]);
 * const { hashKeyId, secretHash } = hashing.hash(secret);
 * hashing.verify(secret, { hashKeyId, secretHash }); // true
 * ```
 */
export interface ApiKeyHashing {
  /** HMAC-SHA256 of `secret` under the current pepper, base64url, and that pepper's id. */
  hash(secret: string): { readonly hashKeyId: string; readonly secretHash: string };
  /**
   * The HMAC of `secret` under the pepper `hashKeyId` names, or `undefined` when no configured
   * pepper has that id (a retired pepper: the key no longer verifies).
   */
  digest(secret: string, hashKeyId: string): Buffer | undefined;
  /** Constant-time comparison of `secret`'s HMAC with a stored hash. */
  verify(secret: string, stored: { readonly hashKeyId: string; readonly secretHash: string }): boolean;
}

/**
 * Compares two digests in constant time (for equal lengths; a length mismatch is a malformed
 * stored hash and answers `false` at once).
 *
 * @example
 * ```ts
 * digestsEqual(computed, Buffer.from(record.secretHash, 'base64url'));
 * ```
 */
export function digestsEqual(computed: Buffer, expected: Buffer): boolean {
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}

/**
 * Imports the configured peppers (already validated: at least one, unique ids, 32+ bytes).
 *
 * @example
 * ```ts
 * const hashing = apiKeyHashing(options.hashKeys);
 * ```
 */
export function apiKeyHashing(hashKeys: readonly ApiKeyHashKey[]): ApiKeyHashing {
  const keys = new Map<string, KeyObject>();
  for (const { id, secret } of hashKeys) {
    keys.set(id, createSecretKey(typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret)));
  }
  const current = hashKeys[0] as ApiKeyHashKey;
  const currentKey = keys.get(current.id) as KeyObject;

  const digest = (secret: string, hashKeyId: string): Buffer | undefined => {
    const key = keys.get(hashKeyId);
    return key === undefined ? undefined : createHmac('sha256', key).update(secret, 'utf8').digest();
  };

  return Object.freeze({
    hash(secret: string) {
      return { hashKeyId: current.id, secretHash: createHmac('sha256', currentKey).update(secret, 'utf8').digest('base64url') };
    },
    digest,
    verify(secret: string, stored: { readonly hashKeyId: string; readonly secretHash: string }) {
      const computed = digest(secret, stored.hashKeyId);
      if (computed === undefined) return false;
      const expected = Buffer.from(stored.secretHash, 'base64url');
      return expected.length === DIGEST_BYTES && digestsEqual(computed, expected);
    },
  });
}
