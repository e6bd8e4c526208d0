import { type KeyObject, generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { createId } from '@tenantkit/core';
import { AuthError } from '../errors.js';
import { KID_PATTERN } from './import-signing-key.js';
import type { SigningAlgorithm, SigningKeyInput } from './signing-key-set.js';

/**
 * Options of {@link generateSigningKey}.
 *
 * @example
 * ```ts
 * const options: GenerateSigningKeyOptions = { kid: '2026-12', alg: 'ES256' };
 * ```
 */
export interface GenerateSigningKeyOptions {
  /** Default: a random id (`key_…`). 1-128 printable ASCII characters. */
  readonly kid?: string;
  /** Default `'EdDSA'` (Ed25519). */
  readonly alg?: SigningAlgorithm;
}

const generateKeyPairAsync = promisify(generateKeyPair);
const ALGORITHMS: readonly SigningAlgorithm[] = ['EdDSA', 'ES256', 'RS256', 'HS256'];

async function generatePrivateKey(alg: Exclude<SigningAlgorithm, 'HS256'>): Promise<KeyObject> {
  switch (alg) {
    case 'EdDSA':
      return (await generateKeyPairAsync('ed25519')).privateKey;
    case 'ES256':
      return (await generateKeyPairAsync('ec', { namedCurve: 'P-256' })).privateKey;
    case 'RS256':
      return (await generateKeyPairAsync('rsa', { modulusLength: 2048, publicExponent: 0x10001 })).privateKey;
  }
}

/**
 * Generates a new signing key for a {@link SigningKeySet}: an Ed25519 key for EdDSA (the
 * default), a P-256 key for ES256, a 2048-bit RSA key for RS256, or 32 random bytes for HS256.
 * The result has no `status`, so it is the active key wherever it is added (the first key of a
 * new set, or the `next` of `rotate`). Export `privateKey` (`.export({ format: 'pem', type:
 * 'pkcs8' })`) to keep it in your secret store.
 *
 * @throws AuthError `CONFIGURATION_INVALID` for an unknown algorithm or an invalid kid.
 * @example
 * ```ts
 * const keys = await createSigningKeySet({ keys: [await generateSigningKey({ kid: '2026-12' })] });
 * ```
 */
export async function generateSigningKey(options: GenerateSigningKeyOptions = {}): Promise<SigningKeyInput> {
  const alg = options.alg ?? 'EdDSA';
  if (!ALGORITHMS.includes(alg)) throw new AuthError('CONFIGURATION_INVALID', `generateSigningKey: alg must be one of ${ALGORITHMS.join(', ')}`);
  const kid = options.kid ?? createId('key');
  if (typeof kid !== 'string' || !KID_PATTERN.test(kid)) {
    throw new AuthError('CONFIGURATION_INVALID', 'generateSigningKey: kid must be 1-128 printable ASCII characters');
  }
  if (alg === 'HS256') return { kid, alg, secret: new Uint8Array(randomBytes(32)) };
  return { kid, alg, privateKey: await generatePrivateKey(alg) };
}
