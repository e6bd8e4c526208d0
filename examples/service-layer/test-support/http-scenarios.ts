import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createId } from '@tenantkit/core';
import { runAsSystem, runWithTenant, type TxtResolver } from '@tenantkit/tenant-context';
import { withoutTenantIsolation } from '@tenantkit/tenant-context/kysely';
import { createTemporaryMariadbDatabase, createTemporaryPostgresDatabase, testServices, type TemporaryDatabase } from '@tenantkit/test-utils';
import { loadConfig } from '../src/config.js';
import { seedDemoData } from '../src/seed.js';
import { createExampleServices, type ExampleServices } from '../src/services.js';

/** One HTTP exchange, as both apps' test runners perform it (Fastify inject, Express over a socket). */
export interface HttpExchange {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  /** JSON-encoded unless `rawBody` is given. */
  body?: unknown;
  rawBody?: string;
}

export interface HttpAnswer {
  status: number;
  body: any;
}

/** Starts an app over the given services and returns how to talk to it and how to stop it. */
export type AppHarness = (services: ExampleServices) => Promise<{ send(exchange: HttpExchange): Promise<HttpAnswer>; close(): Promise<void> }>;

const ADMIN_TOKEN = 'e2e-admin-token-0123456789';

/**
 * What the services run on: the embedded default, or real servers (a temporary database each run).
 */
export type ScenarioBacking = 'embedded' | 'postgres+redis' | 'mariadb';

/**
 * The end-to-end scenarios every reference app must pass, against its real HTTP layer, the real
 * service layer and the chosen database.
 */
export function describeReferenceAppScenarios(appName: string, startApp: AppHarness, backing: ScenarioBacking = 'embedded'): void {
  describe(`${appName} reference app on ${backing} (end to end)`, () => {
    let database: TemporaryDatabase | undefined;
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
    const send = (exchange: HttpExchange) => app.send(exchange);
    const as = (userId: string, tenantSlug: string) => ({ 'x-user-id': userId, 'x-tenant-id': tenantSlug });
    const tenantIdOf = async (userId: string, tenantSlug: string): Promise<string> =>
      (await send({ method: 'GET', path: '/tenant', headers: as(userId, tenantSlug) })).body.tenant.id;

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
      const redis = services.redis;
      if (redis === undefined) throw new Error('This backing has no Redis');
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
        keys.push(...batch);
        cursor = next;
      } while (cursor !== '0');
      return keys.sort();
    }
    /** Every Redis key of one tenant: its `{tenant}` hash-tag pattern in the example's keyspace. */
    const redisKeysOfTenant = (tenantId: string) => scanRedisKeys(`${services.config.redisKeyPrefix}{${tenantId}}:*`);

    beforeAll(async () => {
      const env: Record<string, string> = { ADMIN_TOKEN, BASE_DOMAIN: 'saas.test', SEED_DEMO_DATA: 'true' };
      if (backing === 'postgres+redis') {
        database = await createTemporaryPostgresDatabase();
        Object.assign(env, { DATABASE_URL: database.url, REDIS_URL: testServices.redis.url, REDIS_KEY_PREFIX: `tk-e2e-${createId()}:` });
      } else if (backing === 'mariadb') {
        database = await createTemporaryMariadbDatabase();
        env.DATABASE_URL = database.url;
      }
      const config = loadConfig(env);
      services = await createExampleServices(config, { dns });
      await seedDemoData(services);
      app = await startApp(services);
    });
    afterAll(async () => {
      // This run's Redis prefix is unique to it: remove what it wrote, nothing else.
      if (services?.redis !== undefined) {
        const keys = await scanRedisKeys(`${services.config.redisKeyPrefix}*`);
        if (keys.length > 0) await services.redis.unlink(...keys);
      }
      await app?.close();
      await services?.close();
      await database?.drop();
    });

    it('serves public routes without a tenant', async () => {
      expect(await send({ method: 'GET', path: '/health' })).toEqual({ status: 200, body: { status: 'ok' } });
    });

    it('resolves the tenant from a header, a path prefix and a subdomain', async () => {
      const byHeader = await send({ method: 'GET', path: '/tenant', headers: as('usr_alice', 'acme') });
      expect(byHeader.status).toBe(200);
      expect(byHeader.body.tenant.slug).toBe('acme');

      const byPath = await send({ method: 'GET', path: '/t/globex/tenant', headers: { 'x-user-id': 'usr_alice' } });
      expect(byPath.status).toBe(200);
      expect(byPath.body.tenant.slug).toBe('globex');

      const bySubdomain = await send({ method: 'GET', path: '/tenant', headers: { host: 'acme.saas.test', 'x-user-id': 'usr_alice' } });
      expect(bySubdomain.status).toBe(200);
      expect(bySubdomain.body.tenant.slug).toBe('acme');
    });

    it('ignores X-Forwarded-Host from a peer that is not a trusted proxy', async () => {
      const answer = await send({
        method: 'GET',
        path: '/tenant',
        headers: { host: 'globex.saas.test', 'x-forwarded-host': 'acme.saas.test', 'x-user-id': 'usr_alice' },
      });
      expect(answer.status).toBe(200);
      expect(answer.body.tenant.slug).toBe('globex');
    });

    it('answers coded errors for missing, malformed, unknown and suspended tenants', async () => {
      expect(await send({ method: 'GET', path: '/projects' })).toMatchObject({ status: 400, body: { error: { code: 'TENANT_NOT_IDENTIFIED' } } });
      expect(await send({ method: 'GET', path: '/projects', headers: as('usr_alice', '../etc') })).toMatchObject({
        status: 400,
        body: { error: { code: 'TENANT_IDENTIFIER_INVALID' } },
      });
      expect(await send({ method: 'GET', path: '/projects', headers: as('usr_alice', 'nope') })).toMatchObject({
        status: 404,
        body: { error: { code: 'TENANT_NOT_FOUND' } },
      });
      expect(await send({ method: 'GET', path: '/projects', headers: as('usr_carol', 'suspended-co') })).toMatchObject({
        status: 403,
        body: { error: { code: 'TENANT_SUSPENDED' } },
      });
    });

    it('lets only active members act in a tenant, and switching tenants needs no new login', async () => {
      expect(await send({ method: 'GET', path: '/projects', headers: { 'x-tenant-id': 'acme' } })).toMatchObject({
        status: 401,
        body: { error: { code: 'TENANT_UNAUTHENTICATED' } },
      });
      expect(await send({ method: 'GET', path: '/projects', headers: as('usr_bob', 'acme') })).toMatchObject({
        status: 404,
        body: { error: { code: 'MEMBERSHIP_NOT_FOUND' } },
      });
      const mine = await send({ method: 'GET', path: '/me/tenants', headers: { 'x-user-id': 'usr_alice' } });
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
        const headers = prefix === '' ? as('usr_alice', 'acme') : { 'x-user-id': 'usr_alice' };
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
      const signUp = await send({ method: 'POST', path: '/signup', headers: { 'x-user-id': 'usr_dave' }, body: { slug: 'initech', name: 'Initech' } });
      expect(signUp.status).toBe(201);
      expect(signUp.body.tenant).toMatchObject({ slug: 'initech', status: 'active', plan: 'free' });
      expect(signUp.body.onboarding.state).toBe('completed');
      expect(await send({ method: 'POST', path: '/signup', headers: { 'x-user-id': 'usr_eve' }, body: { slug: 'initech', name: 'Again' } })).toMatchObject({
        status: 409,
        body: { error: { code: 'TENANT_ALREADY_EXISTS' } },
      });
      expect(await send({ method: 'POST', path: '/signup', headers: { 'x-user-id': 'usr_eve' }, body: { slug: 'www', name: 'Reserved' } })).toMatchObject({
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
      const viaDomain = { host: 'app.acme.example', 'x-user-id': 'usr_alice' };
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
      const signUp = await send({ method: 'POST', path: '/signup', headers: { 'x-user-id': 'usr_frank' }, body: { slug: 'hooli', name: 'Hooli' } });
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
      if (services.redis !== undefined) {
        const keys = await redisKeysOfTenant(tenantId);
        expect(keys).toContain(`${services.config.redisKeyPrefix}{${tenantId}}:cache:projects:list`);
        expect(keys).toContain(`${services.config.redisKeyPrefix}{${tenantId}}:usage`);
      }

      const offboarded = await send({ method: 'POST', path: `/admin/tenants/${tenantId}/offboard`, headers: { 'x-admin-token': ADMIN_TOKEN }, body: { reason: 'closed account' } });
      expect(offboarded).toMatchObject({ status: 200, body: { tenant: { status: 'deleted' }, offboarding: { state: 'completed' } } });
      expect(offboarded.body.offboarding.steps).toEqual(expect.arrayContaining(['export:projects-export', 'delete-data:projects']));
      expect(await storedProjects({ tenantId })).toEqual([]);
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
