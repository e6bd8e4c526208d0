import { z } from 'zod';
import type { TokenPair } from '../refresh/refresh-token-service.js';
import type { IssuedSession } from '../sessions/session-service.js';
import type { AuthFlowContext } from './auth-flow-context.js';
import { flowIdSchema, presentedSecretSchema } from './flow-input-schemas.js';
import { mintForSignIn } from './mint-access-token.js';
import { parseFlowInput } from './parse-flow-input.js';

const switchInputSchema = z.object({ sessionToken: presentedSecretSchema, tenantId: flowIdSchema });

/**
 * Moves a session to another tenant: the session service checks the membership and rotates the
 * session (new id and secret; the old id, and so its access tokens, revoked); the refresh
 * families of the old session are revoked and a new family bound to the new tenant is opened.
 *
 * @throws `VALIDATION_FAILED`, `SESSION_INVALID`, `MEMBERSHIP_NOT_FOUND`, `MEMBERSHIP_INACTIVE`, `TENANT_SUSPENDED`, `TENANT_NOT_READY`
 * @example
 * ```ts
 * const { session, tokens } = await switchTenant(context, cookies.tk_session, 'tnt_globex');
 * ```
 */
export async function switchTenant(
  context: AuthFlowContext,
  sessionToken: string,
  tenantId: string,
): Promise<{ readonly session: IssuedSession; readonly tokens: TokenPair }> {
  parseFlowInput(switchInputSchema, { sessionToken, tenantId }, 'VALIDATION_FAILED', 'switchTenant input');
  const previous = await context.sessions.validate(sessionToken);
  const session = await context.sessions.switchTenant(sessionToken, tenantId);
  await context.refreshTokens.revokeUser(previous.userId, 'tenant-switched', { sessionId: previous.id });
  const tokens = await context.refreshTokens.startFamily(
    { userId: session.session.userId, tenantId: session.session.tenantId, sessionId: session.session.id },
    mintForSignIn(context, session.session.amr),
  );
  return { session, tokens };
}
