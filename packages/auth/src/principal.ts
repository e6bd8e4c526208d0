import type { RbacPrincipal } from '@tenantkit/rbac';

/**
 * How a principal proved who it is.
 *
 * - `access-token`: a verified JWT access token (Bearer).
 * - `session`: a session cookie.
 * - `api-key`: a tenant-owned API key.
 *
 * @example
 * ```ts
 * const via: AuthMethod = 'api-key';
 * ```
 */
export type AuthMethod = 'access-token' | 'session' | 'api-key';

/**
 * The one principal shape @tenantkit/auth produces and @tenantkit/rbac consumes: it *is* an
 * {@link RbacPrincipal} (pass it to `checker.can(principal, ...)` as it is), plus how it
 * authenticated and in which tenant.
 *
 * - A user (`kind: 'user'`, from an access token or a session): `id` is the user id, grants come
 *   from the user's role assignments, `scopes` is the token's `scope` claim when it has one.
 * - An API key (`kind: 'api-key'`): `id` is the key id, `grantsFrom` the user who created it
 *   (or `null` for a key that holds only its scopes), `scopes` the key's scopes.
 *
 * `tenantId` is the tenant the credential is bound to: a token's `tid`, a session's active
 * tenant, a key's owner. `null` only for a user credential not yet bound to a tenant (a session
 * before the user picks one).
 *
 * @example
 * ```ts
 * const principal: AuthPrincipal = {
 *   kind: 'user', id: 'usr_1', tenantId: 'tnt_acme', method: 'access-token',
 *   sessionId: 'ses_1', scopes: undefined, attributes: {},
 * };
 * await checker.require(principal, 'projects:create');
 * ```
 */
export interface AuthPrincipal extends RbacPrincipal {
  readonly kind: 'user' | 'api-key';
  readonly tenantId: string | null;
  readonly method: AuthMethod;
  /** The session the credential belongs to (tokens carry `sid`); `undefined` for API keys. */
  readonly sessionId?: string;
  /** The access token's `jti`, for revoking exactly this token. */
  readonly tokenId?: string;
  /** Authentication methods used at sign-in (`['pwd']`, later `['pwd', 'otp']`), RFC 8176 values. */
  readonly amr?: readonly string[];
  /** Optional role names carried by the token (informational: rbac decides from the store). */
  readonly roles?: readonly string[];
}
