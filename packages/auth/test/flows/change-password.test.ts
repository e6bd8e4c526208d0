import { describe, expect, it } from 'vitest';
import { CLIENT, createAuthHarness, OTHER_PASSWORD, PASSWORD, tokenFromLink } from './auth-flow-harness.js';

describe('changePassword', () => {
  it('sessions: the session id changes on privilege change — the current session is rotated, the others and every older token revoked', async () => {
    const h = await createAuthHarness();
    const current = await h.signedInMember();
    const other = await h.auth.login({ email: 'alice@example.com', password: PASSWORD }, { ip: '198.51.100.2' });
    if (other.status !== 'authenticated') throw new Error('expected authenticated');
    h.clock.advance(1000);

    const { session } = await h.auth.changePassword({
      userId: current.user.id,
      currentPassword: PASSWORD,
      newPassword: OTHER_PASSWORD,
      sessionToken: current.session.token,
    });

    expect(session).not.toBeNull();
    expect(session!.session.id).not.toBe(current.session.session.id);
    await expect(h.auth.sessions.validate(session!.token)).resolves.toMatchObject({ id: session!.session.id, userId: current.user.id });
    await expect(h.auth.sessions.validate(current.session.token)).rejects.toMatchObject({ code: 'SESSION_INVALID' });
    await expect(h.auth.sessions.validate(other.session.token)).rejects.toMatchObject({ code: 'SESSION_INVALID' });
    for (const pair of [current.tokens, other.tokens]) {
      await expect(h.auth.tokens.verify(pair.accessToken.token)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
      await expect(h.auth.refresh(pair.refreshToken)).rejects.toMatchObject({ code: 'REFRESH_TOKEN_INVALID' });
    }
    expect(h.lastEvent('password-changed')).toEqual({ userId: current.user.id, via: 'change' });
    expect(h.lastEvent('session-revoked')).toMatchObject({ userId: current.user.id, sessionIds: [other.session.session.id] });
    await expect(h.auth.login({ email: 'alice@example.com', password: OTHER_PASSWORD }, CLIENT)).resolves.toMatchObject({ status: 'authenticated' });
  });

  it('checks the current password first (CREDENTIALS_INVALID) and changes nothing', async () => {
    const h = await createAuthHarness();
    const { user, session } = await h.signedInMember();
    const hashBefore = (await h.stores.accounts.findById(user.id))?.passwordHash;
    await expect(
      h.auth.changePassword({ userId: user.id, currentPassword: 'not the password at all', newPassword: OTHER_PASSWORD, sessionToken: session.token }),
    ).rejects.toMatchObject({ code: 'CREDENTIALS_INVALID' });
    expect((await h.stores.accounts.findById(user.id))?.passwordHash).toBe(hashBefore);
    await expect(h.auth.sessions.validate(session.token)).resolves.toMatchObject({ id: session.session.id });
  });

  it('wrong current passwords are throttled like failed sign-ins (RATE_LIMITED)', async () => {
    const h = await createAuthHarness({ throttle: { perAccountAndIp: { failures: 2 }, progressiveDelay: false } });
    const { user, session } = await h.signedInMember();
    const attempt = () =>
      h.auth.changePassword({ userId: user.id, currentPassword: 'not the password at all', newPassword: OTHER_PASSWORD, sessionToken: session.token });
    await expect(attempt()).rejects.toMatchObject({ code: 'CREDENTIALS_INVALID' });
    await expect(attempt()).rejects.toMatchObject({ code: 'CREDENTIALS_INVALID' });
    await expect(attempt()).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });

  it("refuses another user's session (SESSION_INVALID)", async () => {
    const h = await createAuthHarness();
    const alice = await h.signedInMember('alice@example.com');
    const bob = await h.signedInMember('bob@example.com');
    await expect(
      h.auth.changePassword({ userId: alice.user.id, currentPassword: PASSWORD, newPassword: OTHER_PASSWORD, sessionToken: bob.session.token }),
    ).rejects.toMatchObject({ code: 'SESSION_INVALID' });
  });

  it('enforces the policy and the history', async () => {
    const h = await createAuthHarness();
    const { user } = await h.signedInMember();
    await expect(h.auth.changePassword({ userId: user.id, currentPassword: PASSWORD, newPassword: 'password1' })).rejects.toMatchObject({
      code: 'PASSWORD_POLICY_VIOLATION',
    });
    await expect(h.auth.changePassword({ userId: user.id, currentPassword: PASSWORD, newPassword: PASSWORD })).rejects.toMatchObject({
      code: 'PASSWORD_REUSED',
    });
    await expect(h.auth.changePassword({ userId: user.id, currentPassword: PASSWORD, newPassword: OTHER_PASSWORD })).resolves.toEqual({ session: null });
  });

  it('voids outstanding reset links', async () => {
    const h = await createAuthHarness();
    const { user } = await h.signedInMember();
    await h.auth.requestPasswordReset({ email: 'alice@example.com' }, CLIENT);
    const resetToken = tokenFromLink(h.lastEvent('password-reset-requested').link);
    await h.auth.changePassword({ userId: user.id, currentPassword: PASSWORD, newPassword: OTHER_PASSWORD });
    await expect(h.auth.resetPassword({ token: resetToken, newPassword: 'third brave compass 9' })).rejects.toMatchObject({
      code: 'ONE_TIME_TOKEN_INVALID',
    });
  });
});
