import Fastify, { type FastifyInstance } from 'fastify';
import { createTenantResolver, fromHeader, requireTenantId } from '@tenantkit/tenant-context';
import { tenantContextPlugin } from '@tenantkit/tenant-context/fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { rateLimitPlugin, type RateLimitPluginOptions } from '@tenantkit/ratelimit/fastify';
import { RateLimitError } from '../../src/errors.js';
import { useClosingLimiters } from '../support/closing-limiters.js';
import { sfList, tenantRegistry, unreachableStore, plans } from './binding-fixtures.js';

const limiterWith = useClosingLimiters();
const apps: FastifyInstance[] = [];

// Registered after useClosingLimiters, so it runs first: the apps close before their limiters.
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

const ipPolicy = (points: number) => limiterWith({ policies: [{ name: 'ip', by: ['ip'], points, duration: 60 }] });

/** An app with the plugin, a few routes and an error handler that reports what reached it. */
async function appWith(options: RateLimitPluginOptions, setup?: (app: FastifyInstance) => void | Promise<void>) {
  const app = Fastify();
  apps.push(app);
  app.setErrorHandler((error, _request, reply) => {
    void reply.code(599).send({ handled: (error as Error).message, code: (error as { code?: unknown }).code ?? null });
  });
  await setup?.(app);
  await app.register(rateLimitPlugin, options);
  app.get('/projects/:id', async (request) => ({ decision: request.rateLimit?.reason ?? null }));
  app.get('/health', { config: { rateLimits: false } }, async (request) => ({ decision: request.rateLimit }));
  return app;
}

describe('rateLimitPlugin', () => {
  it('sends RateLimit-Policy and RateLimit headers in structured-field syntax on admitted requests', async () => {
    const app = await appWith({ limiter: ipPolicy(3) });
    const response = await app.inject({ url: '/projects/1' });

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ decision: 'allowed' });
    const [policy] = sfList(response.headers['ratelimit-policy']);
    expect(policy?.value).toBe('ip');
    expect(policy?.params.get('q')).toBe(3);
    expect(policy?.params.get('w')).toBe(60);
    expect(policy?.params.get('pk')).toHaveProperty('bytes');
    const [current] = sfList(response.headers.ratelimit);
    expect(current?.value).toBe('ip');
    expect(current?.params.get('r')).toBe(2);
    expect(current?.params.get('t')).toBeGreaterThanOrEqual(59);
    expect(response.headers['retry-after']).toBeUndefined();
    expect(response.headers['x-ratelimit-limit']).toBeUndefined();
  });

  it('answers 429 with Retry-After, the headers and the coded body once the limit is spent', async () => {
    const app = await appWith({ limiter: ipPolicy(2) });
    for (let index = 0; index < 2; index += 1) expect((await app.inject({ url: '/projects/1' })).statusCode).toBe(200);

    const refused = await app.inject({ url: '/projects/1' });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['content-type']).toMatch(/^application\/json/);
    const retryAfter = Number(refused.headers['retry-after']);
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
    expect(refused.json()).toEqual({
      error: { code: 'RATE_LIMITED', message: 'Too many requests', details: { policy: 'ip', retryAfterSeconds: retryAfter, limit: 2 } },
    });
    expect(sfList(refused.headers.ratelimit)[0]?.params.get('r')).toBe(0);
    expect(sfList(refused.headers['ratelimit-policy'])[0]?.params.get('q')).toBe(2);
  });

  it('exposes the decision as request.rateLimit, null where limiting is off', async () => {
    let seen: unknown;
    const app = await appWith({ limiter: ipPolicy(5) }, (instance) => {
      instance.get('/seen', async (request) => {
        seen = request.rateLimit;
        return 'ok';
      });
    });
    await app.inject({ url: '/seen' });
    expect(seen).toMatchObject({ allowed: true, reason: 'allowed', outcomes: [{ policy: 'ip', limit: 5, remaining: 4 }] });
    const health = await app.inject({ url: '/health' });
    expect(health.json()).toEqual({ decision: null });
    expect(health.headers.ratelimit).toBeUndefined();
  });

  it('keys the route by its pattern, so /projects/1 and /projects/2 share a counter', async () => {
    const limiter = limiterWith({ policies: [{ name: 'route', by: ['route'], points: 2, duration: 60 }] });
    const app = await appWith({ limiter }, (instance) => {
      instance.get('/teams/:id', async () => 'ok');
    });
    expect((await app.inject({ url: '/projects/1' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/projects/2?x=1' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/projects/3' })).statusCode).toBe(429);
    // Another route has its own counter.
    expect((await app.inject({ url: '/teams/1' })).statusCode).toBe(200);
    // Two admitted; the refused request charged nothing.
    expect(await limiter.get('route', { route: 'GET /projects/:id' })).toMatchObject({ consumed: 2, limit: 2 });
    expect(await limiter.get('route', { route: 'GET /projects/1' })).toBeUndefined();
  });

  it('does not key 404s by route (they have none) but still counts them by IP', async () => {
    const limiter = limiterWith({
      policies: [
        { name: 'route', by: ['route'], points: 1, duration: 60 },
        { name: 'ip', by: ['ip'], points: 3, duration: 60 },
      ],
    });
    const app = await appWith({ limiter });
    const statuses: number[] = [];
    for (let index = 0; index < 4; index += 1) statuses.push((await app.inject({ url: `/missing/${index}` })).statusCode);
    expect(statuses).toEqual([404, 404, 404, 429]);
  });

  it('applies per-route policies and cost from config.rateLimits, and none with config.rateLimits: false', async () => {
    const limiter = limiterWith({
      policies: [
        { name: 'ip', by: ['ip'], points: 100, duration: 60 },
        { name: 'imports', by: ['ip'], points: 10, duration: 60 },
      ],
    });
    const app = await appWith({ limiter, policies: ['ip'] }, (instance) => {
      instance.post(
        '/imports',
        { config: { rateLimits: { policies: ['imports'], cost: (request) => (request.body as { items: unknown[] }).items.length } } },
        async (request) => request.rateLimit?.outcomes.map((outcome) => outcome.policy),
      );
      instance.get('/expensive', { config: { rateLimits: { cost: 40 } } }, async () => 'ok');
    });

    const first = await app.inject({ method: 'POST', url: '/imports', payload: { items: [1, 2, 3, 4, 5, 6] } });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual(['imports']);
    expect(sfList(first.headers.ratelimit)[0]?.params.get('r')).toBe(4);
    const second = await app.inject({ method: 'POST', url: '/imports', payload: { items: [1, 2, 3, 4, 5, 6] } });
    expect(second.statusCode).toBe(429);
    expect(second.json().error.details).toMatchObject({ policy: 'imports', limit: 10 });

    // The route cost replaces the plugin's 1 but keeps the plugin's policies.
    const expensive = await app.inject({ url: '/expensive' });
    expect(sfList(expensive.headers['ratelimit-policy']).map((item) => item.value)).toEqual(['ip']);
    expect(sfList(expensive.headers.ratelimit)[0]?.params.get('r')).toBe(60);

    for (let index = 0; index < 3; index += 1) expect((await app.inject({ url: '/health' })).statusCode).toBe(200);
    expect(await limiter.get('ip', { ip: '127.0.0.1' })).toMatchObject({ consumed: 40 });
  });

  it('charges a cost function of the request', async () => {
    const app = await appWith({ limiter: ipPolicy(10), cost: (request) => Number(request.headers['x-cost'] ?? 1) });
    expect(sfList((await app.inject({ url: '/projects/1', headers: { 'x-cost': '7' } })).headers.ratelimit)[0]?.params.get('r')).toBe(3);
    expect((await app.inject({ url: '/projects/1', headers: { 'x-cost': '4' } })).statusCode).toBe(429);
    // A cost the limiter refuses is an error for the app's error handler, not a refusal.
    const bad = await app.inject({ url: '/projects/1', headers: { 'x-cost': '1.5' } });
    expect(bad.statusCode).toBe(599);
    expect(bad.json().code).toBe('VALIDATION_FAILED');
  });

  it('ignores X-Forwarded-For from untrusted peers, so a client cannot pick its own key', async () => {
    const app = await appWith({ limiter: ipPolicy(2) });
    expect((await app.inject({ url: '/projects/1', headers: { 'x-forwarded-for': '198.51.100.1' } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/projects/1', headers: { 'x-forwarded-for': '198.51.100.2' } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/projects/1', headers: { 'x-forwarded-for': '198.51.100.3' } })).statusCode).toBe(429);
  });

  it('reads X-Forwarded-For from trusted proxies, from the right, so a spoofed leftmost entry has no effect', async () => {
    const limiter = ipPolicy(1);
    const app = await appWith({ limiter, trustedProxies: ['loopback', '10.0.0.0/8'] });
    const via = (forwardedFor: string) => app.inject({ url: '/projects/1', headers: { 'x-forwarded-for': forwardedFor } });

    expect((await via('203.0.113.9')).statusCode).toBe(200);
    expect((await via('203.0.113.10')).statusCode).toBe(200);
    // The client prepends a forged address; the proxies appended the real one and themselves.
    expect((await via('203.0.113.10, 203.0.113.9, 10.0.0.7')).statusCode).toBe(429);
    expect((await via('203.0.113.9, 203.0.113.11, 10.0.0.7')).statusCode).toBe(200);
    expect(await limiter.get('ip', { ip: '203.0.113.11' })).toMatchObject({ consumed: 1 });
    expect(await limiter.get('ip', { ip: '127.0.0.1' })).toBeUndefined();
    // A peer outside the trusted ranges is the client, whatever it forwards.
    const direct = await app.inject({ url: '/projects/1', remoteAddress: '192.0.2.50', headers: { 'x-forwarded-for': '203.0.113.77' } });
    expect(direct.statusCode).toBe(200);
    expect(await limiter.get('ip', { ip: '192.0.2.50' })).toMatchObject({ consumed: 1 });
  });

  it('reads the RFC 7239 Forwarded header instead when told to', async () => {
    const limiter = ipPolicy(5);
    const app = await appWith({ limiter, trustedProxies: ['loopback'], clientIpHeader: 'forwarded' });
    await app.inject({ url: '/projects/1', headers: { forwarded: 'for="[2001:db8:cafe::17]:4711"', 'x-forwarded-for': '198.51.100.1' } });
    expect(await limiter.get('ip', { ip: '2001:db8:cafe::1' })).toMatchObject({ consumed: 1 });
    expect(await limiter.get('ip', { ip: '198.51.100.1' })).toBeUndefined();
  });

  it('counts IPv6 clients by their /64', async () => {
    const app = await appWith({ limiter: ipPolicy(2) });
    const from = (remoteAddress: string) => app.inject({ url: '/projects/1', remoteAddress });
    expect((await from('2001:db8:1:2::a')).statusCode).toBe(200);
    expect((await from('2001:db8:1:2:ffff:ffff:ffff:fffe')).statusCode).toBe(200);
    expect((await from('2001:db8:1:2::b')).statusCode).toBe(429);
    expect((await from('2001:db8:1:3::a')).statusCode).toBe(200);
  });

  it('never refuses in shadow mode, and says so on the request', async () => {
    const limiter = limiterWith({ shadow: true, policies: [{ name: 'ip', by: ['ip'], points: 1, duration: 60 }] });
    const app = await appWith({ limiter });
    const answers = await Promise.all([1, 2, 3].map(() => app.inject({ url: '/projects/1' })));
    expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 200]);
    expect(answers.map((answer) => answer.json().decision).sort()).toEqual(['allowed', 'shadow-limited', 'shadow-limited']);
    expect(answers.every((answer) => answer.headers['retry-after'] === undefined)).toBe(true);
  });

  it('answers deny-listed clients with 403 CLIENT_DENIED', async () => {
    const limiter = limiterWith({ denyList: { ips: ['192.0.2.0/24'] }, policies: [{ name: 'ip', by: ['ip'], points: 100, duration: 60 }] });
    const app = await appWith({ limiter });
    const denied = await app.inject({ url: '/projects/1', remoteAddress: '192.0.2.66' });
    expect(denied.statusCode).toBe(403);
    expect(denied.json()).toEqual({ error: { code: 'CLIENT_DENIED', message: 'Access denied' } });
    expect(denied.headers['retry-after']).toBeUndefined();
    expect((await app.inject({ url: '/projects/1', remoteAddress: '192.0.3.66' })).statusCode).toBe(200);
  });

  it('answers 503 STORE_UNAVAILABLE, never a 429, when the store is down and a policy fails closed', async () => {
    const limiter = limiterWith({
      store: unreachableStore(),
      failure: 'closed',
      policies: [{ name: 'ip', by: ['ip'], points: 100, duration: 60 }],
    });
    const app = await appWith({ limiter });
    const response = await app.inject({ url: '/projects/1' });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ error: { code: 'STORE_UNAVAILABLE', message: 'Rate limiting is temporarily unavailable' } });
    expect(response.headers.ratelimit).toBeUndefined();
    expect(response.body).not.toContain('ECONNREFUSED');
  });

  it('admits with no rate-limit headers when the store is down and the policy fails open', async () => {
    const limiter = limiterWith({ store: unreachableStore(), failure: 'open', policies: [{ name: 'ip', by: ['ip'], points: 1, duration: 60 }] });
    const app = await appWith({ limiter });
    for (let index = 0; index < 3; index += 1) {
      const response = await app.inject({ url: '/projects/1' });
      expect(response.statusCode).toBe(200);
      expect(response.headers.ratelimit).toBeUndefined();
    }
  });

  it('limits by the tenant plan from the tenant scope, and follows a plan change', async () => {
    const registry = await tenantRegistry();
    const limiter = limiterWith({ plans, policies: [{ name: 'tenant', by: ['tenant'], fromPlan: 'requests' }] });
    const app = await appWith({ limiter }, async (instance) => {
      await instance.register(tenantContextPlugin, { resolver: createTenantResolver({ registry, sources: [fromHeader()], cache: false }) });
      instance.get('/whoami', async () => ({ tenantId: requireTenantId() }));
    });
    const as = (tenantId: string) => app.inject({ url: '/whoami', headers: { 'x-tenant-id': tenantId } });

    const free = [await as('tnt_free'), await as('tnt_free'), await as('tnt_free')];
    expect(free.map((response) => response.statusCode)).toEqual([200, 200, 429]);
    expect(sfList(free[0]!.headers['ratelimit-policy'])[0]?.params.get('q')).toBe(2);
    expect(free[2]!.json().error.details).toMatchObject({ policy: 'tenant', limit: 2 });

    const pro = [];
    for (let index = 0; index < 5; index += 1) pro.push((await as('tnt_pro')).statusCode);
    expect(pro).toEqual([200, 200, 200, 200, 429]);

    await registry.updateTenant('tnt_free', { plan: 'pro' });
    const upgraded = await as('tnt_free');
    expect(upgraded.statusCode).toBe(200);
    expect(sfList(upgraded.headers['ratelimit-policy'])[0]?.params.get('q')).toBe(4);

    await registry.updateTenant('tnt_free', { plan: 'enterprise' });
    for (let index = 0; index < 5; index += 1) expect((await as('tnt_free')).statusCode).toBe(200);
  });

  it('passes a tenant-keyed policy with no tenant in scope to the error handler (TENANT_SCOPE_REQUIRED)', async () => {
    const limiter = limiterWith({ plans, policies: [{ name: 'tenant', by: ['tenant'], fromPlan: 'requests' }] });
    const app = await appWith({ limiter });
    const response = await app.inject({ url: '/projects/1' });
    expect(response.statusCode).toBe(599);
    expect(response.json().code).toBe('TENANT_SCOPE_REQUIRED');
  });

  it('keys by what the subject callback returns, after authentication ran (preHandler by default)', async () => {
    const limiter = limiterWith({ policies: [{ name: 'user', by: ['user'], points: 1, duration: 60 }] });
    const signedIn = new WeakMap<object, string>();
    const app = await appWith({ limiter, subject: (request) => ({ userId: signedIn.get(request) }) }, (instance) => {
      // An authentication stand-in that runs after onRequest.
      instance.addHook('preValidation', async (request) => {
        const user = request.headers['x-user'];
        if (typeof user === 'string') signedIn.set(request, user);
      });
    });
    expect((await app.inject({ url: '/projects/1', headers: { 'x-user': 'u_1' } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/projects/1', headers: { 'x-user': 'u_1' } })).statusCode).toBe(429);
    expect((await app.inject({ url: '/projects/1', headers: { 'x-user': 'u_2' } })).statusCode).toBe(200);
    // No user: the user policy does not apply.
    expect((await app.inject({ url: '/projects/1' })).statusCode).toBe(200);
  });

  it("with hook: 'onRequest' refuses before the body is parsed", async () => {
    const make = (hook: 'onRequest' | 'preHandler') =>
      appWith({ limiter: ipPolicy(1), hook }, (instance) => {
        instance.post('/echo', async (request) => request.body);
      });
    const badJson = { method: 'POST' as const, url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{nope' };
    // preHandler: the parser's 400 error reaches the app's error handler (599 here) first.
    for (const [hook, second] of [
      ['onRequest', 429],
      ['preHandler', 599],
    ] as const) {
      const app = await make(hook);
      expect((await app.inject({ method: 'POST', url: '/echo', payload: { ok: true } })).statusCode).toBe(200);
      expect((await app.inject(badJson)).statusCode).toBe(second);
    }
  });

  it('sends legacy X-RateLimit-* headers when asked, and no IETF headers with headers: false', async () => {
    const legacy = await appWith({ limiter: ipPolicy(3), legacyHeaders: true });
    const withLegacy = await legacy.inject({ url: '/projects/1' });
    expect(withLegacy.headers['x-ratelimit-limit']).toBe('3');
    expect(withLegacy.headers['x-ratelimit-remaining']).toBe('2');
    expect(Number(withLegacy.headers['x-ratelimit-reset'])).toBeGreaterThanOrEqual(59);
    expect(withLegacy.headers.ratelimit).toBeDefined();

    const quiet = await appWith({ limiter: ipPolicy(1), headers: false });
    const admitted = await quiet.inject({ url: '/projects/1' });
    expect(admitted.headers.ratelimit).toBeUndefined();
    expect(admitted.headers['ratelimit-policy']).toBeUndefined();
    const refused = await quiet.inject({ url: '/projects/1' });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers.ratelimit).toBeUndefined();
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('uses one partition key secret across instances when given', async () => {
    const partitionKeySecret = 'shared-secret-of-the-whole-fleet';
    const first = await appWith({ limiter: ipPolicy(5), partitionKeySecret });
    const second = await appWith({ limiter: ipPolicy(5), partitionKeySecret });
    const pk = async (app: FastifyInstance) => sfList((await app.inject({ url: '/projects/1' })).headers.ratelimit)[0]?.params.get('pk');
    expect(await pk(first)).toEqual(await pk(second));
  });

  it('does not count requests skip() returns true for', async () => {
    const limiter = ipPolicy(1);
    const app = await appWith({ limiter, skip: (request) => request.headers['x-internal'] === 'yes' });
    for (let index = 0; index < 3; index += 1) {
      const response = await app.inject({ url: '/projects/1', headers: { 'x-internal': 'yes' } });
      expect(response.statusCode).toBe(200);
      expect(response.headers.ratelimit).toBeUndefined();
    }
    expect(await limiter.get('ip', { ip: '127.0.0.1' })).toBeUndefined();
  });

  it('hands errors of the callbacks to the error handler', async () => {
    const app = await appWith({
      limiter: ipPolicy(5),
      subject: () => {
        throw new Error('principal lookup failed');
      },
    });
    const response = await app.inject({ url: '/projects/1' });
    expect(response.statusCode).toBe(599);
    expect(response.json()).toEqual({ handled: 'principal lookup failed', code: null });
  });

  describe('options', () => {
    it('rejects invalid plugin options at registration', async () => {
      const limiter = ipPolicy(5);
      for (const options of [
        {},
        { limiter: {} },
        { limiter, policies: ['nope'] },
        { limiter, policies: [] },
        { limiter, cost: 0 },
        { limiter, cost: 1.5 },
        { limiter, trustedProxies: ['not-an-ip'] },
        { limiter, hook: 'onSend' },
        { limiter, headers: 'yes' },
        { limiter, partitionKeySecret: 'short' },
        { limiter, clientIpHeader: 'x-real-ip' },
      ]) {
        const app = Fastify();
        apps.push(app);
        const error = await app.register(rateLimitPlugin, options as RateLimitPluginOptions).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        expect(error, JSON.stringify(options)).toBeInstanceOf(RateLimitError);
        expect((error as RateLimitError).code).toBe('CONFIGURATION_INVALID');
      }
    });

    it('rejects an invalid config.rateLimits when the route is declared', async () => {
      const limiter = ipPolicy(5);
      for (const setting of [{ policies: ['nope'] }, { cost: -1 }, { points: 5 }, true, 'ip']) {
        const app = Fastify();
        apps.push(app);
        await app.register(rateLimitPlugin, { limiter });
        expect(() => app.get('/x', { config: { rateLimits: setting as never } }, async () => 'ok'), JSON.stringify(setting)).toThrow(
          expect.objectContaining({ code: 'CONFIGURATION_INVALID' }),
        );
      }
    });

    it('fails closed on an invalid config.rateLimits of a route declared before the plugin', async () => {
      const app = Fastify();
      apps.push(app);
      app.setErrorHandler((error, _request, reply) => {
        void reply.code(599).send({ code: (error as { code?: unknown }).code });
      });
      app.get('/early', { config: { rateLimits: { policies: ['nope'] } } }, async () => 'handler ran');
      await app.register(rateLimitPlugin, { limiter: ipPolicy(5) });
      const response = await app.inject({ url: '/early' });
      expect(response.statusCode).toBe(599);
      expect(response.json()).toEqual({ code: 'CONFIGURATION_INVALID' });
    });
  });
});
