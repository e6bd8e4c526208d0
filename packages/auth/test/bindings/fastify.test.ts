import { createManualClock } from '@tenantkit/core';
import { createRateLimiter } from '@tenantkit/ratelimit';
import { rateLimitPlugin } from '@tenantkit/ratelimit/fastify';
import { createRbac, memoryRbacStore } from '@tenantkit/rbac';
import { rbacPlugin } from '@tenantkit/rbac/fastify';
import { currentTenantId } from '@tenantkit/tenant-context';
import { tenantContextPlugin } from '@tenantkit/tenant-context/fastify';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { authPlugin, type AuthPluginOptions } from '@tenantkit/auth/fastify';
import { bindingFixture, type BindingFixture } from './binding-fixture.js';

const apps: FastifyInstance[] = [];
const fixtures: BindingFixture[] = [];

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  await Promise.all(fixtures.splice(0).map((fixture) => fixture.close()));
});

async function fixture(): Promise<BindingFixture> {
  const made = await bindingFixture();
  fixtures.push(made);
  return made;
}

function newApp(): FastifyInstance {
  const app = Fastify();
  apps.push(app);
  app.setErrorHandler((error, _request, reply) => {
    void reply.code(599).send({ handled: (error as Error).message, code: (error as { code?: unknown }).code ?? null });
  });
  return app;
}

/** An app with only the auth plugin. */
async function buildApp(options: Partial<AuthPluginOptions> = {}) {
  const made = await fixture();
  const app = newApp();
  await app.register(authPlugin, { authenticator: made.authenticator, ...options });
  const show = async (request: { principal: unknown }) => ({ principal: request.principal });
  app.get('/me', show);
  app.get('/pricing', { config: { auth: 'optional' } }, show);
  app.get('/health', { config: { auth: 'none' } }, show);
  app.get('/strict', { config: { auth: 'required' } }, show);
  await app.ready();
  return { app, fixture: made };
}

describe('authPlugin', () => {
  it('sets request.principal from a Bearer token, a session cookie or an API key', async () => {
    const { app, fixture: made } = await buildApp();
    expect((await app.inject({ url: '/me', headers: { authorization: 'Bearer acme' } })).json().principal).toMatchObject({
      kind: 'user',
      id: 'usr_alice',
      method: 'access-token',
    });
    expect((await app.inject({ url: '/me', headers: { cookie: 'tk_session=secret-acme' } })).json().principal).toMatchObject({ method: 'session' });
    expect((await app.inject({ url: '/me', headers: { 'x-api-key': made.key } })).json().principal).toMatchObject({ kind: 'api-key' });
  });

  it('requires a principal by default: 401 AUTHENTICATION_REQUIRED with WWW-Authenticate, also for unknown routes', async () => {
    const { app } = await buildApp();
    for (const url of ['/me', '/strict', '/no-such-route']) {
      const response = await app.inject({ url });
      expect(response.statusCode, url).toBe(401);
      expect(response.headers['www-authenticate'], url).toBe('Bearer realm="api"');
      expect(response.json(), url).toEqual({ error: { code: 'AUTHENTICATION_REQUIRED', message: 'Authentication required' } });
    }
  });

  it("honours config.auth: 'optional' lets anonymous requests through with principal null, 'none' reads no credential", async () => {
    const { app } = await buildApp();
    expect((await app.inject({ url: '/pricing' })).json()).toEqual({ principal: null });
    expect((await app.inject({ url: '/pricing', headers: { authorization: 'Bearer unknown' } })).statusCode).toBe(401);
    const health = await app.inject({ url: '/health', headers: { authorization: 'Bearer unknown', cookie: 'tk_session=a; tk_session=b' } });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ principal: null });
  });

  it("with default: 'optional', routes without config.auth admit anonymous requests and 'required' routes do not", async () => {
    const { app } = await buildApp({ default: 'optional' });
    expect((await app.inject({ url: '/me' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/strict' })).statusCode).toBe(401);
  });

  it('answers failed credentials 401 with the RFC 6750 challenge and the coded body', async () => {
    const { app } = await buildApp();
    for (const [headers, code, challenge] of [
      [{ authorization: 'Bearer unknown' }, 'TOKEN_INVALID', 'Bearer realm="api", error="invalid_token"'],
      [{ authorization: 'Bearer expired' }, 'TOKEN_EXPIRED', 'Bearer realm="api", error="invalid_token", error_description="The access token expired"'],
      [{ cookie: 'tk_session=a; tk_session=b' }, 'SESSION_INVALID', 'Bearer realm="api"'],
      [{ 'x-api-key': 'tk_nope' }, 'API_KEY_INVALID', 'Bearer realm="api"'],
    ] as const) {
      const response = await app.inject({ url: '/me', headers });
      expect(response.statusCode, code).toBe(401);
      expect(response.headers['www-authenticate'], code).toBe(challenge);
      expect(response.json(), code).toEqual({ error: { code, message: expect.any(String) } });
    }
  });

  it('answers a per-key rate limit 429 with Retry-After', async () => {
    const { app, fixture: made } = await buildApp();
    expect((await app.inject({ url: '/me', headers: { 'x-api-key': made.key } })).statusCode).toBe(200);
    const limited = await app.inject({ url: '/me', headers: { 'x-api-key': made.key } });
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.json().error.code).toBe('RATE_LIMITED');
  });

  it('hands other errors to the app error handler', async () => {
    const { app } = await buildApp();
    expect((await app.inject({ url: '/me', headers: { authorization: 'Bearer broken' } })).json()).toEqual({ handled: 'token service crashed', code: null });
    const { app: throwing } = await buildApp({
      getTenantId: () => {
        throw new Error('no tenant here');
      },
    });
    expect((await throwing.inject({ url: '/me', headers: { authorization: 'Bearer acme' } })).json()).toEqual({ handled: 'no tenant here', code: null });
  });

  it('binds credentials to the tenant from getTenantId', async () => {
    const { app } = await buildApp({ getTenantId: (request) => (request.headers['x-tenant'] as string | undefined) ?? null });
    expect((await app.inject({ url: '/me', headers: { authorization: 'Bearer acme', 'x-tenant': 'tnt_acme' } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/me', headers: { authorization: 'Bearer acme', 'x-tenant': 'tnt_globex' } })).statusCode).toBe(401);
  });

  it('rejects invalid options at registration and an invalid config.auth when the route is declared', async () => {
    const made = await fixture();
    for (const options of [{}, { authenticator: {} }, { authenticator: made.authenticator, default: 'none' }, { authenticator: made.authenticator, getTenantId: 1 }]) {
      const app = newApp();
      await expect(app.register(authPlugin, options as never).ready(), JSON.stringify(options)).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
    }
    const app = newApp();
    await app.register(authPlugin, { authenticator: made.authenticator });
    expect(() => app.get('/x', { config: { auth: 'sometimes' as never } }, async () => 'ok')).toThrow(
      expect.objectContaining({ code: 'CONFIGURATION_INVALID' }),
    );
  });

  it('can be registered once per app', async () => {
    const made = await fixture();
    const app = newApp();
    await app.register(authPlugin, { authenticator: made.authenticator });
    await expect(app.register(authPlugin, { authenticator: made.authenticator }).ready()).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
  });
});

describe('authPlugin with tenantContextPlugin, rbacPlugin and rateLimitPlugin', () => {
  async function chain() {
    const made = await fixture();
    const rbac = createRbac({ store: memoryRbacStore(), clock: createManualClock() });
    const system = { reason: 'test setup' };
    await rbac.roles.createAsSystem(system, { key: 'developer', permissions: ['projects:read', 'projects:deploy'] }, { tenantId: 'tnt_acme' });
    await rbac.assignments.assignAsSystem(system, { subject: { type: 'user', id: 'usr_alice' }, roleKey: 'developer' }, { tenantId: 'tnt_acme' });
    const limiter = createRateLimiter({ policies: [{ name: 'user', by: ['tenant', 'user'], points: 3, duration: 60 }] });
    const app = newApp();
    app.addHook('onClose', async () => limiter.close());
    await app.register(tenantContextPlugin, { resolver: made.resolver });
    await app.register(authPlugin, { authenticator: made.authenticator });
    await app.register(rbacPlugin, { checker: rbac, getPrincipal: (request) => request.principal });
    await app.register(rateLimitPlugin, { limiter, subject: (request) => (request.principal === null ? {} : { userId: request.principal.id }) });
    const report = async (request: { principal: { id: string } | null }) => ({ scope: currentTenantId() ?? null, principal: request.principal?.id ?? null });
    app.get('/projects', { config: { permission: 'projects:read' } }, report);
    app.post('/deploys', { config: { permission: 'projects:deploy' } }, report);
    app.get('/catalog', { config: { auth: 'optional', permission: 'projects:read' } }, report);
    app.get('/health', { config: { auth: 'none', tenant: false, rateLimits: false } }, async () => ({ ok: true }));
    await app.ready();
    return { app, fixture: made };
  }

  it('authenticates after the tenant is resolved: a token of another tenant is refused', async () => {
    const { app } = await chain();
    const acme = await app.inject({ url: '/projects', headers: { 'x-tenant-id': 'tnt_acme', authorization: 'Bearer acme' } });
    expect(acme.statusCode).toBe(200);
    expect(acme.json()).toEqual({ scope: 'tnt_acme', principal: 'usr_alice' });
    const globex = await app.inject({ url: '/projects', headers: { 'x-tenant-id': 'tnt_globex', authorization: 'Bearer acme' } });
    expect(globex.statusCode).toBe(401);
    expect(globex.json().error.code).toBe('TOKEN_INVALID');
    const session = await app.inject({ url: '/projects', headers: { 'x-tenant-id': 'tnt_globex', cookie: 'tk_session=secret-acme' } });
    expect(session.json().error.code).toBe('SESSION_INVALID');
  });

  it('authenticates before rbac checks permissions: rbac sees the principal and its token scopes', async () => {
    const { app } = await chain();
    const headers = { 'x-tenant-id': 'tnt_acme', authorization: 'Bearer acme' };
    // The role allows deploys, but the token is scoped to projects:read.
    const deploy = await app.inject({ method: 'POST', url: '/deploys', headers });
    expect(deploy.statusCode).toBe(403);
    expect(deploy.json().error.code).toBe('PERMISSION_DENIED');
    // Optional auth and no credential: rbac, running later, finds no principal.
    const anonymous = await app.inject({ url: '/catalog', headers: { 'x-tenant-id': 'tnt_acme' } });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().error.code).toBe('PRINCIPAL_REQUIRED');
  });

  it('authenticates before the rate limit: the limiter keys by the principal', async () => {
    const { app } = await chain();
    const headers = { 'x-tenant-id': 'tnt_acme', authorization: 'Bearer acme' };
    for (let index = 0; index < 3; index += 1) expect((await app.inject({ url: '/projects', headers })).statusCode).toBe(200);
    const limited = await app.inject({ url: '/projects', headers });
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.details.policy).toBe('user');
    expect((await app.inject({ url: '/health' })).json()).toEqual({ ok: true });
  });

  it('fails app.ready() when tenantContextPlugin is registered after authPlugin', async () => {
    const made = await fixture();
    const app = newApp();
    await app.register(authPlugin, { authenticator: made.authenticator });
    await app.register(tenantContextPlugin, { resolver: made.resolver });
    await expect(app.ready()).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID', message: expect.stringContaining('before authPlugin') });
  });
});
