import { createHash } from 'node:crypto';
import { AuthError } from '../errors.js';

/**
 * The at-rest form of a high-entropy secret (session cookie, refresh token, one-time token):
 * SHA-256 of its UTF-8 bytes, base64url encoded (43 characters). Stores keep only this.
 *
 * An unsalted, fast hash is right here because the input is a random secret of 128 bits or
 * more, not a password: nobody can enumerate it, and a lookup needs the same hash every time.
 * Never use it for passwords (use the password hasher) or for low-entropy codes.
 *
 * @throws AuthError `VALIDATION_FAILED` when `secret` is not a string.
 *
 * @example
 * ```ts
 * const token = createSecretToken(32);
 * await store.findByTokenHash(hashSecret(token), Date.now());
 * ```
 */
export function hashSecret(secret: string): string {
  if (typeof secret !== 'string') throw new AuthError('VALIDATION_FAILED', 'hashSecret() takes a string');
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}
