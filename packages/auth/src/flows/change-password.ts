import { z } from 'zod';
import { AuthError } from '../errors.js';
import type { IssuedSession } from '../sessions/session-service.js';
import type { SessionRecord } from '../store.js';
import type { AuthFlowContext } from './auth-flow-context.js';
import { loginAttemptFor } from './login-attempt.js';
import { flowIdSchema, optionalTenantIdSchema, passwordInputSchema, presentedSecretSchema } from './flow-input-schemas.js';
import { parseFlowInput } from './parse-flow-input.js';
import { setNewPassword } from './set-new-password.js';

const changeInputSchema = z.object({
  userId: flowIdSchema,
  currentPassword: passwordInputSchema,
  newPassword: passwordInputSchema,
  sessionToken: presentedSecretSchema.optional(),
  tenantId: optionalTenantIdSchema,
});

/**
 * Changes the password of a signed-in user.
 *
 * Checks, before anything is written: the session (when given) belongs to `userId`
 * (`SESSION_INVALID`), the current password (`CREDENTIALS_INVALID`, also for an account without a
 * password; every attempt is charged to the sign-in throttle before the check, and a wrong one
 * stays counted: `RATE_LIMITED` once a counter is full), then
 * the policy of `tenantId` and the history. Then: the new password is set; every
 * access token issued before now is revoked (user epoch); every other session and every refresh
 * family of the user is revoked; earlier reset links are voided; the current session is rotated
 * (new id and secret: a privilege change). Token clients sign in again — the pairs of the old
 * session id are gone with it. Emits `password-changed` (`via: 'change'`) and `session-revoked`.
 *
 * @returns the rotated session, or `null` without `sessionToken`.
 * @throws `VALIDATION_FAILED`, `SESSION_INVALID`, `CREDENTIALS_INVALID`, `RATE_LIMITED`, `PASSWORD_POLICY_VIOLATION`, `PASSWORD_REUSED`, `STORE_CONFLICT`
 * @example
 * ```ts
 * const { session } = await changePassword(context, { userId: principal.id, currentPassword, newPassword, sessionToken });
 * ```
 */
export async function changePassword(
  context: AuthFlowContext,
  input: {
    readonly userId: string;
    readonly currentPassword: string;
    readonly newPassword: string;
    readonly sessionToken?: string;
    readonly tenantId?: string | null;
  },
): Promise<{ readonly session: IssuedSession | null }> {
  const { userId, currentPassword, newPassword, sessionToken, tenantId } = parseFlowInput(
    changeInputSchema,
    input,
    'VALIDATION_FAILED',
    'change password input',
  );
  let current: SessionRecord | null = null;
  if (sessionToken !== undefined) {
    current = await context.sessions.validate(sessionToken);
    if (current.userId !== userId) throw new AuthError('SESSION_INVALID', 'The session is invalid');
  }
  const account = await context.stores.accounts.findById(userId);
  // Guessing the current password through a stolen session counts like failed sign-ins of the
  // account (keyed by the IP the session was opened from).
  const attempt = account === null ? null : loginAttemptFor(account.email, { ip: current?.device.ip ?? null });
  // Charged before the check, so parallel guesses cannot outrun the counters.
  const charge = attempt === null ? null : await context.throttle.beginAttempt(attempt);
  if (charge !== null && charge.delayMs > 0) await context.sleep(charge.delayMs);
  const verified =
    account?.passwordHash == null
      ? await context.hasher.verifyDummy(currentPassword)
      : await context.hasher.verify(currentPassword, account.passwordHash);
  if (!verified || account === null) {
    await charge?.failed();
    throw new AuthError('CREDENTIALS_INVALID', 'The current password is wrong');
  }
  await charge?.succeeded();

  await setNewPassword(context, account, newPassword, tenantId);

  await context.revocation.revokeUser(userId);
  const revokedIds = await context.sessions.revokeAll(userId, current === null ? {} : { exceptId: current.id });
  await context.refreshTokens.revokeUser(userId, 'password-changed');
  await context.oneTimeTokens.voidFor('password-reset', userId);
  const session = sessionToken === undefined ? null : await context.sessions.rotate(sessionToken);
  if (revokedIds.length > 0) context.emit('session-revoked', { userId, sessionIds: revokedIds, reason: 'password-changed' });
  context.emit('password-changed', { userId, via: 'change' });
  return { session };
}
