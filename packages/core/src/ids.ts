import { randomBytes } from 'node:crypto';

const ID_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/**
 * A random identifier with an optional prefix: 20 characters of base36 (about 103 bits), so
 * ids are unguessable and safe in URLs, DNS labels and keys.
 *
 * @example
 * ```ts
 * createId('tnt'); // 'tnt_0k3x9...'
 * ```
 */
export function createId(prefix?: string): string {
  let id = '';
  while (id.length < 20) {
    for (const byte of randomBytes(24)) {
      // 252 = 7 * 36: rejecting larger bytes keeps every character equally likely.
      if (byte < 252 && id.length < 20) id += ID_ALPHABET[byte % 36];
    }
  }
  return prefix === undefined ? id : `${prefix}_${id}`;
}

/**
 * A high-entropy secret token, base64url encoded. Store only a hash of it.
 *
 * @example
 * ```ts
 * const token = createSecretToken(32); // 43 characters, 256 bits
 * ```
 */
export function createSecretToken(byteLength = 32): string {
  if (!Number.isInteger(byteLength) || byteLength < 16 || byteLength > 1024) {
    throw new RangeError('createSecretToken() takes a whole number of bytes from 16 to 1024');
  }
  return randomBytes(byteLength).toString('base64url');
}
