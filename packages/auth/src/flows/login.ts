import { isTenantkitError } from '@tenantkit/core';
import { z } from 'zod';
import type { ClientInfo, LoginResult } from '../auth.js';
import { AuthError } from '../errors.js';
import type { AuthFlowContext } from './auth-flow-context.js';
import { requireMemberships } from './auth-memberships.js';
import { endSession } from './end-session.js';
import { optionalTenantIdSchema, passwordInputSchema, presentedSecretSchema } from './flow-input-schemas.js';
import { loginAttemptFor } from './login-attempt.js';
import { mintForSignIn } from './mint-access-token.js';
import { normalizeEmail } from './normalize-email.js';
import { parseFlowInput } from './parse-flow-input.js';
import { toAuthUser } from './to-auth-user.js';

const loginInputSchema = z.object({
  email: z.string(),
  password: passwordInputSchema,
  tenantId: optionalTenantIdSchema,
  currentSessionToken: presentedSecretSchema.optional(),
  deviceToken: z.string().max(256).optional(),
});

const clientSchema = z.object({
  ip: z.string().max(128).nullable(),
  userAgent: z.string().nullish(),
  label: z.string().nullish(),
  trustedDevice: z.boolean().optional(),
});

const PASSWORD_AMR = ['pwd'] as const;

/**
 * Password sign-in.
 *
 * 1. Input checks: `VALIDATION_FAILED` for a malformed email or a password over 1024 code units
 *    (refused before any hashing; it cannot be a real password, and the answer says nothing
 *    about the account).
 * 2. Device trust: the attempt is a trusted device when `deviceToken` (from an earlier
 *    `SignedIn.deviceToken`) verifies for this email, or when `client.trustedDevice` says so.
 *    A trusted device is exempt from the account-wide lockout only.
 * 3. `throttle.beginAttempt` charges the attempt to every counter **before** the password is
 *    checked, all or nothing (`RATE_LIMITED` when a counter is full: parallel guesses cannot
 *    outrun it), then the progressive delay it asks for.
 * 4. The account by email, and **one** hasher call either way: `verify` against its hash, or
 *    `verifyDummy` for an unknown email or an account without a password — the same work, the
 *    same `CREDENTIALS_INVALID` (code and message) for both, and the attempt stays counted as a
 *    failure. A correct password gives the attempt back (the (account, IP) counter is cleared).
 * 5. Only after a correct password: `ACCOUNT_DISABLED`; with `tenantId`, the active membership
 *    (`MEMBERSHIP_NOT_FOUND`, `MEMBERSHIP_INACTIVE`, `TENANT_SUSPENDED`, `TENANT_NOT_READY`).
 * 6. Rehash when the hasher's parameters changed (compare-and-set: a concurrent password change
 *    wins).
 * 7. A second factor, when the gate asks for one: a pending token, no session, no tokens.
 * 8. A presented valid session is ended (the session id changes on login), then a new session,
 *    a new refresh family bound to the tenant and a fresh device token.
 *
 * @example
 * ```ts
 * const result = await login(context, { email: 'alice@example.com', password, tenantId: 'tnt_acme', deviceToken: cookies.tk_device }, { ip: '203.0.113.7' });
 * ```
 */
export async function login(
  context: AuthFlowContext,
  input: {
    readonly email: string;
    readonly password: string;
    readonly tenantId?: string | null;
    readonly currentSessionToken?: string;
    readonly deviceToken?: string;
  },
  client: ClientInfo,
): Promise<LoginResult> {
  const { password, tenantId, currentSessionToken, deviceToken } = parseFlowInput(loginInputSchema, input, 'VALIDATION_FAILED', 'login input');
  parseFlowInput(clientSchema, client, 'VALIDATION_FAILED', 'client info');
  const email = normalizeEmail(input.email);
  const trustedDevice = client.trustedDevice === true || (deviceToken !== undefined && context.deviceTokens.verify(deviceToken, email));
  const attempt = loginAttemptFor(email, { ...client, trustedDevice });

  let charge;
  try {
    charge = await context.throttle.beginAttempt(attempt);
  } catch (error) {
    if (isTenantkitError(error, 'RATE_LIMITED')) context.emit('login-failed', { email, userId: null, ip: client.ip, reason: 'throttled' });
    throw error;
  }
  if (charge.delayMs > 0) await context.sleep(charge.delayMs);

  const account = await context.stores.accounts.findByEmail(email);
  const passwordHash = account?.passwordHash ?? null;
  const verified = passwordHash === null ? await context.hasher.verifyDummy(password) : await context.hasher.verify(password, passwordHash);
  if (!verified || account === null || passwordHash === null) {
    await charge.failed();
    context.emit('login-failed', { email, userId: account?.id ?? null, ip: client.ip, reason: 'credentials' });
    throw new AuthError('CREDENTIALS_INVALID', 'Invalid email or password');
  }
  // The password was right: whatever follows, this was no guess to count.
  await charge.succeeded();
  if (account.disabledAt !== null) {
    context.emit('login-failed', { email, userId: account.id, ip: client.ip, reason: 'disabled' });
    throw new AuthError('ACCOUNT_DISABLED', 'The account is disabled');
  }
  if (tenantId !== null) await requireMemberships(context.memberships, 'A sign-in with tenantId').requireActiveMembership(tenantId, account.id);

  if (context.hasher.needsRehash(passwordHash)) {
    const rehashed = await context.hasher.hash(password);
    // false: the password changed meanwhile; that change wins and this sign-in stays valid.
    await context.stores.accounts.rehashPassword(account.id, passwordHash, rehashed, context.clock.now());
  }

  const user = toAuthUser(account);
  if (context.secondFactor !== undefined && (await context.secondFactor.required(user))) {
    const methods = (await context.secondFactor.methods?.(user)) ?? [];
    const pending = await context.pendingSecondFactor.issue({ userId: account.id, tenantId, amr: PASSWORD_AMR });
    return { status: 'second-factor-required', userId: account.id, pendingToken: pending.token, methods: [...methods] };
  }

  if (currentSessionToken !== undefined) await endPresentedSession(context, currentSessionToken);

  const issued = await context.sessions.create({
    userId: account.id,
    tenantId,
    amr: PASSWORD_AMR,
    device: { userAgent: client.userAgent ?? null, ip: client.ip, label: client.label ?? null },
  });
  let tokens;
  try {
    tokens = await context.refreshTokens.startFamily(
      { userId: account.id, tenantId, sessionId: issued.session.id },
      mintForSignIn(context, PASSWORD_AMR),
    );
  } catch (error) {
    // No half sign-in: a session without its tokens is removed again.
    await context.sessions.revoke(account.id, issued.session.id).catch(() => false);
    throw error;
  }
  context.emit('login-succeeded', { userId: account.id, sessionId: issued.session.id, tenantId, ip: client.ip });
  return { status: 'authenticated', user, session: issued, tokens, deviceToken: context.deviceTokens.issue(email) };
}

/** Ends the session the client presented (whoever's it is: its cookie is being replaced). */
async function endPresentedSession(context: AuthFlowContext, token: string): Promise<void> {
  let session;
  try {
    session = await context.sessions.validate(token);
  } catch (error) {
    if (isTenantkitError(error, 'SESSION_INVALID')) return;
    throw error;
  }
  await endSession(context, { userId: session.userId, sessionId: session.id }, 'login');
}
