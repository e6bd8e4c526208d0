import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoPassword, seedDemoData } from '../src/seed.js';
import type { ExampleServices } from '../src/services.js';
import type { AppHarness, HttpAnswerWithHeaders, HttpExchange } from './http-scenarios.js';
import { createScenarioCredentials } from './scenario-credentials.js';
import { startScenarioServices, type ScenarioBacking, type ScenarioServices } from './scenario-services.js';

const ADMIN_TOKEN = 'e2e-auth-admin-token-0123456789';
/** The e2e config's public URL (`scenarioAuthEnv`): every link is built on it, whatever the request's Host says. */
const PUBLIC_BASE_URL = 'https://app.saas.test';
const NEW_PASSWORD = 'a brand new passphrase 2';
const FAILURES_BEFORE_LOCK = 5;
/** The account-wide limit across addresses (auth's default). */
const ACCOUNT_WIDE_FAILURES = 50;

/** One header's value (Node gives `set-cookie` as an array). */
function headerOf(answer: HttpAnswerWithHeaders, name: string): string {
  const value = answer.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  expect(first, `header ${name}`).toBeTypeOf('string');
  return first as string;
}

/** The `name=value` of the answer's Set-Cookie, as a browser would send it back in `Cookie`. */
const cookieOf = (answer: HttpAnswerWithHeaders): string => headerOf(answer, 'set-cookie').split(';')[0]!;

/** The token of a one-time link (`?token=`). */
const tokenOfLink = (link: string): string => new URL(link).searchParams.get('token')!;

/**
 * The auth scenarios, through the app's real HTTP layer and @tenantkit/auth on the chosen
 * backing (accounts and keys in SQL; sessions, refresh families and revocations in Redis on the
 * Redis backing): sign-up and email verification, sign-in, refresh rotation and reuse, logout,
 * uniform failures, brute-force throttling, tenant binding, sessions, the session cookie,
 * password reset, API keys and tenant switching. On services of their own: they change
 * passwords and end sessions the other suites rely on.
 */
export function describeAuthScenarios(appName: string, startApp: AppHarness, backing: ScenarioBacking): void {
  describe(`${appName} reference app on ${backing}: authentication (end to end)`, () => {
    let running: ScenarioServices | undefined;
    let services: ExampleServices;
    let app: Awaited<ReturnType<AppHarness>>;
    const credentials = createScenarioCredentials(() => services);
    const { as } = credentials;
    const send = async (exchange: HttpExchange): Promise<HttpAnswerWithHeaders> => {
      const headers = await credentials.resolve(exchange.headers);
      return app.send(headers === undefined ? exchange : { ...exchange, headers });
    };

    let lastAddress = 0;
    /** A client address of its own, so throttles never mix between scenarios. */
    const freshIp = () => `127.0.2.${(lastAddress += 1)}`;

    const login = (body: Record<string, unknown>, extra: Partial<HttpExchange> = {}) => send({ method: 'POST', path: '/auth/login', body, ...extra });
    const bearerOf = (answer: HttpAnswerWithHeaders): Record<string, string> => ({ authorization: `Bearer ${answer.body.accessToken as string}` });
    /** Signs in over HTTP and expects success. */
    async function signIn(email: string, password: string, tenant?: string, extra: Partial<HttpExchange> = {}): Promise<HttpAnswerWithHeaders> {
      const answer = await login({ email, password, ...(tenant === undefined ? {} : { tenant }) }, extra);
      expect(answer).toMatchObject({ status: 200, body: { status: 'authenticated', tenant: tenant === undefined ? null : { slug: tenant } } });
      return answer;
    }
    /** A 401 of a code, with the WWW-Authenticate challenge every 401 carries. */
    function expectRefused(answer: HttpAnswerWithHeaders, code: string): void {
      expect(answer).toMatchObject({ status: 401, body: { error: { code } } });
      expect(headerOf(answer, 'www-authenticate')).toMatch(/^Bearer realm="api"/);
    }
    const overview = (headers: Record<string, string>, tenant: string) => send({ method: 'GET', path: '/tenant', headers: { ...headers, 'x-tenant-id': tenant } });
    const mySessions = (headers: Record<string, string>) => send({ method: 'GET', path: '/auth/sessions', headers });
    const refresh = (refreshToken: string) => send({ method: 'POST', path: '/auth/refresh', body: { refreshToken } });

    beforeAll(async () => {
      running = await startScenarioServices(backing, { ADMIN_TOKEN, BASE_DOMAIN: 'saas.test', SEED_DEMO_DATA: 'true', RATE_LIMIT_SIGNUP: '100/600' });
      services = running.services;
      await seedDemoData(services);
      // A tenant Alice does not belong to.
      await services.lifecycle.startOnboarding({ slug: 'initech', name: 'Initech', plan: 'pro', adminUserId: 'usr_bob' });
      app = await startApp(services);
    });
    afterAll(async () => {
      await app?.close();
      await running?.dispose();
    });

    it('signs up, verifies the email, signs in and refreshes; a reused refresh token revokes its family; a logged-out token is refused', async () => {
      const email = 'new.user@e2e.example';
      const password = 'correct horse battery tenant';
      const created = await send({ method: 'POST', path: '/auth/signup', body: { email: 'New.User@e2e.example', password } });
      expect(created).toMatchObject({ status: 201, body: { user: { email, emailVerified: false } } });
      expect(await send({ method: 'POST', path: '/auth/signup', body: { email, password } })).toMatchObject({ status: 409, body: { error: { code: 'ACCOUNT_ALREADY_EXISTS' } } });
      expect(await send({ method: 'POST', path: '/auth/signup', body: { email: 'weak@e2e.example', password: 'short' } })).toMatchObject({
        status: 400,
        body: { error: { code: 'PASSWORD_POLICY_VIOLATION' } },
      });

      // Email verification through the outbox (the example's stand-in for a mailer).
      const verification = services.outbox.latest({ to: email, kind: 'email-verification' });
      expect(verification?.link.startsWith(`${PUBLIC_BASE_URL}/verify-email?token=`)).toBe(true);
      const verify = { method: 'POST', path: '/auth/verify-email', body: { token: tokenOfLink(verification!.link) } } as const;
      expect(await send(verify)).toMatchObject({ status: 200, body: { user: { email, emailVerified: true } } });
      expect(await send(verify)).toMatchObject({ status: 400, body: { error: { code: 'ONE_TIME_TOKEN_INVALID' } } });

      // Signed in to no tenant: the user's own routes; then a tenant of their own, and a sign-in bound to it.
      const unbound = await signIn(email, password);
      expect(await send({ method: 'GET', path: '/me/tenants', headers: bearerOf(unbound) })).toMatchObject({ status: 200, body: [] });
      expectRefused(await overview(bearerOf(unbound), 'acme'), 'TOKEN_INVALID');
      expect(await send({ method: 'POST', path: '/signup', headers: bearerOf(unbound), body: { slug: 'newco', name: 'NewCo' } })).toMatchObject({ status: 201 });
      const first = await signIn(email, password, 'newco');
      expect(first.body).toMatchObject({ tokenType: 'Bearer', user: { id: created.body.user.id } });
      expect(await overview(bearerOf(first), 'newco')).toMatchObject({ status: 200, body: { tenant: { slug: 'newco' } } });

      // Refresh rotates: a new pair, and the new access token works.
      const rotated = await refresh(first.body.refreshToken);
      expect(rotated).toMatchObject({ status: 200, body: { tokenType: 'Bearer' } });
      expect(rotated.body.refreshToken).not.toBe(first.body.refreshToken);
      expect((await overview(bearerOf(rotated), 'newco')).status).toBe(200);
      // The old refresh token again, after the grace window (0 s in the e2e config): a reuse. The
      // family is revoked and its session ended, so the newest pair dies with it.
      expectRefused(await refresh(first.body.refreshToken), 'REFRESH_TOKEN_REUSED');
      expect(await refresh(rotated.body.refreshToken)).toMatchObject({ status: 401, body: { error: { code: expect.stringMatching(/^REFRESH_TOKEN_(REUSED|INVALID)$/) } } });
      expectRefused(await overview(bearerOf(rotated), 'newco'), 'TOKEN_REVOKED');

      // Logout ends the session: its access token and refresh token are refused at once.
      const again = await signIn(email, password, 'newco');
      const loggedOut = await send({ method: 'POST', path: '/auth/logout', headers: bearerOf(again), body: { refreshToken: again.body.refreshToken } });
      expect(loggedOut).toMatchObject({ status: 200, body: { status: 'signed-out' } });
      expect(headerOf(loggedOut, 'set-cookie')).toMatch(/; Max-Age=0;/);
      const refused = await overview(bearerOf(again), 'newco');
      expectRefused(refused, 'TOKEN_REVOKED');
      expect(headerOf(refused, 'www-authenticate')).toContain('error="invalid_token"');
      expectRefused(await refresh(again.body.refreshToken), 'REFRESH_TOKEN_INVALID');
    });

    it('answers an unknown email and a wrong password with identical 401s', async () => {
      const clientIp = freshIp();
      const unknown = await login({ email: 'nobody@acme.example', password: demoPassword, tenant: 'acme' }, { clientIp });
      const wrong = await login({ email: 'alice@acme.example', password: 'not the password at all', tenant: 'acme' }, { clientIp });
      expectRefused(unknown, 'CREDENTIALS_INVALID');
      expect(wrong.status).toBe(unknown.status);
      expect(wrong.body).toEqual(unknown.body);
      expect(headerOf(wrong, 'www-authenticate')).toBe(headerOf(unknown, 'www-authenticate'));
      expect(wrong.headers['set-cookie']).toBeUndefined();
    });

    it('throttles brute force per account and IP with 429 and Retry-After, keyed by the real peer, without locking the victim out elsewhere', async () => {
      const attacker = freshIp();
      // A new X-Forwarded-For on every attempt: not a trusted proxy, so the peer address counts.
      const attempt = (index: number, password: string) =>
        login({ email: 'bob@globex.example', password, tenant: 'globex' }, { clientIp: attacker, headers: { 'x-forwarded-for': `198.51.100.${index}` } });
      for (let index = 0; index < FAILURES_BEFORE_LOCK; index += 1) expectRefused(await attempt(index, `guess number ${index}`), 'CREDENTIALS_INVALID');
      const limited = await attempt(FAILURES_BEFORE_LOCK, 'one more guess');
      expect(limited).toMatchObject({ status: 429, body: { error: { code: 'RATE_LIMITED' } } });
      const retryAfter = Number(headerOf(limited, 'retry-after'));
      expect(Number.isInteger(retryAfter) && retryAfter > 0).toBe(true);
      // Refused before the password is looked at: the right one too, from that address.
      expect(await attempt(FAILURES_BEFORE_LOCK + 1, demoPassword)).toMatchObject({ status: 429, body: { error: { code: 'RATE_LIMITED' } } });
      // Bob, from his own address, is not locked out.
      await signIn('bob@globex.example', demoPassword, 'globex', { clientIp: freshIp() });
    });

    it('caps the account-wide lockout: a device that signed in before (device cookie) still gets in', async () => {
      const email = 'victim@e2e.example';
      const password = 'an unguessable passphrase 77';
      expect((await send({ method: 'POST', path: '/auth/signup', body: { email, password } })).status).toBe(201);
      const earlier = await signIn(email, password);
      const setCookies = ([] as string[]).concat(earlier.headers['set-cookie'] ?? []);
      const device = setCookies.find((cookie) => cookie.startsWith('__Host-tk_device='));
      expect(device).toMatch(/^__Host-tk_device=[^;]+; Path=\/; Max-Age=7776000; HttpOnly; SameSite=Lax; Secure$/);
      // A distributed guess: under the per-IP limit from each address, over the account's limit in all.
      for (let address = 0; address < ACCOUNT_WIDE_FAILURES / FAILURES_BEFORE_LOCK; address += 1) {
        const clientIp = `127.0.3.${address + 1}`;
        for (let guess = 0; guess < FAILURES_BEFORE_LOCK; guess += 1) {
          expect((await login({ email, password: `distributed guess ${guess}` }, { clientIp })).status).toBe(401);
        }
      }
      // The right password from a new device is locked out for a while (capped at 15 minutes)...
      const locked = await login({ email, password }, { clientIp: '127.0.3.200' });
      expect(locked).toMatchObject({ status: 429, body: { error: { code: 'RATE_LIMITED' } } });
      expect(Number(headerOf(locked, 'retry-after'))).toBeLessThanOrEqual(900);
      // ...but not from the device that signed in before.
      await signIn(email, password, undefined, { clientIp: '127.0.3.201', headers: { cookie: device!.split(';')[0]! } });
    });

    it('binds a token to its tenant: one issued for Acme fails at Globex', async () => {
      const acme = await signIn('alice@acme.example', demoPassword, 'acme');
      expect((await overview(bearerOf(acme), 'acme')).status).toBe(200);
      const atGlobex = await overview(bearerOf(acme), 'globex');
      expectRefused(atGlobex, 'TOKEN_INVALID');
      expect(headerOf(atGlobex, 'www-authenticate')).toContain('error="invalid_token"');
      expectRefused(await send({ method: 'GET', path: '/t/globex/projects', headers: bearerOf(acme) }), 'TOKEN_INVALID');
      // A token with one character changed, and no credential at all.
      const token = acme.body.accessToken as string;
      const at = token.length - 10; // inside the signature, a character that carries six bits
      const tampered = `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
      expectRefused(await overview({ authorization: `Bearer ${tampered}` }, 'acme'), 'TOKEN_INVALID');
      const anonymous = await overview({}, 'acme');
      expectRefused(anonymous, 'AUTHENTICATION_REQUIRED');
      expect(headerOf(anonymous, 'www-authenticate')).toBe('Bearer realm="api"');
      // A suspended tenant signs nobody in.
      expect(await login({ email: 'carol@suspended.example', password: demoPassword, tenant: 'suspended-co' })).toMatchObject({
        status: 403,
        body: { error: { code: 'TENANT_SUSPENDED' } },
      });
    });

    it('lists the sessions and revokes one: its tokens stop working at once, and nobody revokes another user\'s', async () => {
      const laptop = await signIn('alice@acme.example', demoPassword, 'acme', { headers: { 'user-agent': 'e2e laptop' } });
      const phone = await signIn('alice@acme.example', demoPassword, 'acme', { headers: { 'user-agent': 'e2e phone' } });
      const listed = await mySessions(bearerOf(laptop));
      expect(listed.status).toBe(200);
      const laptopId = laptop.body.session.id as string;
      const phoneId = phone.body.session.id as string;
      expect(listed.body).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ id: laptopId, current: true, device: expect.objectContaining({ userAgent: 'e2e laptop' }) }),
          expect.objectContaining({ id: phoneId, current: false, device: expect.objectContaining({ userAgent: 'e2e phone' }) }),
        ]),
      );
      // Bob cannot end Alice's session by its id: it answers like one that does not exist.
      const bob = await signIn('bob@globex.example', demoPassword);
      expect(await send({ method: 'DELETE', path: `/auth/sessions/${phoneId}`, headers: bearerOf(bob) })).toMatchObject({
        status: 400,
        body: { error: { code: 'VALIDATION_FAILED', details: { sessionId: phoneId } } },
      });
      expect((await overview(bearerOf(phone), 'acme')).status).toBe(200);

      expect(await send({ method: 'DELETE', path: `/auth/sessions/${phoneId}`, headers: bearerOf(laptop) })).toMatchObject({ status: 200, body: { revoked: phoneId } });
      expectRefused(await overview(bearerOf(phone), 'acme'), 'TOKEN_REVOKED');
      expect((await refresh(phone.body.refreshToken)).status).toBe(401);
      expect((await overview(bearerOf(laptop), 'acme')).status).toBe(200);
      expect((await mySessions(bearerOf(laptop))).body.map((session: { id: string }) => session.id)).not.toContain(phoneId);
      expect((await send({ method: 'DELETE', path: `/auth/sessions/${phoneId}`, headers: bearerOf(laptop) })).status).toBe(400);
    });

    it('authenticates by the session cookie (HttpOnly, SameSite=Lax, Secure), bound to its tenant, renewed on sign-in, cleared on logout', async () => {
      const signedIn = await signIn('alice@acme.example', demoPassword, 'acme');
      const setCookie = headerOf(signedIn, 'set-cookie');
      expect(signedIn.headers['cache-control']).toBe('no-store');
      expect(setCookie).toMatch(/^__Host-tk_session=[A-Za-z0-9_-]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax; Secure$/);
      // The session secret is in the cookie only, never in the body.
      expect(JSON.stringify(signedIn.body)).not.toContain(setCookie.split(';')[0]!.split('=')[1]!);
      const cookie = { cookie: cookieOf(signedIn) };
      expect(await send({ method: 'GET', path: '/projects', headers: { ...cookie, 'x-tenant-id': 'acme' } })).toMatchObject({ status: 200 });
      expectRefused(await send({ method: 'GET', path: '/projects', headers: { ...cookie, 'x-tenant-id': 'globex' } }), 'SESSION_INVALID');
      // One credential per request: a cookie and a token together are refused.
      expectRefused(await overview({ ...cookie, ...bearerOf(signedIn) }, 'acme'), 'TOKEN_INVALID');

      // Signing in again with the cookie: a new session id, and the old cookie is dead.
      const renewed = await signIn('alice@acme.example', demoPassword, 'acme', { headers: cookie });
      expect(renewed.body.session.id).not.toBe(signedIn.body.session.id);
      expectRefused(await mySessions(cookie), 'SESSION_INVALID');
      const renewedCookie = { cookie: cookieOf(renewed) };
      expect((await mySessions(renewedCookie)).status).toBe(200);

      const loggedOut = await send({ method: 'POST', path: '/auth/logout', headers: renewedCookie });
      expect(loggedOut).toMatchObject({ status: 200 });
      expect(headerOf(loggedOut, 'set-cookie')).toMatch(/^__Host-tk_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Lax; Secure$/);
      expectRefused(await overview(renewedCookie, 'acme'), 'SESSION_INVALID');
      expectRefused(await overview(bearerOf(renewed), 'acme'), 'TOKEN_REVOKED');
    });

    it('resets a password through the outbox link: old tokens, refresh tokens and sessions are refused, the new password works and the old one fails', async () => {
      const email = 'reset.me@e2e.example';
      const oldPassword = 'my first long passphrase';
      expect((await send({ method: 'POST', path: '/auth/signup', body: { email, password: oldPassword } })).status).toBe(201);
      const before = await signIn(email, oldPassword);
      const clientIp = freshIp();

      // Known and unknown emails get the same answer; only the known one gets a mail. The
      // link is built from the configured URL, whatever Host and X-Forwarded-Host claim.
      const hostile = { host: 'evil.example', 'x-forwarded-host': 'evil.example' };
      const known = await send({ method: 'POST', path: '/auth/password-reset', headers: hostile, body: { email }, clientIp });
      const unknown = await send({ method: 'POST', path: '/auth/password-reset', headers: hostile, body: { email: 'nobody@e2e.example' }, clientIp });
      expect(known).toMatchObject({ status: 202, body: { status: 'accepted' } });
      expect(unknown.status).toBe(known.status);
      expect(unknown.body).toEqual(known.body);
      expect(unknown.headers['content-type']).toBe(known.headers['content-type']);
      expect(services.outbox.latest({ to: 'nobody@e2e.example' })).toBeUndefined();
      const mail = services.outbox.latest({ to: email, kind: 'password-reset' });
      expect(mail?.link.startsWith(`${PUBLIC_BASE_URL}/reset-password?token=`)).toBe(true);
      expect(mail?.link).not.toContain('evil.example');
      const confirm = (link: string, password: string) =>
        send({ method: 'POST', path: '/auth/password-reset/confirm', body: { token: tokenOfLink(link), password } });
      // A password the policy refuses leaves the link usable; one from the history spends it.
      expect(await confirm(mail!.link, 'short')).toMatchObject({ status: 400, body: { error: { code: 'PASSWORD_POLICY_VIOLATION' } } });
      expect(await confirm(mail!.link, oldPassword)).toMatchObject({ status: 400, body: { error: { code: 'PASSWORD_REUSED' } } });
      expect(await confirm(mail!.link, NEW_PASSWORD)).toMatchObject({ status: 400, body: { error: { code: 'ONE_TIME_TOKEN_INVALID' } } });
      expect((await send({ method: 'POST', path: '/auth/password-reset', body: { email }, clientIp })).status).toBe(202);
      const second = services.outbox.latest({ to: email, kind: 'password-reset' })!;
      expect(second.link).not.toBe(mail!.link);
      expect(await confirm(second.link, NEW_PASSWORD)).toMatchObject({ status: 200, body: { status: 'password-changed' } });
      expect(await confirm(second.link, 'yet another long passphrase')).toMatchObject({ status: 400, body: { error: { code: 'ONE_TIME_TOKEN_INVALID' } } });

      expectRefused(await mySessions(bearerOf(before)), 'TOKEN_REVOKED');
      expect((await refresh(before.body.refreshToken)).status).toBe(401);
      expectRefused(await mySessions({ cookie: cookieOf(before) }), 'SESSION_INVALID');
      expectRefused(await login({ email, password: oldPassword }, { clientIp: freshIp() }), 'CREDENTIALS_INVALID');
      const after = await signIn(email, NEW_PASSWORD);
      expect((await mySessions(bearerOf(after))).status).toBe(200);
    });

    it('creates API keys within the creator\'s permissions, shows each once, authenticates x-api-key in its tenant and refuses it at once when revoked', async () => {
      // Alice is a viewer in Globex: a read-only key yes, one that creates projects no.
      expect(await send({ method: 'POST', path: '/api-keys', headers: as('usr_alice', 'globex'), body: { name: 'sneaky', scopes: ['projects:create'] } })).toMatchObject({
        status: 403,
        body: { error: { code: 'API_KEY_SCOPE_FORBIDDEN' } },
      });
      const viewerKey = await send({ method: 'POST', path: '/api-keys', headers: as('usr_alice', 'globex'), body: { name: 'dashboard', scopes: ['projects:list'] } });
      expect(viewerKey).toMatchObject({ status: 201, body: { apiKey: { createdBy: 'usr_alice', scopes: ['projects:list'] } } });
      const bobKey = await send({ method: 'POST', path: '/api-keys', headers: as('usr_bob', 'globex'), body: { name: 'bob ci', scopes: ['projects:create'] } });
      expect(bobKey.status).toBe(201);
      // A viewer revokes the keys they created, not anyone else's.
      expect(await send({ method: 'DELETE', path: `/api-keys/${bobKey.body.apiKey.id}`, headers: as('usr_alice', 'globex') })).toMatchObject({
        status: 403,
        body: { error: { code: 'PERMISSION_DENIED', details: { permission: 'api-keys:revoke' } } },
      });
      expect((await send({ method: 'DELETE', path: `/api-keys/${viewerKey.body.apiKey.id}`, headers: as('usr_alice', 'globex') })).status).toBe(200);

      // Alice, Acme's admin: a key for CI that lists and reads projects.
      const created = await send({ method: 'POST', path: '/api-keys', headers: as('usr_alice', 'acme'), body: { name: 'CI', scopes: ['projects:list', 'projects:read'] } });
      expect(created).toMatchObject({ status: 201, body: { key: expect.stringMatching(/^tkex_/), apiKey: { name: 'CI', createdBy: 'usr_alice', revokedAt: null } } });
      const key = created.body.key as string;
      const keyId = created.body.apiKey.id as string;
      expect(created.body.apiKey.secretHash).toBeUndefined();
      // Shown once: the list has the key's id, never the key or its hash.
      const listed = await send({ method: 'GET', path: '/api-keys', headers: as('usr_alice', 'acme') });
      expect(listed.body.map((row: { id: string }) => row.id)).toContain(keyId);
      expect(JSON.stringify(listed.body)).not.toContain(key.slice(-16));
      expect(listed.body.every((row: Record<string, unknown>) => !('secretHash' in row) && !('key' in row))).toBe(true);

      const withKey = (tenant: string, presented = key) => ({ 'x-api-key': presented, 'x-tenant-id': tenant });
      expect((await send({ method: 'GET', path: '/projects', headers: withKey('acme') })).status).toBe(200);
      // Capped by its scopes, though its creator may do everything.
      expect(await send({ method: 'POST', path: '/projects', headers: withKey('acme'), body: { name: 'By key' } })).toMatchObject({
        status: 403,
        body: { error: { code: 'PERMISSION_DENIED', details: { permission: 'projects:create' } } },
      });
      expectRefused(await send({ method: 'GET', path: '/projects', headers: withKey('globex') }), 'API_KEY_INVALID');
      expectRefused(await send({ method: 'GET', path: '/projects', headers: withKey('acme', `${key.slice(0, -4)}AAAA`) }), 'API_KEY_INVALID');
      // A key is not a user: it cannot act outside its tenant.
      expect(await send({ method: 'GET', path: '/me/tenants', headers: { 'x-api-key': key } })).toMatchObject({ status: 403, body: { error: { code: 'PERMISSION_DENIED' } } });

      expect(await send({ method: 'DELETE', path: `/api-keys/${keyId}`, headers: as('usr_alice', 'acme') })).toMatchObject({ status: 200, body: { revoked: keyId } });
      expectRefused(await send({ method: 'GET', path: '/projects', headers: withKey('acme') }), 'API_KEY_INVALID');
    });

    it('switches the session to another tenant only where the user is a member', async () => {
      const acme = await signIn('alice@acme.example', demoPassword, 'acme');
      const acmeCookie = { cookie: cookieOf(acme) };
      const switched = await send({ method: 'POST', path: '/auth/switch-tenant', headers: acmeCookie, body: { tenant: 'globex' } });
      expect(switched).toMatchObject({ status: 200, body: { status: 'authenticated', tenant: { slug: 'globex' }, user: { id: 'usr_alice' } } });
      expect(switched.body.session.id).not.toBe(acme.body.session.id);
      const globexCookie = { cookie: cookieOf(switched) };
      expect(await overview(bearerOf(switched), 'globex')).toMatchObject({ status: 200, body: { tenant: { slug: 'globex' } } });
      expect((await overview(globexCookie, 'globex')).status).toBe(200);
      expectRefused(await overview(bearerOf(switched), 'acme'), 'TOKEN_INVALID');
      // The old session is rotated away, with its tokens.
      expectRefused(await mySessions(acmeCookie), 'SESSION_INVALID');
      expectRefused(await overview(bearerOf(acme), 'acme'), 'TOKEN_REVOKED');

      // Not into a tenant she does not belong to, nor one that does not exist; the session stays where it was.
      expect(await send({ method: 'POST', path: '/auth/switch-tenant', headers: globexCookie, body: { tenant: 'initech' } })).toMatchObject({
        status: 404,
        body: { error: { code: 'MEMBERSHIP_NOT_FOUND' } },
      });
      expect(await send({ method: 'POST', path: '/auth/switch-tenant', headers: globexCookie, body: { tenant: 'nope' } })).toMatchObject({
        status: 404,
        body: { error: { code: 'TENANT_NOT_FOUND' } },
      });
      expect((await overview(globexCookie, 'globex')).status).toBe(200);
      // Switching moves a session: it needs the session cookie, not only a token.
      expectRefused(await send({ method: 'POST', path: '/auth/switch-tenant', headers: bearerOf(switched), body: { tenant: 'acme' } }), 'AUTHENTICATION_REQUIRED');
    });
  });
}
