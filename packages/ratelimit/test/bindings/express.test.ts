import express, { type ErrorRequestHandler, type Express } from 'express';
import { createTenantResolver, fromHeader, requireTenantId } from '@tenantkit/tenant-context';
import { tenantErrorHandler, tenantMiddleware } from '@tenantkit/tenant-context/express';
import { useLocalHttpServers } from '@tenantkit/test-utils';
import { describe, expect, it } from 'vitest';
import { rateLimitMiddleware, type RateLimitMiddlewareOptions } from '@tenantkit/ratelimit/express';
import { useClosingLimiters } from '../support/closing-limiters.js';
import { expectConfigurationInvalid, plans, sfList, tenantRegistry, unreachableStore } from './binding-fixtures.js';

const listen = useLocalHttpServers();
const limiterWith = useClosingLimiters();

const ipPolicy = (points: number) => limiterWith({ policies: [{ name: 'ip', by: ['ip'], points, duration: 60 }] });

/** Sends the error handlers' view of non-refusal errors back, so tests can see where they went. */
const reportErrors: ErrorRequestHandler = (error, _req, res, _next) => {
  res.status(599).json({ handled: error instanceof Error ? error.message : String(error), code: (error as { code?: unknown }).code ?? null });
};

/** An app limited globally with `options`, with a few routes; `setup` runs before the limiter. */
async function serve(options: RateLimitMiddlewareOptions | undefined, setup?: (app: Express) => void) {
  const app = express();
  setup?.(app);
  if (options !== undefined) app.use(rateLimitMiddleware(options));
  app.get('/projects/:id', (req, res) => {
    res.json({ decision: req.rateLimit?.reason ?? null });
  });
  app.use(reportErrors);
  const url = await listen(app);
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${url}${path}`, { headers });
  return { url, get };
}

describe('rateLimitMiddleware', () => {
  it('sends RateLimit-Policy and RateLimit headers in structured-field syntax on admitted requests', async () => {
    const { get } = await serve({ limiter: ipPolicy(3) });
    const response = await get('/projects/1');

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ decision: 'allowed' });
    const [policy] = sfList(response.headers.get('ratelimit-policy') ?? undefined);
    expect(policy?.value).toBe('ip');
    expect(policy?.params.get('q')).toBe(3);
    expect(policy?.params.get('w')).toBe(60);
    expect(policy?.params.get('pk')).toHaveProperty('bytes');
    const [current] = sfList(response.headers.get('ratelimit') ?? undefined);
    expect(current?.params.get('r')).toBe(2);
    expect(current?.params.get('t')).toBeGreaterThanOrEqual(59);
    expect(response.headers.get('retry-after')).toBeNull();
  });

  it('answers 429 with Retry-After, the headers and the coded body once the limit is spent', async () => {
    const { get } = await serve({ limiter: ipPolicy(2) });
    for (let index = 0; index < 2; index += 1) expect((await get('/projects/1')).status).toBe(200);

    const refused = await get('/projects/1');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toMatch(/^application\/json/);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
    expect(await refused.json()).toEqual({
      error: { code: 'RATE_LIMITED', message: 'Too many requests', details: { policy: 'ip', retryAfterSeconds: retryAfter, limit: 2 } },
    });
    expect(sfList(refused.headers.get('ratelimit') ?? undefined)[0]?.params.get('r')).toBe(0);
  });

  it('keys the route by the pattern when mounted on a route, by the path when mounted with app.use()', async () => {
    const limiter = limiterWith({ policies: [{ name: 'route', by: ['route'], points: 2, duration: 60 }] });
    const perRoute = rateLimitMiddleware({ limiter });
    const router = express.Router();
    router.get('/items/:id', perRoute, (_req, res) => {
      res.send('ok');
    });
    const { get } = await serve(undefined, (app) => {
      app.get('/teams/:id', perRoute, (_req, res) => {
        res.send('ok');
      });
      app.use('/shop', router);
      app.use('/files', rateLimitMiddleware({ limiter }), (_req, res) => {
        res.send('ok');
      });
    });

    expect((await get('/teams/1')).status).toBe(200);
    expect((await get('/teams/2?x=1')).status).toBe(200);
    expect((await get('/teams/3')).status).toBe(429);
    // The refused request charged nothing.
    expect(await limiter.get('route', { route: 'GET /teams/:id' })).toMatchObject({ consumed: 2 });
    // A router's mount path comes first.
    await get('/shop/items/9');
    expect(await limiter.get('route', { route: 'GET /shop/items/:id' })).toMatchObject({ consumed: 1 });
    // Before routing there is no pattern: one counter per path.
    await get('/files/a.txt');
    expect(await limiter.get('route', { route: 'GET /files/a.txt' })).toMatchObject({ consumed: 1 });
  });

  it('applies a per-route middleware with its own policies and cost, next to a global one', async () => {
    const limiter = limiterWith({
      policies: [
        { name: 'ip', by: ['ip'], points: 100, duration: 60 },
        { name: 'exports', by: ['ip'], points: 10, duration: 60 },
      ],
    });
    const { get } = await serve(undefined, (app) => {
      app.use(rateLimitMiddleware({ limiter, policies: ['ip'], skip: (req) => req.path === '/health' }));
      app.get('/health', (req, res) => {
        res.json({ decision: req.rateLimit ?? null });
      });
      app.get('/exports', rateLimitMiddleware({ limiter, policies: ['exports'], cost: 6 }), (req, res) => {
        res.json(req.rateLimit?.outcomes.map((outcome) => outcome.policy));
      });
    });

    const first = await get('/exports');
    expect(await first.json()).toEqual(['exports']);
    // The route's middleware ran last, so its headers are the ones sent.
    expect(sfList(first.headers.get('ratelimit-policy') ?? undefined).map((item) => item.value)).toEqual(['exports']);
    expect((await get('/exports')).status).toBe(429);
    expect(await limiter.get('ip', { ip: '127.0.0.1' })).toMatchObject({ consumed: 2 });

    const health = await get('/health');
    expect(await health.json()).toEqual({ decision: null });
    expect(health.headers.get('ratelimit')).toBeNull();
  });

  it('charges a cost function of the request, after a body parser', async () => {
    const limiter = ipPolicy(10);
    const app = express();
    app.use(express.json());
    app.use(rateLimitMiddleware({ limiter, cost: (req) => (req.body as { items: unknown[] }).items.length }));
    app.post('/imports', (_req, res) => {
      res.send('ok');
    });
    app.use(reportErrors);
    const url = await listen(app);
    const post = (items: number) =>
      fetch(`${url}/imports`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items: Array(items).fill(0) }) });

    expect(sfList((await post(7)).headers.get('ratelimit') ?? undefined)[0]?.params.get('r')).toBe(3);
    expect((await post(4)).status).toBe(429);
    const bad = await post(0);
    expect(bad.status).toBe(599);
    expect(((await bad.json()) as { code: unknown }).code).toBe('VALIDATION_FAILED');
  });

  it('ignores X-Forwarded-For unless the peer is a trusted proxy, and reads it from the right', async () => {
    const untrusted = ipPolicy(2);
    const plain = await serve({ limiter: untrusted });
    for (const forwarded of ['198.51.100.1', '198.51.100.2']) expect((await plain.get('/projects/1', { 'x-forwarded-for': forwarded })).status).toBe(200);
    expect((await plain.get('/projects/1', { 'x-forwarded-for': '198.51.100.3' })).status).toBe(429);

    const limiter = ipPolicy(1);
    const proxied = await serve({ limiter, trustedProxies: ['loopback', '10.0.0.0/8'] });
    expect((await proxied.get('/projects/1', { 'x-forwarded-for': '203.0.113.9' })).status).toBe(200);
    // The client prepends a forged address; the proxies appended the real one and themselves.
    expect((await proxied.get('/projects/1', { 'x-forwarded-for': '203.0.113.10, 203.0.113.9, 10.0.0.7' })).status).toBe(429);
    expect((await proxied.get('/projects/1', { 'x-forwarded-for': '203.0.113.10' })).status).toBe(200);
    expect(await limiter.get('ip', { ip: '127.0.0.1' })).toBeUndefined();
  });

  it("ignores Express's own trust proxy setting", async () => {
    const limiter = ipPolicy(5);
    const { get } = await serve({ limiter }, (app) => {
      app.set('trust proxy', true);
    });
    await get('/projects/1', { 'x-forwarded-for': '198.51.100.1' });
    expect(await limiter.get('ip', { ip: '127.0.0.1' })).toMatchObject({ consumed: 1 });
    expect(await limiter.get('ip', { ip: '198.51.100.1' })).toBeUndefined();
  });

  it('counts IPv6 clients by their /64', async () => {
    const { get } = await serve({ limiter: ipPolicy(2), trustedProxies: ['loopback'] });
    const from = async (ip: string) => (await get('/projects/1', { 'x-forwarded-for': ip })).status;
    expect(await from('2001:db8:1:2::a')).toBe(200);
    expect(await from('2001:db8:1:2:ffff::1')).toBe(200);
    expect(await from('2001:db8:1:2::b')).toBe(429);
    expect(await from('2001:db8:1:3::a')).toBe(200);
  });

  it('never refuses in shadow mode, and says so on the request', async () => {
    const limiter = limiterWith({ policies: [{ name: 'ip', by: ['ip'], points: 1, duration: 60, shadow: true }] });
    const { get } = await serve({ limiter });
    const answers = [];
    for (let index = 0; index < 3; index += 1) answers.push(await get('/projects/1'));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    const decisions = await Promise.all(answers.map(async (answer) => ((await answer.json()) as { decision: unknown }).decision));
    expect(decisions).toEqual(['allowed', 'shadow-limited', 'shadow-limited']);
    expect(answers.every((answer) => answer.headers.get('retry-after') === null)).toBe(true);
  });

  it('answers deny-listed clients with 403 CLIENT_DENIED', async () => {
    const limiter = limiterWith({ denyList: { ips: ['192.0.2.0/24'] }, policies: [{ name: 'ip', by: ['ip'], points: 100, duration: 60 }] });
    const { get } = await serve({ limiter, trustedProxies: ['loopback'] });
    const denied = await get('/projects/1', { 'x-forwarded-for': '192.0.2.66' });
    expect(denied.status).toBe(403);
    expect(await denied.json()).toEqual({ error: { code: 'CLIENT_DENIED', message: 'Access denied' } });
    expect((await get('/projects/1', { 'x-forwarded-for': '192.0.3.66' })).status).toBe(200);
  });

  it('answers 503 STORE_UNAVAILABLE, never a 429, when the store is down and a policy fails closed', async () => {
    const limiter = limiterWith({
      store: unreachableStore(),
      policies: [
        { name: 'ip', by: ['ip'], points: 100, duration: 60, failure: 'open' },
        { name: 'ip-strict', by: ['ip'], points: 100, duration: 60, failure: 'closed' },
      ],
    });
    const { get } = await serve({ limiter });
    const response = await get('/projects/1');
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ error: { code: 'STORE_UNAVAILABLE', message: 'Rate limiting is temporarily unavailable' } });
    expect(response.headers.get('retry-after')).toBeNull();
    expect(response.headers.get('ratelimit')).toBeNull();
  });

  it('limits by the tenant plan from the tenant scope set by tenantMiddleware()', async () => {
    const registry = await tenantRegistry();
    const limiter = limiterWith({ plans, policies: [{ name: 'tenant', by: ['tenant'], fromPlan: 'requests' }] });
    const app = express();
    app.use(tenantMiddleware({ resolver: createTenantResolver({ registry, sources: [fromHeader()], cache: false }) }));
    app.use(rateLimitMiddleware({ limiter }));
    app.get('/whoami', (_req, res) => {
      res.json({ tenantId: requireTenantId() });
    });
    app.use(tenantErrorHandler());
    const url = await listen(app);
    const as = (tenantId: string) => fetch(`${url}/whoami`, { headers: { 'x-tenant-id': tenantId } });

    const free = [await as('tnt_free'), await as('tnt_free'), await as('tnt_free')];
    expect(free.map((response) => response.status)).toEqual([200, 200, 429]);
    expect(sfList(free[0]!.headers.get('ratelimit-policy') ?? undefined)[0]?.params.get('q')).toBe(2);
    expect(await free[0]!.json()).toEqual({ tenantId: 'tnt_free' });
    const pro = [];
    for (let index = 0; index < 5; index += 1) pro.push((await as('tnt_pro')).status);
    expect(pro).toEqual([200, 200, 200, 200, 429]);
    expect(limiter.metering?.snapshot().get('tnt_pro')).toMatchObject({ admitted: 4, rejected: 1 });
  });

  it('passes a tenant-keyed policy with no tenant in scope to next(error), rendered by tenantErrorHandler()', async () => {
    const limiter = limiterWith({ plans, policies: [{ name: 'tenant', by: ['tenant'], fromPlan: 'requests' }] });
    const app = express();
    app.use(rateLimitMiddleware({ limiter }));
    app.get('/x', (_req, res) => {
      res.send('handler ran');
    });
    app.use(tenantErrorHandler());
    const url = await listen(app);
    const response = await fetch(`${url}/x`);
    expect(response.status).toBe(500);
    expect(((await response.json()) as { error: { code: unknown } }).error.code).toBe('TENANT_SCOPE_REQUIRED');
  });

  it('keys by what the subject callback returns', async () => {
    const limiter = limiterWith({ policies: [{ name: 'api-key', by: ['apiKey'], points: 1, duration: 60 }] });
    const { get } = await serve({ limiter, subject: (req) => ({ apiKeyId: req.header('x-api-key') }) });
    expect((await get('/projects/1', { 'x-api-key': 'key_1' })).status).toBe(200);
    expect((await get('/projects/1', { 'x-api-key': 'key_1' })).status).toBe(429);
    expect((await get('/projects/1', { 'x-api-key': 'key_2' })).status).toBe(200);
    expect((await get('/projects/1')).status).toBe(200);
  });

  it('hands errors of the callbacks to next(error)', async () => {
    const { get } = await serve({
      limiter: ipPolicy(5),
      subject: async () => {
        throw new Error('principal lookup failed');
      },
    });
    const response = await get('/projects/1');
    expect(response.status).toBe(599);
    expect(await response.json()).toEqual({ handled: 'principal lookup failed', code: null });
  });

  it('sends legacy headers when asked, and only Retry-After with headers: false', async () => {
    const legacy = await serve({ limiter: ipPolicy(3), legacyHeaders: true });
    const withLegacy = await legacy.get('/projects/1');
    expect(withLegacy.headers.get('x-ratelimit-limit')).toBe('3');
    expect(withLegacy.headers.get('x-ratelimit-remaining')).toBe('2');

    const quiet = await serve({ limiter: ipPolicy(1), headers: false });
    expect((await quiet.get('/projects/1')).headers.get('ratelimit')).toBeNull();
    const refused = await quiet.get('/projects/1');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('ratelimit-policy')).toBeNull();
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('checks its options when called, not on the first request', () => {
    const limiter = ipPolicy(5);
    for (const options of [
      undefined,
      {},
      { limiter: { check: () => undefined } },
      { limiter, policies: ['nope'] },
      { limiter, policies: [] },
      { limiter, cost: 0 },
      { limiter, cost: '2' },
      { limiter, trustedProxies: ['10.0.0.0/33'] },
      { limiter, trustedProxies: '127.0.0.1' },
      { limiter, skip: true },
      { limiter, partitionKeySecret: 'short' },
      { limiter, legacyheaders: true },
      { limiter, hook: 'onRequest' },
    ]) {
      const error = expectConfigurationInvalid(() => rateLimitMiddleware(options as RateLimitMiddlewareOptions));
      expect(error.message.length, JSON.stringify(options)).toBeGreaterThan(0);
    }
    expect(expectConfigurationInvalid(() => rateLimitMiddleware({ limiter, policies: ['ip', 'nope'] })).message).toContain('"nope"');
  });
});
