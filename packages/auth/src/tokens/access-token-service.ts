import type { SigningKeySet } from '../keys/signing-key-set.js';

/**
 * The verified claims of an access token. Times are **seconds** (JWT NumericDate).
 *
 * @example
 * ```ts
 * const claims: AccessTokenClaims = {
 *   sub: 'usr_1', tid: 'tnt_acme', sid: 'ses_1', jti: 'jti_1', iat: 1767225600, iatMs: 1767225600123, exp: 1767226500,
 *   iss: 'https://auth.example.com', aud: 'https://api.example.com', scope: undefined, roles: undefined, amr: ['pwd'],
 * };
 * ```
 */
export interface AccessTokenClaims {
  readonly sub: string;
  readonly tid: string | null;
  readonly sid: string | null;
  readonly jti: string;
  readonly iat: number;
  /** Millisecond issue time (private claim `iat_ms`; what revocation epochs compare with). */
  readonly iatMs: number;
  readonly exp: number;
  readonly iss: string;
  readonly aud: string;
  /** Parsed from the space-separated `scope` claim; `undefined` when the token has none. */
  readonly scope: readonly string[] | undefined;
  readonly roles: readonly string[] | undefined;
  readonly amr: readonly string[] | undefined;
}

/**
 * What to put in a new access token.
 *
 * @example
 * ```ts
 * const input: IssueAccessTokenInput = { userId: 'usr_1', tenantId: 'tnt_acme', sessionId: 'ses_1', amr: ['pwd'] };
 * ```
 */
export interface IssueAccessTokenInput {
  readonly userId: string;
  readonly tenantId: string | null;
  readonly sessionId: string | null;
  readonly scopes?: readonly string[];
  readonly roles?: readonly string[];
  readonly amr?: readonly string[];
  /** Overrides the service's `ttlSeconds` (capped by it). */
  readonly ttlSeconds?: number;
}

/**
 * A signed access token.
 *
 * @example
 * ```ts
 * const { token, claims, expiresAt } = await tokens.issue({ userId: 'usr_1', tenantId: 'tnt_acme', sessionId: null });
 * ```
 */
export interface IssuedAccessToken {
  readonly token: string;
  readonly claims: AccessTokenClaims;
  /** `claims.exp` in epoch milliseconds. */
  readonly expiresAt: number;
}

/**
 * Options of one verify.
 *
 * @example
 * ```ts
 * await tokens.verify(bearer, { tenantId: 'tnt_acme' });
 * ```
 */
export interface VerifyAccessTokenOptions {
  /**
   * The tenant of the request. When given (including `null`), the token's `tid` must equal it,
   * and the tenant's issuer/audience (per-tenant option) must match: a token for tenant A fails
   * at tenant B with `TOKEN_INVALID`. When omitted, the tenant in the ambient tenant scope is
   * used; with no scope either, any `tid` is accepted.
   */
  readonly tenantId?: string | null;
}

/**
 * Access tokens: sign with the active key, verify with pinned algorithms, a bounded
 * verified-token cache on the hot path and revocation checks (jti, session, user and tenant
 * epochs) that apply across processes as soon as the revocation event arrives.
 *
 * @example
 * ```ts
 * const tokens = createAccessTokenService({ keys, issuer: 'https://auth.example.com', audience: 'api', revocation });
 * const { token } = await tokens.issue({ userId: 'usr_1', tenantId: 'tnt_acme', sessionId: 'ses_1' });
 * const claims = await tokens.verify(token, { tenantId: 'tnt_acme' });
 * ```
 */
export interface AccessTokenService {
  readonly keys: SigningKeySet;
  /** @throws `SIGNING_KEY_UNAVAILABLE`, `VALIDATION_FAILED` */
  issue(input: IssueAccessTokenInput): Promise<IssuedAccessToken>;
  /**
   * @throws `TOKEN_INVALID`, `TOKEN_EXPIRED`, `TOKEN_REVOKED`, `STORE_UNAVAILABLE` (revocation store
   *   down and not fresh in memory: fails closed)
   */
  verify(token: string, options?: VerifyAccessTokenOptions): Promise<AccessTokenClaims>;
  /** Revokes exactly this token (by jti, until its exp), everywhere. */
  revoke(claims: Pick<AccessTokenClaims, 'jti' | 'exp'>): Promise<void>;
  /** Empties the verified-token cache (tests, key compromise). */
  clearCache(): void;
  /** Stops timers and subscriptions. */
  close(): Promise<void>;
}
