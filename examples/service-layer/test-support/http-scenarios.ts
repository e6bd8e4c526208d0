import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsSystem, runWithTenant, type TxtResolver } from '@tenantkit/tenant-context';
import { withoutTenantIsolation } from '@tenantkit/tenant-context/kysely';
import { demoPassword, seedDemoData } from '../src/seed.js';
import type { ExampleServices } from '../src/services.js';
import { describeAuthScenarios } from './auth-scenarios.js';
import { describeRateLimitScenarios } from './rate-limit-scenarios.js';
import { createScenarioCredentials } from './scenario-credentials.js';
import { scanRedisKeys as scanKeys, startScenarioServices, type ScenarioBacking, type ScenarioServices } from './scenario-services.js';

export type { ScenarioBacking } from './scenario-services.js';

/** One HTTP exchange, as both apps' test runners perform it (Fastify inject, Express over a socket). */
export interface HttpExchange {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  /** JSON-encoded unless `rawBody` is given. */
  body?: unknown;
  rawBody?: string;
  /**
   * The address the request comes from, as the server's socket sees it (a 127.0.0.0/8
   * address: Express binds the client socket to it, Fastify's inject reports it). Default
   * 127.0.0.1. Rate-limit scenarios give each test its own, so per-IP budgets don't mix.
   */
  clientIp?: string;
}

export interface HttpAnswer {
  status: number;
  body: any;
}

/** An answer with its headers (names in lower case; the rate-limit scenarios read them). */
export interface HttpAnswerWithHeaders extends HttpAnswer {
  headers: Record<string, string | string[] | undefined>;
}

/** Starts an app over the given services and returns how to talk to it and how to stop it. */
export type AppHarness = (services: ExampleServices) => Promise<{ send(exchange: HttpExchange): Promise<HttpAnswerWithHeaders>; close(): Promise<void> }>;

/** The admin token of every scenario suite. */
export const ADMIN_TOKEN = 'e2e-admin-token-0123456789';

/**
 * The end-to-end scenarios every reference app must pass, against its real HTTP layer, the real
 * service layer and the chosen database; the rate-limit and the auth scenarios run on services
 * of their own (lowered limits; accounts whose passwords and sessions they change).
 *
 * Every request is authenticated as a client would be: `as(userId, slug)` sends the user's
 * access token bound to that tenant (signed in once per user and tenant, see
 * `createScenarioCredentials`), `bearer(userId, slug?)` the token alone.
 */
export function describeReferenceAppScenarios(appName: string, startApp: AppHarness, backing: ScenarioBacking = 'embedded'): void {
  describeRateLimitScenarios(appName, startApp, backing);
  describeAuthScenarios(appName, startApp, backing);
  describe(`${appName} reference app on ${backing} (end to end)`, () => {
    let running: ScenarioServices | undefined;
    const txtRecords = new Map<string, string[][]>();
    const dns: TxtResolver = {
      async resolveTxt(name) {
        const records = txtRecords.get(name);
        if (records === undefined) throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
        return records;
      },
    };
    let services: ExampleServices;
    let app: Awaited<ReturnType<AppHarness>>;
    const credentials = createScenarioCredentials(() => services);
    const { as, bearer } = credentials;
    /** With headers, the sign-in marker of `as()` / `bearer()` swapped for the token. */
    const sendWithHeaders = async (exchange: HttpExchange): Promise<HttpAnswerWithHeaders> => {
      const headers = await credentials.resolve(exchange.headers);
      return app.send(headers === undefined ? exchange : { ...exchange, headers });
    };
    // Status and body only: most scenarios compare whole answers, which headers would clutter.
    const send = async (exchange: HttpExchange): Promise<HttpAnswer> => {
      const { status, body } = await sendWithHeaders(exchange);
      return { status, body };
    };
    /** A 401 as both apps answer it: the coded body and a WWW-Authenticate challenge. */
    async function expectUnauthenticated(exchange: HttpExchange, code: string): Promise<void> {
      const answer = await sendWithHeaders(exchange);
      expect(answer).toMatchObject({ status: 401, body: { error: { code } } });
      expect(answer.headers['www-authenticate']).toMatch(/^Bearer realm="api"/);
    }
    const tenantIdOf = async (userId: string, tenantSlug: string): Promise<string> =>
      (await send({ method: 'GET', path: '/tenant', headers: as(userId, tenantSlug) })).body.tenant.id;

    /** Signs a user up for a new tenant (on the pro plan: room for projects); resolves its id. */
    async function signUpTenant(adminUserId: string, slug: string): Promise<string> {
      const answer = await send({ method: 'POST', path: '/signup', headers: bearer(adminUserId), body: { slug, name: slug, plan: 'pro' } });
      expect(answer.status).toBe(201);
      return answer.body.tenant.id as string;
    }
    async function addMember(actor: string, slug: string, userId: string): Promise<void> {
      expect(await send({ method: 'POST', path: '/members', headers: as(actor, slug), body: { userId } })).toMatchObject({ status: 201, body: { userId, status: 'active' } });
    }
    const assignRole = (actor: string, slug: string, userId: string, roleKey: string) =>
      send({ method: 'POST', path: `/members/${userId}/roles`, headers: as(actor, slug), body: { roleKey } });
    /** Assigns a role and expects it granted at once; resolves the assignment id. */
    async function grant(actor: string, slug: string, userId: string, roleKey: string): Promise<string> {
      const answer = await assignRole(actor, slug, userId, roleKey);
      expect(answer).toMatchObject({ status: 201, body: { subjectType: 'user', subjectId: userId, roleKey, status: 'active', grantedBy: actor } });
      return answer.body.id as string;
    }
    const denied = (permission: string) => ({ status: 403, body: { error: { code: 'PERMISSION_DENIED', details: { permission } } } });
    const forbiddenAssignment = (reason: string) => ({ status: 403, body: { error: { code: 'ASSIGNMENT_FORBIDDEN', details: { reason } } } });
    const createProjectAs = async (userId: string, slug: string, name: string): Promise<{ id: string; createdBy: string }> => {
      const answer = await send({ method: 'POST', path: '/projects', headers: as(userId, slug), body: { name } });
      expect(answer.status).toBe(201);
      return answer.body;
    };
    const decisionOf = async (userId: string, slug: string, query: string) => {
      const answer = await send({ method: 'GET', path: `/me/permissions?${query}`, headers: as(userId, slug) });
      expect(answer.status).toBe(200);
      return answer.body.decision;
    };

    /**
     * The project rows in the database, read past the tenant isolation plugin (the named, audited
     * escape inside runAsSystem), so the checks do not trust the scoping they check.
     */
    const storedProjects = (filter: { tenantId?: string; name?: string }) =>
      runAsSystem({ reason: 'e2e: inspect project rows of every tenant', actor: 'e2e' }, () => {
        let query = withoutTenantIsolation(services.appDb).selectFrom('example_projects').select(['tenant_id', 'id', 'name']);
        if (filter.tenantId !== undefined) query = query.where('tenant_id', '=', filter.tenantId);
        if (filter.name !== undefined) query = query.where('name', '=', filter.name);
        return query.orderBy('tenant_id').orderBy('id').execute();
      });

    /** Raw SCAN (not the library's own scan) of the example's Redis keys that match a pattern. */
    async function scanRedisKeys(pattern: string): Promise<string[]> {
      if (services.redis === undefined) throw new Error('This backing has no Redis');
      return scanKeys(services.redis, pattern);
    }
    /** Every Redis key of one tenant: its `{tenant}` hash-tag pattern in the example's keyspace. */
    const redisKeysOfTenant = (tenantId: string) => scanRedisKeys(`${services.config.redisKeyPrefix}{${tenantId}}:*`);

    beforeAll(async () => {
      // The default limits, but for sign-ups: these scenarios sign up a dozen tenants from one
      // address. The rate-limit scenarios check the limits themselves.
      const env = { ADMIN_TOKEN, BASE_DOMAIN: 'saas.test', SEED_DEMO_DATA: 'true', RATE_LIMIT_SIGNUP: '100/600' };
      running = await startScenarioServices(backing, env, { dns });
      services = running.services;
      await seedDemoData(services);
      app = await startApp(services);
      // The demo users sign in over HTTP, as a client would; their tokens serve the scenarios.
      for (const [userId, email, tenant] of [
        ['usr_alice', 'alice@acme.example', 'acme'],
        ['usr_alice', 'alice@acme.example', 'globex'],
        ['usr_bob', 'bob@globex.example', 'globex'],
      ] as const) {
        const login = await app.send({ method: 'POST', path: '/auth/login', body: { email, password: demoPassword, tenant } });
        expect(login).toMatchObject({ status: 200, body: { status: 'authenticated', user: { id: userId }, tenant: { slug: tenant } } });
        credentials.remember(userId, tenant, login.body.accessToken as string);
      }
    });
    afterAll(async () => {
      await app?.close();
      await running?.dispose();
    });

    it('serves public routes without a tenant', async () => {
      expect(await send({ method: 'GET', path: '/health' })).toEqual({ status: 200, body: { status: 'ok' } });
    });

    it('resolves the tenant from a header, a path prefix and a subdomain', async () => {
      const byHeader = await send({ method: 'GET', path: '/tenant', headers: as('usr_alice', 'acme') });
      expect(byHeader.status).toBe(200);
      expect(byHeader.body.tenant.slug).toBe('acme');

      const byPath = await send({ method: 'GET', path: '/t/globex/tenant', headers: bearer('usr_alice', 'globex') });
      expect(byPath.status).toBe(200);
      expect(byPath.body.tenant.slug).toBe('globex');

      const bySubdomain = await send({ method: 'GET', path: '/tenant', headers: { host: 'acme.saas.test', ...bearer('usr_alice', 'acme') } });
      expect(bySubdomain.status).toBe(200);
      expect(bySubdomain.body.tenant.slug).toBe('acme');
    });

    it('ignores X-Forwarded-Host from a peer that is not a trusted proxy', async () => {
      const answer = await send({
        method: 'GET',
        path: '/tenant',
        headers: { host: 'globex.saas.test', 'x-forwarded-host': 'acme.saas.test', ...bearer('usr_alice', 'globex') },
      });
      expect(answer.status).toBe(200);
      expect(answer.body.tenant.slug).toBe('globex');
    });

    it('answers coded errors for missing, malformed, unknown and suspended tenants', async () => {
      expect(await send({ method: 'GET', path: '/projects' })).toMatchObject({ status: 400, body: { error: { code: 'TENANT_NOT_IDENTIFIED' } } });
      // Resolution comes first: the tenant is refused whatever credential comes with it.
      expect(await send({ method: 'GET', path: '/projects', headers: { ...bearer('usr_alice', 'acme'), 'x-tenant-id': '../etc' } })).toMatchObject({
        status: 400,
        body: { error: { code: 'TENANT_IDENTIFIER_INVALID' } },
      });
      expect(await send({ method: 'GET', path: '/projects', headers: { ...bearer('usr_alice', 'acme'), 'x-tenant-id': 'nope' } })).toMatchObject({
        status: 404,
        body: { error: { code: 'TENANT_NOT_FOUND' } },
      });
      // Carol cannot sign in to her suspended tenant: her token is bound to none.
      expect(await send({ method: 'GET', path: '/projects', headers: { ...bearer('usr_carol'), 'x-tenant-id': 'suspended-co' } })).toMatchObject({
        status: 403,
        body: { error: { code: 'TENANT_SUSPENDED' } },
      });
    });

    it('lets only active members act in a tenant, with credentials bound to it', async () => {
      await expectUnauthenticated({ method: 'GET', path: '/projects', headers: { 'x-tenant-id': 'acme' } }, 'AUTHENTICATION_REQUIRED');
      // Bob belongs to Globex only: his Globex token is refused at Acme, and he cannot sign in to Acme.
      await expectUnauthenticated({ method: 'GET', path: '/projects', headers: { ...bearer('usr_bob', 'globex'), 'x-tenant-id': 'acme' } }, 'TOKEN_INVALID');
      expect(await send({ method: 'POST', path: '/auth/login', body: { email: 'bob@globex.example', password: demoPassword, tenant: 'acme' } })).toMatchObject({
        status: 404,
        body: { error: { code: 'MEMBERSHIP_NOT_FOUND' } },
      });
      expect((await send({ method: 'GET', path: '/projects', headers: as('usr_bob', 'globex') })).status).toBe(200);
      const mine = await send({ method: 'GET', path: '/me/tenants', headers: bearer('usr_alice') });
      expect(mine.status).toBe(200);
      expect(mine.body.map((row: { slug: string }) => row.slug).sort()).toEqual(['acme', 'globex']);
    });

    it("keeps each tenant's projects to itself", async () => {
      const created = await send({ method: 'POST', path: '/projects', headers: as('usr_alice', 'acme'), body: { name: 'Acme secret plan' } });
      expect(created.status).toBe(201);
      const acme = await send({ method: 'GET', path: '/projects', headers: as('usr_alice', 'acme') });
      const globex = await send({ method: 'GET', path: '/projects', headers: as('usr_alice', 'globex') });
      expect(acme.body.map((project: { name: string }) => project.name)).toContain('Acme secret plan');
      expect(globex.body.map((project: { name: string }) => project.name)).not.toContain('Acme secret plan');
      // Deleting another tenant's project by id does nothing.
      const crossDelete = await send({ method: 'DELETE', path: `/projects/${created.body.id}`, headers: as('usr_bob', 'globex') });
      expect(crossDelete).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
      expect((await send({ method: 'GET', path: '/projects', headers: as('usr_alice', 'acme') })).body).toHaveLength(acme.body.length);
    });

    it("never lets a tenant read, rename or delete another tenant's project, even knowing its id", async () => {
      const globexId = await tenantIdOf('usr_bob', 'globex');
      const acmeId = await tenantIdOf('usr_alice', 'acme');
      const globexProject = await send({ method: 'POST', path: '/projects', headers: as('usr_bob', 'globex'), body: { name: 'Globex launch plan' } });
      expect(globexProject.status).toBe(201);
      const acmeProject = await send({ method: 'POST', path: '/projects', headers: as('usr_alice', 'acme'), body: { name: 'Acme launch plan' } });
      expect(acmeProject.status).toBe(201);
      const noSuchProject = { status: 400, body: { error: { code: 'VALIDATION_FAILED', details: { projectId: globexProject.body.id } } } };
      // Read first, so on Redis the owner's list is cached while the attacks run and must follow the writes below.
      const globexList = await send({ method: 'GET', path: '/projects', headers: as('usr_bob', 'globex') });
      expect(globexList.body.map((project: { id: string }) => project.id)).toContain(globexProject.body.id);

      // Alice is a member of both tenants: the tenant in scope (header, or path prefix), not the user, decides.
      for (const prefix of ['', '/t/acme']) {
        const path = `${prefix}/projects/${globexProject.body.id}`;
        const headers = prefix === '' ? as('usr_alice', 'acme') : bearer('usr_alice', 'acme');
        expect(await send({ method: 'GET', path, headers })).toMatchObject(noSuchProject);
        expect(await send({ method: 'PATCH', path, headers, body: { name: 'Owned by Acme' } })).toMatchObject(noSuchProject);
        expect(await send({ method: 'DELETE', path, headers })).toMatchObject(noSuchProject);
      }
      // An id that exists nowhere answers the same: nothing tells that the id exists in another tenant.
      expect(await send({ method: 'GET', path: '/projects/prj_doesnotexist', headers: as('usr_alice', 'acme') })).toMatchObject({
        status: 400,
        body: { error: { code: 'VALIDATION_FAILED', details: { projectId: 'prj_doesnotexist' } } },
      });
      // And the other way round.
      const acmePath = `/projects/${acmeProject.body.id}`;
      expect((await send({ method: 'GET', path: acmePath, headers: as('usr_bob', 'globex') })).status).toBe(400);
      expect((await send({ method: 'PATCH', path: acmePath, headers: as('usr_bob', 'globex'), body: { name: 'Owned by Globex' } })).status).toBe(400);
      expect((await send({ method: 'DELETE', path: acmePath, headers: as('usr_bob', 'globex') })).status).toBe(400);

      // Both projects are untouched, where they belong, as their owners and the database see them.
      expect(await send({ method: 'GET', path: `/projects/${globexProject.body.id}`, headers: as('usr_bob', 'globex') })).toMatchObject({
        status: 200,
        body: { id: globexProject.body.id, name: 'Globex launch plan', createdBy: 'usr_bob' },
      });
      expect(await send({ method: 'GET', path: acmePath, headers: as('usr_alice', 'acme') })).toMatchObject({ status: 200, body: { name: 'Acme launch plan' } });
      expect(await storedProjects({ name: 'Globex launch plan' })).toEqual([{ tenant_id: globexId, id: globexProject.body.id, name: 'Globex launch plan' }]);
      expect(await storedProjects({ name: 'Acme launch plan' })).toEqual([{ tenant_id: acmeId, id: acmeProject.body.id, name: 'Acme launch plan' }]);
      expect(await storedProjects({ name: 'Owned by Acme' })).toEqual([]);
      expect(await storedProjects({ name: 'Owned by Globex' })).toEqual([]);
      expect((await send({ method: 'GET', path: '/projects', headers: as('usr_bob', 'globex') })).body).toEqual(globexList.body);

      // The owner can rename and delete; the list (cached on Redis) follows each write.
      expect(await send({ method: 'PATCH', path: `/projects/${globexProject.body.id}`, headers: as('usr_bob', 'globex'), body: { name: 'Globex launch v2' } })).toMatchObject({
        status: 200,
        body: { id: globexProject.body.id, name: 'Globex launch v2' },
      });
      const renamed = await send({ method: 'GET', path: '/projects', headers: as('usr_bob', 'globex') });
      expect(renamed.body.map((project: { name: string }) => project.name)).toContain('Globex launch v2');
      expect(renamed.body.map((project: { name: string }) => project.name)).not.toContain('Globex launch plan');
      expect((await send({ method: 'DELETE', path: `/projects/${globexProject.body.id}`, headers: as('usr_bob', 'globex') })).status).toBe(200);
      expect((await send({ method: 'DELETE', path: acmePath, headers: as('usr_alice', 'acme') })).status).toBe(200);
      const afterDelete = await send({ method: 'GET', path: '/projects', headers: as('usr_bob', 'globex') });
      expect(afterDelete.body.map((project: { id: string }) => project.id)).not.toContain(globexProject.body.id);
      expect(await storedProjects({ tenantId: globexId, name: 'Globex launch v2' })).toEqual([]);
    });

    it('refuses a project body that names a tenant (strict schema), and writes nothing', async () => {
      const acmeId = await tenantIdOf('usr_alice', 'acme');
      const globexId = await tenantIdOf('usr_alice', 'globex');
      const usageBefore = (await send({ method: 'GET', path: '/tenant', headers: as('usr_alice', 'acme') })).body.usage;
      const acmeBefore = await storedProjects({ tenantId: acmeId });
      const globexBefore = await storedProjects({ tenantId: globexId });
      const smuggled = [
        { name: 'Smuggled', tenant_id: globexId },
        { name: 'Smuggled', tenantId: globexId },
        { name: 'Smuggled', tenant_id: acmeId },
      ];
      for (const body of smuggled) {
        expect(await send({ method: 'POST', path: '/projects', headers: as('usr_alice', 'acme'), body })).toMatchObject({
          status: 400,
          body: { error: { code: 'VALIDATION_FAILED' } },
        });
      }
      const existing = acmeBefore[0]!;
      expect(await send({ method: 'PATCH', path: `/projects/${existing.id}`, headers: as('usr_alice', 'acme'), body: { name: 'Smuggled', tenant_id: globexId } })).toMatchObject({
        status: 400,
        body: { error: { code: 'VALIDATION_FAILED' } },
      });
      expect(await storedProjects({ name: 'Smuggled' })).toEqual([]);
      expect(await storedProjects({ tenantId: acmeId })).toEqual(acmeBefore);
      expect(await storedProjects({ tenantId: globexId })).toEqual(globexBefore);
      // Refused before the quota was consumed.
      expect((await send({ method: 'GET', path: '/tenant', headers: as('usr_alice', 'acme') })).body.usage).toEqual(usageBefore);
    });

    it('keeps tenant isolation below the HTTP layer: foreign tenant ids are refused and no scope fails closed', async () => {
      const acmeId = await tenantIdOf('usr_alice', 'acme');
      const globexId = await tenantIdOf('usr_alice', 'globex');
      // A write claiming another tenant's id, straight on the app's handle (the types forbid it too).
      const claimed = runWithTenant(acmeId, () =>
        services.appDb
          .insertInto('example_projects')
          .values({ id: 'prj_claimed', name: 'Claimed', created_by: 'usr_alice', created_at: Date.now(), tenant_id: globexId } as never)
          .execute(),
      );
      await expect(claimed).rejects.toMatchObject({ code: 'TENANT_ISOLATION_VIOLATION' });
      expect(await storedProjects({ name: 'Claimed' })).toEqual([]);
      // No tenant in scope, or the system scope: every repository query refuses to run unscoped.
      await expect(services.projects.list()).rejects.toMatchObject({ code: 'TENANT_SCOPE_REQUIRED' });
      await expect(services.projects.remove('prj_anything')).rejects.toMatchObject({ code: 'TENANT_SCOPE_REQUIRED' });
      await expect(runAsSystem({ reason: 'e2e: system scope is not a tenant', actor: 'e2e' }, () => services.projects.removeAll())).rejects.toMatchObject({
        code: 'TENANT_SCOPE_REQUIRED',
      });
      expect((await storedProjects({ tenantId: acmeId })).length).toBeGreaterThan(0);
    });

    it('refuses bad bodies with VALIDATION_FAILED', async () => {
      expect(await send({ method: 'POST', path: '/projects', headers: as('usr_alice', 'acme'), body: { name: '' } })).toMatchObject({
        status: 400,
        body: { error: { code: 'VALIDATION_FAILED' } },
      });
      expect(
        await send({ method: 'POST', path: '/projects', headers: { ...as('usr_alice', 'acme'), 'content-type': 'application/json' }, rawBody: '{"name":' }),
      ).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    });

    it('onboards a tenant on sign-up, enforces its plan quota atomically, and frees quota on delete', async () => {
      const signUp = await send({ method: 'POST', path: '/signup', headers: bearer('usr_dave'), body: { slug: 'initech', name: 'Initech' } });
      expect(signUp.status).toBe(201);
      expect(signUp.body.tenant).toMatchObject({ slug: 'initech', status: 'active', plan: 'free' });
      expect(signUp.body.onboarding.state).toBe('completed');
      expect(await send({ method: 'POST', path: '/signup', headers: bearer('usr_eve'), body: { slug: 'initech', name: 'Again' } })).toMatchObject({
        status: 409,
        body: { error: { code: 'TENANT_ALREADY_EXISTS' } },
      });
      expect(await send({ method: 'POST', path: '/signup', headers: bearer('usr_eve'), body: { slug: 'www', name: 'Reserved' } })).toMatchObject({
        status: 400,
        body: { error: { code: 'TENANT_IDENTIFIER_INVALID' } },
      });

      // The free plan allows 3 projects; onboarding made one. 40 concurrent creations admit exactly 2.
      const attempts = await Promise.all(
        Array.from({ length: 40 }, (_, index) =>
          send({ method: 'POST', path: '/projects', headers: as('usr_dave', 'initech'), body: { name: `p${index}` } }),
        ),
      );
      expect(attempts.filter((answer) => answer.status === 201)).toHaveLength(2);
      const refused = attempts.filter((answer) => answer.status !== 201);
      expect(refused).toHaveLength(38);
      for (const answer of refused) expect(answer).toMatchObject({ status: 403, body: { error: { code: 'QUOTA_EXCEEDED' } } });
      const projects = await send({ method: 'GET', path: '/projects', headers: as('usr_dave', 'initech') });
      expect(projects.body).toHaveLength(3);

      const deleted = await send({ method: 'DELETE', path: `/projects/${projects.body[0].id}`, headers: as('usr_dave', 'initech') });
      expect(deleted.status).toBe(200);
      expect((await send({ method: 'POST', path: '/projects', headers: as('usr_dave', 'initech'), body: { name: 'again' } })).status).toBe(201);
      const overview = await send({ method: 'GET', path: '/tenant', headers: as('usr_dave', 'initech') });
      expect(overview.body.usage).toContainEqual(expect.objectContaining({ resource: 'projects', used: 3, limit: 3, percent: 100 }));
    });

    it('resolves a custom domain only after DNS verification, and only on plans that include it', async () => {
      expect(await send({ method: 'POST', path: '/domains', headers: as('usr_bob', 'globex'), body: { hostname: 'app.globex.example' } })).toMatchObject({
        status: 403,
        body: { error: { code: 'QUOTA_EXCEEDED' } },
      });
      const added = await send({ method: 'POST', path: '/domains', headers: as('usr_alice', 'acme'), body: { hostname: 'App.Acme.example' } });
      expect(added.status).toBe(201);
      expect(added.body.domain).toMatchObject({ hostname: 'app.acme.example', status: 'pending' });
      const viaDomain = { host: 'app.acme.example', ...bearer('usr_alice', 'acme') };
      expect(await send({ method: 'GET', path: '/tenant', headers: viaDomain })).toMatchObject({ status: 404, body: { error: { code: 'TENANT_NOT_FOUND' } } });

      expect(await send({ method: 'POST', path: '/domains/app.acme.example/verify', headers: as('usr_alice', 'acme') })).toMatchObject({
        status: 422,
        body: { error: { code: 'DOMAIN_VERIFICATION_FAILED' } },
      });
      txtRecords.set(added.body.verification.name, [[added.body.verification.value]]);
      const verified = await send({ method: 'POST', path: '/domains/app.acme.example/verify', headers: as('usr_alice', 'acme') });
      expect(verified).toMatchObject({ status: 200, body: { hostname: 'app.acme.example', status: 'verified' } });
      const resolved = await send({ method: 'GET', path: '/tenant', headers: viaDomain });
      expect(resolved.status).toBe(200);
      expect(resolved.body.tenant.slug).toBe('acme');
      expect(await send({ method: 'POST', path: '/domains', headers: as('usr_alice', 'acme'), body: { hostname: 'x.saas.test' } })).toMatchObject({
        status: 400,
        body: { error: { code: 'DOMAIN_INVALID' } },
      });
    });

    it('suspends and reactivates through the admin routes, effective on the next request', async () => {
      const globex = (await send({ method: 'GET', path: '/tenant', headers: as('usr_bob', 'globex') })).body.tenant;
      expect(await send({ method: 'POST', path: `/admin/tenants/${globex.id}/suspend`, headers: { 'x-admin-token': 'wrong-token-wrong-token-1234' }, body: { reason: 'x' } })).toMatchObject({
        status: 401,
        body: { error: { code: 'TENANT_UNAUTHENTICATED' } },
      });
      const suspended = await send({
        method: 'POST',
        path: `/admin/tenants/${globex.id}/suspend`,
        headers: { 'x-admin-token': ADMIN_TOKEN },
        body: { reason: 'chargeback' },
      });
      expect(suspended).toMatchObject({ status: 200, body: { status: 'suspended', statusReason: 'chargeback' } });
      expect(await send({ method: 'GET', path: '/tenant', headers: as('usr_bob', 'globex') })).toMatchObject({
        status: 403,
        body: { error: { code: 'TENANT_SUSPENDED' } },
      });
      await send({ method: 'POST', path: `/admin/tenants/${globex.id}/reactivate`, headers: { 'x-admin-token': ADMIN_TOKEN }, body: { reason: 'paid' } });
      expect((await send({ method: 'GET', path: '/tenant', headers: as('usr_bob', 'globex') })).status).toBe(200);
    });

    it('offboards a tenant: its data is deleted and it stops resolving', async () => {
      const signUp = await send({ method: 'POST', path: '/signup', headers: bearer('usr_frank'), body: { slug: 'hooli', name: 'Hooli' } });
      const tenantId = signUp.body.tenant.id as string;
      const acmeId = await tenantIdOf('usr_alice', 'acme');
      expect((await send({ method: 'POST', path: '/projects', headers: as('usr_frank', 'hooli'), body: { name: 'Hooli XYZ' } })).status).toBe(201);
      // Read both tenants' lists (filling the list cache on Redis).
      const hooliProjects = await send({ method: 'GET', path: '/projects', headers: as('usr_frank', 'hooli') });
      expect(hooliProjects.body.map((project: { name: string }) => project.name).sort()).toEqual(['Hooli XYZ', 'Welcome']);
      const acmeProjects = await send({ method: 'GET', path: '/projects', headers: as('usr_alice', 'acme') });
      expect((await storedProjects({ tenantId })).map((row) => row.name).sort()).toEqual(['Hooli XYZ', 'Welcome']);
      const acmeRows = await storedProjects({ tenantId: acmeId });
      const acmeKeys = services.redis === undefined ? [] : await redisKeysOfTenant(acmeId);
      const acmeRoles = await services.access.store.listRoles(acmeId);
      expect((await services.access.store.listRoles(tenantId)).length).toBeGreaterThan(0);
      expect((await services.access.store.listAssignments(tenantId, { limit: 10 })).items).toHaveLength(1);
      if (services.redis !== undefined) {
        const keys = await redisKeysOfTenant(tenantId);
        expect(keys).toContain(`${services.config.redisKeyPrefix}{${tenantId}}:cache:projects:list`);
        expect(keys).toContain(`${services.config.redisKeyPrefix}{${tenantId}}:usage`);
      }

      const offboarded = await send({ method: 'POST', path: `/admin/tenants/${tenantId}/offboard`, headers: { 'x-admin-token': ADMIN_TOKEN }, body: { reason: 'closed account' } });
      expect(offboarded).toMatchObject({ status: 200, body: { tenant: { status: 'deleted' }, offboarding: { state: 'completed' } } });
      expect(offboarded.body.offboarding.steps).toEqual(expect.arrayContaining(['export:projects-export', 'delete-data:projects', 'delete-data:rbac']));
      expect(await storedProjects({ tenantId })).toEqual([]);
      expect(await services.access.store.listRoles(tenantId)).toEqual([]);
      expect((await services.access.store.listAssignments(tenantId, { limit: 10 })).items).toEqual([]);
      expect(await services.access.store.listRoles(acmeId)).toEqual(acmeRoles);
      if (services.redis !== undefined) {
        expect(offboarded.body.offboarding.steps).toContain('delete-data:redis-keys');
        expect(await redisKeysOfTenant(tenantId)).toEqual([]);
      }
      expect(await send({ method: 'GET', path: '/tenant', headers: as('usr_frank', 'hooli') })).toMatchObject({
        status: 404,
        body: { error: { code: 'TENANT_NOT_FOUND' } },
      });
      // Only that tenant: another tenant's rows, cache and counters are all still there.
      expect(await storedProjects({ tenantId: acmeId })).toEqual(acmeRows);
      if (services.redis !== undefined) {
        expect(acmeKeys).toContain(`${services.config.redisKeyPrefix}{${acmeId}}:cache:projects:list`);
        expect(await redisKeysOfTenant(acmeId)).toEqual(acmeKeys);
      }
      expect((await send({ method: 'GET', path: '/projects', headers: as('usr_alice', 'acme') })).body).toEqual(acmeProjects.body);
    });

    it('seeds the default roles on sign-up and makes the creator tenant_admin with a system grant', async () => {
      await signUpTenant('usr_rita', 'rbac-seed');
      const roles = await send({ method: 'GET', path: '/roles', headers: as('usr_rita', 'rbac-seed') });
      expect(roles.status).toBe(200);
      expect(roles.body.map((role: { key: string }) => role.key)).toEqual(['content_manager', 'tenant_admin', 'user_manager', 'viewer']);
      for (const role of roles.body) expect(role).toMatchObject({ origin: 'system', customized: false });
      // The example's override of content_manager: its projects, but renaming and deleting only its own.
      expect(roles.body[0].rules).toContainEqual({ effect: 'allow', permission: 'projects:update', condition: { self: 'resource.createdBy' } });
      expect(await send({ method: 'GET', path: '/members/usr_rita/roles', headers: as('usr_rita', 'rbac-seed') })).toMatchObject({
        status: 200,
        body: [{ subjectType: 'user', subjectId: 'usr_rita', roleKey: 'tenant_admin', status: 'active', grantedBy: null }],
      });
      const mine = await send({ method: 'GET', path: '/me/permissions', headers: as('usr_rita', 'rbac-seed') });
      expect(mine).toMatchObject({ status: 200, body: { userId: 'usr_rita', permissions: [{ effect: 'allow', permission: '*', roleChain: ['tenant_admin'], via: 'user' }] } });
      // Role routes need a caller who belongs to the tenant, like every tenant route.
      await expectUnauthenticated({ method: 'GET', path: '/roles', headers: { 'x-tenant-id': 'rbac-seed' } }, 'AUTHENTICATION_REQUIRED');
      // Alice belongs elsewhere: her Acme token is not one of this tenant's.
      await expectUnauthenticated({ method: 'GET', path: '/roles', headers: { ...bearer('usr_alice', 'acme'), 'x-tenant-id': 'rbac-seed' } }, 'TOKEN_INVALID');
    });

    it('lets a tenant admin create, change and delete a role and assign it; the role grants exactly its permissions', async () => {
      await signUpTenant('usr_ada', 'rbac-roles');
      const admin = as('usr_ada', 'rbac-roles');
      await addMember('usr_ada', 'rbac-roles', 'usr_ben');
      // A member without a role may do nothing (deny by default).
      expect(await send({ method: 'GET', path: '/projects', headers: as('usr_ben', 'rbac-roles') })).toMatchObject(denied('projects:list'));

      const reporter = { key: 'reporter', name: 'Reporter', permissions: ['projects:list', 'projects:read'] };
      const created = await send({ method: 'POST', path: '/roles', headers: admin, body: reporter });
      expect(created).toMatchObject({ status: 201, body: { key: 'reporter', origin: 'custom', version: 1 } });
      expect(await send({ method: 'POST', path: '/roles', headers: admin, body: reporter })).toMatchObject({ status: 409, body: { error: { code: 'ROLE_ALREADY_EXISTS' } } });
      expect(await send({ method: 'POST', path: '/roles', headers: admin, body: { key: 'Bad Key', permissions: [] } })).toMatchObject({ status: 400, body: { error: { code: 'ROLE_INVALID' } } });
      expect(await send({ method: 'POST', path: '/roles', headers: admin, body: { key: 'broken', permissions: ['doc:*x'] } })).toMatchObject({ status: 400, body: { error: { code: 'PERMISSION_INVALID' } } });
      const sneaky = { key: 'sneaky', permissions: [{ permission: 'projects:read', condition: { field: 'resource.__proto__.polluted', op: 'eq', value: true } }] };
      expect(await send({ method: 'POST', path: '/roles', headers: admin, body: sneaky })).toMatchObject({ status: 400, body: { error: { code: 'CONDITION_INVALID' } } });
      expect((await send({ method: 'GET', path: '/roles', headers: admin })).body.map((role: { key: string }) => role.key)).not.toContain('sneaky');

      const assignmentId = await grant('usr_ada', 'rbac-roles', 'usr_ben', 'reporter');
      expect(await assignRole('usr_ada', 'rbac-roles', 'usr_ben', 'reporter')).toMatchObject({ status: 409, body: { error: { code: 'ASSIGNMENT_ALREADY_EXISTS' } } });
      expect(await assignRole('usr_ada', 'rbac-roles', 'usr_ben', 'nope')).toMatchObject({ status: 404, body: { error: { code: 'ROLE_NOT_FOUND' } } });
      expect(await assignRole('usr_ada', 'rbac-roles', 'usr_nobody', 'reporter')).toMatchObject({ status: 404, body: { error: { code: 'MEMBERSHIP_NOT_FOUND' } } });
      expect(await send({ method: 'GET', path: '/members/usr_ben/roles', headers: admin })).toMatchObject({ status: 200, body: [{ id: assignmentId, roleKey: 'reporter' }] });

      const ben = as('usr_ben', 'rbac-roles');
      expect((await send({ method: 'GET', path: '/projects', headers: ben })).status).toBe(200);
      expect(await send({ method: 'POST', path: '/projects', headers: ben, body: { name: 'Ben was here' } })).toMatchObject(denied('projects:create'));
      expect(await decisionOf('usr_ben', 'rbac-roles', 'check=projects:create')).toMatchObject({ allowed: false, reason: 'no-matching-rule' });
      expect(await decisionOf('usr_ben', 'rbac-roles', 'check=projects:read')).toMatchObject({ allowed: true, reason: 'allowed', rule: { permission: 'projects:read', roleChain: ['reporter'] } });
      expect(await send({ method: 'GET', path: '/me/permissions?check=projects:*', headers: ben })).toMatchObject({ status: 400, body: { error: { code: 'PERMISSION_INVALID' } } });

      // Changing the role changes what its holders may do on their next request.
      const updated = await send({ method: 'PUT', path: '/roles/reporter', headers: admin, body: { permissions: [...reporter.permissions, 'projects:create'], expectedVersion: 1 } });
      expect(updated).toMatchObject({ status: 200, body: { key: 'reporter', version: 2 } });
      expect((await send({ method: 'POST', path: '/projects', headers: ben, body: { name: 'Ben was here' } })).status).toBe(201);
      expect(await send({ method: 'PUT', path: '/roles/reporter', headers: admin, body: { name: 'Stale', expectedVersion: 1 } })).toMatchObject({ status: 409, body: { error: { code: 'STORE_CONFLICT' } } });
      expect(await send({ method: 'PUT', path: '/roles/nope', headers: admin, body: { name: 'Nope' } })).toMatchObject({ status: 404, body: { error: { code: 'ROLE_NOT_FOUND' } } });

      // Deleting it takes its assignments along.
      expect(await send({ method: 'DELETE', path: '/roles/reporter', headers: admin })).toMatchObject({ status: 200, body: { key: 'reporter' } });
      expect(await send({ method: 'GET', path: '/projects', headers: ben })).toMatchObject(denied('projects:list'));
      expect(await send({ method: 'GET', path: '/members/usr_ben/roles', headers: admin })).toEqual({ status: 200, body: [] });
      expect(await send({ method: 'DELETE', path: '/roles/reporter', headers: admin })).toMatchObject({ status: 404, body: { error: { code: 'ROLE_NOT_FOUND' } } });
    });

    it('refuses a viewer every write with 403 PERMISSION_DENIED, and writes nothing', async () => {
      const tenantId = await signUpTenant('usr_val', 'rbac-viewers');
      await addMember('usr_val', 'rbac-viewers', 'usr_vera');
      await grant('usr_val', 'rbac-viewers', 'usr_vera', 'viewer');
      const vera = as('usr_vera', 'rbac-viewers');
      const before = await storedProjects({ tenantId });
      const welcome = before[0]!;
      for (const path of ['/tenant', '/projects', `/projects/${welcome.id}`, '/members', '/domains', '/roles', '/members/usr_val/roles']) {
        expect((await send({ method: 'GET', path, headers: vera })).status).toBe(200);
      }
      expect(await send({ method: 'POST', path: '/projects', headers: vera, body: { name: 'Vera was here' } })).toMatchObject(denied('projects:create'));
      expect(await send({ method: 'PATCH', path: `/projects/${welcome.id}`, headers: vera, body: { name: 'Renamed' } })).toMatchObject(denied('projects:update'));
      expect(await send({ method: 'DELETE', path: `/projects/${welcome.id}`, headers: vera })).toMatchObject(denied('projects:delete'));
      expect(await send({ method: 'POST', path: '/domains', headers: vera, body: { hostname: 'vera.example' } })).toMatchObject(denied('domains:create'));
      expect(await send({ method: 'POST', path: '/members', headers: vera, body: { userId: 'usr_friend' } })).toMatchObject(denied('members:invite'));
      expect(await send({ method: 'DELETE', path: '/members/usr_val', headers: vera })).toMatchObject(denied('members:remove'));
      expect(await send({ method: 'POST', path: '/roles', headers: vera, body: { key: 'mine', permissions: ['projects:read'] } })).toMatchObject(denied('roles:manage'));
      expect(await assignRole('usr_vera', 'rbac-viewers', 'usr_vera', 'tenant_admin')).toMatchObject(denied('roles:assign'));
      // Refused before anything was written: the projects, the members and the grants are as they were.
      expect(await storedProjects({ tenantId })).toEqual(before);
      expect((await send({ method: 'GET', path: '/members', headers: vera })).body.map((member: { userId: string }) => member.userId).sort()).toEqual(['usr_val', 'usr_vera']);
      expect((await send({ method: 'GET', path: '/members/usr_vera/roles', headers: vera })).body.map((row: { roleKey: string }) => row.roleKey)).toEqual(['viewer']);
    });

    it('lets a user_manager hand out only roles within their own permissions (ASSIGNMENT_FORBIDDEN)', async () => {
      await signUpTenant('usr_ulf', 'rbac-managers');
      await addMember('usr_ulf', 'rbac-managers', 'usr_una');
      const ulfAdminGrant = (await send({ method: 'GET', path: '/members/usr_ulf/roles', headers: as('usr_ulf', 'rbac-managers') })).body[0].id as string;
      await grant('usr_ulf', 'rbac-managers', 'usr_una', 'user_manager');
      // Members are hers to manage, and so is a role she holds entirely.
      await addMember('usr_una', 'rbac-managers', 'usr_uri');
      await grant('usr_una', 'rbac-managers', 'usr_uri', 'user_manager');
      // Not tenant_admin ('*'), nor viewer ('*:read'): she holds neither, so she cannot grant them.
      expect(await assignRole('usr_una', 'rbac-managers', 'usr_uri', 'tenant_admin')).toMatchObject({
        status: 403,
        body: { error: { code: 'ASSIGNMENT_FORBIDDEN', details: { roleKey: 'tenant_admin', reason: 'permission-not-held', permission: '*' } } },
      });
      expect(await assignRole('usr_una', 'rbac-managers', 'usr_uri', 'viewer')).toMatchObject(forbiddenAssignment('permission-not-held'));
      expect(await assignRole('usr_una', 'rbac-managers', 'usr_una', 'tenant_admin')).toMatchObject({ status: 403, body: { error: { code: 'ASSIGNMENT_FORBIDDEN' } } });
      // Nor take the admin's role away, nor write roles.
      expect(await send({ method: 'DELETE', path: `/assignments/${ulfAdminGrant}`, headers: as('usr_una', 'rbac-managers') })).toMatchObject(forbiddenAssignment('permission-not-held'));
      expect(await send({ method: 'POST', path: '/roles', headers: as('usr_una', 'rbac-managers'), body: { key: 'root', permissions: ['*'] } })).toMatchObject(denied('roles:manage'));
      expect(await send({ method: 'GET', path: '/projects', headers: as('usr_una', 'rbac-managers') })).toMatchObject(denied('projects:list'));
      // Nothing was granted or taken by the refused requests.
      expect((await send({ method: 'GET', path: '/members/usr_uri/roles', headers: as('usr_ulf', 'rbac-managers') })).body.map((row: { roleKey: string }) => row.roleKey)).toEqual(['user_manager']);
      expect((await send({ method: 'GET', path: '/members/usr_una/roles', headers: as('usr_ulf', 'rbac-managers') })).body.map((row: { roleKey: string }) => row.roleKey)).toEqual(['user_manager']);
      expect((await send({ method: 'GET', path: '/members/usr_ulf/roles', headers: as('usr_ulf', 'rbac-managers') })).body).toMatchObject([{ id: ulfAdminGrant, roleKey: 'tenant_admin' }]);
    });

    it('decides per tenant: Alice is admin in Acme and viewer in Globex, allowed and denied accordingly', async () => {
      const globexWelcome = (await send({ method: 'GET', path: '/projects', headers: as('usr_bob', 'globex') })).body.find((project: { name: string }) => project.name === 'Welcome');
      expect(globexWelcome).toBeDefined();
      // Interleaved, so a matcher cached for one tenant could not answer for the other.
      for (let round = 0; round < 2; round += 1) {
        const acmeProject = await createProjectAs('usr_alice', 'acme', `Alice in Acme ${round}`);
        expect(await send({ method: 'POST', path: '/projects', headers: as('usr_alice', 'globex'), body: { name: 'Alice in Globex' } })).toMatchObject(denied('projects:create'));
        expect(await send({ method: 'POST', path: '/t/globex/projects', headers: bearer('usr_alice', 'globex'), body: { name: 'Alice in Globex' } })).toMatchObject(denied('projects:create'));
        expect((await send({ method: 'GET', path: '/projects', headers: as('usr_alice', 'globex') })).status).toBe(200);
        expect(await send({ method: 'PATCH', path: `/projects/${globexWelcome.id}`, headers: as('usr_alice', 'globex'), body: { name: 'Hijacked' } })).toMatchObject(denied('projects:update'));
        expect((await send({ method: 'DELETE', path: `/projects/${acmeProject.id}`, headers: as('usr_alice', 'acme') })).status).toBe(200);
      }
      expect(await storedProjects({ name: 'Alice in Globex' })).toEqual([]);
      expect(await storedProjects({ name: 'Hijacked' })).toEqual([]);
      expect(await send({ method: 'POST', path: '/roles', headers: as('usr_alice', 'globex'), body: { key: 'alice', permissions: ['projects:create'] } })).toMatchObject(denied('roles:manage'));

      const inAcme = await send({ method: 'GET', path: '/me/permissions', headers: as('usr_alice', 'acme') });
      const inGlobex = await send({ method: 'GET', path: '/me/permissions', headers: as('usr_alice', 'globex') });
      expect(inAcme.body.permissions.map((entry: { permission: string; roleChain: string[] }) => [entry.permission, entry.roleChain])).toEqual([['*', ['tenant_admin']]]);
      // The example's viewer: read and list, and API keys within that (revoking only its own).
      expect(inGlobex.body.permissions.map((entry: { permission: string }) => entry.permission).sort()).toEqual(['*:list', '*:read', 'api-keys:create', 'api-keys:revoke']);
      expect(await decisionOf('usr_alice', 'globex', 'check=projects:create')).toMatchObject({ allowed: false, reason: 'no-matching-rule' });
      expect(await decisionOf('usr_alice', 'acme', 'check=projects:create')).toMatchObject({ allowed: true, rule: { permission: '*', roleChain: ['tenant_admin'] } });
      // Bob, Globex's admin, belongs to Acme not at all: his Globex token does nothing there.
      await expectUnauthenticated({ method: 'GET', path: '/roles', headers: { ...bearer('usr_bob', 'globex'), 'x-tenant-id': 'acme' } }, 'TOKEN_INVALID');
    });

    it('takes a revoked role away on the next request', async () => {
      await signUpTenant('usr_rex', 'rbac-revoke');
      await addMember('usr_rex', 'rbac-revoke', 'usr_roy');
      const assignmentId = await grant('usr_rex', 'rbac-revoke', 'usr_roy', 'content_manager');
      await createProjectAs('usr_roy', 'rbac-revoke', 'Roy one');
      expect(await send({ method: 'DELETE', path: `/assignments/${assignmentId}`, headers: as('usr_rex', 'rbac-revoke'), body: { reason: 'moved teams' } })).toMatchObject({
        status: 200,
        body: { id: assignmentId, roleKey: 'content_manager', subjectId: 'usr_roy' },
      });
      expect(await send({ method: 'POST', path: '/projects', headers: as('usr_roy', 'rbac-revoke'), body: { name: 'Roy two' } })).toMatchObject(denied('projects:create'));
      expect(await send({ method: 'GET', path: '/me/permissions', headers: as('usr_roy', 'rbac-revoke') })).toEqual({ status: 200, body: { userId: 'usr_roy', permissions: [] } });
      expect(await send({ method: 'DELETE', path: `/assignments/${assignmentId}`, headers: as('usr_rex', 'rbac-revoke') })).toMatchObject({ status: 404, body: { error: { code: 'ASSIGNMENT_NOT_FOUND' } } });
      // A grant that would already be over is refused.
      expect(await send({ method: 'POST', path: '/members/usr_roy/roles', headers: as('usr_rex', 'rbac-revoke'), body: { roleKey: 'viewer', expiresAt: Date.now() - 1_000 } })).toMatchObject({
        status: 400,
        body: { error: { code: 'VALIDATION_FAILED' } },
      });
    });

    it("drops a removed member's grants, so an invitation back does not bring their roles back", async () => {
      const tenantId = await signUpTenant('usr_mia', 'rbac-leavers');
      await addMember('usr_mia', 'rbac-leavers', 'usr_max');
      await grant('usr_mia', 'rbac-leavers', 'usr_max', 'content_manager');
      await createProjectAs('usr_max', 'rbac-leavers', 'Max one');
      expect(await send({ method: 'DELETE', path: '/members/usr_max', headers: as('usr_mia', 'rbac-leavers') })).toEqual({ status: 200, body: { removed: 'usr_max' } });
      // The membership is gone at once: his access token for the tenant, still valid, is refused
      // by the per-request membership check...
      expect(await send({ method: 'GET', path: '/projects', headers: as('usr_max', 'rbac-leavers') })).toMatchObject({ status: 404, body: { error: { code: 'MEMBERSHIP_NOT_FOUND' } } });
      // ...and so are the grants, before the response (the route awaits rbac.removeUserGrants).
      expect((await send({ method: 'GET', path: '/members/usr_max/roles', headers: as('usr_mia', 'rbac-leavers') })).body).toEqual([]);
      expect((await services.access.store.listAssignments(tenantId, { subject: { type: 'user', id: 'usr_max' }, limit: 10 })).items).toEqual([]);
      await addMember('usr_mia', 'rbac-leavers', 'usr_max');
      expect(await send({ method: 'POST', path: '/projects', headers: as('usr_max', 'rbac-leavers'), body: { name: 'Max two' } })).toMatchObject(denied('projects:create'));
      expect(await send({ method: 'DELETE', path: '/members/usr_nobody', headers: as('usr_mia', 'rbac-leavers') })).toMatchObject({ status: 404, body: { error: { code: 'MEMBERSHIP_NOT_FOUND' } } });
      // The admin's own grant is untouched.
      expect((await send({ method: 'GET', path: '/members/usr_mia/roles', headers: as('usr_mia', 'rbac-leavers') })).body).toMatchObject([{ roleKey: 'tenant_admin' }]);
    });

    it('lets a content manager rename and delete only the projects they created (an ownership condition)', async () => {
      await signUpTenant('usr_oli', 'rbac-owners');
      for (const userId of ['usr_ola', 'usr_oto']) {
        await addMember('usr_oli', 'rbac-owners', userId);
        await grant('usr_oli', 'rbac-owners', userId, 'content_manager');
      }
      const ola = as('usr_ola', 'rbac-owners');
      const olaProject = await createProjectAs('usr_ola', 'rbac-owners', "Ola's plan");
      const otoProject = await createProjectAs('usr_oto', 'rbac-owners', "Oto's plan");
      expect(olaProject.createdBy).toBe('usr_ola');
      expect(await send({ method: 'PATCH', path: `/projects/${olaProject.id}`, headers: ola, body: { name: "Ola's plan v2" } })).toMatchObject({ status: 200, body: { name: "Ola's plan v2" } });
      expect(await send({ method: 'PATCH', path: `/projects/${otoProject.id}`, headers: ola, body: { name: 'Mine now' } })).toMatchObject(denied('projects:update'));
      expect(await send({ method: 'DELETE', path: `/projects/${otoProject.id}`, headers: ola })).toMatchObject(denied('projects:delete'));
      // A project that is not there: the condition cannot hold, so the answer is the same refusal (fail closed).
      expect(await send({ method: 'PATCH', path: '/projects/prj_doesnotexist', headers: ola, body: { name: 'x' } })).toMatchObject(denied('projects:update'));
      expect(await decisionOf('usr_ola', 'rbac-owners', `check=projects:update&projectId=${otoProject.id}`)).toMatchObject({ allowed: false, reason: 'condition-not-met' });
      expect(await decisionOf('usr_ola', 'rbac-owners', `check=projects:update&projectId=${olaProject.id}`)).toMatchObject({
        allowed: true,
        rule: { permission: 'projects:update', condition: { self: 'resource.createdBy' }, roleChain: ['content_manager'] },
      });
      expect(await decisionOf('usr_ola', 'rbac-owners', 'check=projects:update')).toMatchObject({ allowed: false, reason: 'missing-attributes', missing: ['resource.createdBy'] });
      // Everyone may still read every project; the admin may rename anyone's.
      expect((await send({ method: 'GET', path: `/projects/${otoProject.id}`, headers: ola })).status).toBe(200);
      expect((await send({ method: 'PATCH', path: `/projects/${otoProject.id}`, headers: as('usr_oli', 'rbac-owners'), body: { name: "Oto's plan v2" } })).status).toBe(200);
      expect((await send({ method: 'DELETE', path: `/projects/${olaProject.id}`, headers: ola })).status).toBe(200);
      expect(await storedProjects({ name: "Oto's plan v2" })).toHaveLength(1);

      // Conditions on reading become a where-clause: this role lists only the caller's own projects.
      const ownOnly = {
        key: 'own_projects',
        permissions: ['projects:list', 'projects:create', { permission: 'projects:read', condition: { self: 'resource.createdBy' } }],
      };
      expect((await send({ method: 'POST', path: '/roles', headers: as('usr_oli', 'rbac-owners'), body: ownOnly })).status).toBe(201);
      await addMember('usr_oli', 'rbac-owners', 'usr_ove');
      await grant('usr_oli', 'rbac-owners', 'usr_ove', 'own_projects');
      const oveProject = await createProjectAs('usr_ove', 'rbac-owners', "Ove's notes");
      expect((await send({ method: 'GET', path: '/projects', headers: as('usr_ove', 'rbac-owners') })).body).toEqual([oveProject]);
      expect((await send({ method: 'GET', path: `/projects/${oveProject.id}`, headers: as('usr_ove', 'rbac-owners') })).status).toBe(200);
      expect(await send({ method: 'GET', path: `/projects/${otoProject.id}`, headers: as('usr_ove', 'rbac-owners') })).toMatchObject(denied('projects:read'));
      expect((await send({ method: 'GET', path: '/projects', headers: ola })).body.map((project: { name: string }) => project.name)).toEqual(['Welcome', "Oto's plan v2", "Ove's notes"]);
    });

    it('keeps an approval-required assignment pending, granting nothing, until a second admin approves it', async () => {
      await signUpTenant('usr_ann', 'rbac-approvals');
      for (const userId of ['usr_amy', 'usr_abe']) await addMember('usr_ann', 'rbac-approvals', userId);
      await grant('usr_ann', 'rbac-approvals', 'usr_amy', 'tenant_admin');
      const billing = { key: 'billing', name: 'Billing', permissions: ['billing:read', 'billing:refund'], assignment: { requiresApproval: true } };
      expect(await send({ method: 'POST', path: '/roles', headers: as('usr_ann', 'rbac-approvals'), body: billing })).toMatchObject({
        status: 201,
        body: { key: 'billing', assignment: { requiresApproval: true } },
      });
      const pending = await assignRole('usr_ann', 'rbac-approvals', 'usr_abe', 'billing');
      expect(pending).toMatchObject({ status: 201, body: { roleKey: 'billing', status: 'pending', grantedBy: 'usr_ann', approvedBy: null } });
      const approve = (userId: string) => send({ method: 'POST', path: `/assignments/${pending.body.id}/approve`, headers: as(userId, 'rbac-approvals') });
      expect(await decisionOf('usr_abe', 'rbac-approvals', 'check=billing:refund')).toMatchObject({ allowed: false });
      // Not by the requester, not by the recipient (who may not approve at all).
      expect(await approve('usr_ann')).toMatchObject(forbiddenAssignment('approver-is-requester'));
      expect(await approve('usr_abe')).toMatchObject(denied('roles:approve'));
      expect(await decisionOf('usr_abe', 'rbac-approvals', 'check=billing:refund')).toMatchObject({ allowed: false });

      expect(await approve('usr_amy')).toMatchObject({ status: 200, body: { id: pending.body.id, status: 'active', approvedBy: 'usr_amy' } });
      expect(await decisionOf('usr_abe', 'rbac-approvals', 'check=billing:refund')).toMatchObject({ allowed: true, rule: { roleChain: ['billing'] } });
      expect(await approve('usr_amy')).toMatchObject({ status: 409, body: { error: { code: 'ASSIGNMENT_NOT_PENDING' } } });
      expect(await send({ method: 'POST', path: '/assignments/asg_doesnotexist/approve', headers: as('usr_amy', 'rbac-approvals') })).toMatchObject({
        status: 404,
        body: { error: { code: 'ASSIGNMENT_NOT_FOUND' } },
      });
    });

    it('never lets concurrent requests see each other\'s tenant (300 interleaved requests)', async () => {
      const requests = Array.from({ length: 300 }, (_, index) => (index % 3 === 0 ? 'acme' : index % 3 === 1 ? 'globex' : 'initech'));
      const users: Record<string, string> = { acme: 'usr_alice', globex: 'usr_alice', initech: 'usr_dave' };
      const answers = await Promise.all(
        requests.map((slug) => send({ method: 'GET', path: '/tenant', headers: as(users[slug]!, slug) }).then((answer) => ({ slug, answer }))),
      );
      for (const { slug, answer } of answers) {
        expect(answer.status).toBe(200);
        expect(answer.body.tenant.slug).toBe(slug);
      }
    });
  });
}
