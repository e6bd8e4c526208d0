import { createManualClock } from '@tenantkit/core';
import { describe, expect, it } from 'vitest';
import { AuthError } from '../../src/errors.js';
import { createPendingSecondFactorTokens } from '../../src/flows/pending-second-factor-tokens.js';
import { createScryptHasher } from '../../src/passwords/scrypt-hasher.js';
import { ACME, CLIENT, createAuthHarness, GLOBEX, ISSUER, memoryStores, OTHER_PASSWORD, PASSWORD, rejectionOf } from './auth-flow-harness.js';

describe('login', () => {
  it('signs in: a session, a token pair bound to the tenant, login-succeeded', async () => {
    const h = await createAuthHarness();
    const user = await h.signUpUser();
    await h.memberships.addMember(ACME, user.id, { status: 'active' });

    const result = await h.auth.login({ email: 'ALICE@example.com ', password: PASSWORD, tenantId: ACME }, CLIENT);

    if (result.status !== 'authenticated') throw new Error('expected authenticated');
    expect(result.user).toMatchObject({ id: user.id, email: 'alice@example.com' });
    expect(result.session.session).toMatchObject({ userId: user.id, tenantId: ACME, amr: ['pwd'], device: { ip: CLIENT.ip, userAgent: 'vitest' } });
    expect(result.tokens.family).toMatchObject({ userId: user.id, tenantId: ACME, sessionId: result.session.session.id });
    const claims = await h.auth.tokens.verify(result.tokens.accessToken.token, { tenantId: ACME });
    expect(claims).toMatchObject({ sub: user.id, tid: ACME, sid: result.session.session.id, amr: ['pwd'] });
    await expect(h.auth.sessions.validate(result.session.token)).resolves.toMatchObject({ id: result.session.session.id });
    expect(h.lastEvent('login-succeeded')).toEqual({ userId: user.id, sessionId: result.session.session.id, tenantId: ACME, ip: CLIENT.ip });
  });

  it('passwords: same response for unknown accounts — an unknown email and a wrong password get the same code and message, each after exactly one hasher call', async () => {
    const h = await createAuthHarness();
    await h.signUpUser();
    const before = { ...h.hasherCalls };

    const unknown = await rejectionOf(h.auth.login({ email: 'nobody@example.com', password: PASSWORD }, CLIENT));
    const afterUnknown = { ...h.hasherCalls };
    const wrong = await rejectionOf(h.auth.login({ email: 'alice@example.com', password: 'not the password at all' }, CLIENT));

    expect(unknown).toMatchObject({ code: 'CREDENTIALS_INVALID' });
    expect(wrong).toMatchObject({ code: 'CREDENTIALS_INVALID' });
    expect(wrong.message).toBe(unknown.message);
    // The similar path: the unknown email spends one (dummy) verify, the wrong password one verify.
    expect(afterUnknown.verifyDummy - before.verifyDummy).toBe(1);
    expect(afterUnknown.verify - before.verify).toBe(0);
    expect(h.hasherCalls.verify - afterUnknown.verify).toBe(1);
    expect(h.hasherCalls.verifyDummy - afterUnknown.verifyDummy).toBe(0);
    expect(h.hasherCalls.hash).toBe(before.hash);
    expect(h.eventsNamed('login-failed').map((event) => event.reason)).toEqual(['credentials', 'credentials']);
  });

  it('an account without a password answers like an unknown email (dummy verify)', async () => {
    const h = await createAuthHarness();
    const now = h.clock.now();
    await h.stores.accounts.create({
      id: 'usr_sso', email: 'sso@example.com', passwordHash: null, passwordHistory: [], passwordChangedAt: null,
      emailVerifiedAt: now, disabledAt: null, createdAt: now, updatedAt: now,
    });
    const before = h.hasherCalls.verifyDummy;
    await expect(h.auth.login({ email: 'sso@example.com', password: PASSWORD }, CLIENT)).rejects.toMatchObject({ code: 'CREDENTIALS_INVALID' });
    expect(h.hasherCalls.verifyDummy - before).toBe(1);
  });

  it('passwords: maximum length enforced at login — a 1 MB password is VALIDATION_FAILED before any hashing', async () => {
    const h = await createAuthHarness();
    await h.signUpUser();
    const before = { ...h.hasherCalls };
    await expect(h.auth.login({ email: 'alice@example.com', password: 'a'.repeat(1024 * 1024) }, CLIENT)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(h.auth.login({ email: 'nobody@example.com', password: 'a'.repeat(1024 * 1024) }, CLIENT)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(h.hasherCalls).toEqual(before);
  });

  it('says ACCOUNT_DISABLED only after a correct password', async () => {
    const h = await createAuthHarness();
    const user = await h.signUpUser();
    await h.stores.accounts.update(user.id, { disabledAt: h.clock.now() }, h.clock.now());

    await expect(h.auth.login({ email: 'alice@example.com', password: 'not the password at all' }, CLIENT)).rejects.toMatchObject({
      code: 'CREDENTIALS_INVALID',
    });
    await expect(h.auth.login({ email: 'alice@example.com', password: PASSWORD }, CLIENT)).rejects.toMatchObject({ code: 'ACCOUNT_DISABLED' });
    expect(await h.auth.sessions.list(user.id)).toEqual([]);
  });

  it('checks the membership of the tenant asked for, and issues nothing without one', async () => {
    const h = await createAuthHarness();
    const user = await h.signUpUser();
    await h.memberships.addMember(ACME, user.id, { status: 'invited' });

    await expect(h.auth.login({ email: 'alice@example.com', password: PASSWORD, tenantId: GLOBEX }, CLIENT)).rejects.toMatchObject({
      code: 'MEMBERSHIP_NOT_FOUND',
    });
    await expect(h.auth.login({ email: 'alice@example.com', password: PASSWORD, tenantId: ACME }, CLIENT)).rejects.toMatchObject({
      code: 'MEMBERSHIP_INACTIVE',
    });
    expect(await h.auth.sessions.list(user.id)).toEqual([]);
  });

  it('throttles repeated failures (RATE_LIMITED with retryAfterSeconds), waits the progressive delay, and counts unknown emails alike', async () => {
    const h = await createAuthHarness({ throttle: { perAccountAndIp: { failures: 3 }, progressiveDelay: { afterFailures: 1, baseMs: 100, maxMs: 1000 } } });
    await h.signUpUser();
    for (const email of ['alice@example.com', 'nobody@example.com']) {
      for (let attempt = 0; attempt < 3; attempt += 1) {
        await expect(h.auth.login({ email, password: 'not the password at all' }, CLIENT)).rejects.toMatchObject({ code: 'CREDENTIALS_INVALID' });
      }
      const refused = await rejectionOf(h.auth.login({ email, password: PASSWORD }, CLIENT));
      expect(refused).toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterSeconds: expect.any(Number) } });
    }
    expect(h.sleeps.length).toBeGreaterThan(0);
    expect(h.sleeps.every((ms) => ms > 0)).toBe(true);
    expect(h.eventsNamed('login-failed').filter((event) => event.reason === 'throttled')).toHaveLength(2);
  });

  it('a success clears the (account, IP) counter', async () => {
    const h = await createAuthHarness({ throttle: { perAccountAndIp: { failures: 3 }, progressiveDelay: false } });
    await h.signUpUser();
    for (let round = 0; round < 2; round += 1) {
      for (let attempt = 0; attempt < 2; attempt += 1) {
        await expect(h.auth.login({ email: 'alice@example.com', password: 'not the password at all' }, CLIENT)).rejects.toMatchObject({
          code: 'CREDENTIALS_INVALID',
        });
      }
      await expect(h.auth.login({ email: 'alice@example.com', password: PASSWORD }, CLIENT)).resolves.toMatchObject({ status: 'authenticated' });
    }
  });

  it('passwords: rehash on login when the parameters changed', async () => {
    const h = await createAuthHarness({ hasher: createScryptHasher({ cost: 2 ** 4, blockSize: 1 }) });
    const user = await h.signUpUser();
    const oldHash = (await h.stores.accounts.findById(user.id))?.passwordHash;
    const stronger = createScryptHasher({ cost: 2 ** 5, blockSize: 1 });
    const later = await createAuthHarness({ stores: h.stores, hasher: stronger });

    await later.auth.login({ email: 'alice@example.com', password: PASSWORD }, CLIENT);

    const account = await h.stores.accounts.findById(user.id);
    expect(account?.passwordHash).not.toBe(oldHash);
    expect(stronger.needsRehash(account!.passwordHash!)).toBe(false);
    expect(await stronger.verify(PASSWORD, account!.passwordHash!)).toBe(true);
    expect(account?.passwordHistory).toEqual([]);
  });

  it('sessions: the session id changes on login — a presented session is ended with its tokens', async () => {
    const h = await createAuthHarness();
    const first = await h.signedInMember('alice@example.com', ACME);
    h.clock.advance(1000);

    const second = await h.auth.login({ email: 'alice@example.com', password: PASSWORD, tenantId: ACME, currentSessionToken: first.session.token }, CLIENT);

    if (second.status !== 'authenticated') throw new Error('expected authenticated');
    expect(second.session.session.id).not.toBe(first.session.session.id);
    await expect(h.auth.sessions.validate(first.session.token)).rejects.toMatchObject({ code: 'SESSION_INVALID' });
    await expect(h.auth.tokens.verify(first.tokens.accessToken.token)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    await expect(h.auth.refresh(first.tokens.refreshToken)).rejects.toMatchObject({ code: 'REFRESH_TOKEN_INVALID' });
    await expect(h.auth.sessions.validate(second.session.token)).resolves.toMatchObject({ id: second.session.session.id });
    expect((await h.auth.sessions.list(first.user.id)).map((session) => session.id)).toEqual([second.session.session.id]);
  });

  it('leaves no session behind when the refresh family cannot be created', async () => {
    const stores = memoryStores(createManualClock());
    const h = await createAuthHarness({
      stores: { ...stores, refreshTokens: { ...stores.refreshTokens, createFamily: () => Promise.reject(new AuthError('STORE_UNAVAILABLE', 'down')) } },
    });
    const user = await h.signUpUser();
    await expect(h.auth.login({ email: 'alice@example.com', password: PASSWORD }, CLIENT)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(await h.auth.sessions.list(user.id)).toEqual([]);
    expect(h.eventsNamed('login-succeeded')).toEqual([]);
  });

  it('ignores a presented session that is not valid', async () => {
    const h = await createAuthHarness();
    await h.signUpUser();
    await expect(
      h.auth.login({ email: 'alice@example.com', password: PASSWORD, currentSessionToken: 'A'.repeat(43) }, CLIENT),
    ).resolves.toMatchObject({ status: 'authenticated' });
  });
});

describe('login with a second factor', () => {
  it('returns second-factor-required with a pending token and issues no session and no tokens', async () => {
    const h = await createAuthHarness({ secondFactor: { required: (user) => user.email === 'alice@example.com', methods: () => ['totp'] } });
    const user = await h.signUpUser();

    const result = await h.auth.login({ email: 'alice@example.com', password: PASSWORD, tenantId: null }, CLIENT);

    expect(result).toMatchObject({ status: 'second-factor-required', userId: user.id, methods: ['totp'], pendingToken: expect.any(String) });
    expect(await h.auth.sessions.list(user.id)).toEqual([]);
    expect(h.eventsNamed('login-succeeded')).toEqual([]);
  });

  it('the pending token is consumed once by the second-factor step and is never an access token', async () => {
    const h = await createAuthHarness({ secondFactor: { required: () => true } });
    const user = await h.signUpUser();
    await h.memberships.addMember(ACME, user.id, { status: 'active' });
    const result = await h.auth.login({ email: 'alice@example.com', password: PASSWORD, tenantId: ACME }, CLIENT);
    if (result.status !== 'second-factor-required') throw new Error('expected second-factor-required');
    expect(result.methods).toEqual([]);

    await expect(h.auth.tokens.verify(result.pendingToken)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    const pendingTokens = createPendingSecondFactorTokens({ keys: h.keys, issuer: ISSUER, revocation: h.auth.revocation, clock: h.clock });
    await expect(pendingTokens.consume(result.pendingToken)).resolves.toMatchObject({ userId: user.id, tenantId: ACME, amr: ['pwd'] });
    await expect(pendingTokens.consume(result.pendingToken)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
  });

  it('a pending token expires, and revokeUser kills it', async () => {
    const h = await createAuthHarness({ secondFactor: { required: () => true } });
    const user = await h.signUpUser();
    const pendingTokens = createPendingSecondFactorTokens({ keys: h.keys, issuer: ISSUER, revocation: h.auth.revocation, clock: h.clock });
    const first = await h.auth.login({ email: 'alice@example.com', password: PASSWORD }, CLIENT);
    if (first.status !== 'second-factor-required') throw new Error('expected second-factor-required');
    h.clock.advance(301_000);
    await expect(pendingTokens.consume(first.pendingToken)).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });

    const second = await h.auth.login({ email: 'alice@example.com', password: PASSWORD }, CLIENT);
    if (second.status !== 'second-factor-required') throw new Error('expected second-factor-required');
    h.clock.advance(1000);
    await h.auth.revokeUser(user.id, 'test');
    await expect(pendingTokens.consume(second.pendingToken)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    await expect(pendingTokens.consume('not.a.token')).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
  });
});

describe('login: brute force under concurrency', () => {
  it('checklist: throttling per account and per IP — 40 concurrent wrong guesses from one IP: at most 5 reach the hasher, the rest are RATE_LIMITED, and the right password in the burst is refused too', async () => {
    const h = await createAuthHarness();
    const user = await h.signUpUser('alice@example.com');
    const before = h.hasherCalls.verify + h.hasherCalls.verifyDummy;
    const guesses = Array.from({ length: 40 }, (_, index) => (index === 33 ? PASSWORD : `wrong guess number ${index}`));
    const results = await Promise.allSettled(guesses.map((password) => h.auth.login({ email: 'alice@example.com', password }, CLIENT)));
    const codes = results.map((result) => (result.status === 'rejected' ? (result.reason as { code?: string }).code : 'signed-in'));
    expect(h.hasherCalls.verify + h.hasherCalls.verifyDummy - before).toBeLessThanOrEqual(5);
    expect(codes.filter((code) => code === 'CREDENTIALS_INVALID')).toHaveLength(5);
    expect(codes.filter((code) => code === 'RATE_LIMITED')).toHaveLength(35);
    expect(codes[33]).toBe('RATE_LIMITED');
    expect(await h.auth.sessions.list(user.id)).toEqual([]);
  });

  it('wrong current passwords guessed concurrently through changePassword are throttled the same way', async () => {
    const h = await createAuthHarness({ throttle: { perAccountAndIp: { failures: 3 }, progressiveDelay: false } });
    const { user, session } = await h.signedInMember();
    const before = h.hasherCalls.verify;
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, index) =>
        h.auth.changePassword({ userId: user.id, currentPassword: `wrong guess ${index}`, newPassword: OTHER_PASSWORD, sessionToken: session.token }),
      ),
    );
    expect(h.hasherCalls.verify - before).toBe(3);
    expect(results.filter((result) => result.status === 'rejected' && (result.reason as { code?: string }).code === 'RATE_LIMITED')).toHaveLength(17);
  });
});

describe('login: device tokens against victim lockout', () => {
  it('checklist: lockout capped so attackers cannot lock victims out — with the default wiring, a device token from an earlier sign-in beats a lockout from 10 IPs × 5 failures', async () => {
    const h = await createAuthHarness();
    await h.signUpUser('alice@example.com');
    const earlier = await h.auth.login({ email: 'alice@example.com', password: PASSWORD }, { ...CLIENT, ip: '192.0.2.1' });
    if (earlier.status !== 'authenticated') throw new Error('expected authenticated');
    expect(earlier.deviceToken).toMatch(/^v1\.[0-9a-z]+\.[A-Za-z0-9_-]{43}$/);

    for (let ip = 0; ip < 10; ip += 1) {
      for (let attempt = 0; attempt < 5; attempt += 1) {
        await rejectionOf(h.auth.login({ email: 'alice@example.com', password: 'nope nope nope' }, { ...CLIENT, ip: `198.51.100.${ip}` }));
      }
    }
    // The account-wide counter is full: the victim from a new IP, right password, is refused…
    const newDevice = await rejectionOf(h.auth.login({ email: 'alice@example.com', password: PASSWORD }, { ...CLIENT, ip: '192.0.2.55' }));
    expect(newDevice).toMatchObject({ code: 'RATE_LIMITED' });
    // …a forged or foreign device token changes nothing…
    const other = await h.signUpUser('mallory@example.com');
    const mallorys = await h.auth.login({ email: other.email, password: PASSWORD }, { ...CLIENT, ip: '192.0.2.60' });
    if (mallorys.status !== 'authenticated') throw new Error('expected authenticated');
    for (const deviceToken of [mallorys.deviceToken, `${earlier.deviceToken.slice(0, -1)}A`, 'v1.zzzz.' + 'A'.repeat(43)]) {
      await expect(h.auth.login({ email: 'alice@example.com', password: PASSWORD, deviceToken }, { ...CLIENT, ip: '192.0.2.56' })).rejects.toMatchObject({
        code: 'RATE_LIMITED',
      });
    }
    // …and the victim's own device token, from yet another IP, signs in.
    const trusted = await h.auth.login({ email: 'alice@example.com', password: PASSWORD, deviceToken: earlier.deviceToken }, { ...CLIENT, ip: '192.0.2.57' });
    expect(trusted).toMatchObject({ status: 'authenticated' });
  });

  it('a device token expires after deviceTokenTtlSeconds, and one made with another deviceTokenSecret is not trusted', async () => {
    const h = await createAuthHarness({ deviceTokenSecret: 'device-token-secret-of-32-bytes-at-least', deviceTokenTtlSeconds: 86_400 });
    await h.signUpUser('alice@example.com');
    const earlier = await h.auth.login({ email: 'alice@example.com', password: PASSWORD }, CLIENT);
    if (earlier.status !== 'authenticated') throw new Error('expected authenticated');
    const lockOut = async () => {
      for (let ip = 0; ip < 50; ip += 1) await rejectionOf(h.auth.login({ email: 'alice@example.com', password: 'nope nope nope' }, { ...CLIENT, ip: `198.51.100.${ip}` }));
    };
    await lockOut();
    h.clock.advance(86_400_000);
    await lockOut();
    await expect(h.auth.login({ email: 'alice@example.com', password: PASSWORD, deviceToken: earlier.deviceToken }, { ...CLIENT, ip: '192.0.2.57' })).rejects.toMatchObject({
      code: 'RATE_LIMITED',
    });
    const elsewhere = await createAuthHarness({ deviceTokenSecret: 'another-device-token-secret-of-32-bytes', stores: h.stores });
    const foreign = await elsewhere.auth.login({ email: 'alice@example.com', password: PASSWORD }, CLIENT);
    if (foreign.status !== 'authenticated') throw new Error('expected authenticated');
    await expect(h.auth.login({ email: 'alice@example.com', password: PASSWORD, deviceToken: foreign.deviceToken }, { ...CLIENT, ip: '192.0.2.58' })).rejects.toMatchObject({
      code: 'RATE_LIMITED',
    });
  });

  it('refuses a deviceTokenSecret under 32 bytes (CONFIGURATION_INVALID)', async () => {
    await expect(createAuthHarness({ deviceTokenSecret: 'too short' })).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
  });
});

