import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { rbacPlugin } from '@tenantkit/rbac/fastify';
import type { RbacPrincipal } from '../../src/principal.js';
import { createFixtureChecker, principalFromHeader } from './fixture-checker.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** What the test's stand-in for auth sets. */
    user: RbacPrincipal | null;
  }
}

const apps: FastifyInstance[] = [];

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

const documents: Record<string, { ownerId: string }> = { doc_1: { ownerId: 'usr_editor' }, doc_2: { ownerId: 'usr_other' } };

const loadDocument = async (request: FastifyRequest) => {
  await sleep(1);
  return documents[(request.params as { id: string }).id];
};

/** An app whose auth stand-in sets `request.user` from the `x-user` header in onRequest. */
async function buildApp(getPrincipal: (request: FastifyRequest) => RbacPrincipal | null | Promise<RbacPrincipal | null> = (request) => request.user) {
  const app = Fastify();
  apps.push(app);
  const checker = createFixtureChecker();
  app.decorateRequest('user', null);
  app.addHook('onRequest', async (request) => {
    request.user = principalFromHeader(request.headers['x-user']);
  });
  app.setErrorHandler((error, _request, reply) => {
    void reply.code(599).send({ handled: (error as Error).message, code: (error as { code?: unknown }).code ?? null });
  });
  await app.register(rbacPlugin, { checker, getPrincipal });
  app.get('/public', async (request) => ({ permissions: request.permissions }));
  app.get('/docs', { config: { permission: 'docs:list' } }, async (request) => ({
    ok: true,
    tenantId: request.permissions?.tenantId,
    principal: request.permissions?.principal.id,
  }));
  app.patch('/docs/:id', { config: { permission: { permission: 'docs:update', resource: loadDocument } } }, async () => ({ updated: true }));
  app.post(
    '/docs/:id/delete',
    { config: { permission: { permission: 'docs:delete', context: (request) => ({ ip: (request.body as { ip?: string } | undefined)?.ip }) } } },
    async () => ({ deleted: true }),
  );
  app.get('/other-tenant', { config: { permission: { permission: 'docs:read', context: () => ({ tenantId: 'tnt_other' }) } } }, async () => ({ ok: true }));
  app.get('/explicit/:id', { preHandler: app.requirePermission('docs:update', { resource: loadDocument }) }, async () => ({ ok: true }));
  app.get(
    '/both',
    { config: { permission: 'docs:read' }, preHandler: app.requirePermission('docs:list') },
    async () => ({ ok: true }),
  );
  app.get(
    '/failing-loader',
    {
      config: {
        permission: {
          permission: 'docs:read',
          resource: () => {
            throw new Error('loader failed');
          },
        },
      },
    },
    async () => ({ ok: true }),
  );
  await app.ready();
  return { app, checker };
}

describe('rbacPlugin options', () => {
  it('rejects invalid options at registration', async () => {
    const checker = createFixtureChecker();
    for (const options of [{}, { getPrincipal: () => null }, { checker, getPrincipal: 'user' }, { checker: { can() {} }, getPrincipal: () => null }]) {
      const app = Fastify();
      apps.push(app);
      await expect(app.register(rbacPlugin, options as never).ready(), JSON.stringify(Object.keys(options))).rejects.toMatchObject({
        code: 'CONFIGURATION_INVALID',
      });
    }
  });

  it('rejects an invalid route setting when the route is declared', async () => {
    for (const [setting, code] of [
      ['docs:*', 'PERMISSION_INVALID'],
      ['docs', 'PERMISSION_INVALID'],
      [42, 'CONFIGURATION_INVALID'],
      [{ permision: 'docs:read' }, 'PERMISSION_INVALID'],
      [{ permission: 'docs:read', resource: 'params.id' }, 'CONFIGURATION_INVALID'],
      [{ permission: 'docs:read', loader: () => ({}) }, 'CONFIGURATION_INVALID'],
    ] as const) {
      const app = Fastify();
      apps.push(app);
      await app.register(rbacPlugin, { checker: createFixtureChecker(), getPrincipal: () => null });
      expect(() => app.get('/x', { config: { permission: setting as never } }, async () => 'ok'), JSON.stringify(setting)).toThrow(
        expect.objectContaining({ code }),
      );
    }
  });

  it('checks app.requirePermission() arguments when called', async () => {
    const app = Fastify();
    apps.push(app);
    await app.register(rbacPlugin, { checker: createFixtureChecker(), getPrincipal: () => null });
    expect(() => app.requirePermission('*:read')).toThrow(expect.objectContaining({ code: 'PERMISSION_INVALID' }));
    expect(() => app.requirePermission('docs:read', { context: { ip: '1' } } as never)).toThrow(
      expect.objectContaining({ code: 'CONFIGURATION_INVALID' }),
    );
  });
});

describe('rbacPlugin guards', () => {
  it('answers a request without a principal with 401 PRINCIPAL_REQUIRED and runs no check', async () => {
    const { app, checker } = await buildApp();
    const response = await app.inject({ url: '/docs' });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({
      error: { code: 'PRINCIPAL_REQUIRED', message: expect.any(String), details: { permission: 'docs:list' } },
    });
    expect(checker.calls.forPrincipal).toEqual([]);
  });

  it('lets an allowed request through with request.permissions set', async () => {
    const { app, checker } = await buildApp();
    const response = await app.inject({ url: '/docs', headers: { 'x-user': 'usr_reader' } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ ok: true, tenantId: 'tnt_default', principal: 'usr_reader' });
    expect(checker.calls.can).toEqual([{ permission: 'docs:list', resource: undefined, context: undefined }]);
  });

  it('answers a denied request with 403 PERMISSION_DENIED naming the permission and nothing of the rules', async () => {
    const { app } = await buildApp();
    const response = await app.inject({ url: '/docs', headers: { 'x-user': 'usr_editor' } });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toEqual({
      error: { code: 'PERMISSION_DENIED', message: 'Permission denied: docs:list', details: { permission: 'docs:list' } },
    });
    expect(response.body).not.toContain('secret-internal-role');
  });

  it('leaves routes without a permission alone', async () => {
    const { app, checker } = await buildApp();
    const response = await app.inject({ url: '/public' });
    expect(response.json()).toEqual({ permissions: null });
    expect((await app.inject({ url: '/nowhere' })).statusCode).toBe(404);
    expect(checker.calls.forPrincipal).toEqual([]);
  });

  it('checks conditions against the loaded resource (and fails closed without one)', async () => {
    const { app, checker } = await buildApp();
    const update = (id: string) => app.inject({ method: 'PATCH', url: `/docs/${id}`, headers: { 'x-user': 'usr_editor' } });
    expect((await update('doc_1')).statusCode).toBe(200);
    expect((await update('doc_2')).statusCode).toBe(403);
    expect((await update('doc_missing')).statusCode).toBe(403);
    expect(checker.calls.can.map((call) => call.resource)).toEqual([{ ownerId: 'usr_editor' }, { ownerId: 'usr_other' }, undefined]);
  });

  it('runs after body parsing, so context can read the body; a tenantId in context picks the tenant', async () => {
    const { app, checker } = await buildApp();
    const remove = (ip: string) =>
      app.inject({ method: 'POST', url: '/docs/doc_1/delete', headers: { 'x-user': 'usr_editor' }, payload: { ip } });
    expect((await remove('10.0.0.1')).statusCode).toBe(200);
    expect((await remove('10.0.0.2')).statusCode).toBe(403);
    expect((await app.inject({ url: '/other-tenant', headers: { 'x-user': 'usr_editor' } })).statusCode).toBe(403);
    expect(checker.calls.forPrincipal.map((call) => call.tenantId)).toEqual([undefined, undefined, 'tnt_other']);
  });

  it('guards with an explicit app.requirePermission() preHandler, alone or next to config.permission', async () => {
    const { app, checker } = await buildApp();
    expect((await app.inject({ url: '/explicit/doc_1', headers: { 'x-user': 'usr_editor' } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/explicit/doc_2', headers: { 'x-user': 'usr_editor' } })).statusCode).toBe(403);
    expect((await app.inject({ url: '/explicit/doc_1' })).statusCode).toBe(401);
    checker.calls.can.length = 0;
    expect((await app.inject({ url: '/both', headers: { 'x-user': 'usr_reader' } })).statusCode).toBe(200);
    const denied = await app.inject({ url: '/both', headers: { 'x-user': 'usr_editor' } });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().error.details).toEqual({ permission: 'docs:list' });
    expect(checker.calls.can.map((call) => call.permission)).toEqual(['docs:read', 'docs:list', 'docs:read', 'docs:list']);
  });

  it('waits for an asynchronous principal getter', async () => {
    const { app } = await buildApp(async (request) => {
      await sleep(2);
      return request.user;
    });
    expect((await app.inject({ url: '/docs', headers: { 'x-user': 'usr_reader' } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/docs' })).statusCode).toBe(401);
  });

  it('hands errors of the checker, the loaders and the principal getter to the error handler', async () => {
    const { app } = await buildApp();
    const broken = await app.inject({ url: '/docs', headers: { 'x-user': 'usr_broken' } });
    expect(broken.statusCode).toBe(599);
    expect(broken.json()).toEqual({ handled: 'store unavailable', code: null });
    const loader = await app.inject({ url: '/failing-loader', headers: { 'x-user': 'usr_reader' } });
    expect(loader.json()).toEqual({ handled: 'loader failed', code: null });

    const { app: throwing } = await buildApp(() => {
      throw new Error('session store down');
    });
    expect((await throwing.inject({ url: '/docs', headers: { 'x-user': 'usr_reader' } })).json()).toEqual({
      handled: 'session store down',
      code: null,
    });
  });

  it('guards a route declared before the plugin was registered, and fails closed on its invalid setting', async () => {
    const app = Fastify();
    apps.push(app);
    app.get('/early', { config: { permission: 'docs:list' } }, async () => ({ ok: true }));
    app.get('/early-typo', { config: { permission: { permision: 'docs:list' } as never } }, async () => ({ ok: true }));
    await app.register(rbacPlugin, { checker: createFixtureChecker(), getPrincipal: (request) => principalFromHeader(request.headers['x-user']) });
    await app.ready();
    expect((await app.inject({ url: '/early' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/early', headers: { 'x-user': 'usr_editor' } })).statusCode).toBe(403);
    expect((await app.inject({ url: '/early', headers: { 'x-user': 'usr_reader' } })).statusCode).toBe(200);
    const typo = await app.inject({ url: '/early-typo', headers: { 'x-user': 'usr_reader' } });
    expect(typo.statusCode).toBe(500);
    expect(typo.json()).toMatchObject({ code: 'CONFIGURATION_INVALID' });
  });
});
