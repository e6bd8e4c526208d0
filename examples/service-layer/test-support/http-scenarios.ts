import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createId } from '@tenantkit/core';
import type { TxtResolver } from '@tenantkit/tenant-context';
import { createTemporaryMariadbDatabase, createTemporaryPostgresDatabase, testServices, type TemporaryDatabase } from '@tenantkit/test-utils';
import { loadConfig } from '../src/config.js';
import { seedDemoData } from '../src/seed.js';
import { createExampleServices, type ExampleServices } from '../src/services.js';

/** One HTTP exchange, as both apps' test runners perform it (Fastify inject, Express over a socket). */
export interface HttpExchange {
  method: 'GET' | 'POST' | 'DELETE';
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
      expect(await services.projects.countOfTenant(tenantId)).toBe(1);
      const offboarded = await send({ method: 'POST', path: `/admin/tenants/${tenantId}/offboard`, headers: { 'x-admin-token': ADMIN_TOKEN }, body: { reason: 'closed account' } });
      expect(offboarded).toMatchObject({ status: 200, body: { tenant: { status: 'deleted' }, offboarding: { state: 'completed' } } });
      expect(await services.projects.countOfTenant(tenantId)).toBe(0);
      expect(await send({ method: 'GET', path: '/tenant', headers: as('usr_frank', 'hooli') })).toMatchObject({
        status: 404,
        body: { error: { code: 'TENANT_NOT_FOUND' } },
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
