import { z } from 'zod';
import type { AuthUser, ClientInfo } from '../auth.js';
import { AuthError } from '../errors.js';
import type { AuthFlowContext } from './auth-flow-context.js';
import { createAccount } from './create-account.js';
import { optionalTenantIdSchema, passwordInputSchema } from './flow-input-schemas.js';
import { loginAttemptFor } from './login-attempt.js';
import { normalizeEmail } from './normalize-email.js';
import { parseFlowInput } from './parse-flow-input.js';
import { toAuthUser } from './to-auth-user.js';

const signUpInputSchema = z.object({
  email: z.string(),
  password: passwordInputSchema,
  tenantId: optionalTenantIdSchema,
});

const clientSchema = z.object({ ip: z.string().max(128).nullable() }).optional();

/** The client of a sign-up made without one: every such call shares one IP counter. */
const NO_CLIENT: ClientInfo = { ip: null };

/**
 * Creates an account with a password and asks for its email to be verified.
 *
 * Steps: input checks (`VALIDATION_FAILED`: a password over 1024 code units is refused before the
 * policy or the hasher runs) → email normalized → the sign-up throttle (`RATE_LIMITED`: every
 * request is charged per (email, IP), per IP and per email and stays counted, success or not) →
 * password policy (of the tenant when given; `PASSWORD_POLICY_VIOLATION`, e.g. over the policy's
 * `maxLength`) → `ACCOUNT_ALREADY_EXISTS` when the email has an account, **before** any hashing
 * → hash → insert (`ACCOUNT_ALREADY_EXISTS` again for a concurrent sign-up) → verification
 * token. When the verification token cannot be issued the account is deleted again, so a retry
 * is not answered "already exists"; events are emitted only once everything is written.
 *
 * A sign-up necessarily tells its caller that an email is taken (the account cannot be created
 * twice, and the user must be told to sign in instead). The throttle is what bounds that
 * oracle: by default 5 tries per email and IP per 15 minutes, 100 per IP per hour and 50 per
 * email per hour. Pass `client` (the IP from the trusted-proxy rules): without it every call
 * is counted under the one shared IP key `'unknown'`, throttled rather than exempt.
 *
 * @example
 * ```ts
 * const { user } = await signUp(context, { email: 'alice@example.com', password: 'correct horse battery' }, { ip: clientIp });
 * ```
 */
export async function signUp(
  context: AuthFlowContext,
  input: { readonly email: string; readonly password: string; readonly tenantId?: string | null },
  client?: ClientInfo,
): Promise<{ readonly user: AuthUser }> {
  const { password, tenantId } = parseFlowInput(signUpInputSchema, input, 'VALIDATION_FAILED', 'sign-up input');
  parseFlowInput(clientSchema, client, 'VALIDATION_FAILED', 'client info');
  const email = normalizeEmail(input.email);
  const charge = await context.signUpThrottle.beginAttempt(loginAttemptFor(email, { ip: (client ?? NO_CLIENT).ip }));
  // Every sign-up request is spent, whatever its outcome.
  await charge.failed();
  if (charge.delayMs > 0) await context.sleep(charge.delayMs);

  await context.policy.assert(password, { tenantId, email });
  if ((await context.stores.accounts.findByEmail(email)) !== null) {
    throw new AuthError('ACCOUNT_ALREADY_EXISTS', 'An account with this email already exists');
  }
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
