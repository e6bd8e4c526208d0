import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWithTenant } from '@tenantkit/tenant-context';
import type { ExampleServices } from '../src/services.js';
import { ADMIN_TOKEN, type AppHarness, type HttpAnswerWithHeaders, type HttpExchange } from './http-scenarios.js';
import { createScenarioCredentials } from './scenario-credentials.js';
import { startScenarioServices, type ScenarioBacking, type ScenarioServices } from './scenario-services.js';

const METRICS_TOKEN = 'e2e-metrics-token-0123456789';

// Lowered so each limit is reached in a handful of requests (the defaults are 1,000 an hour on free).
const FREE_REQUESTS = 5;
const PRO_REQUESTS = 60;
const PER_USER = 25;
const PER_IP = 50;
const SIGN_UPS = 3;
const SIGN_UP_WINDOW_SECONDS = 600;

/** A 429 of one policy, as both apps answer it. */
const limitedBy = (policy: string, limit: number) => ({
  status: 429,
  body: { error: { code: 'RATE_LIMITED', details: { policy, limit } } },
});

/** One header's value (the harnesses give Node's shape: a string, or an array for repeated headers). */
function headerOf(answer: HttpAnswerWithHeaders, name: string): string {
  const value = answer.headers[name];
  expect(value, `header ${name}`).toBeTypeOf('string');
  return value as string;
}

/** The `"policy";r=<remaining>;t=<reset>;pk=:<key>:` of a RateLimit header, parsed. */
function rateLimitOf(answer: HttpAnswerWithHeaders): { policy: string; remaining: number; reset: number; partitionKey: string } {
  const match = /^"([a-z0-9_-]+)";r=(\d+);t=(\d+);pk=(:[A-Za-z0-9+/=]+:)$/.exec(headerOf(answer, 'ratelimit'));
  expect(match, `RateLimit: ${String(answer.headers.ratelimit)}`).not.toBeNull();
  const [, policy, remaining, reset, partitionKey] = match!;
  return { policy: policy!, remaining: Number(remaining), reset: Number(reset), partitionKey: partitionKey! };
}

/**
 * The rate-limit scenarios: the app's own limiters, through its real HTTP layer, on the
 * chosen backing (memory counters, or Redis), with limits lowered through the config. Each
 * test sends from an address of its own, so per-IP budgets never mix between tests.
 */
export function describeRateLimitScenarios(appName: string, startApp: AppHarness, backing: ScenarioBacking): void {
  describe(`${appName} reference app on ${backing}: rate limits (end to end)`, () => {
    let running: ScenarioServices | undefined;
    let services: ExampleServices;
    let app: Awaited<ReturnType<AppHarness>>;
    // Users sign in through the app's sign-in flow directly, not over HTTP: the per-IP budgets
    // these scenarios count stay untouched by the sign-ins.
    const credentials = createScenarioCredentials(() => services);
    const { as, bearer } = credentials;
    const send = async (exchange: HttpExchange) => {
      const headers = await credentials.resolve(exchange.headers);
      return app.send(headers === undefined ? exchange : { ...exchange, headers });
    };

    let lastAddress = 9;
    /** A client address no other test uses. */
    const freshIp = () => `127.0.0.${(lastAddress += 1)}`;

    let tenants = 0;
    /** A new tenant on a plan, onboarded directly (sign-ups have their own, tighter limit); its admin is `adminUserId`. */
    async function newTenant(plan: 'free' | 'pro', adminUserId: string): Promise<{ id: string; slug: string }> {
      const slug = `rl-${plan}-${(tenants += 1)}`;
      const { tenant } = await services.lifecycle.startOnboarding({ slug, name: slug, plan, adminUserId });
      return { id: tenant.id, slug };
    }
    const overview = (userId: string, slug: string, clientIp: string) =>
      send({ method: 'GET', path: '/tenant', headers: as(userId, slug), clientIp });
    /** The tenant's counter in the store, read without charging it. */
    const tenantConsumed = async (tenantId: string, plan: string) =>
      (await services.rateLimits.tenant.get('tenant', { tenantId, plan }))?.consumed ?? 0;

    beforeAll(async () => {
      running = await startScenarioServices(backing, {
        ADMIN_TOKEN,
        METRICS_TOKEN,
        BASE_DOMAIN: 'saas.test',
        SEED_DEMO_DATA: 'false',
        RATE_LIMIT_PLAN_REQUESTS: `free=${FREE_REQUESTS},pro=${PRO_REQUESTS}`,
        RATE_LIMIT_PER_USER: `${PER_USER}/3600`,
        RATE_LIMIT_PER_IP: `${PER_IP}/60`,
        RATE_LIMIT_SIGNUP: `${SIGN_UPS}/${SIGN_UP_WINDOW_SECONDS}/3600`,
      });
      services = running.services;
      app = await startApp(services);
    });
    afterAll(async () => {
      await app?.close();
      await running?.dispose();
    });

    it('sends RateLimit-Policy and RateLimit headers on a normal response', async () => {
      const tenant = await newTenant('pro', 'usr_hana');
      const ip = freshIp();
      const first = await overview('usr_hana', tenant.slug, ip);
      expect(first.status).toBe(200);
      // Both policies of the tenant limiter, with their limits and windows (the tenant's from its plan).
      const policy = headerOf(first, 'ratelimit-policy');
      expect(policy).toMatch(new RegExp(`"tenant";q=${PRO_REQUESTS};w=3600;pk=:[A-Za-z0-9+/=]+:`));
      expect(policy).toMatch(new RegExp(`"user";q=${PER_USER};w=3600;pk=:[A-Za-z0-9+/=]+:`));
      // The closest limit: the user's (24 of 25 left is less, relatively, than 59 of 60).
      const current = rateLimitOf(first);
      expect(current).toMatchObject({ policy: 'user', remaining: PER_USER - 1 });
      expect(current.reset).toBeGreaterThan(3_500);
      expect(current.reset).toBeLessThanOrEqual(3_600);
      expect(rateLimitOf(await overview('usr_hana', tenant.slug, ip))).toMatchObject({ policy: 'user', remaining: PER_USER - 2, partitionKey: current.partitionKey });
      expect(first.headers['retry-after']).toBeUndefined();

      // Public routes carry the per-IP policy, counted before any tenant is resolved.
      const health = await send({ method: 'GET', path: '/health', clientIp: ip });
      expect(health.status).toBe(200);
      expect(headerOf(health, 'ratelimit-policy')).toMatch(new RegExp(`^"ip";q=${PER_IP};w=60;pk=:[A-Za-z0-9+/=]+:$`));
      expect(rateLimitOf(health)).toMatchObject({ policy: 'ip', remaining: PER_IP - 3 });
    });

    it('answers a free tenant over its plan 429 with Retry-After and a coded body, while a pro tenant passes', async () => {
      const free = await newTenant('free', 'usr_fred');
      const pro = await newTenant('pro', 'usr_pia');
      const ip = freshIp();
      for (let request = 1; request <= FREE_REQUESTS; request += 1) {
        expect((await overview('usr_fred', free.slug, ip)).status).toBe(200);
      }
      const limited = await overview('usr_fred', free.slug, ip);
      expect(limited).toMatchObject(limitedBy('tenant', FREE_REQUESTS));
      const retryAfter = Number(headerOf(limited, 'retry-after'));
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(3_600);
      expect(limited.body.error.details.retryAfterSeconds).toBe(retryAfter);
      expect(rateLimitOf(limited)).toMatchObject({ policy: 'tenant', remaining: 0 });
      // The whole tenant is over, on every route, for every member.
      expect(await send({ method: 'GET', path: '/projects', headers: as('usr_fred', free.slug), clientIp: ip })).toMatchObject(limitedBy('tenant', FREE_REQUESTS));

      // Same test, same address, a pro tenant: far from its limit.
      const proAnswer = await overview('usr_pia', pro.slug, ip);
      expect(proAnswer.status).toBe(200);
      expect(headerOf(proAnswer, 'ratelimit-policy')).toContain(`"tenant";q=${PRO_REQUESTS};w=3600`);
    });

    it("lifts the limit when the tenant's plan changes, without a restart", async () => {
      const tenant = await newTenant('free', 'usr_gus');
      const ip = freshIp();
      for (let request = 1; request <= FREE_REQUESTS; request += 1) expect((await overview('usr_gus', tenant.slug, ip)).status).toBe(200);
      expect(await overview('usr_gus', tenant.slug, ip)).toMatchObject(limitedBy('tenant', FREE_REQUESTS));

      const changePlan = (plan: string) =>
        send({ method: 'POST', path: `/admin/tenants/${tenant.id}/plan`, headers: { 'x-admin-token': ADMIN_TOKEN }, body: { plan, reason: 'e2e' }, clientIp: ip });
      expect(await send({ method: 'POST', path: `/admin/tenants/${tenant.id}/plan`, body: { plan: 'pro', reason: 'e2e' }, clientIp: ip })).toMatchObject({
        status: 401,
        body: { error: { code: 'TENANT_UNAUTHENTICATED' } },
      });
      expect(await changePlan('platinum')).toMatchObject({ status: 400, body: { error: { code: 'PLAN_NOT_FOUND' } } });
      expect(await changePlan('pro')).toMatchObject({ status: 200, body: { id: tenant.id, plan: 'pro' } });
      const upgraded = await overview('usr_gus', tenant.slug, ip);
      expect(upgraded).toMatchObject({ status: 200, body: { tenant: { plan: 'pro' } } });
      expect(headerOf(upgraded, 'ratelimit-policy')).toContain(`"tenant";q=${PRO_REQUESTS};w=3600`);

      // The counter was kept (the refused request counted too): back on free, the tenant is over again.
      expect(await changePlan('free')).toMatchObject({ status: 200, body: { plan: 'free' } });
      expect(await overview('usr_gus', tenant.slug, ip)).toMatchObject(limitedBy('tenant', FREE_REQUESTS));
    });

    it("keeps one tenant's exhausted budget from touching another's (noisy neighbour)", async () => {
      const noisy = await newTenant('free', 'usr_nick');
      const quiet = await newTenant('free', 'usr_quinn');
      const ip = freshIp();
      // A burst, all at once: exactly the plan's budget is admitted, across processes too on Redis.
      const burst = await Promise.all(Array.from({ length: 20 }, () => overview('usr_nick', noisy.slug, ip)));
      expect(burst.filter((answer) => answer.status === 200)).toHaveLength(FREE_REQUESTS);
      for (const answer of burst.filter((candidate) => candidate.status !== 200)) expect(answer).toMatchObject(limitedBy('tenant', FREE_REQUESTS));

      // The neighbour, on the same plan and the same address, has its whole budget.
      for (let request = 1; request <= FREE_REQUESTS; request += 1) {
        const answer = await overview('usr_quinn', quiet.slug, ip);
        expect(answer.status).toBe(200);
        expect(headerOf(answer, 'ratelimit')).toMatch(new RegExp(`^"tenant";r=${FREE_REQUESTS - request};`));
      }
      expect(await overview('usr_quinn', quiet.slug, ip)).toMatchObject(limitedBy('tenant', FREE_REQUESTS));
    });

    it("limits each user within a tenant, and a refused request spends nothing of the tenant's budget", async () => {
      const tenant = await newTenant('pro', 'usr_uma');
      await services.memberships.addMember(tenant.id, 'usr_ugo', { status: 'active', invitedBy: 'usr_uma' });
      await services.access.grantRoleAsSystem(tenant.id, 'usr_ugo', 'viewer', 'e2e: a second member');
      const ip = freshIp();
      for (let request = 1; request <= PER_USER; request += 1) expect((await overview('usr_uma', tenant.slug, ip)).status).toBe(200);
      expect(await overview('usr_uma', tenant.slug, ip)).toMatchObject(limitedBy('user', PER_USER));
      // Another member of the same tenant is unaffected.
      expect((await overview('usr_ugo', tenant.slug, ip)).status).toBe(200);
      // All or nothing: the tenant counted the admitted requests only.
      expect(await tenantConsumed(tenant.id, 'pro')).toBe(PER_USER + 1);
      // Strangers are refused before the limiter, so they cannot drain the tenant's budget either.
      // A stranger's token is bound to no tenant of theirs here; a removed member's token fails the membership check.
      expect(await send({ method: 'GET', path: '/tenant', headers: { ...bearer('usr_stranger'), 'x-tenant-id': tenant.slug }, clientIp: ip })).toMatchObject({
        status: 401,
        body: { error: { code: 'TOKEN_INVALID' } },
      });
      expect(await send({ method: 'GET', path: '/tenant', headers: { 'x-tenant-id': tenant.slug }, clientIp: ip })).toMatchObject({ status: 401 });
      await services.memberships.removeMember(tenant.id, 'usr_ugo');
      expect(await overview('usr_ugo', tenant.slug, ip)).toMatchObject({ status: 404, body: { error: { code: 'MEMBERSHIP_NOT_FOUND' } } });
      expect(await tenantConsumed(tenant.id, 'pro')).toBe(PER_USER + 1);
    });

    it('charges a bulk import one point per project, and a refused import creates nothing', async () => {
      const tenant = await newTenant('pro', 'usr_ivo');
      await services.memberships.addMember(tenant.id, 'usr_ida', { status: 'active', invitedBy: 'usr_ivo' });
      await services.access.grantRoleAsSystem(tenant.id, 'usr_ida', 'content_manager', 'e2e: a second importer');
      const ip = freshIp();
      const importProjects = (userId: string, count: number, from: number) =>
        send({
          method: 'POST',
          path: '/projects/import',
          headers: as(userId, tenant.slug),
          body: { names: Array.from({ length: count }, (_, index) => `Imported ${from + index}`) },
          clientIp: ip,
        });
      const first = await importProjects('usr_ivo', 20, 0);
      expect(first.status).toBe(201);
      expect(first.body).toHaveLength(20);
      expect(rateLimitOf(first)).toMatchObject({ policy: 'user', remaining: PER_USER - 20 });
      // 6 points with 5 left: refused whole, nothing created, and the tenant charged nothing.
      expect(await importProjects('usr_ivo', 6, 20)).toMatchObject(limitedBy('user', PER_USER));
      expect(await runWithTenant(tenant.id, () => services.projects.count())).toBe(1 + 20);
      expect(await tenantConsumed(tenant.id, 'pro')).toBe(20);
      // Another member has a user budget of their own; the tenant's budget is shared.
      const second = await importProjects('usr_ida', PER_USER, 20);
      expect(second.status).toBe(201);
      expect(await tenantConsumed(tenant.id, 'pro')).toBe(20 + PER_USER);
      expect(await runWithTenant(tenant.id, () => services.projects.count())).toBe(1 + 20 + PER_USER);
    });

    it('limits sign-ups per client IP, and blocks an address that goes over', async () => {
      const ip = freshIp();
      const signUp = (index: number, clientIp = ip) =>
        send({ method: 'POST', path: '/signup', headers: bearer(`usr_signup_${index}`), body: { slug: `rl-signup-${index}`, name: 'Sign-up' }, clientIp });
      for (let index = 0; index < SIGN_UPS; index += 1) expect((await signUp(index)).status).toBe(201);
      const refused = await signUp(SIGN_UPS);
      expect(refused).toMatchObject(limitedBy('signup', SIGN_UPS));
      // The block (an hour) outlasts the window (ten minutes).
      expect(Number(headerOf(refused, 'retry-after'))).toBeGreaterThan(SIGN_UP_WINDOW_SECONDS);
      expect(await services.registry.getTenantBySlug(`rl-signup-${SIGN_UPS}`)).toBeNull();
      // Only sign-up is blocked for that address; another address may still sign up.
      expect((await send({ method: 'GET', path: '/health', clientIp: ip })).status).toBe(200);
      expect((await signUp(SIGN_UPS + 1, freshIp())).status).toBe(201);
    });

    it('does not trust a spoofed X-Forwarded-For (no trusted proxies by default)', async () => {
      const ip = freshIp();
      const spoofed = (index: number) => ({ 'x-forwarded-for': `198.51.100.${index}`, ...bearer(`usr_spoof_${index}`) });
      for (let index = 0; index < SIGN_UPS; index += 1) {
        const answer = await send({ method: 'POST', path: '/signup', headers: spoofed(index), body: { slug: `rl-spoof-${index}`, name: 'Spoof' }, clientIp: ip });
        expect(answer.status).toBe(201);
      }
      // A new claimed address each time, and still the one real peer's budget.
      expect(await send({ method: 'POST', path: '/signup', headers: spoofed(9), body: { slug: 'rl-spoof-9', name: 'Spoof' }, clientIp: ip })).toMatchObject(
        limitedBy('signup', SIGN_UPS),
      );
      const one = await send({ method: 'GET', path: '/health', headers: { 'x-forwarded-for': '203.0.113.1' }, clientIp: ip });
      const other = await send({ method: 'GET', path: '/health', headers: { 'x-forwarded-for': '203.0.113.2' }, clientIp: ip });
      // One counter: the same partition key, one point further down.
      expect(rateLimitOf(other)).toMatchObject({ policy: 'ip', partitionKey: rateLimitOf(one).partitionKey, remaining: rateLimitOf(one).remaining - 1 });
    });

    it('cuts a flood from one address off before tenant resolution', async () => {
      const ip = freshIp();
      // Made-up tenants: each would cost a registry read. Past the per-IP budget none is looked up.
      const flood = await Promise.all(
        Array.from({ length: PER_IP + 10 }, (_, index) => send({ method: 'GET', path: '/tenant', headers: { 'x-tenant-id': `ghost-${index}` }, clientIp: ip })),
      );
      expect(flood.filter((answer) => answer.status === 404)).toHaveLength(PER_IP);
      for (const answer of flood.filter((candidate) => candidate.status !== 404)) expect(answer).toMatchObject(limitedBy('ip', PER_IP));
      // A real tenant from that address waits too; from another address it is served.
      const tenant = await newTenant('pro', 'usr_flo');
      expect(await overview('usr_flo', tenant.slug, ip)).toMatchObject(limitedBy('ip', PER_IP));
      expect((await overview('usr_flo', tenant.slug, freshIp())).status).toBe(200);
    });

    it("reports each tenant's admitted and rejected requests on /metrics, to the operator's token only", async () => {
      const tenant = await newTenant('free', 'usr_meg');
      const ip = freshIp();
      for (let request = 0; request < FREE_REQUESTS + 3; request += 1) await overview('usr_meg', tenant.slug, ip);

      const metrics = (headers: Record<string, string>) => send({ method: 'GET', path: '/metrics', headers, clientIp: ip });
      const unauthenticated = { status: 401, body: { error: { code: 'TENANT_UNAUTHENTICATED' } } };
      expect(await metrics({})).toMatchObject(unauthenticated);
      expect(await metrics({ authorization: 'Bearer not-the-metrics-token-0000' })).toMatchObject(unauthenticated);
      // Neither the admin token (another secret) nor the tenant's own admin (it names every tenant).
      expect(await metrics({ authorization: `Bearer ${ADMIN_TOKEN}` })).toMatchObject(unauthenticated);
      expect(await metrics({ 'x-admin-token': ADMIN_TOKEN })).toMatchObject(unauthenticated);
      expect(await metrics(as('usr_meg', tenant.slug))).toMatchObject(unauthenticated);

      const scraped = await metrics({ authorization: `Bearer ${METRICS_TOKEN}` });
      expect(scraped.status).toBe(200);
      expect(headerOf(scraped, 'content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = scraped.body as string;
      expect(text).toContain(`tenantkit_ratelimit_requests_total{tenant="${tenant.id}",outcome="admitted"} ${FREE_REQUESTS}\n`);
      expect(text).toContain(`tenantkit_ratelimit_requests_total{tenant="${tenant.id}",outcome="rejected"} 3\n`);
      // The edge's decisions come before any tenant is known.
      expect(text).toMatch(/^tenantkit_ratelimit_edge_requests_total\{tenant="[^"]+",outcome="admitted"\} [1-9]\d*$/m);
      expect(text).toContain(`tenantkit_ratelimit_store_up{limiter="tenant",store="${services.rateLimits.store.kind}"} 1\n`);
    });
  });
}
