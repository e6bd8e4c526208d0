// Security review: a client must not multiply a route's counters by how it spells the URL or by
// sending HEAD (which runs the GET handler in both frameworks).
import express, { type Express } from 'express';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { useLocalHttpServers } from '@tenantkit/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { rateLimitMiddleware } from '@tenantkit/ratelimit/express';
import { rateLimitPlugin } from '@tenantkit/ratelimit/fastify';
import { routeKey } from '../../src/bindings/request-subject.js';
import { useClosingLimiters } from '../support/closing-limiters.js';

const listen = useLocalHttpServers();
const limiterWith = useClosingLimiters();
const apps: FastifyInstance[] = [];

// Registered after useClosingLimiters, so it runs first: the apps close before their limiters.
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

const routePolicy = () => limiterWith({ policies: [{ name: 'route', by: ['route'], points: 100, duration: 60 }] });

describe('routeKey', () => {
  it('keys HEAD as GET, whatever the case of the method', () => {
    expect(routeKey('HEAD', '/export')).toBe('GET /export');
    expect(routeKey('head', '/export')).toBe('GET /export');
    expect(routeKey('get', '/export')).toBe('GET /export');
    expect(routeKey('POST', '/export')).toBe('POST /export');
    expect(routeKey('HEAD', undefined)).toBeUndefined();
  });
});

describe('Express route keys', () => {
  /** An app with an API router mounted at /api (route-mounted limit) and an app.use() limit under /files. */
  async function serve(setup: (app: Express) => void = () => undefined) {
    const limiter = routePolicy();
    const limit = rateLimitMiddleware({ limiter });
    const app = express();
    setup(app);
    const api = express.Router();
    api.get('/export', limit, (_req, res) => {
      res.send('ok');
    });
    api.get('/', limit, (_req, res) => {
      res.send('index');
    });
    app.use('/api', api);
    app.use('/files', limit, (_req, res) => {
      res.send('file');
    });
    const url = await listen(app);
    const send = (path: string, method = 'GET') => fetch(`${url}${path}`, { method });
    const consumed = async (route: string) => (await limiter.get('route', { route }))?.consumed;
    return { send, consumed };
  }

  it('keys the mount path in lower case: /API/export and /api/export share one counter', async () => {
    const { send, consumed } = await serve();
    for (const path of ['/api/export', '/API/export', '/Api/Export', '/API/EXPORT']) expect((await send(path)).status).toBe(200);
    expect(await consumed('GET /api/export')).toBe(4);
    expect(await consumed('GET /API/export')).toBeUndefined();
    // Without a route pattern (app.use()) the path is lowered too.
    for (const path of ['/files/a.txt', '/FILES/A.TXT']) expect((await send(path)).status).toBe(200);
    expect(await consumed('GET /files/a.txt')).toBe(2);
  });

  it("keeps the client's spelling with 'case sensitive routing' (those are different routes then)", async () => {
    const { send, consumed } = await serve((app) => app.enable('case sensitive routing'));
    expect((await send('/api/export')).status).toBe(200);
    expect((await send('/API/export')).status).toBe(404);
    expect((await send('/files/A.txt')).status).toBe(200);
    expect(await consumed('GET /api/export')).toBe(1);
    expect(await consumed('GET /files/A.txt')).toBe(1);
    expect(await consumed('GET /files/a.txt')).toBeUndefined();
  });

  it('drops a trailing slash: /export/ and /export share one counter', async () => {
    const { send, consumed } = await serve();
    for (const path of ['/api/export', '/api/export/', '/api', '/api/']) expect((await send(path)).status).toBe(200);
    expect(await consumed('GET /api/export')).toBe(2);
    expect(await consumed('GET /api')).toBe(2);
    for (const path of ['/files/a', '/files/a/']) expect((await send(path)).status).toBe(200);
    expect(await consumed('GET /files/a')).toBe(2);
    expect(await consumed('GET /files/a/')).toBeUndefined();
  });

  it("keeps the trailing slash with 'strict routing'", async () => {
    const { send, consumed } = await serve((app) => app.enable('strict routing'));
    for (const path of ['/files/a', '/files/a/']) expect((await send(path)).status).toBe(200);
    expect(await consumed('GET /files/a')).toBe(1);
    expect(await consumed('GET /files/a/')).toBe(1);
  });

  it('keys HEAD as GET: it runs the GET handler', async () => {
    const { send, consumed } = await serve();
    expect((await send('/api/export', 'HEAD')).status).toBe(200);
    expect((await send('/api/export')).status).toBe(200);
    expect(await consumed('GET /api/export')).toBe(2);
    expect(await consumed('HEAD /api/export')).toBeUndefined();
  });
});

describe('Fastify route keys', () => {
  async function appWith(options: FastifyServerOptions = {}) {
    const limiter = routePolicy();
    const app = Fastify(options);
    apps.push(app);
    await app.register(rateLimitPlugin, { limiter });
    app.get('/api/export', async () => 'ok');
    const consumed = async (route: string) => (await limiter.get('route', { route }))?.consumed;
    return { app, consumed };
  }

  it('keys HEAD as GET: Fastify answers HEAD with the GET route', async () => {
    const { app, consumed } = await appWith();
    expect((await app.inject({ method: 'HEAD', url: '/api/export' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/export' })).statusCode).toBe(200);
    expect(await consumed('GET /api/export')).toBe(2);
    expect(await consumed('HEAD /api/export')).toBeUndefined();
  });

  it('keys by the declared pattern whatever the spelling, with caseSensitive: false and ignoreTrailingSlash', async () => {
    const { app, consumed } = await appWith({ routerOptions: { caseSensitive: false, ignoreTrailingSlash: true } });
    for (const url of ['/api/export', '/API/Export', '/api/export/']) expect((await app.inject({ url })).statusCode).toBe(200);
    expect(await consumed('GET /api/export')).toBe(3);
  });
});
