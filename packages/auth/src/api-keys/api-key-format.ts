import { createId, createSecretToken } from '@tenantkit/core';

/**
 * Allowed prefixes: lowercase, a letter first, 2 to 16 characters (no `_`, the separator).
 *
 * @example
 * ```ts
 * API_KEY_PREFIX_PATTERN.test('acme'); // true
 * ```
 */
export const API_KEY_PREFIX_PATTERN = /^[a-z][a-z0-9]{1,15}$/;

/** `createId()` without a prefix: 20 base36 characters. */
const ID_LENGTH = 20;
/** `createSecretToken(32)`: 32 random bytes, 43 base64url characters. */
const SECRET_BYTES = 32;
const SECRET_LENGTH = 43;

/**
 * The parts of a presented key that passed the format check.
 *
 * @example
 * ```ts
 * const parts: ApiKeyParts = { id: '0k3x9q...', secret: 'Zm9v...' };
 * ```
 */
export interface ApiKeyParts {
  readonly id: string;
  readonly secret: string;
}

/**
 * The format of one prefix: `<prefix>_<id>_<secret>`, with the id in base36 and the secret in
 * base64url (which may itself contain `_`, so the parts are cut by position, not by splitting).
 *
 * @example
 * ```ts
 * const format = apiKeyFormat('tk');
 * const { id, secret, key } = format.generate();
 * format.parse(key); // { id, secret }
 * ```
 */
export interface ApiKeyFormat {
  /** The exact length of every key of this prefix. */
  readonly length: number;
  /**
   * A new id and secret, and the key that carries them.
   * @example
   * ```ts
   * const { key } = format.generate();
   * ```
   */
  generate(): ApiKeyParts & { readonly key: string };
  /**
   * The id and secret of a well-formed key, `undefined` for anything else (wrong prefix, length
   * or character). Runs before any store call, so junk never reaches the database.
   * @example
   * ```ts
   * format.parse('tk_short'); // undefined
   * ```
   */
  parse(presented: unknown): ApiKeyParts | undefined;
}

/**
 * The {@link ApiKeyFormat} of `prefix` (already validated against `API_KEY_PREFIX_PATTERN`).
 *
 * @example
 * ```ts
 * apiKeyFormat('tk').length; // 67
 * ```
 */
export function apiKeyFormat(prefix: string): ApiKeyFormat {
  const length = prefix.length + 1 + ID_LENGTH + 1 + SECRET_LENGTH;
  // Anchored, fixed-width: linear in the (already length-checked) input.
  const pattern = new RegExp(`^${prefix}_([0-9a-z]{${ID_LENGTH}})_([A-Za-z0-9_-]{${SECRET_LENGTH}})$`);
  return Object.freeze({
    length,
    generate() {
      const id = createId();
      const secret = createSecretToken(SECRET_BYTES);
      return { id, secret, key: `${prefix}_${id}_${secret}` };
    },
    parse(presented: unknown): ApiKeyParts | undefined {
      if (typeof presented !== 'string' || presented.length !== length) return undefined;
      const match = pattern.exec(presented);
      if (match === null) return undefined;
      return { id: match[1] as string, secret: match[2] as string };
    },
  });
}
