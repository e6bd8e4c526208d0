import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { AccessTokenClaims, IssuedAccessToken } from '../tokens/access-token-service.js';

/*
 * The successor pair a rotation hands out, sealed so a concurrent refresh inside the grace
 * window (which presents the same token) can hand out the very same pair, while the store, which
 * only ever sees hashes, learns nothing. AES-256-GCM under a key derived (HKDF-SHA256) from the
 * presented token: only a holder of that token can open it, and any change fails the tag.
 */

const VERSION = 'v1';
const HKDF_SALT = Buffer.from('tenantkit/auth refresh-successor salt v1', 'utf8');
const HKDF_INFO = Buffer.from('tenantkit/auth refresh-successor key v1', 'utf8');
const ASSOCIATED_DATA = Buffer.from(`tenantkit/auth refresh-successor ${VERSION}`, 'utf8');
const IV_LENGTH = 12;
const TAG_LENGTH = 16;

/**
 * What a rotation sealed for the grace window: the new refresh token and its access token.
 *
 * @example
 * ```ts
 * const successor: SealedSuccessor = { refreshToken: next, accessToken: issued, refreshExpiresAt: nextRecord.expiresAt };
 * ```
 */
export interface SealedSuccessor {
  readonly refreshToken: string;
  readonly accessToken: IssuedAccessToken;
  readonly refreshExpiresAt: number;
}

function keyFor(presentedToken: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(presentedToken, 'utf8'), HKDF_SALT, HKDF_INFO, 32));
}

/**
 * Seals `successor` under a key derived from `presentedToken` (a random 12-byte IV each time).
 *
 * @example
 * ```ts
 * const successorSealed = sealSuccessor(presented, { refreshToken: next, accessToken, refreshExpiresAt });
 * ```
 */
export function sealSuccessor(presentedToken: string, successor: SealedSuccessor): string {
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv('aes-256-gcm', keyFor(presentedToken), iv, { authTagLength: TAG_LENGTH });
  cipher.setAAD(ASSOCIATED_DATA);
  const plaintext = Buffer.from(JSON.stringify(successor), 'utf8');
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return `${VERSION}.${Buffer.concat([iv, ciphertext, cipher.getAuthTag()]).toString('base64url')}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// JSON drops keys whose value is `undefined`; the claims type declares these keys present.
const OPTIONAL_CLAIMS = ['scope', 'roles', 'amr'] as const satisfies readonly (keyof AccessTokenClaims)[];

function toSuccessor(value: unknown): SealedSuccessor | null {
  if (!isRecord(value) || typeof value.refreshToken !== 'string' || typeof value.refreshExpiresAt !== 'number') return null;
  const accessToken = value.accessToken;
  if (!isRecord(accessToken) || typeof accessToken.token !== 'string' || typeof accessToken.expiresAt !== 'number') return null;
  if (!isRecord(accessToken.claims)) return null;
  const claims: Record<string, unknown> = { ...accessToken.claims };
  for (const key of OPTIONAL_CLAIMS) {
    if (!(key in claims)) claims[key] = undefined;
  }
  return {
    refreshToken: value.refreshToken,
    accessToken: { token: accessToken.token, claims: claims as unknown as AccessTokenClaims, expiresAt: accessToken.expiresAt },
    refreshExpiresAt: value.refreshExpiresAt,
  };
}

/**
 * Opens what {@link sealSuccessor} sealed for the same `presentedToken`.
 *
 * @returns the successor, or `null` when `sealed` is malformed, was sealed for another token or
 *   was changed.
 * @example
 * ```ts
 * const successor = unsealSuccessor(presented, outcome.successorSealed);
 * ```
 */
export function unsealSuccessor(presentedToken: string, sealed: string): SealedSuccessor | null {
  if (typeof sealed !== 'string' || !sealed.startsWith(`${VERSION}.`)) return null;
  const bytes = Buffer.from(sealed.slice(VERSION.length + 1), 'base64url');
  if (bytes.length < IV_LENGTH + TAG_LENGTH + 1) return null;
  const iv = bytes.subarray(0, IV_LENGTH);
  const tag = bytes.subarray(bytes.length - TAG_LENGTH);
  const ciphertext = bytes.subarray(IV_LENGTH, bytes.length - TAG_LENGTH);
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyFor(presentedToken), iv, { authTagLength: TAG_LENGTH });
    decipher.setAAD(ASSOCIATED_DATA);
    decipher.setAuthTag(tag);
    const plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    return toSuccessor(JSON.parse(plaintext.toString('utf8')));
  } catch {
    // A wrong key, a flipped bit or a truncated value: all the same to the caller.
    return null;
  }
}
