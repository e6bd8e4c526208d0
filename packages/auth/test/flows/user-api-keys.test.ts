import { describe, expect, it } from 'vitest';
import type { AuthPrincipal } from '../../src/principal.js';
import { ACME, CLIENT, createAuthHarness, OTHER_PASSWORD, tokenFromLink } from './auth-flow-harness.js';

const apiKeys = { hashKeys: [{ id: 'v1', secret: 'test-pepper-of-at-least-32-bytes!!' }], permissions: { can: () => true } };

async function harnessWithCreator() {
  const h = await createAuthHarness({ apiKeys });
  const signedIn = await h.signedInMember();
  const creator = (await h.auth.authenticator.authenticate({ authorization: `Bearer ${signedIn.tokens.accessToken.token}` }, { tenantId: ACME })) as AuthPrincipal;
  const createKey = (scopesOnly = false) => h.auth.apiKeys.create({ tenantId: ACME, name: 'CI', scopes: ['projects:read'], creator, scopesOnly });
  return { h, signedIn, creator, createKey };
}

describe('API keys end with their creator', () => {
  it('checklist: reset revokes all sessions — and the API keys the user created: a key from before resetPassword is refused, one created after it works', async () => {
    const { h, createKey } = await harnessWithCreator();
    const before = await createKey();
    await expect(h.auth.apiKeys.authenticate(before.key, { tenantId: ACME })).resolves.toMatchObject({ kind: 'api-key' });
    h.clock.advance(1000);

    await h.auth.requestPasswordReset({ email: 'alice@example.com' }, CLIENT);
    await h.auth.resetPassword({ token: tokenFromLink(h.lastEvent('password-reset-requested').link), newPassword: OTHER_PASSWORD });

    // Refused at once, although it was cached.
    await expect(h.auth.apiKeys.authenticate(before.key, { tenantId: ACME })).rejects.toMatchObject({ code: 'API_KEY_INVALID' });
    h.clock.advance(1000);
    const signedInAgain = await h.auth.login({ email: 'alice@example.com', password: OTHER_PASSWORD, tenantId: ACME }, CLIENT);
    if (signedInAgain.status !== 'authenticated') throw new Error('expected authenticated');
    const creator = (await h.auth.authenticator.authenticate({ authorization: `Bearer ${signedInAgain.tokens.accessToken.token}` }, { tenantId: ACME })) as AuthPrincipal;
    const after = await h.auth.apiKeys.create({ tenantId: ACME, name: 'CI', scopes: ['projects:read'], creator });
    await expect(h.auth.apiKeys.authenticate(after.key, { tenantId: ACME })).resolves.toMatchObject({ kind: 'api-key', grantsFrom: creator.id });
    // Past the cache TTL the old key is still refused (the store is asked again).
    h.clock.advance(120_000);
    await expect(h.auth.apiKeys.authenticate(before.key, { tenantId: ACME })).rejects.toMatchObject({ code: 'API_KEY_INVALID' });
  });

  it('revokeUser refuses the keys the user created; a scopes-only key (no creator) stays, and revokeTenant ends it', async () => {
    const { h, signedIn, createKey } = await harnessWithCreator();
    const userKey = await createKey();
    const tenantKey = await createKey(true);
    h.clock.advance(1000);

    await h.auth.revokeUser(signedIn.user.id, 'account-compromised');
    await expect(h.auth.apiKeys.authenticate(userKey.key, { tenantId: ACME })).rejects.toMatchObject({ code: 'API_KEY_INVALID' });
    await expect(h.auth.apiKeys.authenticate(tenantKey.key, { tenantId: ACME })).resolves.toMatchObject({ grantsFrom: null });

    h.clock.advance(1000);
    await h.auth.revocation.revokeTenant(ACME);
    await expect(h.auth.apiKeys.authenticate(tenantKey.key, { tenantId: ACME })).rejects.toMatchObject({ code: 'API_KEY_INVALID' });
  });
});
