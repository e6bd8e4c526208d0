import { z } from 'zod';
import type { ClientInfo } from '../auth.js';
import { AuthError } from '../errors.js';
import type { AuthFlowContext } from './auth-flow-context.js';
import { optionalTenantIdSchema, passwordInputSchema, presentedSecretSchema } from './flow-input-schemas.js';
import { loginAttemptFor } from './login-attempt.js';
import { normalizeEmail } from './normalize-email.js';
import { parseFlowInput } from './parse-flow-input.js';
import { restoreOneTimeTokenOnFailure } from './restore-one-time-token.js';
import { revokeUser } from './revoke-user.js';
import { setNewPassword } from './set-new-password.js';

const requestInputSchema = z.object({ email: z.string(), tenantId: optionalTenantIdSchema });

const resetInputSchema = z.object({
  token: presentedSecretSchema,
  newPassword: passwordInputSchema,
  tenantId: optionalTenantIdSchema,
});

/**
 * Starts a password reset without revealing whether the account exists.
 *
 * Every request is counted by the reset throttle (per email and IP, its own counters) **before**
 * the account is looked up, so a known and an unknown email are throttled alike: past the limit
 * both get `RATE_LIMITED` (429 with `retryAfterSeconds`, which says nothing about the account and
 * tells a real user when to try again); below it both resolve with nothing. Only for an existing
 * account is a reset token issued (voiding earlier ones) and `password-reset-requested` emitted
 * with the link built from the configured base URL. `tenantId` is remembered with the token:
 * the reset then applies that tenant's password policy (unless `resetPassword` names another).
 *
 * @throws `VALIDATION_FAILED` (malformed email), `RATE_LIMITED`
 * @example
 * ```ts
 * await requestPasswordReset(context, { email: body.email }, { ip: clientIp });
 * reply.code(202).send(); // the same answer in every case
 * ```
 */
export async function requestPasswordReset(
  context: AuthFlowContext,
  input: { readonly email: string; readonly tenantId?: string | null },
  client: ClientInfo,
): Promise<void> {
  const { tenantId } = parseFlowInput(requestInputSchema, input, 'VALIDATION_FAILED', 'password reset request');
  const email = normalizeEmail(input.email);
  const attempt = loginAttemptFor(email, client);
  const { delayMs } = await context.resetThrottle.assertAllowed(attempt);
  await context.resetThrottle.recordFailure(attempt);
  if (delayMs > 0) await context.sleep(delayMs);

  const account = await context.stores.accounts.findByEmail(email);
  if (account === null) return;
  // The token's own tenantId stays null (reset tokens are per user, so a reissue voids every
  // earlier one); the tenant rides in `data` and picks the policy the new password must meet.
  const issued = await context.oneTimeTokens.issue('password-reset', account.id, { data: tenantId === null ? {} : { tenantId } });
  context.emit('password-reset-requested', { userId: account.id, email, link: issued.link, expiresAt: issued.expiresAt });
}

/**
 * Completes a password reset: takes the token (single use), checks the new password against the
 * policy (of `tenantId`, else of the tenant the reset was requested for, else the default) and
 * the history, sets it, then revokes every credential of
 * the user — access tokens (user epoch), sessions, refresh families, pending sign-ins — and voids
 * any other reset link. A refused password puts the token back, so the same link can be retried.
 * The reset link reached the mailbox, so an unverified email counts as verified afterwards.
 * Emits `password-changed` (`via: 'reset'`).
 *
 * @throws `VALIDATION_FAILED`, `ONE_TIME_TOKEN_INVALID`, `PASSWORD_POLICY_VIOLATION`, `PASSWORD_REUSED`
 * @example
 * ```ts
 * await resetPassword(context, { token: body.token, newPassword: body.password });
 * ```
 */
export async function resetPassword(
  context: AuthFlowContext,
  input: { readonly token: string; readonly newPassword: string; readonly tenantId?: string | null },
): Promise<void> {
  const { token, newPassword, tenantId } = parseFlowInput(resetInputSchema, input, 'VALIDATION_FAILED', 'password reset input');
  const record = await context.oneTimeTokens.consume(token, 'password-reset');
  const account = await restoreOneTimeTokenOnFailure(context, record, async () => {
    const found = await context.stores.accounts.findById(record.subject);
    if (found === null) throw new AuthError('ONE_TIME_TOKEN_INVALID', 'The reset link is invalid or has expired');
    const requestedTenant = typeof record.data['tenantId'] === 'string' ? record.data['tenantId'] : null;
    return setNewPassword(context, found, newPassword, tenantId ?? requestedTenant);
  });
  if (account.emailVerifiedAt === null) await context.stores.accounts.update(account.id, { emailVerifiedAt: context.clock.now() }, context.clock.now());
  await revokeUser(context, account.id, 'password-reset');
  await context.oneTimeTokens.voidFor('password-reset', account.id);
  context.emit('password-changed', { userId: account.id, via: 'reset' });
}
