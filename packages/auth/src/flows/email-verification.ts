import type { AuthUser } from '../auth.js';
import { AuthError } from '../errors.js';
import type { AuthFlowContext } from './auth-flow-context.js';
import { flowIdSchema, presentedSecretSchema } from './flow-input-schemas.js';
import { parseFlowInput } from './parse-flow-input.js';
import { toAuthUser } from './to-auth-user.js';

/**
 * Issues a fresh verification link (voiding earlier ones) and emits
 * `email-verification-requested`. The token remembers the email it was sent to, so a link only
 * verifies that address. An already verified account gets no new link (and no event).
 *
 * @throws `VALIDATION_FAILED`, `ACCOUNT_NOT_FOUND` (administrative: the caller names the user)
 * @example
 * ```ts
 * await requestEmailVerification(context, principal.id);
 * ```
 */
export async function requestEmailVerification(context: AuthFlowContext, userId: string): Promise<void> {
  parseFlowInput(flowIdSchema, userId, 'VALIDATION_FAILED', 'user id');
  const account = await context.stores.accounts.findById(userId);
  if (account === null) throw new AuthError('ACCOUNT_NOT_FOUND', 'No such account');
  if (account.emailVerifiedAt !== null) return;
  const issued = await context.oneTimeTokens.issue('email-verification', account.id, { data: { email: account.email } });
  context.emit('email-verification-requested', { userId: account.id, email: account.email, link: issued.link, expiresAt: issued.expiresAt });
}

/**
 * Takes a verification token (single use) and marks the account's email verified (the first
 * verification time is kept). Emits `email-verified`.
 *
 * @throws `VALIDATION_FAILED`, `ONE_TIME_TOKEN_INVALID` (also when the account is gone or its email is no longer the one the link was sent to)
 * @example
 * ```ts
 * const user = await verifyEmail(context, query.token);
 * ```
 */
export async function verifyEmail(context: AuthFlowContext, token: string): Promise<AuthUser> {
  parseFlowInput(presentedSecretSchema, token, 'VALIDATION_FAILED', 'verification token');
  const record = await context.oneTimeTokens.consume(token, 'email-verification');
  const account = await context.stores.accounts.findById(record.subject);
  if (account === null || (record.data['email'] !== undefined && record.data['email'] !== account.email)) {
    throw new AuthError('ONE_TIME_TOKEN_INVALID', 'The verification link is invalid or has expired');
  }
  if (account.emailVerifiedAt !== null) return toAuthUser(account);
  const now = context.clock.now();
  const updated = await context.stores.accounts.update(account.id, { emailVerifiedAt: now }, now);
  if (updated === null) throw new AuthError('ONE_TIME_TOKEN_INVALID', 'The verification link is invalid or has expired');
  context.emit('email-verified', { userId: account.id });
  return toAuthUser(updated);
}
