import { z } from 'zod';
import type { AuthUser } from '../auth.js';
import type { AuthFlowContext } from './auth-flow-context.js';
import { createAccount } from './create-account.js';
import { optionalTenantIdSchema, passwordInputSchema } from './flow-input-schemas.js';
import { normalizeEmail } from './normalize-email.js';
import { parseFlowInput } from './parse-flow-input.js';
import { toAuthUser } from './to-auth-user.js';

const signUpInputSchema = z.object({
  email: z.string(),
  password: passwordInputSchema,
  tenantId: optionalTenantIdSchema,
});

/**
 * Creates an account with a password and asks for its email to be verified.
 *
 * Steps: input checks (`VALIDATION_FAILED`: a password over 1024 code units is refused before the
 * policy or the hasher runs) → email normalized → password policy (of the tenant when given;
 * `PASSWORD_POLICY_VIOLATION`, e.g. over the policy's `maxLength`) → hash → insert
 * (`ACCOUNT_ALREADY_EXISTS`) → verification token. When the verification token cannot be issued
 * the account is deleted again, so a retry is not answered "already exists"; events are emitted
 * only once everything is written.
 *
 * @example
 * ```ts
 * const { user } = await signUp(context, { email: 'alice@example.com', password: 'correct horse battery' });
 * ```
 */
export async function signUp(
  context: AuthFlowContext,
  input: { readonly email: string; readonly password: string; readonly tenantId?: string | null },
): Promise<{ readonly user: AuthUser }> {
  const { password, tenantId } = parseFlowInput(signUpInputSchema, input, 'VALIDATION_FAILED', 'sign-up input');
  const email = normalizeEmail(input.email);
  await context.policy.assert(password, { tenantId, email });
  const passwordHash = await context.hasher.hash(password);
  const now = context.clock.now();
  const account = await createAccount(context, { email, passwordHash, emailVerifiedAt: null, now });

  let verification;
  try {
    verification = await context.oneTimeTokens.issue('email-verification', account.id, { data: { email } });
  } catch (error) {
    await context.stores.accounts.delete(account.id);
    throw error;
  }
  context.emit('account-created', { userId: account.id, email, tenantId });
  context.emit('email-verification-requested', { userId: account.id, email, link: verification.link, expiresAt: verification.expiresAt });
  return { user: toAuthUser(account) };
}
