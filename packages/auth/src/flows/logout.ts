import { isTenantkitError } from '@tenantkit/core';
import { z } from 'zod';
import type { AuthFlowContext } from './auth-flow-context.js';
import { endSession } from './end-session.js';
import { presentedSecretSchema } from './flow-input-schemas.js';
import { parseFlowInput } from './parse-flow-input.js';

const logoutInputSchema = z.object({
  sessionToken: presentedSecretSchema.optional(),
  refreshToken: presentedSecretSchema.optional(),
  accessTokenId: z.object({ jti: z.string().min(1).max(256), exp: z.number().int().nonnegative() }).optional(),
});

/**
 * Ends what the client presents, each part on its own and idempotently (an unknown or already
 * ended credential is no error):
 * - `sessionToken`: the session, its access tokens (by `sid`) and its refresh families;
 * - `refreshToken`: its family;
 * - `accessTokenId`: exactly that access token (by `jti`, until `exp`, in seconds).
 *
 * Emits `logout` when the session was found.
 *
 * @example
 * ```ts
 * await logout(context, { sessionToken: cookies.tk_session, refreshToken: body.refreshToken });
 * ```
 */
export async function logout(
  context: AuthFlowContext,
  input: {
    readonly sessionToken?: string;
    readonly refreshToken?: string;
    readonly accessTokenId?: { readonly jti: string; readonly exp: number };
  },
): Promise<void> {
  const { sessionToken, refreshToken, accessTokenId } = parseFlowInput(logoutInputSchema, input, 'VALIDATION_FAILED', 'logout input');
  if (accessTokenId !== undefined) await context.tokens.revoke(accessTokenId);
  if (refreshToken !== undefined) await context.refreshTokens.revokeByToken(refreshToken, 'logout');
  if (sessionToken !== undefined) {
    let session;
    try {
      session = await context.sessions.validate(sessionToken);
    } catch (error) {
      if (isTenantkitError(error, 'SESSION_INVALID')) return;
      throw error;
    }
    await endSession(context, { userId: session.userId, sessionId: session.id }, 'logout');
    context.emit('logout', { userId: session.userId, sessionId: session.id });
  }
}
