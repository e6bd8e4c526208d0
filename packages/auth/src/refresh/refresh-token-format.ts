import { createSecretToken } from '@tenantkit/core';
import { hashSecret } from '../secrets/hash-secret.js';

/*
 * What a refresh token is made of: `<familySecret>.<generation>.<secret>`, random apart from the
 * generation, and opaque to the client.
 *
 * The store can only be asked about a token inside the one atomic `rotate`, but the access token
 * must be minted (for the token's family) before that call, so the service has to learn the
 * family from the token itself. The token does not carry the family id, which is not a secret
 * (events and audit logs show it): it carries a family secret the id is derived from (SHA-256),
 * so only a holder of one of the family's tokens can name the family — to mint for it or to log
 * it out. The generation goes along so the service can build the successor record. The stored
 * hash covers the whole string, so changing any part of it yields an unknown token.
 */

// 16 random bytes (22 base64url characters), a dot, the generation, a dot, 32 random bytes (43).
const REFRESH_TOKEN_PATTERN = /^([A-Za-z0-9_-]{22})\.(0|[1-9][0-9]{0,14})\.[A-Za-z0-9_-]{43}$/;

/**
 * The parts of a well-formed refresh token the service reads.
 *
 * @example
 * ```ts
 * const parts: RefreshTokenParts = { familySecret: 'q0Zx...', generation: 3 };
 * ```
 */
export interface RefreshTokenParts {
  readonly familySecret: string;
  readonly generation: number;
}

/**
 * A fresh family secret (16 random bytes, base64url) for a new family.
 *
 * @example
 * ```ts
 * const familySecret = createFamilySecret();
 * const familyId = familyIdOf(familySecret);
 * ```
 */
export function createFamilySecret(): string {
  return createSecretToken(16);
}

/**
 * The id of the family a family secret belongs to: `rtf_` and 43 base64url characters.
 *
 * @example
 * ```ts
 * const family = await store.findFamily(familyIdOf(parts.familySecret));
 * ```
 */
export function familyIdOf(familySecret: string): string {
  return `rtf_${hashSecret(`tenantkit refresh family:${familySecret}`)}`;
}

/**
 * A new refresh token of `generation` in the family of `familySecret` (32 fresh random bytes).
 *
 * @example
 * ```ts
 * const next = composeRefreshToken(parts.familySecret, parts.generation + 1);
 * ```
 */
export function composeRefreshToken(familySecret: string, generation: number): string {
  return `${familySecret}.${generation}.${createSecretToken(32)}`;
}

/**
 * The parts of `value`, or `null` when it is not a well-formed refresh token (wrong type,
 * length or characters).
 *
 * @example
 * ```ts
 * const parts = parseRefreshToken(presented);
 * if (parts === null) throw new AuthError('REFRESH_TOKEN_INVALID', 'The refresh token is invalid');
 * ```
 */
export function parseRefreshToken(value: unknown): RefreshTokenParts | null {
  if (typeof value !== 'string' || value.length > 100) return null;
  const match = REFRESH_TOKEN_PATTERN.exec(value);
  if (match === null) return null;
  const generation = Number(match[2]);
  if (!Number.isSafeInteger(generation)) return null;
  return { familySecret: match[1]!, generation };
}
