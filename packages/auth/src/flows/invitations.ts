import { z } from 'zod';
import type { AuthUser } from '../auth.js';
import { AuthError } from '../errors.js';
import type { AccountRecord } from '../store.js';
import type { AuthFlowContext } from './auth-flow-context.js';
import { requireMemberships, type AuthMemberships } from './auth-memberships.js';
import { createAccount } from './create-account.js';
import { flowIdSchema, passwordInputSchema, presentedSecretSchema } from './flow-input-schemas.js';
import { normalizeEmail } from './normalize-email.js';
import { parseFlowInput } from './parse-flow-input.js';
import { toAuthUser } from './to-auth-user.js';

/** Invitation payloads are stored with the token: keep them small. */
const MAX_INVITATION_DATA_BYTES = 4096;

const inviteInputSchema = z.object({
  tenantId: flowIdSchema,
  email: z.string(),
  invitedBy: flowIdSchema,
  data: z
    .record(z.string(), z.unknown())
    .optional()
    .refine((data) => data === undefined || jsonSize(data) <= MAX_INVITATION_DATA_BYTES, `must be JSON of at most ${MAX_INVITATION_DATA_BYTES} bytes`),
});

const acceptInputSchema = z
  .object({ token: presentedSecretSchema, password: passwordInputSchema.optional(), userId: flowIdSchema.optional() })
  .refine((input) => (input.password === undefined) !== (input.userId === undefined), 'give exactly one of password (new account) or userId (signed-in user)');

/** What an invitation token keeps besides its subject (the email) and tenant. */
const invitationDataSchema = z.object({ invitedBy: z.string(), data: z.record(z.string(), z.unknown()) });

function jsonSize(value: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? '', 'utf8');
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/**
 * Invites an email into a tenant: an invitation token whose subject is the normalized email and
 * whose tenant is `tenantId` (reissuing voids the earlier invitation of that email to that
 * tenant), with `invitedBy` and `data` kept for acceptance. Emits `invitation-created` with the
 * link (the tenant's base URL when configured). Whether `invitedBy` may invite is the app's
 * authorization check, made before calling this.
 *
 * @throws `VALIDATION_FAILED`, `CONFIGURATION_INVALID` (no memberships, or no base URL for the tenant)
 * @example
 * ```ts
 * await invite(context, { tenantId: 'tnt_acme', email: 'bob@example.com', invitedBy: principal.id, data: { roles: ['member'] } });
 * ```
 */
export async function invite(
  context: AuthFlowContext,
  input: { readonly tenantId: string; readonly email: string; readonly invitedBy: string; readonly data?: Readonly<Record<string, unknown>> },
): Promise<{ readonly expiresAt: number }> {
  const { tenantId, invitedBy, data } = parseFlowInput(inviteInputSchema, input, 'VALIDATION_FAILED', 'invitation');
  requireMemberships(context.memberships, 'invite');
  const email = normalizeEmail(input.email);
  const issued = await context.oneTimeTokens.issue('invitation', email, { tenantId, data: { invitedBy, data: data ?? {} } });
  context.emit('invitation-created', { tenantId, email, invitedBy, link: issued.link, expiresAt: issued.expiresAt });
  return { expiresAt: issued.expiresAt };
}

/**
 * Accepts an invitation (single use):
 * - with `password`: creates the account for the invited email (policy of the tenant; the email
 *   counts as verified — the link reached it) — `ACCOUNT_ALREADY_EXISTS` when the email has an
 *   account (sign in and accept a new invitation with `userId`);
 * - with `userId` (the signed-in user): the account's email must be the invited one
 *   (`ONE_TIME_TOKEN_INVALID` otherwise); it becomes verified too.
 *
 * Checked **before** the link is used, so a refusal leaves it usable: the input, with
 * `password` the default password policy (no tenant, no email context), with `userId` that the
 * account exists and is not disabled (`ACCOUNT_DISABLED`). Everything checked after the token
 * is taken (the invited email, the tenant's policy with the email's context words, an existing
 * account, the membership) **leaves the invitation spent** when it fails: the invitee asks for a
 * new one. The token is never put back, because putting it back would be an issue that voids a
 * newer invitation of the same email and revives this one.
 *
 * Then the membership is made active (`addMember` with `status: 'active'` and `invitedBy`; an
 * existing `invited` one is activated, an active one kept). If that fails, an account created
 * here is deleted again. Emits `account-created` (new account), `invitation-accepted`.
 *
 * @returns the user, the tenant and the invitation's `data` (the roles to assign).
 * @throws `VALIDATION_FAILED`, `ONE_TIME_TOKEN_INVALID`, `ACCOUNT_ALREADY_EXISTS`, `PASSWORD_POLICY_VIOLATION`, `ACCOUNT_DISABLED`, `MEMBERSHIP_INACTIVE` (suspended member), `TENANT_NOT_FOUND`
 * @example
 * ```ts
 * const { user, tenantId, data } = await acceptInvitation(context, { token: body.token, password: body.password });
 * await rbac.assignments.assignAsSystem({ reason: 'invitation' }, { subject: { type: 'user', id: user.id }, roleKey: String(data.role) }, { tenantId });
 * ```
 */
export async function acceptInvitation(
  context: AuthFlowContext,
  input: { readonly token: string; readonly password?: string; readonly userId?: string },
): Promise<{ readonly user: AuthUser; readonly tenantId: string; readonly data: Readonly<Record<string, unknown>> }> {
  const { token, password, userId } = parseFlowInput(acceptInputSchema, input, 'VALIDATION_FAILED', 'invitation acceptance');
  const memberships = requireMemberships(context.memberships, 'acceptInvitation');
  // What can be checked without the token's record, before the token is taken.
  let signedIn: AccountRecord | null = null;
  if (password !== undefined) {
    await context.policy.assert(password, { tenantId: null });
  } else {
    signedIn = await context.stores.accounts.findById(userId!);
    if (signedIn === null) throw new AuthError('ONE_TIME_TOKEN_INVALID', 'This invitation was sent to another email address');
    if (signedIn.disabledAt !== null) throw new AuthError('ACCOUNT_DISABLED', 'The account is disabled');
  }

  const record = await context.oneTimeTokens.consume(token, 'invitation');
  const stored = invitationDataSchema.safeParse(record.data);
  if (record.tenantId === null || !stored.success) throw new AuthError('ONE_TIME_TOKEN_INVALID', 'The invitation is invalid or has expired');
  const tenantId = record.tenantId;
  const email = record.subject;
  const { invitedBy, data } = stored.data;

  const now = context.clock.now();
  let account: AccountRecord;
  let created = false;
  if (password !== undefined) {
    await context.policy.assert(password, { tenantId, email });
    // Before the hash: an existing account costs no scrypt (createAccount still decides races).
    if ((await context.stores.accounts.findByEmail(email)) !== null) {
      throw new AuthError('ACCOUNT_ALREADY_EXISTS', 'An account with this email already exists');
    }
    const passwordHash = await context.hasher.hash(password);
    account = await createAccount(context, { email, passwordHash, emailVerifiedAt: now, now });
    created = true;
  } else {
    const found = signedIn!;
    if (found.email !== email) throw new AuthError('ONE_TIME_TOKEN_INVALID', 'This invitation was sent to another email address');
    account = found.emailVerifiedAt === null ? ((await context.stores.accounts.update(found.id, { emailVerifiedAt: now }, now)) ?? found) : found;
  }
  try {
    await activateMembership(memberships, tenantId, account.id, invitedBy);
  } catch (error) {
    if (created) await context.stores.accounts.delete(account.id).catch(() => false);
    throw error;
  }
  if (created) context.emit('account-created', { userId: account.id, email, tenantId });
  context.emit('invitation-accepted', { tenantId, userId: account.id });
  return { user: toAuthUser(account), tenantId, data };
}

async function activateMembership(memberships: AuthMemberships, tenantId: string, userId: string, invitedBy: string): Promise<void> {
  const existing = await memberships.getMembership(tenantId, userId);
  if (existing === null) {
    await memberships.addMember(tenantId, userId, { status: 'active', invitedBy });
    return;
  }
  if (existing.status === 'active') return;
  if (existing.status === 'invited' && memberships.setMemberStatus !== undefined) {
    await memberships.setMemberStatus(tenantId, userId, 'active');
    return;
  }
  // A suspended member stays suspended: an invitation does not lift an administrator's decision.
  throw new AuthError('MEMBERSHIP_INACTIVE', `The membership is ${existing.status}`, { details: { status: existing.status } });
}
