import type { AuthFlowContext } from './auth-flow-context.js';

/**
 * Ends one session completely: the session (and, by `sid`, its access tokens) and every refresh
 * family opened from it. Emits `session-revoked` when the session still existed. Idempotent.
 *
 * @example
 * ```ts
 * await endSession(context, { userId: session.userId, sessionId: session.id }, 'logout');
 * ```
 */
export async function endSession(
  context: AuthFlowContext,
  target: { readonly userId: string; readonly sessionId: string },
  reason: string,
): Promise<boolean> {
  const existed = await context.sessions.revoke(target.userId, target.sessionId);
  if (!existed) {
    // Gone already (expired, or revoked elsewhere): its access tokens may still be live, so
    // revoke the id for as long as any of them can verify (lifetime plus clock tolerance).
    await context.revocation.revokeSession(target.sessionId, context.clock.now() + context.sessionRevocationRetentionMs);
  }
  await context.refreshTokens.revokeUser(target.userId, reason, { sessionId: target.sessionId });
  if (existed) context.emit('session-revoked', { userId: target.userId, sessionIds: [target.sessionId], reason });
  return existed;
}
