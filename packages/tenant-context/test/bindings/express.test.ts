import { setTimeout as sleep } from 'node:timers/promises';
import express, { type ErrorRequestHandler } from 'express';
import { useLocalHttpServers } from '@tenantkit/test-utils';
import { describe, expect, it } from 'vitest';
import { tenantErrorHandler, tenantMiddleware } from '@tenantkit/tenant-context/express';
import { memoryTenantStore } from '../../src/adapters/memory.js';
import { createTenantRegistry, type TenantRegistry } from '../../src/registry/tenant-registry.js';
import { fromHeader } from '../../src/resolution/header-source.js';
import { createTenantResolver, type TenantResolver } from '../../src/resolution/tenant-resolver.js';
import { fromTokenClaim } from '../../src/resolution/token-claim-source.js';
import { currentTenantId, requireTenantId } from '../../src/scope/tenant-scope.js';
import type { TenantStore } from '../../src/store.js';

const listen = useLocalHttpServers();

async function tenants(store: TenantStore = memoryTenantStore()) {
  const registry = createTenantRegistry({ store });
  await registry.createTenant({ id: 'tnt_acme', slug: 'acme', name: 'Acme' });
  await registry.createTenant({ id: 'tnt_frozen', slug: 'frozen', name: 'Frozen' });
  await registry.suspendTenant('tnt_frozen', 'payment overdue');
  await registry.createTenant({ id: 'tnt_new', slug: 'new', name: 'New', status: 'provisioning' });
  return registry;
}

function resolverFor(registry: TenantRegistry): TenantResolver {
  return createTenantResolver({ registry, sources: [fromHeader()] });
}

/** A request body that leaves in separate writes, after the server has run its middleware. */
function slowBody(parts: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const queue = [...parts];
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const part = queue.shift();
      if (part === undefined) {
        controller.close();
        return;
      }
      await sleep(20);
      controller.enqueue(encoder.encode(part));
    },
  });
}

/** An app whose tenant routes report what the handler sees. */
function buildApp(resolver: TenantResolver) {
  const app = express();
  app.get('/health', (_req, res) => {
    res.json({ ok: true, tenantId: currentTenantId() ?? null });
  });
  app.use(tenantMiddleware({ resolver }));
  // Mounted after the tenant middleware on purpose: the parser calls next() from a stream event.
  app.use(express.json({ limit: '1mb' }));
  const seenAfterParser: Array<string | null> = [];
  app.use((_req, _res, next) => {
    seenAfterParser.push(currentTenantId() ?? null);
    next();
  });
  app.get('/whoami', async (req, res) => {
    await sleep(1);
    res.json({ scope: requireTenantId(), tenant: req.tenant?.id ?? null });
  });
  app.post('/projects', async (req, res) => {
    await sleep(1);
    res.status(201).json({ scope: requireTenantId(), tenant: req.tenant?.id, body: req.body as unknown });
  });
  app.use(tenantErrorHandler());
  return { app, seenAfterParser };
}

describe('tenantMiddleware', () => {
  it('refuses invalid options when called', () => {
    expect(() => tenantMiddleware({} as never)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
    const resolver = resolverFor(createTenantRegistry({ store: memoryTenantStore() }));
    expect(() => tenantMiddleware({ resolver, required: 'yes' } as never)).toThrow(
      expect.objectContaining({ code: 'CONFIGURATION_INVALID' }),
    );
  });

  it('runs the handler in the tenant scope and sets req.tenant', async () => {
    const { app } = buildApp(resolverFor(await tenants()));
    const base = await listen(app);
    const response = await fetch(`${base}/whoami`, { headers: { 'x-tenant-id': 'tnt_acme' } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ scope: 'tnt_acme', tenant: 'tnt_acme' });
  });

  it('keeps the scope through a JSON body parser mounted after it, and in the awaited handler', async () => {
    const { app, seenAfterParser } = buildApp(resolverFor(await tenants()));
    const base = await listen(app);
    const response = await fetch(`${base}/projects`, {
      method: 'POST',
      headers: { 'x-tenant-id': 'tnt_acme', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Roadmap', padding: 'x'.repeat(200_000) }),
    });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { scope: string; tenant: string; body: { name: string } };
    expect(body.scope).toBe('tnt_acme');
    expect(body.tenant).toBe('tnt_acme');
    expect(body.body.name).toBe('Roadmap');
    expect(seenAfterParser).toEqual(['tnt_acme']);
  });

  it('keeps the scope through a parser that calls next() from a stream event, with a chunked body', async () => {
    const resolver = resolverFor(await tenants());
    const app = express();
    app.use(tenantMiddleware({ resolver }));
    // Unlike body-parser (whose raw-body binds its callback), this parser calls next() straight
    // from the stream's 'end' event, which Node emits from the socket's context.
    const seenInParser: Array<string | null> = [];
    app.use((req, _res, next) => {
      let text = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => {
        seenInParser.push(currentTenantId() ?? null);
        text += chunk;
      });
      req.on('end', () => {
        (req as { rawText?: string }).rawText = text;
        next();
      });
    });
    app.post('/raw', (req, res) => {
      res.json({ scope: currentTenantId() ?? null, text: (req as { rawText?: string }).rawText });
    });
    const base = await listen(app);
    const response = await fetch(`${base}/raw`, {
      method: 'POST',
      headers: { 'x-tenant-id': 'tnt_acme', 'content-type': 'text/plain' },
      body: slowBody(['first ', 'second ', 'third']),
      duplex: 'half',
    } as RequestInit);
    expect(await response.json()).toEqual({ scope: 'tnt_acme', text: 'first second third' });
    expect(seenInParser.length).toBeGreaterThan(0);
    expect(new Set(seenInParser)).toEqual(new Set(['tnt_acme']));
  });

  it('keeps the scope when the body arrives in chunks after the middleware ran', async () => {
    const { app, seenAfterParser } = buildApp(resolverFor(await tenants()));
    const base = await listen(app);
    const response = await fetch(`${base}/projects`, {
      method: 'POST',
      headers: { 'x-tenant-id': 'tnt_acme', 'content-type': 'application/json' },
      body: slowBody(['{"name":', '"Slow', ' body"}']),
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ scope: 'tnt_acme', body: { name: 'Slow body' } });
    expect(seenAfterParser).toEqual(['tnt_acme']);
  });

  it.each([
    ['an unknown tenant', { 'x-tenant-id': 'tnt_nobody' }, 404, 'TENANT_NOT_FOUND'],
    ['a suspended tenant', { 'x-tenant-id': 'tnt_frozen' }, 403, 'TENANT_SUSPENDED'],
    ['no tenant', {}, 400, 'TENANT_NOT_IDENTIFIED'],
    ['a malformed id', { 'x-tenant-id': '../../etc/passwd' }, 400, 'TENANT_IDENTIFIER_INVALID'],
    ['a provisioning tenant', { 'x-tenant-id': 'tnt_new' }, 503, 'TENANT_NOT_READY'],
  ])('answers %s with a coded JSON body', async (_label, headers, status, code) => {
    const { app } = buildApp(resolverFor(await tenants()));
    const base = await listen(app);
    const response = await fetch(`${base}/whoami`, { headers });
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['error']);
    expect(body).toMatchObject({ error: { code, message: expect.any(String) } });
  });

  it('answers TENANT_UNAUTHENTICATED (401) with only a token-claim source', async () => {
    const registry = await tenants();
    const resolver = createTenantResolver({ registry, sources: [fromTokenClaim({ getTenantId: () => undefined })] });
    const { app } = buildApp(resolver);
    const base = await listen(app);
    const response = await fetch(`${base}/whoami`);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: { code: 'TENANT_UNAUTHENTICATED' } });
  });

  it('leaves routes mounted before it public', async () => {
    const { app } = buildApp(resolverFor(await tenants()));
    const base = await listen(app);
    const response = await fetch(`${base}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, tenantId: null });
  });

  it('lets a request without a tenant through when not required, and still refuses unknown ones', async () => {
    const resolver = resolverFor(await tenants());
    const app = express();
    app.use(tenantMiddleware({ resolver, required: false }));
    app.get('/', (req, res) => {
      res.json({ tenant: req.tenant?.id ?? null, scope: currentTenantId() ?? null });
    });
    const base = await listen(app);
    expect(await (await fetch(base)).json()).toEqual({ tenant: null, scope: null });
    expect(await (await fetch(base, { headers: { 'x-tenant-id': 'tnt_acme' } })).json()).toEqual({
      tenant: 'tnt_acme',
      scope: 'tnt_acme',
    });
    expect((await fetch(base, { headers: { 'x-tenant-id': 'tnt_nobody' } })).status).toBe(404);
  });

  it('refuses a tenant as soon as it is suspended', async () => {
    const registry = await tenants();
    const { app } = buildApp(resolverFor(registry));
    const base = await listen(app);
    const headers = { 'x-tenant-id': 'tnt_acme' };
    expect((await fetch(`${base}/whoami`, { headers })).status).toBe(200);
    await registry.suspendTenant('tnt_acme', 'abuse');
    const response = await fetch(`${base}/whoami`, { headers });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ error: { code: 'TENANT_SUSPENDED' } });
  });

  it('hands errors that are not tenantkit errors to the next error handler', async () => {
    const base = memoryTenantStore();
    const broken: TenantStore = {
      ...base,
      async getTenantById() {
        throw new Error('connection refused to 10.0.0.5:5432');
      },
    };
    const resolver = resolverFor(createTenantRegistry({ store: broken }));
    const app = express();
    app.use(tenantMiddleware({ resolver }));
    app.get('/', (_req, res) => {
      res.send('unreachable');
    });
    app.use(tenantErrorHandler());
    const received: unknown[] = [];
    const finalHandler: ErrorRequestHandler = (error, _req, res, _next) => {
      received.push(error);
      res.status(500).json({ error: { code: 'INTERNAL_ERROR', message: 'Internal server error' } });
    };
    app.use(finalHandler);
    const url = await listen(app);
    const response = await fetch(url, { headers: { 'x-tenant-id': 'tnt_acme' } });
    expect(response.status).toBe(500);
    expect(await response.text()).not.toContain('10.0.0.5');
    expect(received).toHaveLength(1);
    expect((received[0] as Error).message).toContain('connection refused');
  });

  it('never lets concurrent requests see each other\'s tenant', async () => {
    const registry = createTenantRegistry({ store: memoryTenantStore() });
    const ids = Array.from({ length: 20 }, (_, index) => `tnt_${index}`);
    for (const id of ids) await registry.createTenant({ id, slug: `t${id.slice(4)}`, name: id });
    const { app } = buildApp(resolverFor(registry));
    app.post('/echo', async (req, res) => {
      await sleep(Math.floor(Math.random() * 5));
      const before = requireTenantId();
      await sleep(Math.floor(Math.random() * 5));
      res.json({ before, after: requireTenantId(), tenant: req.tenant?.id, claimed: (req.body as { id: string }).id });
    });
    const url = await listen(app);
    const results = await Promise.all(
      Array.from({ length: 200 }, async (_, index) => {
        const id = ids[index % ids.length] as string;
        const response = await fetch(`${url}/echo`, {
          method: 'POST',
          headers: { 'x-tenant-id': id, 'content-type': 'application/json' },
          body: JSON.stringify({ id }),
        });
        return { id, status: response.status, body: (await response.json()) as Record<string, string> };
      }),
    );
    for (const { id, status, body } of results) {
      expect(status).toBe(200);
      expect(body).toEqual({ before: id, after: id, tenant: id, claimed: id });
    }
  });
});

describe('tenantErrorHandler', () => {
  it('renders any tenantkit error, such as a scope error from a public route', async () => {
    const app = express();
    app.get('/public', () => {
      requireTenantId();
    });
    app.get('/crash', () => {
      throw new Error('secret detail');
    });
    app.use(tenantErrorHandler());
    const url = await listen(app);
    const scoped = await fetch(`${url}/public`);
    expect(scoped.status).toBe(500);
    expect(await scoped.json()).toMatchObject({ error: { code: 'TENANT_SCOPE_REQUIRED' } });
    const crash = await fetch(`${url}/crash`);
    expect(crash.status).toBe(500);
    // Express's own final handler, not ours, renders unknown errors.
    expect(crash.headers.get('content-type')).not.toMatch(/json/);
  });
});
