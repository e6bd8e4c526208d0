import { type JsonWebKey, type KeyObject, createPrivateKey, createPublicKey } from 'node:crypto';
import type { JWK } from 'jose';
import { z } from 'zod';
import { AuthError } from '../errors.js';
import type { SigningAlgorithm, SigningKeyInput } from './signing-key-set.js';

/** Opaque key ids: 1-128 printable ASCII characters (space included), compared as map keys only. */
export const KID_PATTERN = /^[\x20-\x7e]{1,128}$/;

/** The smallest HS256 secret accepted: the hash size of SHA-256 (RFC 7518 section 3.2). */
const MIN_HMAC_SECRET_BYTES = 32;
const MIN_RSA_MODULUS_BITS = 2048;

/**
 * A key of the keyset after import: KeyObjects (or secret bytes) made once, the public JWK
 * computed once, nothing re-imported per token.
 *
 * @example
 * ```ts
 * const imported = importSigningKey(await generateSigningKey({ kid: 'k1' }));
 * imported.verificationKey.type; // 'public'
 * ```
 */
export interface ImportedSigningKey {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  /** The private key or secret; `undefined` for a verify-only key given only its public key. */
  readonly signingKey: KeyObject | Uint8Array | undefined;
  /** The public key, or the secret for HS256. */
  readonly verificationKey: KeyObject | Uint8Array;
  /** The public JWK with kid, alg and `use: 'sig'`; `undefined` for HS256 (never published). */
  readonly publicJwk: Readonly<JWK> | undefined;
  readonly status: 'active' | 'verify-only';
  readonly verifyUntil: number | null;
}

const keyMaterialSchema = z.union([z.string(), z.looseObject({})]);

const signingKeyInputSchema = z.strictObject({
  kid: z.string().regex(KID_PATTERN, 'must be 1-128 printable ASCII characters'),
  alg: z.enum(['EdDSA', 'ES256', 'RS256', 'HS256']),
  privateKey: keyMaterialSchema.optional(),
  publicKey: keyMaterialSchema.optional(),
  secret: z.union([z.string(), z.instanceof(Uint8Array)]).optional(),
  status: z.enum(['active', 'verify-only']).optional(),
  verifyUntil: z.int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
});

function invalid(kid: string | undefined, message: string, cause?: unknown): AuthError {
  const which = kid === undefined ? 'signing key' : `signing key "${kid}"`;
  return new AuthError('CONFIGURATION_INVALID', `Invalid ${which}: ${message}`, cause === undefined ? undefined : { cause });
}

function isKeyObject(value: unknown): value is KeyObject {
  return typeof value === 'object' && value !== null && (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'KeyObject';
}

/** Keys of a JWK that must agree with the configured algorithm when present. */
function checkJwkMembers(kid: string, alg: SigningAlgorithm, jwk: Record<string, unknown>): void {
  if (jwk.alg !== undefined && jwk.alg !== alg) throw invalid(kid, `its JWK says alg "${String(jwk.alg)}", the key is configured for ${alg}`);
  if (jwk.use !== undefined && jwk.use !== 'sig') throw invalid(kid, 'its JWK "use" must be "sig"');
}

function toPrivateKey(kid: string, alg: SigningAlgorithm, material: unknown): KeyObject {
  if (isKeyObject(material)) {
    if (material.type !== 'private') throw invalid(kid, 'privateKey must be a private KeyObject');
    return material;
  }
  try {
    if (typeof material === 'string') {
      if (!material.includes('-----BEGIN')) throw new TypeError('a private key string must be PEM');
      return createPrivateKey({ key: material, format: 'pem' });
    }
    const jwk = material as Record<string, unknown>;
    checkJwkMembers(kid, alg, jwk);
    if (typeof jwk.d !== 'string') throw new TypeError('a private JWK needs "d"');
    return createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch (error) {
    if (error instanceof AuthError) throw error;
    throw invalid(kid, 'privateKey cannot be read as a private key (PEM, JWK or KeyObject)', error);
  }
}

function toPublicKey(kid: string, alg: SigningAlgorithm, material: unknown): KeyObject {
  if (isKeyObject(material)) {
    if (material.type !== 'public') throw invalid(kid, 'publicKey must be a public KeyObject');
    return material;
  }
  try {
    if (typeof material === 'string') {
      if (!material.includes('-----BEGIN')) throw new TypeError('a public key string must be PEM');
      const key = createPublicKey({ key: material, format: 'pem' });
      return key;
    }
    const jwk = material as Record<string, unknown>;
    checkJwkMembers(kid, alg, jwk);
    if (jwk.d !== undefined) throw new TypeError('a public JWK must not carry "d"');
    return createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch (error) {
    if (error instanceof AuthError) throw error;
    throw invalid(kid, 'publicKey cannot be read as a public key (PEM, JWK or KeyObject)', error);
  }
}

/** The key type each algorithm is pinned to; anything else is refused at configuration time. */
function assertKeyFitsAlgorithm(kid: string, alg: SigningAlgorithm, key: KeyObject): void {
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails;
  switch (alg) {
    case 'EdDSA':
      if (type !== 'ed25519') throw invalid(kid, `EdDSA takes an Ed25519 key, not ${type ?? 'a secret'}`);
      return;
    case 'ES256':
      if (type !== 'ec' || details?.namedCurve !== 'prime256v1') throw invalid(kid, 'ES256 takes an EC P-256 key');
      return;
    case 'RS256':
      if (type !== 'rsa') throw invalid(kid, `RS256 takes an RSA key, not ${type ?? 'a secret'}`);
      if ((details?.modulusLength ?? 0) < MIN_RSA_MODULUS_BITS) throw invalid(kid, `RS256 takes an RSA key of at least ${MIN_RSA_MODULUS_BITS} bits`);
      return;
    default:
      throw invalid(kid, `${alg} does not take an asymmetric key`);
  }
}

function publicJwkOf(kid: string, alg: SigningAlgorithm, publicKey: KeyObject): Readonly<JWK> {
  // A public KeyObject exports only public members (kty, crv, x, y / n, e).
  const exported = publicKey.export({ format: 'jwk' }) as JWK;
  return Object.freeze({ ...exported, kid, alg, use: 'sig' });
}

/**
 * Validates one {@link SigningKeyInput} and imports its key material once: the key type must
 * fit the algorithm (Ed25519 for EdDSA, P-256 for ES256, RSA of 2048 bits or more for RS256, a
 * secret of 32 bytes or more for HS256), a private and a public key given together must be one
 * pair, an active key must be able to sign.
 *
 * @throws AuthError `CONFIGURATION_INVALID`, whose message never contains key material.
 * @example
 * ```ts
 * const imported = importSigningKey({ kid: 'k1', alg: 'HS256', secret: process.env.JWT_SECRET! });
 * ```
 */
export function importSigningKey(input: SigningKeyInput): ImportedSigningKey {
  const parsed = signingKeyInputSchema.safeParse(input);
  if (!parsed.success) {
    const kid = typeof (input as { kid?: unknown } | null)?.kid === 'string' && KID_PATTERN.test((input as { kid: string }).kid) ? input.kid : undefined;
    const summary = parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(key)'}: ${issue.message}`).join('; ');
    throw new AuthError('CONFIGURATION_INVALID', `Invalid ${kid === undefined ? 'signing key' : `signing key "${kid}"`}: ${summary}`, {
      details: { issues: parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })) },
    });
  }
  const { kid, alg } = parsed.data;
  const status = parsed.data.status ?? 'active';
  if (status === 'active' && parsed.data.verifyUntil !== undefined) throw invalid(kid, 'an active key has no verifyUntil');
  const verifyUntil = parsed.data.verifyUntil ?? null;
  // The parsed copy of a loose JWK is a new object; the key material itself is read from the input.
  const { privateKey: privateMaterial, publicKey: publicMaterial, secret } = input;

  if (alg === 'HS256') {
    if (privateMaterial !== undefined || publicMaterial !== undefined) throw invalid(kid, 'HS256 takes a secret, not a private or public key');
    if (secret === undefined) throw invalid(kid, 'HS256 needs a secret');
    // A private copy: the caller's buffer may be reused or zeroed after configuration.
    const bytes = typeof secret === 'string' ? new Uint8Array(Buffer.from(secret, 'utf8')) : new Uint8Array(secret);
    if (bytes.byteLength < MIN_HMAC_SECRET_BYTES) throw invalid(kid, `an HS256 secret must be at least ${MIN_HMAC_SECRET_BYTES} bytes`);
    return Object.freeze({ kid, alg, signingKey: bytes, verificationKey: bytes, publicJwk: undefined, status, verifyUntil });
  }

  if (secret !== undefined) throw invalid(kid, `${alg} takes a private or public key, not a secret`);
  const privateKey = privateMaterial === undefined ? undefined : toPrivateKey(kid, alg, privateMaterial);
  let publicKey = publicMaterial === undefined ? undefined : toPublicKey(kid, alg, publicMaterial);
  if (privateKey !== undefined) {
    assertKeyFitsAlgorithm(kid, alg, privateKey);
    const derived = createPublicKey(privateKey);
    if (publicKey !== undefined && !publicKey.equals(derived)) throw invalid(kid, 'publicKey is not the public half of privateKey');
    publicKey = derived;
  }
  if (publicKey === undefined) throw invalid(kid, `${alg} needs a privateKey (or, for a verify-only key, a publicKey)`);
  assertKeyFitsAlgorithm(kid, alg, publicKey);
  if (status === 'active' && privateKey === undefined) throw invalid(kid, 'the active key signs, so it needs a privateKey');
  return Object.freeze({
    kid,
    alg,
    signingKey: privateKey,
    verificationKey: publicKey,
    publicJwk: publicJwkOf(kid, alg, publicKey),
    status,
    verifyUntil,
  });
}
