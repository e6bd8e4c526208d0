import { type KeyObject, webcrypto } from 'node:crypto';
import type { CryptoKey } from 'jose';
import type { SigningAlgorithm } from '../keys/signing-key-set.js';

const IMPORT_PARAMS: Readonly<Record<SigningAlgorithm, webcrypto.RsaHashedImportParams | webcrypto.EcKeyImportParams | webcrypto.HmacImportParams | webcrypto.Algorithm>> = {
  EdDSA: { name: 'Ed25519' },
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  HS256: { name: 'HMAC', hash: 'SHA-256' },
};

/**
 * The Web Crypto keys jose signs and verifies with, imported once per keyset key. jose 6 runs on
 * Web Crypto: handed a KeyObject or secret bytes it converts them itself, and secret bytes on
 * every call; handed the CryptoKey it uses it as it is. Keys are held weakly, so a retired key's
 * CryptoKey goes when the keyset lets go of it.
 *
 * @example
 * ```ts
 * const cryptoKeys = createWebCryptoKeyCache();
 * const key = await cryptoKeys.get('EdDSA', keys.verificationKey('k1')!.key, 'verify');
 * ```
 */
export interface WebCryptoKeyCache {
  /** The CryptoKey, synchronously once imported (the hot path), else the import in flight. */
  get(alg: SigningAlgorithm, key: KeyObject | Uint8Array, usage: 'sign' | 'verify'): CryptoKey | Promise<CryptoKey>;
}

function importCryptoKey(alg: SigningAlgorithm, key: KeyObject | Uint8Array, usage: 'sign' | 'verify'): Promise<CryptoKey> {
  const params = IMPORT_PARAMS[alg];
  if (key instanceof Uint8Array) return webcrypto.subtle.importKey('raw', key, params, false, [usage]) as Promise<CryptoKey>;
  const der = key.type === 'private' ? key.export({ format: 'der', type: 'pkcs8' }) : key.export({ format: 'der', type: 'spki' });
  return webcrypto.subtle.importKey(key.type === 'private' ? 'pkcs8' : 'spki', der, params, false, [usage]) as Promise<CryptoKey>;
}

/**
 * Creates a {@link WebCryptoKeyCache}.
 *
 * @example
 * ```ts
 * const cryptoKeys = createWebCryptoKeyCache();
 * ```
 */
export function createWebCryptoKeyCache(): WebCryptoKeyCache {
  const verifying = new WeakMap<object, CryptoKey | Promise<CryptoKey>>();
  const signing = new WeakMap<object, CryptoKey | Promise<CryptoKey>>();
  return {
    get(alg, key, usage) {
      const cache = usage === 'sign' ? signing : verifying;
      const cached = cache.get(key);
      if (cached !== undefined) return cached;
      const pending = importCryptoKey(alg, key, usage).then(
        (cryptoKey) => {
          cache.set(key, cryptoKey);
          return cryptoKey;
        },
        (error: unknown) => {
          cache.delete(key);
          throw error;
        },
      );
      cache.set(key, pending);
      return pending;
    },
  };
}
