import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { tenantContextPlugin } from '@tenantkit/tenant-context/fastify';
import { memoryTenantStore } from '../../src/adapters/memory.js';
import { createTenantRegistry, type TenantRegistry } from '../../src/registry/tenant-registry.js';
import { fromHeader } from '../../src/resolution/header-source.js';
import { createTenantResolver, type TenantResolver } from '../../src/resolution/tenant-resolver.js';
import { fromTokenClaim } from '../../src/resolution/token-claim-source.js';
import { currentTenantId, requireTenantId } from '../../src/scope/tenant-scope.js';
import type { TenantStore } from '../../src/store.js';

const apps: FastifyInstance[] = [];

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

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

/** A request body that leaves in separate writes, after the server has run its hooks. */
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

/** An app whose routes report the scope each lifecycle stage ran in. */
async function buildApp(resolver: TenantResolver, pluginOptions: { required?: boolean } = {}) {
  const app = Fastify();
  apps.push(app);
  const seen: Record<string, Array<string | null>> = { preValidationBefore: [], preHandler: [] };
  // Registered before the plugin, so it runs before the plugin's own preValidation re-entry.
  app.addHook('preValidation', (_request, _reply, done) => {
    seen.preValidationBefore?.push(currentTenantId() ?? null);
    done();
  });
  await app.register(tenantContextPlugin, { resolver, ...pluginOptions });
  app.addHook('preHandler', async () => {
    seen.preHandler?.push(currentTenantId() ?? null);
  });
  app.get('/health', { config: { tenant: false } }, async (request) => ({
    ok: true,
    scope: currentTenantId() ?? null,
    tenant: request.tenant?.id ?? null,
  }));
  app.get('/pricing', { config: { tenant: { required: false } } }, async (request) => ({
    scope: currentTenantId() ?? null,
    tenant: request.tenant?.id ?? null,
  }));
  app.get('/whoami', async (request) => {
    await sleep(1);
    return { scope: requireTenantId(), tenant: request.tenant?.id ?? null };
  });
  app.post('/projects', async (request, reply) => {
    await sleep(1);
    return reply.code(201).send({ scope: requireTenantId(), tenant: request.tenant?.id, body: request.body });
  });
  return { app, seen };
}

describe('tenantContextPlugin', () => {
  it('refuses invalid options when registered', async () => {
    const app = Fastify();
    apps.push(app);
    await expect(app.register(tenantContextPlugin, {} as never)).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
  });

  it('refuses an invalid route config when the route is declared', async () => {
    const { app } = await buildApp(resolverFor(await tenants()));
    expect(() => app.get('/bad', { config: { tenant: 'optional' as never } }, async () => 'x')).toThrow(
      expect.objectContaining({ code: 'CONFIGURATION_INVALID' }),
    );
    expect(() => app.get('/bad2', { config: { tenant: { require: false } as never } }, async () => 'x')).toThrow(
      expect.objectContaining({ code: 'CONFIGURATION_INVALID' }),
    );
  });

  it('runs the handler in the tenant scope and decorates request.tenant', async () => {
    const { app } = await buildApp(resolverFor(await tenants()));
    const response = await app.inject({ method: 'GET', url: '/whoami', headers: { 'x-tenant-id': 'tnt_acme' } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ scope: 'tnt_acme', tenant: 'tnt_acme' });
  });

  it('keeps the scope after an awaited JSON body parse (inject)', async () => {
    const { app, seen } = await buildApp(resolverFor(await tenants()));
    const response = await app.inject({
      method: 'POST',
      url: '/projects',
      headers: { 'x-tenant-id': 'tnt_acme' },
      payload: { name: 'Roadmap' },
    });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toEqual({ scope: 'tnt_acme', tenant: 'tnt_acme', body: { name: 'Roadmap' } });
    expect(seen.preValidationBefore).toEqual(['tnt_acme']);
    expect(seen.preHandler).toEqual(['tnt_acme']);
  });

  it('keeps the scope after a body that arrives in chunks over a real socket', async () => {
    const { app, seen } = await buildApp(resolverFor(await tenants()));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/projects`, {
      method: 'POST',
      headers: { 'x-tenant-id': 'tnt_acme', 'content-type': 'application/json' },
      body: slowBody(['{"name":', '"Slow', ' body"}']),
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ scope: 'tnt_acme', tenant: 'tnt_acme', body: { name: 'Slow body' } });
    expect(seen.preValidationBefore).toEqual(['tnt_acme']);
    expect(seen.preHandler).toEqual(['tnt_acme']);
  });

  it('re-enters the scope in preValidation when an earlier hook lost it', async () => {
    const registry = await tenants();
    // A shared, callback-style dependency (a legacy client, a queue): its events fire in the
    // context of whoever created the timer, here none, so a hook continuing from it has lost
    // the request's scope.
    const legacyClient = new EventEmitter();
    const ticker = setInterval(() => legacyClient.emit('ready'), 2);
    try {
      const app = Fastify();
      apps.push(app);
      const seenInLostHook: Array<string | null> = [];
      app.addHook('preParsing', (_request, _reply, payload, done) => {
        legacyClient.once('ready', () => {
          seenInLostHook.push(currentTenantId() ?? null);
          done(null, payload);
        });
      });
      await app.register(tenantContextPlugin, { resolver: resolverFor(registry) });
      app.post('/projects', async (request) => ({ scope: requireTenantId(), body: request.body }));
      const response = await app.inject({
        method: 'POST',
        url: '/projects',
        headers: { 'x-tenant-id': 'tnt_acme' },
        payload: { name: 'Roadmap' },
      });
      // The scope really was lost in the hook (otherwise this test proves nothing)...
      expect(seenInLostHook).toEqual([null]);
      // ...and the handler has it again.
      expect(response.json()).toEqual({ scope: 'tnt_acme', body: { name: 'Roadmap' } });
    } finally {
      clearInterval(ticker);
    }
  });

  it('runs stream listeners of a custom content-type parser in the scope', async () => {
    const registry = await tenants();
    const app = Fastify();
    apps.push(app);
    const seenInListener: Array<string | null> = [];
    await app.register(tenantContextPlugin, { resolver: resolverFor(registry) });
    // A streaming parser doing tenant-scoped work per chunk (say, metering upload bytes).
    app.addContentTypeParser('application/octet-stream', (_request, payload, done) => {
      let bytes = 0;
      payload.on('data', (chunk: Buffer) => {
        seenInListener.push(currentTenantId() ?? null);
        bytes += chunk.length;
      });
      payload.on('end', () => done(null, { bytes }));
    });
    app.post('/upload', async (request) => ({ scope: requireTenantId(), body: request.body }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/upload`, {
      method: 'POST',
      headers: { 'x-tenant-id': 'tnt_acme', 'content-type': 'application/octet-stream' },
      body: slowBody(['aaaa', 'bbbb', 'cccc']),
      duplex: 'half',
    } as RequestInit);
    expect(await response.json()).toEqual({ scope: 'tnt_acme', body: { bytes: 12 } });
    expect(seenInListener.length).toBeGreaterThan(1);
    expect(new Set(seenInListener)).toEqual(new Set(['tnt_acme']));
  });

  it.each([
    ['an unknown tenant', { 'x-tenant-id': 'tnt_nobody' }, 404, 'TENANT_NOT_FOUND'],
    ['a suspended tenant', { 'x-tenant-id': 'tnt_frozen' }, 403, 'TENANT_SUSPENDED'],
    ['no tenant', {}, 400, 'TENANT_NOT_IDENTIFIED'],
    ['a malformed id', { 'x-tenant-id': 'a'.repeat(5_000) }, 400, 'TENANT_IDENTIFIER_INVALID'],
    ['a provisioning tenant', { 'x-tenant-id': 'tnt_new' }, 503, 'TENANT_NOT_READY'],
  ])('answers %s with a coded JSON body', async (_label, headers, status, code) => {
    const { app } = await buildApp(resolverFor(await tenants()));
    const response = await app.inject({ method: 'GET', url: '/whoami', headers });
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const body = response.json<Record<string, unknown>>();
    expect(Object.keys(body)).toEqual(['error']);
    expect(body).toMatchObject({ error: { code, message: expect.any(String) } });
  });

  it('answers TENANT_UNAUTHENTICATED (401) with only a token-claim source', async () => {
    const registry = await tenants();
    const resolver = createTenantResolver({ registry, sources: [fromTokenClaim({ getTenantId: () => undefined })] });
    const { app } = await buildApp(resolver);
    const response = await app.inject({ method: 'GET', url: '/whoami' });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ error: { code: 'TENANT_UNAUTHENTICATED' } });
  });

  it('lets a token-claim source read what an earlier hook attached to the request', async () => {
    const registry = await tenants();
    const resolver = createTenantResolver({
      registry,
      sources: [
        fromTokenClaim({
          getTenantId: (request) => (request.frameworkRequest as { claims?: { tid: string } }).claims?.tid,
        }),
      ],
    });
    const app = Fastify();
    apps.push(app);
    app.decorateRequest('claims', null);
    app.addHook('onRequest', (request, _reply, done) => {
      if (request.headers.authorization === 'Bearer acme') (request as unknown as { claims: unknown }).claims = { tid: 'tnt_acme' };
      done();
    });
    await app.register(tenantContextPlugin, { resolver });
    app.get('/', async () => ({ scope: requireTenantId() }));
    expect((await app.inject({ url: '/', headers: { authorization: 'Bearer acme' } })).json()).toEqual({ scope: 'tnt_acme' });
    expect((await app.inject({ url: '/' })).statusCode).toBe(401);
  });

  it('skips resolution on routes with config.tenant = false', async () => {
    const { app } = await buildApp(resolverFor(await tenants()));
    for (const headers of [{}, { 'x-tenant-id': 'tnt_nobody' }, { 'x-tenant-id': 'tnt_acme' }]) {
      const response = await app.inject({ method: 'GET', url: '/health', headers });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ ok: true, scope: null, tenant: null });
    }
  });

  it('makes the tenant optional with config.tenant.required = false', async () => {
    const { app } = await buildApp(resolverFor(await tenants()));
    expect((await app.inject({ url: '/pricing' })).json()).toEqual({ scope: null, tenant: null });
    expect((await app.inject({ url: '/pricing', headers: { 'x-tenant-id': 'tnt_acme' } })).json()).toEqual({
      scope: 'tnt_acme',
      tenant: 'tnt_acme',
    });
    expect((await app.inject({ url: '/pricing', headers: { 'x-tenant-id': 'tnt_nobody' } })).statusCode).toBe(404);
  });

  it('takes the plugin-wide default from required, and a route may require again', async () => {
    const registry = await tenants();
    const { app } = await buildApp(resolverFor(registry), { required: false });
    app.get('/strict', { config: { tenant: { required: true } } }, async () => 'x');
    const response = await app.inject({ url: '/whoami' });
    // Not required, so the handler runs without a scope and its requireTenantId() fails closed.
    expect(response.statusCode).toBe(500);
    expect((await app.inject({ url: '/strict' })).json()).toMatchObject({ error: { code: 'TENANT_NOT_IDENTIFIED' } });
  });

  it('covers routes declared before the plugin was registered', async () => {
    const app = Fastify();
    apps.push(app);
    app.get('/early', async () => ({ scope: currentTenantId() ?? null }));
    await app.register(tenantContextPlugin, { resolver: resolverFor(await tenants()) });
    expect((await app.inject({ url: '/early' })).statusCode).toBe(400);
    expect((await app.inject({ url: '/early', headers: { 'x-tenant-id': 'tnt_acme' } })).json()).toEqual({
      scope: 'tnt_acme',
    });
  });

  it("answers refusals itself and leaves the application's error handler in charge of its own errors", async () => {
    const base = memoryTenantStore();
    let storeDown = false;
    const store: TenantStore = {
      ...base,
      async getTenantById(id) {
        if (storeDown) throw new Error('connection refused to 10.0.0.5:5432');
        return base.getTenantById(id);
      },
    };
    const registry = await tenants(store);
    const app = Fastify();
    apps.push(app);
    const handled: string[] = [];
    app.setErrorHandler((error: Error, _request, reply) => {
      handled.push(error.message);
      return reply.code(500).send({ custom: true });
    });
    await app.register(tenantContextPlugin, { resolver: createTenantResolver({ registry, sources: [fromHeader()], cache: false }) });
    app.get('/boom', async () => {
      throw new Error('handler failed');
    });
    const refused = await app.inject({ url: '/boom', headers: { 'x-tenant-id': 'tnt_frozen' } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ error: { code: 'TENANT_SUSPENDED' } });
    const failed = await app.inject({ url: '/boom', headers: { 'x-tenant-id': 'tnt_acme' } });
    expect(failed.json()).toEqual({ custom: true });
    storeDown = true;
    const down = await app.inject({ url: '/boom', headers: { 'x-tenant-id': 'tnt_acme' } });
    expect(down.statusCode).toBe(500);
    expect(down.json()).toEqual({ custom: true });
    expect(handled).toEqual(['handler failed', 'connection refused to 10.0.0.5:5432']);
  });

  it('refuses a tenant as soon as it is suspended', async () => {
    const registry = await tenants();
    const { app } = await buildApp(resolverFor(registry));
    const request = { url: '/whoami', headers: { 'x-tenant-id': 'tnt_acme' } };
    expect((await app.inject(request)).statusCode).toBe(200);
    await registry.suspendTenant('tnt_acme', 'abuse');
    expect((await app.inject(request)).statusCode).toBe(403);
  });

  it("never lets 200 concurrent requests over 20 tenants see each other's tenant", async () => {
    const registry = createTenantRegistry({ store: memoryTenantStore() });
    const ids = Array.from({ length: 20 }, (_, index) => `tnt_${index}`);
    for (const id of ids) await registry.createTenant({ id, slug: `t${id.slice(4)}`, name: id });
    const { app } = await buildApp(resolverFor(registry));
    app.post('/echo', async (request) => {
      await sleep(Math.floor(Math.random() * 5));
      const before = requireTenantId();
      await new Promise((resolve) => setImmediate(resolve));
      await sleep(Math.floor(Math.random() * 5));
      return { before, after: requireTenantId(), tenant: request.tenant?.id, claimed: (request.body as { id: string }).id };
    });
    const results = await Promise.all(
      Array.from({ length: 200 }, async (_, index) => {
        const id = ids[index % ids.length] as string;
        const response = await app.inject({ method: 'POST', url: '/echo', headers: { 'x-tenant-id': id }, payload: { id } });
        return { id, status: response.statusCode, body: response.json<Record<string, string>>() };
      }),
    );
    for (const { id, status, body } of results) {
      expect(status).toBe(200);
      expect(body).toEqual({ before: id, after: id, tenant: id, claimed: id });
    }
  });
});
