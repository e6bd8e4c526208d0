import { describe, expect, it } from 'vitest';
import { ACME, CLIENT, createAuthHarness, PASSWORD, rejectionOf } from './auth-flow-harness.js';

const permissions = { can: () => true };
const apiKeys = { hashKeys: [{ id: 'v1', secret: 'test-pepper-of-at-least-32-bytes!!' }], permissions };

describe('disableUser and enableUser', () => {
  it('disabled accounts keep no credential: the session cookie, the bearer token, the refresh token and the API key are all refused after disableUser', async () => {
    const h = await createAuthHarness({ apiKeys });
    const signedIn = await h.signedInMember();
    const bearer = `Bearer ${signedIn.tokens.accessToken.token}`;
    const creator = await h.auth.authenticator.authenticate({ authorization: bearer }, { tenantId: ACME });
    const { key } = await h.auth.apiKeys.create({ tenantId: ACME, name: 'CI', scopes: ['projects:read'], creator: creator! });
    // Every credential works before (and the API key is cached).
    await expect(h.auth.apiKeys.authenticate(key, { tenantId: ACME })).resolves.toMatchObject({ kind: 'api-key' });
    h.clock.advance(1000);

    await h.auth.disableUser(signedIn.user.id, 'offboarded');

    const cookie = `${h.auth.authenticator.sessionCookieName}=${signedIn.session.token}`;
    await expect(h.auth.authenticator.authenticate({ cookie }, { tenantId: ACME })).rejects.toMatchObject({ code: 'SESSION_INVALID' });
    await expect(h.auth.authenticator.authenticate({ authorization: bearer }, { tenantId: ACME })).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    await expect(h.auth.refresh(signedIn.tokens.refreshToken)).rejects.toMatchObject({ code: 'REFRESH_TOKEN_INVALID' });
    await expect(h.auth.apiKeys.authenticate(key, { tenantId: ACME })).rejects.toMatchObject({ code: 'API_KEY_INVALID' });
    expect(await h.auth.getUser(signedIn.user.id)).toMatchObject({ disabled: true });
    expect(h.lastEvent('account-disabled')).toEqual({ userId: signedIn.user.id, reason: 'offboarded' });
    expect(h.lastEvent('user-tokens-revoked')).toEqual({ userId: signedIn.user.id, reason: 'offboarded' });
  });

  it('login of a disabled account says ACCOUNT_DISABLED only after a correct password; enableUser lets it sign in again', async () => {
    const h = await createAuthHarness();
    const user = await h.signUpUser();
    await h.auth.disableUser(user.id);
    expect(h.lastEvent('account-disabled')).toEqual({ userId: user.id, reason: 'account-disabled' });

    await expect(h.auth.login({ email: 'alice@example.com', password: 'not the password at all' }, CLIENT)).rejects.toMatchObject({ code: 'CREDENTIALS_INVALID' });
    await expect(h.auth.login({ email: 'alice@example.com', password: PASSWORD }, CLIENT)).rejects.toMatchObject({ code: 'ACCOUNT_DISABLED' });

    await h.auth.enableUser(user.id);
    expect(h.lastEvent('account-enabled')).toEqual({ userId: user.id });
    await expect(h.auth.login({ email: 'alice@example.com', password: PASSWORD }, CLIENT)).resolves.toMatchObject({ status: 'authenticated' });
  });

  it('what the disable revoked stays revoked after enableUser; disabling twice keeps the first disabledAt', async () => {
    const h = await createAuthHarness();
    const signedIn = await h.signedInMember();
    h.clock.advance(1000);
    await h.auth.disableUser(signedIn.user.id, 'suspicious');
    const disabledAt = (await h.stores.accounts.findById(signedIn.user.id))?.disabledAt;
    h.clock.advance(1000);
    await h.auth.disableUser(signedIn.user.id, 'suspicious');
    expect((await h.stores.accounts.findById(signedIn.user.id))?.disabledAt).toBe(disabledAt);
    await h.auth.enableUser(signedIn.user.id);
    await h.auth.enableUser(signedIn.user.id);
    expect(h.eventsNamed('account-enabled')).toHaveLength(1);
    await expect(h.auth.tokens.verify(signedIn.tokens.accessToken.token)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    await expect(h.auth.sessions.validate(signedIn.session.token)).rejects.toMatchObject({ code: 'SESSION_INVALID' });
  });

  it('refuses an unknown user (ACCOUNT_NOT_FOUND) and invalid input (VALIDATION_FAILED)', async () => {
    const h = await createAuthHarness();
    expect(await rejectionOf(h.auth.disableUser('usr_missing'))).toMatchObject({ code: 'ACCOUNT_NOT_FOUND' });
    expect(await rejectionOf(h.auth.enableUser('usr_missing'))).toMatchObject({ code: 'ACCOUNT_NOT_FOUND' });
    expect(await rejectionOf(h.auth.disableUser(''))).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await rejectionOf(h.auth.disableUser('usr_1', ' '))).toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
