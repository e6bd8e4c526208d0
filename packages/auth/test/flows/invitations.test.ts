import { describe, expect, it } from 'vitest';
import { createPasswordPolicy } from '../../src/passwords/create-password-policy.js';
import type { PasswordPolicy } from '../../src/passwords/password-policy.js';
import { ACME, BASE_URL, CLIENT, createAuthHarness, OTHER_PASSWORD, PASSWORD, tokenFromLink } from './auth-flow-harness.js';

async function invitationToken(h: Awaited<ReturnType<typeof createAuthHarness>>, email = 'bob@example.com', data: Record<string, unknown> = { roles: ['member'] }) {
  await h.auth.invite({ tenantId: ACME, email, invitedBy: 'usr_admin', data });
  return tokenFromLink(h.lastEvent('invitation-created').link);
}

describe('invitations', () => {
  it('invite emits invitation-created with a link for the normalized email', async () => {
    const h = await createAuthHarness();
    const { expiresAt } = await h.auth.invite({ tenantId: ACME, email: ' Bob@Example.com', invitedBy: 'usr_admin' });
    const created = h.lastEvent('invitation-created');
    expect(created).toMatchObject({ tenantId: ACME, email: 'bob@example.com', invitedBy: 'usr_admin', expiresAt });
    expect(new URL(created.link).origin).toBe(BASE_URL);
  });

  it('accepting with a password creates a verified account with an active membership and returns the data', async () => {
    const h = await createAuthHarness();
    const token = await invitationToken(h);

    const accepted = await h.auth.acceptInvitation({ token, password: PASSWORD });

    expect(accepted).toMatchObject({ tenantId: ACME, data: { roles: ['member'] }, user: { email: 'bob@example.com', emailVerified: true } });
    expect(await h.memberships.getMembership(ACME, accepted.user.id)).toMatchObject({ status: 'active', invitedBy: 'usr_admin' });
    expect(h.lastEvent('invitation-accepted')).toEqual({ tenantId: ACME, userId: accepted.user.id });
    expect(h.lastEvent('account-created')).toMatchObject({ userId: accepted.user.id, tenantId: ACME });
    await expect(h.auth.login({ email: 'bob@example.com', password: PASSWORD, tenantId: ACME }, CLIENT)).resolves.toMatchObject({
      status: 'authenticated',
    });
    await expect(h.auth.acceptInvitation({ token, password: PASSWORD })).rejects.toMatchObject({ code: 'ONE_TIME_TOKEN_INVALID' });
  });

  it('an email that has an account: ACCOUNT_ALREADY_EXISTS before any hashing, which spends the link; the signed-in user accepts a new one', async () => {
    const h = await createAuthHarness();
    const bob = await h.signUpUser('bob@example.com');
    const token = await invitationToken(h);
    const hashesBefore = h.hasherCalls.hash;

    await expect(h.auth.acceptInvitation({ token, password: OTHER_PASSWORD })).rejects.toMatchObject({ code: 'ACCOUNT_ALREADY_EXISTS' });
    expect(h.hasherCalls.hash).toBe(hashesBefore);
    await expect(h.auth.acceptInvitation({ token, userId: bob.id })).rejects.toMatchObject({ code: 'ONE_TIME_TOKEN_INVALID' });
    const accepted = await h.auth.acceptInvitation({ token: await invitationToken(h), userId: bob.id });

    expect(accepted.user).toMatchObject({ id: bob.id, emailVerified: true });
    expect(await h.memberships.getMembership(ACME, bob.id)).toMatchObject({ status: 'active' });
  });

  it('refuses a signed-in user whose email is not the invited one; the invitation is then spent', async () => {
    const h = await createAuthHarness();
    const mallory = await h.signUpUser('mallory@example.com');
    const token = await invitationToken(h);
    await expect(h.auth.acceptInvitation({ token, userId: mallory.id })).rejects.toMatchObject({ code: 'ONE_TIME_TOKEN_INVALID' });
    expect(await h.memberships.getMembership(ACME, mallory.id)).toBeNull();
    await expect(h.auth.acceptInvitation({ token, password: PASSWORD })).rejects.toMatchObject({ code: 'ONE_TIME_TOKEN_INVALID' });
    expect(await h.stores.accounts.findByEmail('bob@example.com')).toBeNull();
  });

  it('checks a disabled or unknown signed-in user before the link is used, which stays usable', async () => {
    const h = await createAuthHarness();
    const bob = await h.signUpUser('bob@example.com');
    const token = await invitationToken(h);
    await h.auth.disableUser(bob.id, 'test');
    await expect(h.auth.acceptInvitation({ token, userId: bob.id })).rejects.toMatchObject({ code: 'ACCOUNT_DISABLED' });
    await expect(h.auth.acceptInvitation({ token, userId: 'usr_missing' })).rejects.toMatchObject({ code: 'ONE_TIME_TOKEN_INVALID' });
    await h.auth.enableUser(bob.id);
    await expect(h.auth.acceptInvitation({ token, userId: bob.id })).resolves.toMatchObject({ tenantId: ACME, user: { id: bob.id } });
  });

  it('one-time tokens: a failed acceptance of an older invitation never voids the newer one nor revives itself', async () => {
    let release: () => void = () => undefined;
    let paused: () => void = () => undefined;
    const inFlight = new Promise<void>((resolve) => (paused = resolve));
    const base = createPasswordPolicy({ tenantOverrides: (tenantId) => (tenantId === ACME ? { minLength: 30 } : undefined) });
    // Pauses the tenant check of one password, which runs once the invitation is taken.
    const policy: PasswordPolicy = {
      rulesFor: (tenantId) => base.rulesFor(tenantId),
      check: (password, context) => base.check(password, context),
      async assert(password, context) {
        if (password === OTHER_PASSWORD && context.tenantId === ACME) {
          paused();
          await new Promise<void>((resolve) => (release = resolve));
        }
        return base.assert(password, context);
      },
    };
    const h = await createAuthHarness({ passwordPolicy: policy });
    const older = await invitationToken(h);
    const attempt = h.auth.acceptInvitation({ token: older, password: OTHER_PASSWORD });
    await inFlight;
    // The admin re-invites while the older link is being used: nothing voids the older one now (it is taken).
    const newer = await invitationToken(h, 'bob@example.com', { roles: ['admin'] });
    release();
    await expect(attempt).rejects.toMatchObject({ code: 'PASSWORD_POLICY_VIOLATION' });
    await expect(h.auth.acceptInvitation({ token: older, password: 'a much longer passphrase of thirty-plus' })).rejects.toMatchObject({
      code: 'ONE_TIME_TOKEN_INVALID',
    });
    await expect(h.auth.acceptInvitation({ token: newer, password: 'a much longer passphrase of thirty-plus' })).resolves.toMatchObject({
      data: { roles: ['admin'] },
    });
  });

  it('a password the policy refuses leaves no account and the link usable', async () => {
    const h = await createAuthHarness();
    const token = await invitationToken(h);
    await expect(h.auth.acceptInvitation({ token, password: 'password1' })).rejects.toMatchObject({ code: 'PASSWORD_POLICY_VIOLATION' });
    expect(await h.stores.accounts.findByEmail('bob@example.com')).toBeNull();
    await expect(h.auth.acceptInvitation({ token, password: PASSWORD })).resolves.toMatchObject({ tenantId: ACME });
  });

  it('a new invitation voids the earlier one', async () => {
    const h = await createAuthHarness();
    const first = await invitationToken(h);
    const second = await invitationToken(h, 'bob@example.com', { roles: ['admin'] });
    await expect(h.auth.acceptInvitation({ token: first, password: PASSWORD })).rejects.toMatchObject({ code: 'ONE_TIME_TOKEN_INVALID' });
    await expect(h.auth.acceptInvitation({ token: second, password: PASSWORD })).resolves.toMatchObject({ data: { roles: ['admin'] } });
  });

  it('when the membership cannot be added the new account is deleted again', async () => {
    const h = await createAuthHarness();
    const token = await invitationToken(h);
    await h.registry.deleteTenant(ACME, 'test');
    await expect(h.auth.acceptInvitation({ token, password: PASSWORD })).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
    expect(await h.stores.accounts.findByEmail('bob@example.com')).toBeNull();
  });

  it('asks for exactly one of password and userId (VALIDATION_FAILED)', async () => {
    const h = await createAuthHarness();
    const token = await invitationToken(h);
    await expect(h.auth.acceptInvitation({ token })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(h.auth.acceptInvitation({ token, password: PASSWORD, userId: 'usr_1' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(h.auth.acceptInvitation({ token, password: PASSWORD })).resolves.toMatchObject({ tenantId: ACME });
  });
});
