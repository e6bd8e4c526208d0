import { setTimeout as sleep } from 'node:timers/promises';
import express, { type ErrorRequestHandler, type Request } from 'express';
import { useLocalHttpServers } from '@tenantkit/test-utils';
import { describe, expect, it } from 'vitest';
import { createRbacMiddleware } from '@tenantkit/rbac/express';
import { RbacError } from '../../src/errors.js';
import type { RbacPrincipal } from '../../src/principal.js';
import { createFixtureChecker, principalFromHeader } from './fixture-checker.js';

const listen = useLocalHttpServers();

const documents: Record<string, { ownerId: string }> = { doc_1: { ownerId: 'usr_editor' }, doc_2: { ownerId: 'usr_other' } };

/** Sends the error handlers' view of non-refusal errors back, so tests can see where they went. */
const reportErrors: ErrorRequestHandler = (error, _req, res, _next) => {
  res.status(599).json({ handled: error instanceof Error ? error.message : String(error), code: (error as { code?: unknown }).code ?? null });
};

function buildApp(getPrincipal: (req: Request) => RbacPrincipal | null | Promise<RbacPrincipal | null> = (req) => principalFromHeader(req.headers['x-user'])) {
  const checker = createFixtureChecker();
  const { requirePermission } = createRbacMiddleware({ checker, getPrincipal });
  const app = express();
  app.get('/public', (req, res) => {
    res.json({ permissions: req.permissions ?? null });
  });
  app.get('/docs', requirePermission('docs:list'), (req, res) => {
    res.json({ ok: true, tenantId: req.permissions?.tenantId, principal: req.permissions?.principal.id });
  });
  app.patch(
    '/docs/:id',
    requirePermission('docs:update', {
      resource: async (req) => {
        await sleep(1);
        return documents[String(req.params.id)];
      },
    }),
    (_req, res) => {
      res.json({ updated: true });
    },
  );
  app.delete(
    '/docs/:id',
    requirePermission('docs:delete', { context: (req) => ({ ip: req.headers['x-ip'] }) }),
    (_req, res) => {
      res.json({ deleted: true });
    },
  );
  app.get(
    '/other-tenant/docs/:id',
    requirePermission('docs:read', { context: () => ({ tenantId: 'tnt_other' }) }),
    (_req, res) => {
      res.json({ ok: true });
    },
  );
  app.get(
    '/failing-loader',
    requirePermission('docs:read', {
      resource: () => {
        throw new Error('loader failed');
      },
    }),
    (_req, res) => {
      res.json({ ok: true });
    },
  );
  app.get('/two-guards', requirePermission('docs:read'), requirePermission('docs:list'), (_req, res) => {
    res.json({ ok: true });
  });
  app.use(reportErrors);
  return { app, checker };
}

describe('createRbacMiddleware()', () => {
  it('checks its options when called, not on the first request', () => {
    const checker = createFixtureChecker();
    const getPrincipal = () => null;
    for (const options of [
      undefined,
      {},
      { getPrincipal },
      { checker, getPrincipal: 'req.user' },
      { checker: { can: () => true }, getPrincipal },
      { checker, getPrincipal, getPrincipall: getPrincipal },
    ]) {
      expect(() => createRbacMiddleware(options as never), JSON.stringify(Object.keys(options ?? {}))).toThrow(
        expect.objectContaining({ code: 'CONFIGURATION_INVALID' }),
      );
    }
    expect(() => createRbacMiddleware({ checker, getPrincipal })).not.toThrow();
  });

  it('checks each guard when it is declared', () => {
    const { requirePermission } = createRbacMiddleware({ checker: createFixtureChecker(), getPrincipal: () => null });
    for (const permission of ['docs:*', '*', 'docs', 'Docs:Read', '', 'docs:read:', 42]) {
      expect(() => requirePermission(permission as string), String(permission)).toThrow(
        expect.objectContaining({ code: 'PERMISSION_INVALID' }),
      );
    }
    expect(() => requirePermission('docs:read', { resource: 'params.id' } as never)).toThrow(
      expect.objectContaining({ code: 'CONFIGURATION_INVALID' }),
    );
    expect(() => requirePermission('docs:read', { resources: () => ({}) } as never)).toThrow(
      expect.objectContaining({ code: 'CONFIGURATION_INVALID' }),
    );
    expect(() => requirePermission('docs:read:own', { resource: () => ({}), context: () => ({}) })).not.toThrow();
  });
});

describe('requirePermission() on Express', () => {
  it('answers a request without a principal with 401 PRINCIPAL_REQUIRED and runs no check', async () => {
    const { app, checker } = buildApp();
    const url = await listen(app);
    const response = await fetch(`${url}/docs`);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      error: { code: 'PRINCIPAL_REQUIRED', message: expect.any(String), details: { permission: 'docs:list' } },
    });
    expect(checker.calls.forPrincipal).toEqual([]);
  });

  it('lets an allowed request through with req.permissions set', async () => {
    const { app, checker } = buildApp();
    const url = await listen(app);
    const response = await fetch(`${url}/docs`, { headers: { 'x-user': 'usr_reader' } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, tenantId: 'tnt_default', principal: 'usr_reader' });
    expect(checker.calls.forPrincipal).toEqual([{ principal: { kind: 'user', id: 'usr_reader' }, tenantId: undefined }]);
    expect(checker.calls.can).toEqual([{ permission: 'docs:list', resource: undefined, context: undefined }]);
  });

  it('answers a denied request with 403 PERMISSION_DENIED naming the permission and nothing of the rules', async () => {
    const { app } = buildApp();
    const url = await listen(app);
    const response = await fetch(`${url}/docs`, { headers: { 'x-user': 'usr_editor' } });
    expect(response.status).toBe(403);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({
      error: { code: 'PERMISSION_DENIED', message: 'Permission denied: docs:list', details: { permission: 'docs:list' } },
    });
    expect(text).not.toContain('secret-internal-role');
  });

  it('leaves unguarded routes alone', async () => {
    const { app, checker } = buildApp();
    const url = await listen(app);
    const response = await fetch(`${url}/public`);
    expect(await response.json()).toEqual({ permissions: null });
    expect(checker.calls.forPrincipal).toEqual([]);
  });

  it('checks conditions against the resource the loader returns (and fails closed without one)', async () => {
    const { app, checker } = buildApp();
    const url = await listen(app);
    const update = (id: string) => fetch(`${url}/docs/${id}`, { method: 'PATCH', headers: { 'x-user': 'usr_editor' } });
    expect((await update('doc_1')).status).toBe(200);
    expect((await update('doc_2')).status).toBe(403);
    expect((await update('doc_missing')).status).toBe(403);
    expect(checker.calls.can.map((call) => call.resource)).toEqual([{ ownerId: 'usr_editor' }, { ownerId: 'usr_other' }, undefined]);
  });

  it('passes the request context to the check, and its tenantId to forPrincipal', async () => {
    const { app, checker } = buildApp();
    const url = await listen(app);
    const remove = (ip: string) => fetch(`${url}/docs/doc_1`, { method: 'DELETE', headers: { 'x-user': 'usr_editor', 'x-ip': ip } });
    expect((await remove('10.0.0.1')).status).toBe(200);
    expect((await remove('10.0.0.2')).status).toBe(403);
    const other = await fetch(`${url}/other-tenant/docs/doc_1`, { headers: { 'x-user': 'usr_editor' } });
    expect(other.status).toBe(403);
    expect(checker.calls.forPrincipal.map((call) => call.tenantId)).toEqual([undefined, undefined, 'tnt_other']);
    expect(checker.calls.can[2]?.context).toEqual({ tenantId: 'tnt_other' });
  });

  it('waits for an asynchronous principal getter', async () => {
    const { app } = buildApp(async (req) => {
      await sleep(2);
      return principalFromHeader(req.headers['x-user']);
    });
    const url = await listen(app);
    expect((await fetch(`${url}/docs`, { headers: { 'x-user': 'usr_reader' } })).status).toBe(200);
    expect((await fetch(`${url}/docs`)).status).toBe(401);
  });

  it('runs stacked guards one after the other', async () => {
    const { app, checker } = buildApp();
    const url = await listen(app);
    expect((await fetch(`${url}/two-guards`, { headers: { 'x-user': 'usr_reader' } })).status).toBe(200);
    expect((await fetch(`${url}/two-guards`, { headers: { 'x-user': 'usr_editor' } })).status).toBe(403);
    expect(checker.calls.can.map((call) => call.permission)).toEqual(['docs:read', 'docs:list', 'docs:read', 'docs:list']);
  });

  it('hands errors of the checker, the loaders and the principal getter to the error handlers', async () => {
    const { app } = buildApp();
    const url = await listen(app);
    const broken = await fetch(`${url}/docs`, { headers: { 'x-user': 'usr_broken' } });
    expect(broken.status).toBe(599);
    expect(await broken.json()).toEqual({ handled: 'store unavailable', code: null });

    const loader = await fetch(`${url}/failing-loader`, { headers: { 'x-user': 'usr_reader' } });
    expect(await loader.json()).toEqual({ handled: 'loader failed', code: null });

    const { app: throwingApp } = buildApp(() => {
      throw new RbacError('TENANT_SCOPE_REQUIRED', 'no tenant');
    });
    const throwingUrl = await listen(throwingApp);
    const response = await fetch(`${throwingUrl}/docs`);
    expect(response.status).toBe(599);
    expect(await response.json()).toEqual({ handled: 'no tenant', code: 'TENANT_SCOPE_REQUIRED' });
  });
});
