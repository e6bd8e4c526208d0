import {
  createCustomDomains,
  createFeatureFlags,
  createMembershipService,
  createQuotaEnforcer,
  createTenantEventBus,
  createTenantLifecycle,
  createTenantRegistry,
  createTenantResolver,
  createTrustedProxies,
  fromCustomDomain,
  fromHeader,
  fromPathPrefix,
  fromSubdomain,
  type TxtResolver,
  type UsageCounterStore,
} from '@tenantkit/tenant-context';
import { createTenantIsolationPlugin, kyselyTenantContextStores, migrateTenantContextSchema } from '@tenantkit/tenant-context/kysely';
import {
  createTenantCache,
  createTenantKeyspace,
  createTenantKeysPurgeStep,
  redisUsageCounterStore,
} from '@tenantkit/tenant-context/redis';
import { Redis } from 'ioredis';
import { createExampleRbac } from './access-control.js';
import { createExampleAuth } from './authentication.js';
import type { ExampleConfig } from './config.js';
import { createDatabase } from './database.js';
import { defineExamplePlans } from './plans.js';
import { createProjectRepository, migrateProjects, type Project } from './projects.js';
import { createExampleRateLimits } from './rate-limits.js';
import { exampleTenantTables } from './schema.js';
import { tenantSettingsSchema } from './tenant-settings.js';

/**
 * Wires every tenantkit piece the example uses, on the configured database: the two apps
 * (Express and Fastify) share this and differ only in their HTTP layer.
 */
export async function createExampleServices(config: ExampleConfig, overrides: { dns?: TxtResolver } = {}) {
  // Two handles on one pool. `db` is plain: migrations and tenantkit's own stores, which take
  // tenant ids explicitly and do their own tenant handling. `appDb` carries the tenant isolation
  // plugin: every query of the app's tenant-owned tables is scoped to the tenant in scope.
  const db = createDatabase(config.database);
  await migrateTenantContextSchema(db);
  await migrateProjects(db);
  const stores = kyselyTenantContextStores(db);
  const appDb = db.withPlugin(createTenantIsolationPlugin({ tables: exampleTenantTables }));

  const redis = config.redisUrl === undefined ? undefined : new Redis(config.redisUrl, { lazyConnect: false });
  // One tenant keyspace for every Redis key of the app, `<prefix>{<tenantId>}:...` (the usage
  // counters' layout too), so one SCAN pattern finds, and offboarding purges, all of a tenant's keys.
  const redisKeyspace = createTenantKeyspace({ prefix: config.redisKeyPrefix.slice(0, -1) });
  const usageCounters: UsageCounterStore =
    redis === undefined ? stores.usageCounters : redisUsageCounterStore(redis, { keyPrefix: config.redisKeyPrefix });

  // The example's plans; end-to-end and load tests lower the request budgets through the config.
  const plans = defineExamplePlans(config.rateLimits.planRequestPoints);

  const events = createTenantEventBus();
  const registry = createTenantRegistry({
    store: stores.tenants,
    events,
    settingsSchema: tenantSettingsSchema,
    plans: plans.planKeys,
    defaultPlan: 'free',
  });
  const memberships = createMembershipService({ store: stores.memberships, registry });
  const domains = createCustomDomains({
    registry,
    platformDomains: [config.baseDomain],
    ...(overrides.dns === undefined ? {} : { dns: overrides.dns }),
  });
  const quotas = createQuotaEnforcer({ plans, counters: usageCounters, registry });
  const flags = createFeatureFlags({
    plans,
    flags: {
      'new-dashboard': {
        description: 'The redesigned dashboard, rolled out gradually',
        default: false,
        rules: [{ match: { plan: ['enterprise'] }, value: true }, { percentage: 25, value: true }],
      },
    },
  });
  // Without Redis nothing is cached: a process-memory cache would serve stale lists once a second instance runs.
  const projects = createProjectRepository(
    appDb,
    redis === undefined
      ? {}
      : { listCache: createTenantCache<Project[]>({ redis, keyspace: redisKeyspace, namespace: 'projects', defaultTtlMs: 30_000, ttlJitterRatio: 0.1 }) },
  );

  const lifecycle = createTenantLifecycle({ registry, memberships, runs: stores.lifecycleRuns, usageCounters, events });
  lifecycle.useOnboardingStep('seed-defaults', {
    name: 'welcome-project',
    async run({ input }) {
      // Idempotent on resume; read from the database, since the cached list may predate a crash.
      if ((await projects.findByName('Welcome')) !== undefined) return;
      await quotas.consume('projects');
      await projects.create('Welcome', String(input.adminUserId ?? 'system'), Date.now());
    },
    // Steps and compensations run inside runWithTenant(tenant): the repository scopes itself.
    async compensate() {
      await projects.removeAll();
    },
  });
  lifecycle.useOffboardingStep('export', {
    name: 'projects-export',
    async run({ tenantId }) {
      const count = await projects.count();
      // A real deployment would upload an archive here; the example records where it would be.
      return { location: `memory://exports/${tenantId}/projects.json`, details: { projects: count } };
    },
  });
  lifecycle.useOffboardingStep('delete-data', {
    name: 'projects',
    async run() {
      const removed = await projects.removeAll();
      return { location: 'sql:example_projects', details: { removedProjects: removed } };
    },
  });
  // Roles and permissions: tables next to the others, default roles and the creator's
  // tenant_admin grant on onboarding, rbac data deleted on offboarding, grants dropped with a membership.
  const access = await createExampleRbac({ db, redis, redisKeyPrefix: config.redisKeyPrefix, events, lifecycle });
  if (redis !== undefined) {
    // After the projects step, so the cache it invalidates is purged too: every key of the tenant (SCAN + UNLINK).
    lifecycle.useOffboardingStep('delete-data', createTenantKeysPurgeStep({ redis, keyspace: redisKeyspace }));
  }

  const pathPrefix = fromPathPrefix({ prefix: '/t/' });
  const resolver = createTenantResolver({
    registry,
    // Highest priority first: an explicit header, then /t/<slug>/..., then <slug>.<baseDomain>, then a verified custom domain.
    sources: [fromHeader({ by: 'slug' }), pathPrefix, fromSubdomain({ baseDomain: config.baseDomain }), fromCustomDomain()],
    trustedProxies: createTrustedProxies(config.trustedProxies),
    cache: { ttlMs: 30_000 },
  });
  // Request limits per IP, per tenant (from its plan) and per user; in Redis when configured.
  const rateLimits = createExampleRateLimits({ config, plans, redis });
  // Accounts, tokens, sessions, passwords and API keys; the sign-in throttle counts in the rate limits' store.
  const authentication = await createExampleAuth({
    config,
    db,
    redis,
    memberships,
    permissions: access.rbac,
    rateLimitStore: rateLimits.store,
    lifecycle,
  });

  async function close(): Promise<void> {
    resolver.dispose();
    await authentication.close();
    await rateLimits.close();
    await access.close();
    await redis?.quit();
    await db.destroy();
  }

  return {
    config,
    /** The plain handle: migrations and tenantkit's stores only. App data goes through `appDb`. */
    db,
    /** The tenant-isolated handle for the app's tenant-owned tables. */
    appDb,
    /** The Redis client, when Redis is configured. */
    redis,
    /** The app's tenant keyspace in Redis (`<redisKeyPrefix>{<tenantId>}:...`). */
    redisKeyspace,
    /** The plans in force (the example's, with `config.rateLimits.planRequestPoints` applied). */
    plans,
    events,
    registry,
    memberships,
    domains,
    quotas,
    flags,
    projects,
    lifecycle,
    /** Roles, assignments and permission checks (`access.rbac`), on the example's database. */
    access,
    /** Shorthand for `access.rbac`. */
    rbac: access.rbac,
    resolver,
    pathPrefix,
    /** The limiters the apps' rate-limit middleware runs, and their metrics. */
    rateLimits,
    /** Sign-up, sign-in, tokens, sessions, password reset and API keys (@tenantkit/auth). */
    auth: authentication.auth,
    /** The auth stores (accounts and API keys in SQL; the rest in Redis when configured). */
    authStores: authentication.stores,
    /** The mails auth asked for: the example has no mailer, so reset and verification links wait here. */
    outbox: authentication.outbox,
    /** The device-token cookie's name and lifetime. */
    deviceCookie: authentication.deviceCookie,
    /** The signing key in use, and whether it was generated at start. */
    signingKey: authentication.signingKey,
    close,
  };
}

export type ExampleServices = Awaited<ReturnType<typeof createExampleServices>>;
