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
import { kyselyTenantContextStores, migrateTenantContextSchema } from '@tenantkit/tenant-context/kysely';
import { redisUsageCounterStore } from '@tenantkit/tenant-context/redis';
import { Redis } from 'ioredis';
import type { ExampleConfig } from './config.js';
import { createDatabase } from './database.js';
import { examplePlans } from './plans.js';
import { createProjectRepository, migrateProjects } from './projects.js';
import { tenantSettingsSchema } from './tenant-settings.js';

/**
 * Wires every tenantkit piece the example uses, on the configured database: the two apps
 * (Express and Fastify) share this and differ only in their HTTP layer.
 */
export async function createExampleServices(config: ExampleConfig, overrides: { dns?: TxtResolver } = {}) {
  const db = createDatabase(config.database);
  await migrateTenantContextSchema(db);
  await migrateProjects(db);
  const stores = kyselyTenantContextStores(db);

  const redis = config.redisUrl === undefined ? undefined : new Redis(config.redisUrl, { lazyConnect: false });
  const usageCounters: UsageCounterStore =
    redis === undefined ? stores.usageCounters : redisUsageCounterStore(redis, { keyPrefix: config.redisKeyPrefix });

  const events = createTenantEventBus();
  const registry = createTenantRegistry({
    store: stores.tenants,
    events,
    settingsSchema: tenantSettingsSchema,
    plans: examplePlans.planKeys,
    defaultPlan: 'free',
  });
  const memberships = createMembershipService({ store: stores.memberships, registry });
  const domains = createCustomDomains({
    registry,
    platformDomains: [config.baseDomain],
    ...(overrides.dns === undefined ? {} : { dns: overrides.dns }),
  });
  const quotas = createQuotaEnforcer({ plans: examplePlans, counters: usageCounters, registry });
  const flags = createFeatureFlags({
    plans: examplePlans,
    flags: {
      'new-dashboard': {
        description: 'The redesigned dashboard, rolled out gradually',
        default: false,
        rules: [{ match: { plan: ['enterprise'] }, value: true }, { percentage: 25, value: true }],
      },
    },
  });
  const projects = createProjectRepository(db);

  const lifecycle = createTenantLifecycle({ registry, memberships, runs: stores.lifecycleRuns, usageCounters, events });
  lifecycle.useOnboardingStep('seed-defaults', {
    name: 'welcome-project',
    async run({ input }) {
      const existing = await projects.list();
      if (existing.some((project) => project.name === 'Welcome')) return; // idempotent on resume
      await quotas.consume('projects');
      await projects.create('Welcome', String(input.adminUserId ?? 'system'), Date.now());
    },
    async compensate({ tenantId }) {
      await projects.removeAllOfTenant(tenantId);
    },
  });
  lifecycle.useOffboardingStep('export', {
    name: 'projects-export',
    async run({ tenantId }) {
      const count = await projects.countOfTenant(tenantId);
      // A real deployment would upload an archive here; the example records where it would be.
      return { location: `memory://exports/${tenantId}/projects.json`, details: { projects: count } };
    },
  });
  lifecycle.useOffboardingStep('delete-data', {
    name: 'projects',
    async run({ tenantId }) {
      await projects.removeAllOfTenant(tenantId);
    },
  });

  const pathPrefix = fromPathPrefix({ prefix: '/t/' });
  const resolver = createTenantResolver({
    registry,
    // Highest priority first: an explicit header, then /t/<slug>/..., then <slug>.<baseDomain>, then a verified custom domain.
    sources: [fromHeader({ by: 'slug' }), pathPrefix, fromSubdomain({ baseDomain: config.baseDomain }), fromCustomDomain()],
    trustedProxies: createTrustedProxies(config.trustedProxies),
    cache: { ttlMs: 30_000 },
  });

  async function close(): Promise<void> {
    resolver.dispose();
    await redis?.quit();
    await db.destroy();
  }

  return { config, db, events, registry, memberships, domains, quotas, flags, projects, lifecycle, resolver, pathPrefix, close };
}

export type ExampleServices = Awaited<ReturnType<typeof createExampleServices>>;
