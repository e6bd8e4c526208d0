import { useLocalHttpServers } from '@tenantkit/test-utils';
import { currentTenantId } from '@tenantkit/tenant-context';
import { tenantMiddleware } from '@tenantkit/tenant-context/express';
import express, { type ErrorRequestHandler } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { createAuthMiddleware, type AuthMiddlewareOptions } from '@tenantkit/auth/express';
import { bindingFixture, type BindingFixture } from './binding-fixture.js';

const listen = useLocalHttpServers();
const fixtures: BindingFixture[] = [];

afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((fixture) => fixture.close()));
});

/** A response body, for assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const bodyOf = async (response: Response): Promise<any> => response.json();

const reportErrors: ErrorRequestHandler = (error: Error, _req, res, _next) => {
  res.status(599).json({ handled: error.message });
};

async function buildApp(options: Partial<AuthMiddlewareOptions> = {}, withTenant = false) {
  const fixture = await bindingFixture();
  fixtures.push(fixture);
  const app = express();
  if (withTenant) app.use(tenantMiddleware({ resolver: fixture.resolver, required: false }));
  const auth = createAuthMiddleware({ authenticator: fixture.authenticator, ...options });
  const show = (req: express.Request, res: express.Response) => {
    res.json({ principal: req.principal ?? null, scope: currentTenantId() ?? null });
  };
  app.get('/me', auth.authenticate(), show);
  app.get('/pricing', auth.authenticate({ optional: true }), show);
  app.use(reportErrors);
  const url = await listen(app);
  return { url, fixture };
}

describe('createAuthMiddleware().authenticate()', () => {
  it('sets req.principal from a Bearer token, a session cookie or an API key', async () => {
    const { url, fixture } = await buildApp();
    const bearer = await fetch(`${url}/me`, { headers: { authorization: 'Bearer acme' } });
    expect(bearer.status).toBe(200);
    expect((await bodyOf(bearer)).principal).toMatchObject({ kind: 'user', id: 'usr_alice', method: 'access-token', tenantId: 'tnt_acme' });
    const cookie = await fetch(`${url}/me`, { headers: { cookie: 'tk_session=secret-acme' } });
    expect((await bodyOf(cookie)).principal).toMatchObject({ method: 'session', sessionId: 'ses_1' });
    const key = await fetch(`${url}/me`, { headers: { 'x-api-key': fixture.key } });
    expect((await bodyOf(key)).principal).toMatchObject({ kind: 'api-key', method: 'api-key' });
  });

  it('answers a request without credentials 401 AUTHENTICATION_REQUIRED with a challenge carrying no error', async () => {
    const { url } = await buildApp();
    const response = await fetch(`${url}/me`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="api"');
    expect(await bodyOf(response)).toEqual({ error: { code: 'AUTHENTICATION_REQUIRED', message: 'Authentication required' } });
  });

  it('lets an optional route through without credentials, but not with a failed one', async () => {
    const { url } = await buildApp();
    const anonymous = await fetch(`${url}/pricing`);
    expect(anonymous.status).toBe(200);
    expect((await bodyOf(anonymous)).principal).toBeNull();
    const failed = await fetch(`${url}/pricing`, { headers: { authorization: 'Bearer unknown' } });
    expect(failed.status).toBe(401);
  });

  it('answers failed credentials 401 with the RFC 6750 challenge and the coded body', async () => {
    const { url } = await buildApp();
    for (const [headers, code, challenge] of [
      [{ authorization: 'Bearer unknown' }, 'TOKEN_INVALID', 'Bearer realm="api", error="invalid_token"'],
      [{ authorization: 'Basic dXNlcjpwYXNz' }, 'TOKEN_INVALID', 'Bearer realm="api", error="invalid_token"'],
      [{ authorization: 'Bearer expired' }, 'TOKEN_EXPIRED', 'Bearer realm="api", error="invalid_token", error_description="The access token expired"'],
      [{ cookie: 'tk_session=unknown' }, 'SESSION_INVALID', 'Bearer realm="api"'],
      [{ 'x-api-key': 'tk_nope' }, 'API_KEY_INVALID', 'Bearer realm="api"'],
      [{ authorization: 'Bearer acme', cookie: 'tk_session=secret-acme' }, 'TOKEN_INVALID', 'Bearer realm="api", error="invalid_token"'],
    ] as const) {
      const response = await fetch(`${url}/me`, { headers });
      expect(response.status, code).toBe(401);
      expect(response.headers.get('www-authenticate'), code).toBe(challenge);
      expect(await bodyOf(response), code).toEqual({ error: { code, message: expect.any(String) } });
    }
  });

  it('answers a per-key rate limit 429 with Retry-After', async () => {
    const { url, fixture } = await buildApp();
    expect((await fetch(`${url}/me`, { headers: { 'x-api-key': fixture.key } })).status).toBe(200);
    const limited = await fetch(`${url}/me`, { headers: { 'x-api-key': fixture.key } });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await bodyOf(limited)).error).toMatchObject({ code: 'RATE_LIMITED', details: { retryAfterSeconds: expect.any(Number) } });
  });

  it('hands errors that are not credential failures to next(error)', async () => {
    const { url } = await buildApp();
    const response = await fetch(`${url}/me`, { headers: { authorization: 'Bearer broken' } });
    expect(response.status).toBe(599);
    expect(await bodyOf(response)).toEqual({ handled: 'token service crashed' });
    const { url: throwing } = await buildApp({
      getTenantId: () => {
        throw new Error('no tenant here');
      },
    });
    expect(await bodyOf(await fetch(`${throwing}/me`, { headers: { authorization: 'Bearer acme' } }))).toEqual({ handled: 'no tenant here' });
  });

  it('binds credentials to the tenant from getTenantId', async () => {
    const { url } = await buildApp({ getTenantId: (req) => (req.query.tenant as string | undefined) ?? null });
    expect((await fetch(`${url}/me?tenant=tnt_acme`, { headers: { authorization: 'Bearer acme' } })).status).toBe(200);
    expect((await fetch(`${url}/me?tenant=tnt_globex`, { headers: { authorization: 'Bearer acme' } })).status).toBe(401);
    expect((await fetch(`${url}/me`, { headers: { authorization: 'Bearer acme' } })).status).toBe(200);
  });

  it('after tenantMiddleware, refuses a token, session or key of another tenant (ambient scope)', async () => {
    const { url, fixture } = await buildApp({}, true);
    const globex = { 'x-tenant-id': 'tnt_globex' };
    const inAcme = await fetch(`${url}/me`, { headers: { 'x-tenant-id': 'tnt_acme', authorization: 'Bearer acme' } });
    expect(await bodyOf(inAcme)).toMatchObject({ scope: 'tnt_acme', principal: { id: 'usr_alice' } });
    for (const [headers, code] of [
      [{ ...globex, authorization: 'Bearer acme' }, 'TOKEN_INVALID'],
      [{ ...globex, cookie: 'tk_session=secret-acme' }, 'SESSION_INVALID'],
      [{ ...globex, 'x-api-key': fixture.key }, 'API_KEY_INVALID'],
    ] as const) {
      const response = await fetch(`${url}/me`, { headers });
      expect(response.status, code).toBe(401);
      expect((await bodyOf(response)).error.code).toBe(code);
    }
  });

  it('validates its options when called (CONFIGURATION_INVALID)', async () => {
    const fixture = await bindingFixture();
    fixtures.push(fixture);
    for (const options of [{}, { authenticator: {} }, { authenticator: fixture.authenticator, getTenantId: 'tenant' }, { authenticator: fixture.authenticator, extra: 1 }]) {
      expect(() => createAuthMiddleware(options as never), JSON.stringify(Object.keys(options))).toThrow(
        expect.objectContaining({ code: 'CONFIGURATION_INVALID' }),
      );
    }
    const auth = createAuthMiddleware({ authenticator: fixture.authenticator });
    expect(() => auth.authenticate({ optional: 'yes' } as never)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
    expect(() => auth.authenticate({ required: true } as never)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
  });
});
