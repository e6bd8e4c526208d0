import { describe, expect, it } from 'vitest';
import { ACME, createAuthHarness, GLOBEX } from './auth-flow-harness.js';

describe('switchTenant', () => {
  it('rotates the session into the new tenant and issues a pair bound to it; the old session and its family end', async () => {
    const h = await createAuthHarness();
    const { user, session, tokens } = await h.signedInMember('alice@example.com', ACME);
    await h.memberships.addMember(GLOBEX, user.id, { status: 'active' });

    const switched = await h.auth.switchTenant(session.token, GLOBEX);

    expect(switched.session.session).toMatchObject({ userId: user.id, tenantId: GLOBEX });
    expect(switched.session.session.id).not.toBe(session.session.id);
    expect(switched.tokens.family).toMatchObject({ tenantId: GLOBEX, sessionId: switched.session.session.id });
    await expect(h.auth.tokens.verify(switched.tokens.accessToken.token, { tenantId: GLOBEX })).resolves.toMatchObject({
      tid: GLOBEX,
      sid: switched.session.session.id,
    });
    await expect(h.auth.tokens.verify(switched.tokens.accessToken.token, { tenantId: ACME })).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    await expect(h.auth.sessions.validate(session.token)).rejects.toMatchObject({ code: 'SESSION_INVALID' });
    await expect(h.auth.tokens.verify(tokens.accessToken.token)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    await expect(h.auth.refresh(tokens.refreshToken)).rejects.toMatchObject({ code: 'REFRESH_TOKEN_INVALID' });
  });

  it('refuses a tenant without an active membership and leaves the session as it was', async () => {
    const h = await createAuthHarness();
    const { session, tokens } = await h.signedInMember('alice@example.com', ACME);
    await expect(h.auth.switchTenant(session.token, GLOBEX)).rejects.toMatchObject({ code: 'MEMBERSHIP_NOT_FOUND' });
    await expect(h.auth.sessions.validate(session.token)).resolves.toMatchObject({ id: session.session.id, tenantId: ACME });
    await expect(h.auth.refresh(tokens.refreshToken)).resolves.toMatchObject({ family: { tenantId: ACME } });
  });

  it('refuses an unknown session (SESSION_INVALID)', async () => {
    const h = await createAuthHarness();
    await expect(h.auth.switchTenant('A'.repeat(43), ACME)).rejects.toMatchObject({ code: 'SESSION_INVALID' });
  });
});
