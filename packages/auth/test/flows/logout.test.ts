import { describe, expect, it } from 'vitest';
import { ACME, createAuthHarness } from './auth-flow-harness.js';

describe('logout', () => {
  it('with the session token: ends the session, its access tokens and its refresh family', async () => {
    const h = await createAuthHarness();
    const { user, session, tokens } = await h.signedInMember();

    await h.auth.logout({ sessionToken: session.token });

    await expect(h.auth.sessions.validate(session.token)).rejects.toMatchObject({ code: 'SESSION_INVALID' });
    await expect(h.auth.tokens.verify(tokens.accessToken.token)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    await expect(h.auth.refresh(tokens.refreshToken)).rejects.toMatchObject({ code: 'REFRESH_TOKEN_INVALID' });
    expect(h.lastEvent('logout')).toEqual({ userId: user.id, sessionId: session.session.id });
  });

  it('is idempotent: a second logout, or unknown credentials, resolve', async () => {
    const h = await createAuthHarness();
    const { session, tokens } = await h.signedInMember();
    await h.auth.logout({ sessionToken: session.token, refreshToken: tokens.refreshToken });
    await expect(h.auth.logout({ sessionToken: session.token, refreshToken: tokens.refreshToken })).resolves.toBeUndefined();
    await expect(h.auth.logout({ sessionToken: 'A'.repeat(43), refreshToken: 'garbage' })).resolves.toBeUndefined();
    expect(h.eventsNamed('logout')).toHaveLength(1);
  });

  it('with only the refresh token: ends its family', async () => {
    const h = await createAuthHarness();
    const { session, tokens } = await h.signedInMember();
    await h.auth.logout({ refreshToken: tokens.refreshToken });
    await expect(h.auth.refresh(tokens.refreshToken)).rejects.toMatchObject({ code: 'REFRESH_TOKEN_INVALID' });
    await expect(h.auth.sessions.validate(session.token)).resolves.toMatchObject({ id: session.session.id });
  });

  it('with an access token id: revokes exactly that token', async () => {
    const h = await createAuthHarness();
    const { tokens } = await h.signedInMember();
    h.clock.advance(1000);
    const other = await h.auth.refresh(tokens.refreshToken);
    const { jti, exp } = tokens.accessToken.claims;

    await h.auth.logout({ accessTokenId: { jti, exp } });

    await expect(h.auth.tokens.verify(tokens.accessToken.token)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    await expect(h.auth.tokens.verify(other.accessToken.token)).resolves.toMatchObject({ jti: other.accessToken.claims.jti });
  });
});

describe('revokeUser', () => {
  it('revokes every session, refresh family and access token of the user', async () => {
    const h = await createAuthHarness();
    const first = await h.signedInMember();
    const second = await h.auth.login({ email: 'alice@example.com', password: 'vivid otter parade 42' }, { ip: '198.51.100.2' });
    if (second.status !== 'authenticated') throw new Error('expected authenticated');
    h.clock.advance(1000);

    await h.auth.revokeUser(first.user.id, 'account-compromised');

    for (const signedIn of [first, second]) {
      await expect(h.auth.sessions.validate(signedIn.session.token)).rejects.toMatchObject({ code: 'SESSION_INVALID' });
      await expect(h.auth.tokens.verify(signedIn.tokens.accessToken.token)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
      await expect(h.auth.refresh(signedIn.tokens.refreshToken)).rejects.toMatchObject({ code: 'REFRESH_TOKEN_INVALID' });
    }
    expect(h.lastEvent('user-tokens-revoked')).toEqual({ userId: first.user.id, reason: 'account-compromised' });
    expect(h.lastEvent('session-revoked').sessionIds).toHaveLength(2);
  });

  it('sessions: a logged-out session stays revoked until its last access token expires, also past its absolute end', async () => {
    const h = await createAuthHarness({ session: { idleTimeoutSeconds: 3600, absoluteTimeoutSeconds: 3600 } });
    const signedIn = await h.signedInMember();
    h.clock.advance(3_000_000);
    // A refresh shortly before the absolute end: its access token outlives the session by 300 s.
    const pair = await h.auth.refresh(signedIn.tokens.refreshToken);
    await h.auth.logout({ sessionToken: signedIn.session.token });
    await expect(h.auth.tokens.verify(pair.accessToken.token, { tenantId: ACME })).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    h.clock.advance(601_000); // past absoluteExpiresAt, before the token's exp
    await expect(h.auth.tokens.verify(pair.accessToken.token, { tenantId: ACME })).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    h.clock.advance(298_000 + 29_000); // within the verifier's 30 s clock tolerance after exp
    await expect(h.auth.tokens.verify(pair.accessToken.token, { tenantId: ACME })).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
  });
});
