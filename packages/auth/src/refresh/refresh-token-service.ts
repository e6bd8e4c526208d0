import type { IssuedAccessToken } from '../tokens/access-token-service.js';
import type { RefreshFamilyRecord } from '../store.js';

/**
 * A new access + refresh pair.
 *
 * @example
 * ```ts
 * const { accessToken, refreshToken, refreshExpiresAt } = await refresh.rotate(presented, mint);
 * ```
 */
export interface TokenPair {
  readonly accessToken: IssuedAccessToken;
  readonly refreshToken: string;
  /** When this refresh token stops working (epoch ms): its own TTL, capped by the family's end. */
  readonly refreshExpiresAt: number;
  readonly family: RefreshFamilyRecord;
}

/**
 * Mints the access token that goes with a rotated refresh token (the caller re-reads what it
 * needs: account disabled, membership gone → throw to refuse the refresh).
 *
 * @example
 * ```ts
 * const mint: MintAccessToken = (family) => tokens.issue({ userId: family.userId, tenantId: family.tenantId, sessionId: family.sessionId });
 * ```
 */
export type MintAccessToken = (family: RefreshFamilyRecord) => Promise<IssuedAccessToken>;

/**
 * Rotating refresh tokens in families: opaque, stored hashed, every use rotates, reuse of a
 * rotated token after the grace window revokes the whole family and emits
 * `refresh-token-reused`; concurrent refreshes inside the grace window get the same pair.
 *
 * @example
 * ```ts
 * const refresh = createRefreshTokenService({ store: stores.refreshTokens, onEvent });
 * const first = await refresh.startFamily({ userId: 'usr_1', tenantId: 'tnt_acme', sessionId: 'ses_1' }, mint);
 * const next = await refresh.rotate(first.refreshToken, mint);
 * ```
 */
export interface RefreshTokenService {
  /** Opens a family for a sign-in. */
  startFamily(
    owner: { readonly userId: string; readonly tenantId: string | null; readonly sessionId: string | null },
    mint: MintAccessToken,
  ): Promise<TokenPair>;
  /** @throws `REFRESH_TOKEN_INVALID`, `REFRESH_TOKEN_REUSED` (family revoked) */
  rotate(presented: string, mint: MintAccessToken): Promise<TokenPair>;
  /** @returns whether a live family was revoked. */
  revokeFamily(familyId: string, reason: string): Promise<boolean>;
  /** Revokes the family a presented token belongs to (logout); unknown tokens are a no-op. */
  revokeByToken(presented: string, reason: string): Promise<boolean>;
  /** @returns the revoked family ids. */
  revokeUser(userId: string, reason: string, options?: { readonly sessionId?: string }): Promise<readonly string[]>;
}
