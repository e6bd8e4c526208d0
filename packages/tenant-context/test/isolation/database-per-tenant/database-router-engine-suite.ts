import { runLeakKit } from '@tenantkit/test-utils';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryTenantContextStores } from '../../../src/adapters/memory.js';
import {
  tenantDatabaseOffboardingStep,
  tenantDatabaseOnboardingStep,
} from '../../../src/isolation/database-per-tenant/tenant-database-lifecycle-steps.js';
import type { TenantDatabaseProvisioner } from '../../../src/isolation/database-per-tenant/tenant-database-provisioner.js';
import {
  createTenantDatabaseRouter,
  type OpenTenantDatabaseContext,
  type TenantDatabaseRouter,
  type TenantDatabaseRouterOptions,
} from '../../../src/isolation/database-per-tenant/tenant-database-router.js';
import { createTenantLifecycle } from '../../../src/lifecycle/tenant-lifecycle.js';
import { createMembershipService } from '../../../src/memberships/membership-service.js';
import { createTenantRegistry } from '../../../src/registry/tenant-registry.js';
import { runAsSystem, runWithTenant } from '../../../src/scope/tenant-scope.js';
import {
  databaseRouterLeakTarget,
  failingMigration,
  rejectionOf,
  tenantMigrations,
  type LeakDatabase,
} from './database-router-fixtures.js';

/** One engine (server or SQLite directory) the shared router suite runs against. */
export interface RouterEngine {
  /** Unique per test run: every database the suite creates starts with it. */
  readonly prefix: string;
  readonly connectionsPerPool: number;
  provisioner(): TenantDatabaseProvisioner;
  openDatabase(tenantId: string, context: OpenTenantDatabaseContext): Kysely<LeakDatabase>;
  /** Whether the database exists, asked independently of the provisioner. */
  databaseExists(databaseName: string): Promise<boolean>;
  /** Tables of the database, asked independently of the router. */
  tablesOf(databaseName: string): Promise<string[]>;
}

const system = <R>(fn: () => R): R => runAsSystem({ reason: 'test', actor: 'vitest' }, fn);

/**
 * Provisioning, deprovisioning, migrations, lifecycle hooks and the leak kit, on one engine.
 * The caller sets the engine up (and removes every database with its prefix) around it.
 */
export function describeDatabaseRouterEngine(engine: RouterEngine): void {
  const routers: TenantDatabaseRouter<LeakDatabase>[] = [];
  const routerWith = (overrides: Partial<TenantDatabaseRouterOptions<LeakDatabase>> = {}) => {
    const router = createTenantDatabaseRouter<LeakDatabase>({
      provisioner: engine.provisioner(),
      openDatabase: (tenantId, context) => engine.openDatabase(tenantId, context),
      databaseNamePrefix: engine.prefix,
      migrations: { provider: tenantMigrations() },
      connectionsPerPool: engine.connectionsPerPool,
      maxPools: 2,
      maxConnections: 2 * engine.connectionsPerPool,
      acquireTimeoutMs: 20_000,
      evictionIntervalMs: false,
      ...overrides,
    });
    routers.push(router);
    return router;
  };
  afterAll(async () => {
    for (const router of routers) await router.close();
  });

  describe('provisioning', () => {
    it('creates and migrates a database, and does nothing the second time', async () => {
      const router = routerWith();
      const databaseName = router.databaseNameOf('tnt_prov');
      expect(await engine.databaseExists(databaseName)).toBe(false);
      const first = await system(() => router.provision('tnt_prov'));
      expect(first).toEqual({
        tenantId: 'tnt_prov',
        databaseName,
        created: true,
        applied: ['2026_01_01_leak_records', '2026_01_02_notes'],
      });
      expect(await engine.databaseExists(databaseName)).toBe(true);
      expect(await engine.tablesOf(databaseName)).toEqual(expect.arrayContaining(['leak_records', 'notes']));
      expect(await system(() => router.provision('tnt_prov'))).toEqual({ tenantId: 'tnt_prov', databaseName, created: false, applied: [] });
      await system(() => router.deprovision('tnt_prov'));
    });

    it('lets two processes provision the same tenant at once: one creates, both end migrated', async () => {
      const [one, two] = [routerWith(), routerWith()];
      const results = await Promise.all([system(() => one!.provision('tnt_race')), system(() => two!.provision('tnt_race'))]);
      expect(results.map((result) => result.created).sort()).toEqual([false, true]);
      const rows = await runWithTenant('tnt_race', () => two!.db().selectFrom('leak_records').selectAll().execute());
      expect(rows).toEqual([]);
      await system(() => one!.deprovision('tnt_race'));
    });

    it('closes the pool, then drops the database; again is a no-op', async () => {
      const router = routerWith();
      await system(() => router.provision('tnt_drop'));
      await runWithTenant('tnt_drop', () => router.db().insertInto('leak_records').values({ id: 'r', value: 'v' }).execute());
      expect(router.stats().openTenants).toEqual(['tnt_drop']);
      const databaseName = router.databaseNameOf('tnt_drop');
      expect(await system(() => router.deprovision('tnt_drop'))).toEqual({
        tenantId: 'tnt_drop',
        databaseName,
        closedPool: true,
        dropped: true,
      });
      expect(router.stats()).toMatchObject({ pools: 0, connections: 0 });
      expect(await engine.databaseExists(databaseName)).toBe(false);
      expect(await system(() => router.deprovision('tnt_drop'))).toMatchObject({ closedPool: false, dropped: false });
    });

    it('fails with TENANT_MIGRATION_FAILED and leaves no database behind', async () => {
      const router = routerWith({ migrations: { provider: tenantMigrations(failingMigration) } });
      const error = await rejectionOf(system(() => router.provision('tnt_badmig')));
      expect(error.code).toBe('TENANT_MIGRATION_FAILED');
      expect(error.details).toMatchObject({ failedMigration: '2026_01_03_broken', databaseDropped: true });
      expect(await engine.databaseExists(router.databaseNameOf('tnt_badmig'))).toBe(false);
    });

    it('refuses names the engine would not keep, before touching the server', async () => {
      const provisioner = engine.provisioner();
      const tooLong = `${engine.prefix}${'x'.repeat(provisioner.maxDatabaseNameBytes)}`;
      for (const name of [tooLong, 'Upper', 'semi;colon', 'quote"d', 'back`tick', '']) {
        expect((await rejectionOf(provisioner.createDatabase(name))).code).toBe('CONFIGURATION_INVALID');
        expect((await rejectionOf(provisioner.dropDatabase(name))).code).toBe('CONFIGURATION_INVALID');
      }
    });
  });

  describe('lifecycle steps', () => {
    function lifecycleWith(router: TenantDatabaseRouter<LeakDatabase>, tenantId: string, failSeeding = false) {
      const stores = memoryTenantContextStores();
      const registry = createTenantRegistry({ store: stores.tenants });
      const memberships = createMembershipService({ store: stores.memberships, registry });
      const lifecycle = createTenantLifecycle({
        registry,
        memberships,
        runs: stores.lifecycleRuns,
        usageCounters: stores.usageCounters,
        retryDelayMs: 0,
        maxStepAttempts: 2,
        createTenantId: () => tenantId,
      });
      lifecycle.useOnboardingStep('provision-storage', tenantDatabaseOnboardingStep(router));
      if (failSeeding) {
        lifecycle.useOnboardingStep('seed-defaults', {
          name: 'roles',
          run: async ({ tenantId: seeded }) => {
            // The database is there and migrated when the next phase runs.
            await router.db().insertInto('leak_records').values({ id: 'seed', value: seeded }).execute();
            throw new Error('seeding failed');
          },
        });
      }
      lifecycle.useOffboardingStep('delete-data', tenantDatabaseOffboardingStep(router));
      return { lifecycle, registry };
    }

    it('onboarding creates the database, offboarding drops it and records a receipt', async () => {
      const router = routerWith();
      const { lifecycle } = lifecycleWith(router, 'tnt_life');
      const { tenant, run } = await lifecycle.startOnboarding({ slug: 'life', name: 'Life', adminUserId: 'usr_1' });
      expect(run.completedSteps).toContain('provision-storage:tenant-database');
      const databaseName = router.databaseNameOf(tenant.id);
      expect(await engine.databaseExists(databaseName)).toBe(true);
      await runWithTenant(tenant.id, () => router.db().insertInto('leak_records').values({ id: 'r', value: 'v' }).execute());

      const offboarded = await lifecycle.startOffboarding(tenant.id, { reason: 'contract ended', requestedBy: 'usr_ops' });
      expect(offboarded.run.state).toBe('completed');
      expect(offboarded.run.artifacts).toEqual([
        expect.objectContaining({
          step: 'delete-data:tenant-database',
          location: `database:${databaseName}`,
          details: { databaseName, dropped: true, closedPool: true },
        }),
      ]);
      expect(await engine.databaseExists(databaseName)).toBe(false);
      expect(router.stats().pools).toBe(0);
    });

    it('a later onboarding step failing compensates: the database is dropped again', async () => {
      const router = routerWith();
      const { lifecycle, registry } = lifecycleWith(router, 'tnt_rollback', true);
      const error = await rejectionOf(lifecycle.startOnboarding({ slug: 'rollback', name: 'Rollback', adminUserId: 'usr_1' }));
      expect(error.code).toBe('LIFECYCLE_STEP_FAILED');
      expect(error.details).toMatchObject({ state: 'rolled_back' });
      expect(await engine.databaseExists(router.databaseNameOf('tnt_rollback'))).toBe(false);
      expect(await registry.getTenant('tnt_rollback')).toBeNull();
      expect(router.stats().pools).toBe(0);
    });
  });

  describe('leak kit', () => {
    // Eight tenants (one id a prefix of another's, as in the kit's defaults; eight operations
    // run at once in every step) and a bystander that only reads: nine tenants on eight pools,
    // so pools are evicted and reopened throughout the run.
    const tenants = ['tnt_leak_a', 'tnt_leak_ab', 'tnt_leak_b', 'tnt_leak_c', 'tnt_leak_d', 'tnt_leak_e', 'tnt_leak_f', 'tnt_leak_g'];
    const bystander = 'tnt_leak_bystander';
    const maxPools = tenants.length;
    /** Every this many operations, the bystander reads alongside (and needs a pool). */
    const bystanderEvery = 100;
    let router: TenantDatabaseRouter<LeakDatabase>;
    let opens = 0;
    let boundsExceeded = false;

    beforeAll(async () => {
      router = routerWith({
        maxPools,
        maxConnections: maxPools * engine.connectionsPerPool,
        openDatabase: (tenantId, context) => {
          opens += 1;
          // Opening is when a bound could be broken; the pool being opened is counted already.
          const stats = router.stats();
          if (stats.pools > maxPools || stats.connections > maxPools * engine.connectionsPerPool) boundsExceeded = true;
          return engine.openDatabase(tenantId, context);
        },
      });
      await Promise.all([...tenants, bystander].map((tenantId) => system(() => router.provision(tenantId))));
    });

    afterAll(async () => {
      await Promise.all([...tenants, bystander].map((tenantId) => system(() => router.deprovision(tenantId))));
    });

    /** The bystander's database must stay empty: nothing anybody writes may land in it. */
    const bystanderReads = () =>
      system(() =>
        runWithTenant(bystander, async () => {
          const rows = await router.db().selectFrom('leak_records').selectAll().execute();
          if (rows.length > 0) throw new Error(`CROSS-TENANT WRITE: the bystander's database holds ${JSON.stringify(rows)}`);
        }),
      );

    it('leaks nothing over 10,000 random operations while pools are evicted', async () => {
      const opensBefore = opens;
      let operations = 0;
      const base = databaseRouterLeakTarget(router, tenants);
      const alongsideBystander =
        <Args extends unknown[], R>(operation: (...args: Args) => Promise<R>) =>
        async (...args: Args): Promise<R> => {
          operations += 1;
          if (operations % bystanderEvery !== 0) return operation(...args);
          const [result] = await Promise.all([operation(...args), bystanderReads()]);
          return result;
        };
      const target = {
        reset: base.reset,
        insert: alongsideBystander(base.insert),
        get: alongsideBystander(base.get),
        list: alongsideBystander(base.list),
        update: alongsideBystander(base.update),
        remove: alongsideBystander(base.remove),
        count: alongsideBystander(base.count!),
      };
      const report = await runLeakKit(target, { tenants, operationsPerRun: 400 });
      expect(report.operations).toBeGreaterThanOrEqual(10_000);
      expect(boundsExceeded).toBe(false);
      // The bystander took a pool about 100 times, evicting a tenant's, which then came back.
      expect(opens - opensBefore).toBeGreaterThan(50);
      expect(router.stats()).toMatchObject({ leases: 0, waiting: 0 });
      expect(router.stats().pools).toBeLessThanOrEqual(maxPools);
    }, 120_000);
  });
}
