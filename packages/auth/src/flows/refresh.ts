import type { RefreshFamilyRecord } from '../store.js';
import type { TokenPair } from '../refresh/refresh-token-service.js';
import type { AuthFlowContext } from './auth-flow-context.js';
import { endSession } from './end-session.js';
import { presentedSecretSchema } from './flow-input-schemas.js';
import { mintForRefresh } from './mint-access-token.js';
import { parseFlowInput } from './parse-flow-input.js';

/**
 * Rotates a refresh token into a new pair. The mint re-checks the account (`ACCOUNT_DISABLED`),
 * the tenant membership of a tenant-bound family and that the family's session is still live
 * (see `mintForRefresh`); a refusal writes nothing.
 *
 * @throws `VALIDATION_FAILED`, `REFRESH_TOKEN_INVALID`, `REFRESH_TOKEN_REUSED`, `ACCOUNT_DISABLED`, membership codes
 * @example
 * ```ts
 * const pair = await refresh(context, body.refreshToken);
 * ```
 */
export async function refresh(context: AuthFlowContext, refreshToken: string): Promise<TokenPair> {
  const presented = parseFlowInput(presentedSecretSchema, refreshToken, 'VALIDATION_FAILED', 'refresh token');
  return context.refreshTokens.rotate(presented, mintForRefresh(context));
}

/**
 * What happens when a rotated refresh token comes back after the grace window (the refresh
 * service has already revoked the family): the security event, and the end of the session the
 * family belongs to — whoever replays a stolen token loses the session with it, and so do its
 * access tokens (by `sid`).
 *
 * @example
 * ```ts
 * createRefreshTokenService({ store, onReuse: (family) => handleRefreshTokenReuse(context, family) });
 * ```
 */
export async function handleRefreshTokenReuse(context: AuthFlowContext, family: RefreshFamilyRecord): Promise<void> {
  context.emit('refresh-token-reused', {
    userId: family.userId,
    familyId: family.id,
    tenantId: family.tenantId,
    sessionId: family.sessionId,
  });
  if (family.sessionId !== null) await endSession(context, { userId: family.userId, sessionId: family.sessionId }, 'refresh-token-reused');
}
