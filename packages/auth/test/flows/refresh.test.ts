import { describe, expect, it } from 'vitest';
import { ACME, createAuthHarness } from './auth-flow-harness.js';

describe('refresh', () => {
  it('rotates the pair: a new refresh token and an access token for the same session and tenant', async () => {
    const h = await createAuthHarness();
    const { user, session, tokens } = await h.signedInMember();
    h.clock.advance(60_000);

    const next = await h.auth.refresh(tokens.refreshToken);

    expect(next.refreshToken).not.toBe(tokens.refreshToken);
    expect(next.family.id).toBe(tokens.family.id);
    const claims = await h.auth.tokens.verify(next.accessToken.token, { tenantId: ACME });
    expect(claims).toMatchObject({ sub: user.id, tid: ACME, sid: session.session.id, amr: ['pwd'] });
  });

  it('refuses a disabled account (ACCOUNT_DISABLED) without spending the token', async () => {
    const h = await createAuthHarness();
    const { user, tokens } = await h.signedInMember();
    await h.stores.accounts.update(user.id, { disabledAt: h.clock.now() }, h.clock.now());
    await expect(h.auth.refresh(tokens.refreshToken)).rejects.toMatchObject({ code: 'ACCOUNT_DISABLED' });

    await h.stores.accounts.update(user.id, { disabledAt: null }, h.clock.now());
    await expect(h.auth.refresh(tokens.refreshToken)).resolves.toMatchObject({ family: { id: tokens.family.id } });
  });

  it('re-checks the membership of a tenant-bound family', async () => {
    const h = await createAuthHarness();
    const { user, tokens } = await h.signedInMember();
    await h.memberships.setMemberStatus(ACME, user.id, 'suspended');
    await expect(h.auth.refresh(tokens.refreshToken)).rejects.toMatchObject({ code: 'MEMBERSHIP_INACTIVE' });
  });

  it('a family does not outlive its session: after the session is revoked, refresh fails', async () => {
    const h = await createAuthHarness();
    const { user, session, tokens } = await h.signedInMember();
    await h.auth.sessions.revoke(user.id, session.session.id);
    await expect(h.auth.refresh(tokens.refreshToken)).rejects.toMatchObject({ code: 'REFRESH_TOKEN_INVALID' });
  });

  it('refresh: reuse of a rotated token ends the session — family revoked, session and its access tokens dead, refresh-token-reused emitted', async () => {
    const h = await createAuthHarness({ refresh: { graceSeconds: 10 } });
    const { user, session, tokens } = await h.signedInMember();
    h.clock.advance(1000);
    const stolenPairSuccessor = await h.auth.refresh(tokens.refreshToken);
    h.clock.advance(11_000);

    await expect(h.auth.refresh(tokens.refreshToken)).rejects.toMatchObject({ code: 'REFRESH_TOKEN_REUSED' });

    expect(h.lastEvent('refresh-token-reused')).toEqual({ userId: user.id, familyId: tokens.family.id, tenantId: ACME, sessionId: session.session.id });
    await expect(h.auth.refresh(stolenPairSuccessor.refreshToken)).rejects.toMatchObject({ code: 'REFRESH_TOKEN_INVALID' });
    await expect(h.auth.sessions.validate(session.token)).rejects.toMatchObject({ code: 'SESSION_INVALID' });
    await expect(h.auth.tokens.verify(stolenPairSuccessor.accessToken.token)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    expect(h.lastEvent('session-revoked')).toEqual({ userId: user.id, sessionIds: [session.session.id], reason: 'refresh-token-reused' });
  });

  it('inside the grace window a repeated refresh gets the same pair', async () => {
    const h = await createAuthHarness();
    const { tokens } = await h.signedInMember();
    const [first, second] = await Promise.all([h.auth.refresh(tokens.refreshToken), h.auth.refresh(tokens.refreshToken)]);
    expect(second.refreshToken).toBe(first.refreshToken);
    expect(second.accessToken.token).toBe(first.accessToken.token);
  });

  it('refuses garbage (VALIDATION_FAILED for a non-string, REFRESH_TOKEN_INVALID for an unknown token)', async () => {
    const h = await createAuthHarness();
    await expect(h.auth.refresh(42 as unknown as string)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(h.auth.refresh('not-a-refresh-token')).rejects.toMatchObject({ code: 'REFRESH_TOKEN_INVALID' });
  });
});
