import { describe, expect, it } from 'vitest';
import { createPasswordPolicy } from '../../src/passwords/create-password-policy.js';
import { createManualClock } from '@tenantkit/core';
import { AuthError } from '../../src/errors.js';
import { ACME, BASE_URL, CLIENT, createAuthHarness, memoryStores, PASSWORD, rejectionOf, tokenFromLink } from './auth-flow-harness.js';

describe('signUp', () => {
  it('creates an account with a normalized email and asks for verification', async () => {
    const h = await createAuthHarness();
    const { user } = await h.auth.signUp({ email: '  Alice@Example.COM ', password: PASSWORD });

    expect(user).toMatchObject({ email: 'alice@example.com', emailVerified: false, disabled: false });
    const stored = await h.stores.accounts.findByEmail('alice@example.com');
    expect(stored?.passwordHash).toMatch(/^\$scrypt\$/);
    expect(stored?.passwordHash).not.toContain(PASSWORD);
    expect(h.lastEvent('account-created')).toEqual({ userId: user.id, email: 'alice@example.com', tenantId: null });
    const requested = h.lastEvent('email-verification-requested');
    expect(requested).toMatchObject({ userId: user.id, email: 'alice@example.com' });
    expect(requested.link.startsWith(BASE_URL)).toBe(true);
  });

  it('refuses a second account for the same email in any case (ACCOUNT_ALREADY_EXISTS)', async () => {
    const h = await createAuthHarness();
    await h.signUpUser('alice@example.com');
    await expect(h.auth.signUp({ email: 'ALICE@example.com', password: PASSWORD })).rejects.toMatchObject({ code: 'ACCOUNT_ALREADY_EXISTS' });
    expect(h.eventsNamed('account-created')).toHaveLength(1);
  });

  it('refuses a password the policy rejects and writes nothing (PASSWORD_POLICY_VIOLATION)', async () => {
    const h = await createAuthHarness();
    const error = await rejectionOf(h.auth.signUp({ email: 'alice@example.com', password: 'password123' }));
    expect(error).toMatchObject({ code: 'PASSWORD_POLICY_VIOLATION' });
    expect(await h.stores.accounts.findByEmail('alice@example.com')).toBeNull();
    expect(h.hasherCalls.hash).toBe(0);
    expect(h.events).toEqual([]);
  });

  it('applies the policy of the tenant given', async () => {
    const h = await createAuthHarness({
      passwordPolicy: createPasswordPolicy({ tenantOverrides: (tenantId) => (tenantId === ACME ? { minLength: 30 } : undefined) }),
    });
    await expect(h.auth.signUp({ email: 'alice@example.com', password: PASSWORD, tenantId: ACME })).rejects.toMatchObject({
      code: 'PASSWORD_POLICY_VIOLATION',
    });
    const { user } = await h.auth.signUp({ email: 'alice@example.com', password: PASSWORD });
    expect(user.email).toBe('alice@example.com');
  });

  it('passwords: maximum length enforced at sign-up — a 1 MB password is refused before the policy or the hasher (VALIDATION_FAILED)', async () => {
    const h = await createAuthHarness();
    await expect(h.auth.signUp({ email: 'alice@example.com', password: 'a'.repeat(1024 * 1024) })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(h.hasherCalls.hash).toBe(0);
  });

  it("passwords: maximum length enforced at sign-up — a password over the policy's maxLength is a PASSWORD_POLICY_VIOLATION", async () => {
    const h = await createAuthHarness();
    const error = await rejectionOf(h.auth.signUp({ email: 'alice@example.com', password: 'long walk '.repeat(20) }));
    expect(error).toMatchObject({ code: 'PASSWORD_POLICY_VIOLATION', details: { violations: expect.arrayContaining([expect.objectContaining({ rule: 'max-length' })]) } });
    expect(h.hasherCalls.hash).toBe(0);
  });

  it('leaves no account behind when the verification token cannot be issued', async () => {
    const stores = memoryStores(createManualClock());
    const h = await createAuthHarness({
      stores: { ...stores, oneTimeTokens: { ...stores.oneTimeTokens, issue: () => Promise.reject(new AuthError('STORE_UNAVAILABLE', 'down')) } },
    });
    await expect(h.auth.signUp({ email: 'alice@example.com', password: PASSWORD })).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(await stores.accounts.findByEmail('alice@example.com')).toBeNull();
    expect(h.events).toEqual([]);
  });

  it('refuses an existing email before any hashing (ACCOUNT_ALREADY_EXISTS costs no scrypt)', async () => {
    const h = await createAuthHarness();
    await h.signUpUser('alice@example.com');
    const before = h.hasherCalls.hash;
    await expect(h.auth.signUp({ email: 'alice@example.com', password: PASSWORD }, CLIENT)).rejects.toMatchObject({ code: 'ACCOUNT_ALREADY_EXISTS' });
    expect(h.hasherCalls.hash).toBe(before);
  });

  it('is throttled per email and IP: the "email taken" answer is bounded (RATE_LIMITED after 5 tries, no hashing)', async () => {
    const h = await createAuthHarness();
    await h.signUpUser('alice@example.com');
    const before = h.hasherCalls.hash;
    const codes: (string | undefined)[] = [];
    for (let attempt = 0; attempt < 200; attempt += 1) codes.push((await rejectionOf(h.auth.signUp({ email: 'alice@example.com', password: PASSWORD }, CLIENT))).code);
    expect(codes.slice(0, 5)).toEqual(Array(5).fill('ACCOUNT_ALREADY_EXISTS'));
    expect(new Set(codes.slice(5))).toEqual(new Set(['RATE_LIMITED']));
    expect(h.hasherCalls.hash).toBe(before);
    // Another IP may still sign that email up (and hears it is taken).
    await expect(h.auth.signUp({ email: 'alice@example.com', password: PASSWORD }, { ip: '198.51.100.3' })).rejects.toMatchObject({ code: 'ACCOUNT_ALREADY_EXISTS' });
  });

  it('is throttled per IP across emails, successful sign-ups included, on counters apart from sign-in', async () => {
    const h = await createAuthHarness({ signUpThrottle: { perIp: { failures: 3 } } });
    for (let index = 0; index < 3; index += 1) await h.auth.signUp({ email: `user${index}@example.com`, password: PASSWORD }, CLIENT);
    const refused = await rejectionOf(h.auth.signUp({ email: 'user3@example.com', password: PASSWORD }, CLIENT));
    expect(refused).toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterSeconds: 3600 } });
    expect(await h.stores.accounts.findByEmail('user3@example.com')).toBeNull();
    await expect(h.auth.signUp({ email: 'user3@example.com', password: PASSWORD }, { ip: '198.51.100.4' })).resolves.toMatchObject({ user: { email: 'user3@example.com' } });
    // Sign-in has its own counters.
    await expect(h.auth.login({ email: 'user0@example.com', password: PASSWORD }, CLIENT)).resolves.toMatchObject({ status: 'authenticated' });
  });

  it('without a client every sign-up shares the IP counter "unknown": throttled, never exempt', async () => {
    const h = await createAuthHarness({ signUpThrottle: { perIp: { failures: 2 } } });
    await h.auth.signUp({ email: 'user0@example.com', password: PASSWORD });
    await h.auth.signUp({ email: 'user1@example.com', password: PASSWORD }, { ip: null });
    await expect(h.auth.signUp({ email: 'user2@example.com', password: PASSWORD })).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });

  it('refuses malformed and over-long emails (VALIDATION_FAILED)', async () => {
    const h = await createAuthHarness();
    await expect(h.auth.signUp({ email: 'not-an-email', password: PASSWORD })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(h.auth.signUp({ email: `${'a'.repeat(250)}@example.com`, password: PASSWORD })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});

describe('email verification', () => {
  it('verifyEmail marks the email verified once; the link is single use', async () => {
    const h = await createAuthHarness();
    const user = await h.signUpUser();
    const token = tokenFromLink(h.lastEvent('email-verification-requested').link);

    const verified = await h.auth.verifyEmail(token);
    expect(verified).toMatchObject({ id: user.id, emailVerified: true });
    expect((await h.stores.accounts.findById(user.id))?.emailVerifiedAt).toBe(h.clock.now());
    expect(h.lastEvent('email-verified')).toEqual({ userId: user.id });
    await expect(h.auth.verifyEmail(token)).rejects.toMatchObject({ code: 'ONE_TIME_TOKEN_INVALID' });
  });

  it('requestEmailVerification voids the earlier link', async () => {
    const h = await createAuthHarness();
    const user = await h.signUpUser();
    const first = tokenFromLink(h.lastEvent('email-verification-requested').link);
    await h.auth.requestEmailVerification(user.id);
    const second = tokenFromLink(h.lastEvent('email-verification-requested').link);

    await expect(h.auth.verifyEmail(first)).rejects.toMatchObject({ code: 'ONE_TIME_TOKEN_INVALID' });
    await expect(h.auth.verifyEmail(second)).resolves.toMatchObject({ emailVerified: true });
  });

  it('sends no new link to a verified account, and refuses an unknown user (ACCOUNT_NOT_FOUND)', async () => {
    const h = await createAuthHarness();
    const user = await h.signUpUser();
    await h.auth.verifyEmail(tokenFromLink(h.lastEvent('email-verification-requested').link));
    const before = h.eventsNamed('email-verification-requested').length;
    await h.auth.requestEmailVerification(user.id);
    expect(h.eventsNamed('email-verification-requested')).toHaveLength(before);
    await expect(h.auth.requestEmailVerification('usr_missing')).rejects.toMatchObject({ code: 'ACCOUNT_NOT_FOUND' });
  });

  it('a verification token is not a reset token', async () => {
    const h = await createAuthHarness();
    await h.signUpUser();
    const token = tokenFromLink(h.lastEvent('email-verification-requested').link);
    await expect(h.auth.resetPassword({ token, newPassword: 'quiet maple lantern 7' })).rejects.toMatchObject({ code: 'ONE_TIME_TOKEN_INVALID' });
  });

  it('getUser shows the account without password material', async () => {
    const h = await createAuthHarness();
    const user = await h.signUpUser();
    const shown = await h.auth.getUser(user.id);
    expect(shown).toEqual(user);
    expect(Object.keys(shown ?? {})).not.toContain('passwordHash');
    expect(await h.auth.getUser('usr_missing')).toBeNull();
  });
});
