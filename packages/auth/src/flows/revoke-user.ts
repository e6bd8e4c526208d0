import { z } from 'zod';
import type { AuthFlowContext } from './auth-flow-context.js';
import { flowIdSchema } from './flow-input-schemas.js';
import { parseFlowInput } from './parse-flow-input.js';

const revokeUserInputSchema = z.object({ userId: flowIdSchema, reason: z.string().trim().min(1).max(100) });

/**
 * Revokes every credential of a user: the user epoch first (every access token and pending
 * sign-in issued until now fails at once, everywhere, and so does every API key the user
 * created until now — keys act with their creator's grants, so a compromise of the creator ends
 * them; `scopesOnly` keys, which have no creator, are not touched), then every session and every
 * refresh family. Emits `session-revoked` (when there were sessions) and `user-tokens-revoked`.
 *
 * @example
 * ```ts
 * await revokeUser(context, 'usr_1', 'account-compromised');
 * ```
 */
export async function revokeUser(context: AuthFlowContext, userId: string, reason: string): Promise<void> {
  parseFlowInput(revokeUserInputSchema, { userId, reason }, 'VALIDATION_FAILED', 'revokeUser input');
  await context.revocation.revokeUser(userId);
  const sessionIds = await context.sessions.revokeAll(userId);
  await context.refreshTokens.revokeUser(userId, reason);
  if (sessionIds.length > 0) context.emit('session-revoked', { userId, sessionIds, reason });
  context.emit('user-tokens-revoked', { userId, reason });
}
