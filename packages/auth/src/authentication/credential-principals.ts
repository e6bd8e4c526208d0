import type { AuthPrincipal } from '../principal.js';
import type { SessionRecord } from '../store.js';
import type { AccessTokenClaims } from '../tokens/access-token-service.js';

/**
 * The principal of a verified access token: the user `sub` in tenant `tid`, with the token's
 * `sid`, `jti`, `scope` (as `scopes`, the cap rbac applies), `roles` and `amr`. Fields the
 * token lacks are left out rather than set to `undefined`.
 *
 * @example
 * ```ts
 * const principal = accessTokenPrincipal(await tokens.verify(bearer, { tenantId: 'tnt_acme' }));
 * principal.method; // 'access-token'
 * ```
 */
export function accessTokenPrincipal(claims: AccessTokenClaims): AuthPrincipal {
  return Object.freeze({
    kind: 'user' as const,
    id: claims.sub,
    tenantId: claims.tid,
    method: 'access-token' as const,
    tokenId: claims.jti,
    ...(claims.sid === null ? {} : { sessionId: claims.sid }),
    ...(claims.scope === undefined ? {} : { scopes: claims.scope }),
    ...(claims.roles === undefined ? {} : { roles: claims.roles }),
    ...(claims.amr === undefined ? {} : { amr: claims.amr }),
  });
}

/**
 * The principal of a validated session: its user, in its active tenant (`null` before one is
 * picked), with the session id and `amr`. A session carries no scopes: the user's grants apply
 * in full.
 *
 * @example
 * ```ts
 * const principal = sessionPrincipal(await sessions.validate(cookie));
 * principal.method; // 'session'
 * ```
 */
export function sessionPrincipal(session: SessionRecord): AuthPrincipal {
  return Object.freeze({
    kind: 'user' as const,
    id: session.userId,
    tenantId: session.tenantId,
    method: 'session' as const,
    sessionId: session.id,
    amr: session.amr,
  });
}
