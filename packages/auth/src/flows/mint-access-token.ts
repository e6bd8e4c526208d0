import { AuthError } from '../errors.js';
import type { MintAccessToken } from '../refresh/refresh-token-service.js';
import type { AuthFlowContext } from './auth-flow-context.js';

/**
 * The mint of a fresh sign-in: the account, membership and session were just checked, so it
 * only signs the access token of the new family.
 *
 * @example
 * ```ts
 * const tokens = await context.refreshTokens.startFamily({ userId, tenantId, sessionId }, mintForSignIn(context, ['pwd']));
 * ```
 */
export function mintForSignIn(context: AuthFlowContext, amr: readonly string[]): MintAccessToken {
  return (family) => context.tokens.issue({ userId: family.userId, tenantId: family.tenantId, sessionId: family.sessionId, amr });
}

/**
 * The mint of a refresh: re-reads what may have changed since the family was opened, and refuses
 * the refresh when
 * - the account is gone (`REFRESH_TOKEN_INVALID`) or disabled (`ACCOUNT_DISABLED`);
 * - the family is bound to a tenant and the membership is no longer active (the membership
 *   service's codes);
 * - the family's session has ended (revoked, expired): a family never outlives its session
 *   (`REFRESH_TOKEN_INVALID`). A refresh counts as activity and slides the session's idle expiry.
 *
 * The access token carries the session's `amr`.
 *
 * @example
 * ```ts
 * const pair = await context.refreshTokens.rotate(presented, mintForRefresh(context));
 * ```
 */
export function mintForRefresh(context: AuthFlowContext): MintAccessToken {
  return async (family) => {
    const account = await context.stores.accounts.findById(family.userId);
    if (account === null) throw new AuthError('REFRESH_TOKEN_INVALID', 'The refresh token is invalid');
    if (account.disabledAt !== null) throw new AuthError('ACCOUNT_DISABLED', 'The account is disabled');
    if (family.tenantId !== null) {
      const memberships = context.memberships;
      if (memberships === undefined) throw new AuthError('CONFIGURATION_INVALID', 'A tenant-bound refresh needs the "memberships" option of createAuth');
      await memberships.requireActiveMembership(family.tenantId, family.userId);
    }
    let amr: readonly string[] | undefined;
    if (family.sessionId !== null) {
      const now = context.clock.now();
      const session = await context.stores.sessions.findById(family.sessionId, now);
      if (session === null || session.userId !== family.userId) {
        throw new AuthError('REFRESH_TOKEN_INVALID', 'The session of this refresh token has ended');
      }
      await context.stores.sessions.touch(session.id, { now, expiresAt: Math.min(now + context.sessionIdleMs, session.absoluteExpiresAt) });
      amr = session.amr;
    }
    return context.tokens.issue({
      userId: family.userId,
      tenantId: family.tenantId,
      sessionId: family.sessionId,
      ...(amr === undefined ? {} : { amr }),
    });
  };
}
