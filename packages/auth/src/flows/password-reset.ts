import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ClientInfo } from '../auth.js';
import { AuthError } from '../errors.js';
import type { AuthFlowContext } from './auth-flow-context.js';
import { optionalTenantIdSchema, passwordInputSchema, presentedSecretSchema } from './flow-input-schemas.js';
import { loginAttemptFor } from './login-attempt.js';
import { normalizeEmail } from './normalize-email.js';
import { parseFlowInput } from './parse-flow-input.js';
import { revokeUser } from './revoke-user.js';
import { setNewPassword } from './set-new-password.js';

const requestInputSchema = z.object({ email: z.string(), tenantId: optionalTenantIdSchema });

const resetInputSchema = z.object({
  token: presentedSecretSchema,
  newPassword: passwordInputSchema,
  tenantId: optionalTenantIdSchema,
});

/** Unknown emails spread their dummy tokens over this many subjects (bounded rows, little lock contention). */
const DUMMY_SUBJECT_BUCKETS = 16;

/**
 * The subject an unknown email's dummy reset token is issued to: never a user id (user ids
 * have no colon), one of {@link DUMMY_SUBJECT_BUCKETS} per email hash.
 */
function dummySubjectOf(email: string): string {
  const bucket = createHash('sha256').update(email, 'utf8').digest()[0]! % DUMMY_SUBJECT_BUCKETS;
  return `tk:no-account:${bucket}`;
}

/**
 * Starts a password reset without revealing whether the account exists.
 *
 * Every request is charged to the reset throttle (per email and IP, its own counters) **before**
 * the account is looked up, and stays counted, so a known and an unknown email are throttled
 * alike: past the limit both get `RATE_LIMITED` (429 with `retryAfterSeconds`, which says nothing
 * about the account and tells a real user when to try again); below it both resolve with
 * nothing. Both paths then do the same store work: one account lookup and one token issue (for
 * an existing account its reset token, voiding earlier ones; for an unknown email a dummy token
 * nobody holds, issued to one of 16 subjects that are never user ids, living 60 s). Only for an
 * existing account is `password-reset-requested` emitted, with the link built from the
 * configured base URL: what listeners do with it (sending mail) is the remaining timing
 * difference, so deliver it asynchronously (a queue or outbox), never inside the request.
 * `tenantId` is remembered with the token: the reset then applies that tenant's password policy
 * (unless `resetPassword` names another).
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
  const charge = await context.resetThrottle.beginAttempt(loginAttemptFor(email, client));
  // Every request is spent, known email or not: none is given back.
  await charge.failed();
  if (charge.delayMs > 0) await context.sleep(charge.delayMs);

  const account = await context.stores.accounts.findByEmail(email);
  // The token's own tenantId stays null (reset tokens are per user, so a reissue voids every
  // earlier one); the tenant rides in `data` and picks the policy the new password must meet.
  const data = tenantId === null ? {} : { tenantId };
  if (account === null) {
    await context.oneTimeTokens.issue('password-reset', dummySubjectOf(email), { data, ttlSeconds: 60 });
    return;
  }
  const issued = await context.oneTimeTokens.issue('password-reset', account.id, { data });
  context.emit('password-reset-requested', { userId: account.id, email, link: issued.link, expiresAt: issued.expiresAt });
}

/**
 * Completes a password reset.
 *
 * 1. Before the link is used: the input, and the password policy of `tenantId` (else the
 *    default policy) without the email's context words. A password refused here leaves the
 *    link untouched, so the user simply tries again.
 * 2. The token is taken (single use, atomic).
 * 3. Then the checks that need the account: the full policy (of `tenantId`, else of the tenant
 *    the reset was requested for, else the default; with the email's context words) and the
 *    history. **A refusal here leaves the link spent**: the user asks for a new one. The token
 *    is never put back, because putting it back would be an issue that voids any newer link of
 *    the user and revives this one. Nothing is emitted. Pass `tenantId` when the reset was
 *    requested for a tenant, so its rules are checked in step 1.
 * 4. The password is set, then every credential of the user is revoked (see `revokeUser`:
 *    access tokens and pending sign-ins by the user epoch, sessions, refresh families, and the
 *    API keys the user created before now) and any other reset link voided. The reset link
 *    reached the mailbox, so an unverified email counts as verified afterwards. Emits
 *    `password-changed` (`via: 'reset'`).
 *
 * @throws `VALIDATION_FAILED`, `ONE_TIME_TOKEN_INVALID`, `PASSWORD_POLICY_VIOLATION`, `PASSWORD_REUSED`
 * @example
 * ```ts
 * await resetPassword(context, { token: body.token, newPassword: body.password, tenantId: tenant?.id });
 * ```
 */
export async function resetPassword(
  context: AuthFlowContext,
  input: { readonly token: string; readonly newPassword: string; readonly tenantId?: string | null },
): Promise<void> {
  const { token, newPassword, tenantId } = parseFlowInput(resetInputSchema, input, 'VALIDATION_FAILED', 'password reset input');
  await context.policy.assert(newPassword, { tenantId });
  const record = await context.oneTimeTokens.consume(token, 'password-reset');
  const found = await context.stores.accounts.findById(record.subject);
  if (found === null) throw new AuthError('ONE_TIME_TOKEN_INVALID', 'The reset link is invalid or has expired');
  const requestedTenant = typeof record.data['tenantId'] === 'string' ? record.data['tenantId'] : null;
  const account = await setNewPassword(context, found, newPassword, tenantId ?? requestedTenant);
  if (account.emailVerifiedAt === null) await context.stores.accounts.update(account.id, { emailVerifiedAt: context.clock.now() }, context.clock.now());
  await revokeUser(context, account.id, 'password-reset');
  await context.oneTimeTokens.voidFor('password-reset', account.id);
  context.emit('password-changed', { userId: account.id, via: 'reset' });
}
