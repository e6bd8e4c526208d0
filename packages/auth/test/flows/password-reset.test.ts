import { describe, expect, it } from 'vitest';
import { createScryptHasher } from '../../src/passwords/scrypt-hasher.js';
import type { PasswordHasher } from '../../src/passwords/password-hasher.js';
import type { PasswordPolicy } from '../../src/passwords/password-policy.js';
import type { OneTimeTokenStore } from '../../src/store.js';
import { createManualClock } from '@tenantkit/core';
import { createPasswordPolicy } from '../../src/passwords/create-password-policy.js';
import { ACME, BASE_URL, CLIENT, createAuthHarness, memoryStores, OTHER_PASSWORD, PASSWORD, TEST_SCRYPT, tokenFromLink } from './auth-flow-harness.js';

async function requestResetToken(h: Awaited<ReturnType<typeof createAuthHarness>>, email = 'alice@example.com'): Promise<string> {
  await h.auth.requestPasswordReset({ email }, CLIENT);
  return tokenFromLink(h.lastEvent('password-reset-requested').link);
}

describe('requestPasswordReset', () => {
  it('reset never reveals whether an account exists: both resolve the same way, only the existing one gets a link', async () => {
    const h = await createAuthHarness();
    const user = await h.signUpUser();

    await expect(h.auth.requestPasswordReset({ email: 'nobody@example.com' }, CLIENT)).resolves.toBeUndefined();
    expect(h.eventsNamed('password-reset-requested')).toEqual([]);
    await expect(h.auth.requestPasswordReset({ email: 'Alice@Example.com' }, CLIENT)).resolves.toBeUndefined();

    const requested = h.lastEvent('password-reset-requested');
    expect(requested).toMatchObject({ userId: user.id, email: 'alice@example.com', expiresAt: h.clock.now() + 3_600_000 });
  });

  it('reset link never built from Host / X-Forwarded-Host: it is the configured base URL', async () => {
    const h = await createAuthHarness();
    await h.signUpUser();
    await h.auth.requestPasswordReset({ email: 'alice@example.com' }, CLIENT);
    const link = new URL(h.lastEvent('password-reset-requested').link);
    expect(link.origin).toBe(BASE_URL);
    expect(link.pathname).toBe('/reset-password');
  });

  it('is throttled per email and IP alike for known and unknown emails (RATE_LIMITED), on counters apart from sign-in', async () => {
    const h = await createAuthHarness({ resetThrottle: { perAccountAndIp: { failures: 2 } } });
    await h.signUpUser();
    for (const email of ['alice@example.com', 'nobody@example.com']) {
      await h.auth.requestPasswordReset({ email }, CLIENT);
      await h.auth.requestPasswordReset({ email }, CLIENT);
      await expect(h.auth.requestPasswordReset({ email }, CLIENT)).rejects.toMatchObject({
        code: 'RATE_LIMITED',
        details: { retryAfterSeconds: expect.any(Number) },
      });
    }
    expect(h.eventsNamed('password-reset-requested')).toHaveLength(2);
    await expect(h.auth.requestPasswordReset({ email: 'alice@example.com' }, { ip: '198.51.100.9' })).resolves.toBeUndefined();
    await expect(h.auth.login({ email: 'alice@example.com', password: PASSWORD }, CLIENT)).resolves.toMatchObject({ status: 'authenticated' });
  });
  it('reset never reveals whether an account exists: a known and an unknown email cost the same store work (one lookup, one token issue)', async () => {
    const stores = memoryStores(createManualClock());
    const calls: string[] = [];
    const oneTimeTokens: OneTimeTokenStore = {
      issue: (record) => (calls.push(`issue ${record.purpose}`), stores.oneTimeTokens.issue(record)),
      consume: (...args) => stores.oneTimeTokens.consume(...args),
      voidFor: (...args) => (calls.push('voidFor'), stores.oneTimeTokens.voidFor(...args)),
    };
    const h = await createAuthHarness({
      stores: { ...stores, oneTimeTokens, accounts: { ...stores.accounts, findByEmail: (email) => (calls.push('findByEmail'), stores.accounts.findByEmail(email)) } },
    });
    await h.signUpUser();
    calls.length = 0;
    await h.auth.requestPasswordReset({ email: 'nobody@example.com' }, CLIENT);
    const unknown = calls.splice(0);
    await h.auth.requestPasswordReset({ email: 'alice@example.com' }, CLIENT);
    expect(unknown).toEqual(['findByEmail', 'issue password-reset']);
    expect(calls).toEqual(unknown);
    // The unknown email's dummy token belongs to no account: only alice's request was announced.
    expect(h.eventsNamed('password-reset-requested')).toHaveLength(1);
  });
});

describe('resetPassword', () => {
  it('sets the new password; the old one stops working; password-changed via reset', async () => {
    const h = await createAuthHarness();
    const user = await h.signUpUser();
    const token = await requestResetToken(h);

    await h.auth.resetPassword({ token, newPassword: OTHER_PASSWORD });

    await expect(h.auth.login({ email: 'alice@example.com', password: PASSWORD }, CLIENT)).rejects.toMatchObject({ code: 'CREDENTIALS_INVALID' });
    await expect(h.auth.login({ email: 'alice@example.com', password: OTHER_PASSWORD }, CLIENT)).resolves.toMatchObject({ status: 'authenticated' });
    expect(h.lastEvent('password-changed')).toEqual({ userId: user.id, via: 'reset' });
    // The link reached the mailbox.
    expect((await h.auth.getUser(user.id))?.emailVerified).toBe(true);
  });

  it('reset revokes all sessions: an access token, a refresh token and a session from before the reset all fail after it', async () => {
    const h = await createAuthHarness();
    const before = await h.signedInMember();
    const token = await requestResetToken(h);
    h.clock.advance(1000);

    await h.auth.resetPassword({ token, newPassword: OTHER_PASSWORD });

    await expect(h.auth.tokens.verify(before.tokens.accessToken.token)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    await expect(h.auth.refresh(before.tokens.refreshToken)).rejects.toMatchObject({ code: 'REFRESH_TOKEN_INVALID' });
    await expect(h.auth.sessions.validate(before.session.token)).rejects.toMatchObject({ code: 'SESSION_INVALID' });
    expect(await h.auth.sessions.list(before.user.id)).toEqual([]);
    expect(h.lastEvent('user-tokens-revoked')).toEqual({ userId: before.user.id, reason: 'password-reset' });
  });

  it('reset tokens: single use', async () => {
    const h = await createAuthHarness();
    await h.signUpUser();
    const token = await requestResetToken(h);
    await h.auth.resetPassword({ token, newPassword: OTHER_PASSWORD });
    await expect(h.auth.resetPassword({ token, newPassword: 'third brave compass 9' })).rejects.toMatchObject({ code: 'ONE_TIME_TOKEN_INVALID' });
  });

  it('reset tokens: expire after about an hour', async () => {
    const h = await createAuthHarness();
    await h.signUpUser();
    const token = await requestResetToken(h);
    h.clock.advance(3_600_001);
    await expect(h.auth.resetPassword({ token, newPassword: OTHER_PASSWORD })).rejects.toMatchObject({ code: 'ONE_TIME_TOKEN_INVALID' });
  });

  it('reset tokens: voided on reissue', async () => {
    const h = await createAuthHarness();
    await h.signUpUser();
    const first = await requestResetToken(h);
    const second = await requestResetToken(h);
    await expect(h.auth.resetPassword({ token: first, newPassword: OTHER_PASSWORD })).rejects.toMatchObject({ code: 'ONE_TIME_TOKEN_INVALID' });
    await expect(h.auth.resetPassword({ token: second, newPassword: OTHER_PASSWORD })).resolves.toBeUndefined();
  });

  it('reset enforces the policy; the refused attempt leaves the link usable', async () => {
    const h = await createAuthHarness();
    await h.signUpUser();
    const token = await requestResetToken(h);
    await expect(h.auth.resetPassword({ token, newPassword: 'password1' })).rejects.toMatchObject({ code: 'PASSWORD_POLICY_VIOLATION' });
    await expect(h.auth.resetPassword({ token, newPassword: OTHER_PASSWORD })).resolves.toBeUndefined();
  });

  it('reset enforces the history: the current and the previous passwords are refused (PASSWORD_REUSED), which spends the link', async () => {
    const h = await createAuthHarness();
    await h.signUpUser();
    await expect(h.auth.resetPassword({ token: await requestResetToken(h), newPassword: PASSWORD })).rejects.toMatchObject({ code: 'PASSWORD_REUSED' });

    await h.auth.resetPassword({ token: await requestResetToken(h), newPassword: OTHER_PASSWORD });
    const token = await requestResetToken(h);
    await expect(h.auth.resetPassword({ token, newPassword: PASSWORD })).rejects.toMatchObject({ code: 'PASSWORD_REUSED' });
    // The history is checked after the token is taken: that link is spent, a new one works.
    await expect(h.auth.resetPassword({ token, newPassword: 'third brave compass 9' })).rejects.toMatchObject({ code: 'ONE_TIME_TOKEN_INVALID' });
    await expect(h.auth.resetPassword({ token: await requestResetToken(h), newPassword: 'third brave compass 9' })).resolves.toBeUndefined();
    expect(h.eventsNamed('password-changed')).toHaveLength(2);
  });

  it('keeps exactly historySize passwords: with historySize 2, the third one back may be used again', async () => {
    const h = await createAuthHarness({ passwordPolicy: { rules: { historySize: 2 } } });
    const user = await h.signUpUser();
    await h.auth.resetPassword({ token: await requestResetToken(h), newPassword: OTHER_PASSWORD });
    await h.auth.resetPassword({ token: await requestResetToken(h), newPassword: 'third brave compass 9' });
    expect((await h.stores.accounts.findById(user.id))?.passwordHistory).toHaveLength(1);
    await expect(h.auth.resetPassword({ token: await requestResetToken(h), newPassword: PASSWORD })).resolves.toBeUndefined();
  });

  it('applies the policy of the tenant the reset was requested for', async () => {
    const h = await createAuthHarness({
      passwordPolicy: createPasswordPolicy({ tenantOverrides: (tenantId) => (tenantId === ACME ? { minLength: 30 } : undefined) }),
    });
    await h.signUpUser();
    await h.auth.requestPasswordReset({ email: 'alice@example.com', tenantId: ACME }, CLIENT);
    const token = tokenFromLink(h.lastEvent('password-reset-requested').link);
    // Only the token knows the requested tenant: its rules are checked once the token is taken,
    // and a refusal then spends the link.
    await expect(h.auth.resetPassword({ token, newPassword: OTHER_PASSWORD })).rejects.toMatchObject({ code: 'PASSWORD_POLICY_VIOLATION' });
    await expect(h.auth.resetPassword({ token, newPassword: 'a much longer passphrase of thirty-plus' })).rejects.toMatchObject({
      code: 'ONE_TIME_TOKEN_INVALID',
    });
    await h.auth.requestPasswordReset({ email: 'alice@example.com', tenantId: ACME }, CLIENT);
    const again = tokenFromLink(h.lastEvent('password-reset-requested').link);
    // Named by the reset page, the tenant's rules are checked before the token is used: the link stays usable.
    await expect(h.auth.resetPassword({ token: again, newPassword: OTHER_PASSWORD, tenantId: ACME })).rejects.toMatchObject({
      code: 'PASSWORD_POLICY_VIOLATION',
    });
    await expect(h.auth.resetPassword({ token: again, newPassword: 'a much longer passphrase of thirty-plus', tenantId: ACME })).resolves.toBeUndefined();
  });

  it('refuses a 1 MB new password before consuming the token (VALIDATION_FAILED)', async () => {
    const h = await createAuthHarness();
    await h.signUpUser();
    const token = await requestResetToken(h);
    const hashesBefore = h.hasherCalls.hash;
    await expect(h.auth.resetPassword({ token, newPassword: 'a'.repeat(1024 * 1024) })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(h.hasherCalls.hash).toBe(hashesBefore);
    await expect(h.auth.resetPassword({ token, newPassword: OTHER_PASSWORD })).resolves.toBeUndefined();
  });

  it('one-time tokens: a newer link is never voided by a failed older attempt (a refused password is checked before the token is used)', async () => {
    let release: () => void = () => undefined;
    let paused: () => void = () => undefined;
    const inFlight = new Promise<void>((resolve) => (paused = resolve));
    const base = createPasswordPolicy();
    const policy: PasswordPolicy = {
      rulesFor: (tenantId) => base.rulesFor(tenantId),
      check: (password, context) => base.check(password, context),
      async assert(password, context) {
        if (password === 'short') {
          paused();
          await new Promise<void>((resolve) => (release = resolve));
        }
        return base.assert(password, context);
      },
    };
    const h = await createAuthHarness({ passwordPolicy: policy });
    await h.signUpUser();
    const older = await requestResetToken(h);
    const attacker = h.auth.resetPassword({ token: older, newPassword: 'short' });
    await inFlight;
    // The user asks for a new link while the attacker's attempt is in flight.
    const newer = await requestResetToken(h);
    release();
    await expect(attacker).rejects.toMatchObject({ code: 'PASSWORD_POLICY_VIOLATION' });
    await expect(h.auth.resetPassword({ token: older, newPassword: 'attacker chosen passphrase 77' })).rejects.toMatchObject({ code: 'ONE_TIME_TOKEN_INVALID' });
    await expect(h.auth.resetPassword({ token: newer, newPassword: 'brand new strong passphrase 9' })).resolves.toBeUndefined();
  });

  it("one-time tokens: an attacker's older link never comes back after a refusal once it was taken (history), and the newer link works", async () => {
    let release: () => void = () => undefined;
    let paused: () => void = () => undefined;
    const inFlight = new Promise<void>((resolve) => (paused = resolve));
    const inner = createScryptHasher(TEST_SCRYPT);
    let pause = false;
    // Pauses the history check (a verify of the new password against the stored hashes).
    const hasher: PasswordHasher = {
      hash: (password) => inner.hash(password),
      needsRehash: (phc) => inner.needsRehash(phc),
      verifyDummy: (password) => inner.verifyDummy(password),
      async verify(password, phc) {
        if (pause && password === PASSWORD) {
          pause = false;
          paused();
          await new Promise<void>((resolve) => (release = resolve));
        }
        return inner.verify(password, phc);
      },
    };
    const h = await createAuthHarness({ hasher });
    await h.signUpUser();
    const older = await requestResetToken(h);
    pause = true;
    const attacker = h.auth.resetPassword({ token: older, newPassword: PASSWORD });
    await inFlight;
    const newer = await requestResetToken(h);
    release();
    await expect(attacker).rejects.toMatchObject({ code: 'PASSWORD_REUSED' });
    await expect(h.auth.resetPassword({ token: older, newPassword: 'attacker chosen passphrase 77' })).rejects.toMatchObject({ code: 'ONE_TIME_TOKEN_INVALID' });
    await expect(h.auth.resetPassword({ token: newer, newPassword: 'brand new strong passphrase 9' })).resolves.toBeUndefined();
    expect(h.eventsNamed('password-changed')).toHaveLength(1);
  });
});
