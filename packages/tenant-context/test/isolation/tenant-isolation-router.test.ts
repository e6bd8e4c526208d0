import { createManualClock } from '@tenantkit/core';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryTenantContextStores } from '../../src/adapters/memory.js';
import { TenantContextError } from '../../src/errors.js';
import { sqliteDatabaseProvisioner } from '../../src/isolation/database-per-tenant/sqlite-database-provisioner.js';
import {
  tenantDatabaseOffboardingStep,
  tenantDatabaseOnboardingStep,
} from '../../src/isolation/database-per-tenant/tenant-database-lifecycle-steps.js';
import { createTenantDatabaseRouter, type TenantDatabaseRouter } from '../../src/isolation/database-per-tenant/tenant-database-router.js';
import {
  createTenantIsolationRouter,
  type TenantIsolationRouterOptions,
  type TenantIsolationStrategy,
} from '../../src/isolation/tenant-isolation-router.js';
import { createTenantLifecycle } from '../../src/lifecycle/tenant-lifecycle.js';
import { createMembershipService } from '../../src/memberships/membership-service.js';
import { createTenantRegistry } from '../../src/registry/tenant-registry.js';
import { runAsSystem, runWithTenant } from '../../src/scope/tenant-scope.js';
import { deferred, openSqliteTenantDatabase, rejectionOf, temporarySqliteDirectory } from './database-per-tenant/database-router-fixtures.js';

interface AppDatabase {
  projects: { tenant_id: string; id: string; name: string };
}

/** A SQLite database with a `projects` table (with a tenant column, as a shared schema has it). */
function projectsDatabase(file: string): Kysely<AppDatabase> {
  const database = new Database(file);
  database.exec('create table if not exists projects (tenant_id text not null, id text not null, name text not null, primary key (tenant_id, id))');
  return new Kysely<AppDatabase>({ dialect: new SqliteDialect({ database }) });
}

describe('tenant isolation router: a strategy per tenant', () => {
  const directory = temporarySqliteDirectory();
  const provisioner = sqliteDatabaseProvisioner({ directory: `${directory.path}/tenants` });
  let shared: Kysely<AppDatabase>;
  const schemaHandles = new Map<string, Kysely<AppDatabase>>();
  let databases: TenantDatabaseRouter<AppDatabase>;
  const plans = new Map<string, string>([
    ['tnt_free', 'free'],
    ['tnt_pro', 'pro'],
    ['tnt_big', 'enterprise'],
  ]);
  const strategyByPlan = (tenantId: string): TenantIsolationStrategy => {
    const plan = plans.get(tenantId);
    return plan === 'enterprise' ? 'database' : plan === 'pro' ? 'schema' : 'shared';
  };

  beforeAll(async () => {
    shared = projectsDatabase(`${directory.path}/shared.sqlite`);
    schemaHandles.set('tnt_pro', projectsDatabase(`${directory.path}/schema-tnt_pro.sqlite`));
    databases = createTenantDatabaseRouter<AppDatabase>({
      provisioner,
      migrations: {
        provider: {
          getMigrations: async () => ({
            '001_projects': {
              up: (db: Kysely<any>) =>
                db.schema
                  .createTable('projects')
                  .addColumn('tenant_id', 'text', (column) => column.notNull())
                  .addColumn('id', 'text', (column) => column.notNull())
                  .addColumn('name', 'text', (column) => column.notNull())
                  .addPrimaryKeyConstraint('projects_pk', ['tenant_id', 'id'])
                  .execute(),
            },
          }),
        },
      },
      openDatabase: (_tenantId, { databaseName }) => openSqliteTenantDatabase(provisioner.filePathOf(databaseName)),
      connectionsPerPool: 1,
      maxPools: 4,
      maxConnections: 4,
      evictionIntervalMs: false,
    });
    await runAsSystem({ reason: 'test' }, () => databases.provision('tnt_big'));
  });

  afterAll(async () => {
    await databases.close();
    await shared.destroy();
    for (const handle of schemaHandles.values()) await handle.destroy();
    directory.remove();
  });

  const routerWith = (overrides: Partial<TenantIsolationRouterOptions<AppDatabase>> = {}) =>
    createTenantIsolationRouter<AppDatabase>({
      strategyFor: strategyByPlan,
      shared: () => shared,
      schema: { forTenant: (tenantId) => schemaHandles.get(tenantId)! },
      database: databases,
      ...overrides,
    });

  const addProject = (isolation: ReturnType<typeof routerWith>, tenantId: string, id: string) =>
    runWithTenant(tenantId, async () => {
      const db = await isolation.db();
      await db.insertInto('projects').values({ tenant_id: tenantId, id, name: `${tenantId} ${id}` }).execute();
    });

  it('hands each tenant the handle of its strategy, and the rows land there', async () => {
    const isolation = routerWith();
    await runWithTenant('tnt_free', async () => expect(await isolation.db()).toBe(shared));
    await runWithTenant('tnt_pro', async () => expect(await isolation.db()).toBe(schemaHandles.get('tnt_pro')));
    await runWithTenant('tnt_big', async () => expect(await isolation.db()).toBe(databases.forTenant('tnt_big')));

    for (const tenantId of plans.keys()) await addProject(isolation, tenantId, 'p1');
    expect(await shared.selectFrom('projects').select('tenant_id').execute()).toEqual([{ tenant_id: 'tnt_free' }]);
    expect(await schemaHandles.get('tnt_pro')!.selectFrom('projects').select('tenant_id').execute()).toEqual([{ tenant_id: 'tnt_pro' }]);
    const own = openSqliteTenantDatabase<AppDatabase>(provisioner.filePathOf(databases.databaseNameOf('tnt_big')));
    expect(await own.selectFrom('projects').select('tenant_id').execute()).toEqual([{ tenant_id: 'tnt_big' }]);
    await own.destroy();
    expect(await isolation.strategyOf('tnt_big')).toBe('database');
  });

  it('fails closed without a tenant in scope', async () => {
    const isolation = routerWith();
    expect((await rejectionOf(isolation.db())).code).toBe('TENANT_SCOPE_REQUIRED');
    expect((await rejectionOf(runAsSystem({ reason: 'test' }, () => isolation.db()))).code).toBe('TENANT_SCOPE_REQUIRED');
  });

  it('refuses unknown strategies, missing sources and sources that return no Kysely instance', async () => {
    const unknown = routerWith({ strategyFor: () => 'sharded' as TenantIsolationStrategy });
    expect((await rejectionOf(runWithTenant('tnt_free', () => unknown.db()))).code).toBe('CONFIGURATION_INVALID');
    const noSchema = routerWith({ schema: undefined });
    const missing = await rejectionOf(runWithTenant('tnt_pro', () => noSchema.db()));
    expect(missing.code).toBe('CONFIGURATION_INVALID');
    expect(missing.details).toMatchObject({ tenantId: 'tnt_pro', strategy: 'schema' });
    const broken = routerWith({ shared: () => undefined as never });
    expect((await rejectionOf(runWithTenant('tnt_free', () => broken.db()))).code).toBe('CONFIGURATION_INVALID');
  });

  it('accepts each kind of handle source: function, db() and forTenant()', async () => {
    const isolation = routerWith({ shared: { db: () => shared }, database: { db: () => databases.db() } });
    await runWithTenant('tnt_free', async () => expect(await isolation.db()).toBe(shared));
    await runWithTenant('tnt_big', async () => expect(await isolation.db()).toBe(databases.forTenant('tnt_big')));
  });

  it('caches decisions for decisionTtlMs, one call per tenant even when concurrent', async () => {
    const clock = createManualClock();
    const calls: string[] = [];
    const isolation = routerWith({
      clock,
      decisionTtlMs: 1000,
      strategyFor: async (tenantId) => {
        calls.push(tenantId);
        return strategyByPlan(tenantId);
      },
    });
    await Promise.all(Array.from({ length: 5 }, () => runWithTenant('tnt_free', () => isolation.db())));
    expect(calls).toEqual(['tnt_free']);
    clock.advance(999);
    await runWithTenant('tnt_free', () => isolation.db());
    expect(calls).toEqual(['tnt_free']);
    clock.advance(1);
    await runWithTenant('tnt_free', () => isolation.db());
    expect(calls).toEqual(['tnt_free', 'tnt_free']);
  });

  it('moves a tenant after invalidate(): a plan upgrade to its own database', async () => {
    const isolation = routerWith({ decisionTtlMs: 60_000 });
    const tenantId = 'tnt_upgrade';
    plans.set(tenantId, 'free');
    await addProject(isolation, tenantId, 'p1');
    // The upgrade: provision, copy the rows over, switch the plan, invalidate, delete the old rows.
    await runAsSystem({ reason: 'plan upgrade', actor: 'test' }, async () => {
      await databases.provision(tenantId);
      const rows = await shared.selectFrom('projects').selectAll().where('tenant_id', '=', tenantId).execute();
      await databases.forTenant(tenantId).insertInto('projects').values(rows).execute();
    });
    plans.set(tenantId, 'enterprise');
    // Still cached: the tenant keeps its old home until invalidated.
    await runWithTenant(tenantId, async () => expect(await isolation.db()).toBe(shared));
    isolation.invalidate(tenantId);
    await shared.deleteFrom('projects').where('tenant_id', '=', tenantId).execute();
    const rows = await runWithTenant(tenantId, async () => (await isolation.db()).selectFrom('projects').select(['tenant_id', 'id']).execute());
    expect(rows).toEqual([{ tenant_id: tenantId, id: 'p1' }]);
    expect(await isolation.strategyOf(tenantId)).toBe('database');
    await runAsSystem({ reason: 'test' }, () => databases.deprovision(tenantId));
    plans.delete(tenantId);
  });

  it('does not cache a decision that was invalidated while it was being made', async () => {
    const gate = deferred();
    let answer: TenantIsolationStrategy = 'shared';
    let calls = 0;
    const isolation = routerWith({
      strategyFor: async () => {
        calls += 1;
        const given = answer;
        await gate.promise;
        return given;
      },
    });
    const first = runWithTenant('tnt_free', () => isolation.db());
    answer = 'database';
    isolation.invalidate('tnt_free');
    gate.resolve();
    expect(await first).toBe(shared); // the answer it asked for
    expect(await isolation.strategyOf('tnt_free')).toBe('database'); // asked again, not cached
    expect(calls).toBe(2);
    isolation.invalidate();
    expect(await isolation.strategyOf('tnt_free')).toBe('database');
    expect(calls).toBe(3);
  });

  it('wraps uncoded failures of strategyFor, passes coded ones, and caches neither', async () => {
    let failure: unknown = new Error('registry down');
    let calls = 0;
    const isolation = routerWith({
      strategyFor: async (tenantId) => {
        calls += 1;
        if (failure !== undefined) throw failure;
        return strategyByPlan(tenantId);
      },
    });
    const wrapped = await rejectionOf(isolation.strategyOf('tnt_free'));
    expect(wrapped.code).toBe('STORE_UNAVAILABLE');
    expect((wrapped as unknown as Error).cause).toBe(failure);
    failure = new TenantContextError('TENANT_NOT_FOUND', 'no such tenant');
    expect((await rejectionOf(isolation.strategyOf('tnt_free'))).code).toBe('TENANT_NOT_FOUND');
    failure = undefined;
    expect(await isolation.strategyOf('tnt_free')).toBe('shared');
    expect(calls).toBe(3);
  });

  it('keeps at most maxCachedDecisions, dropping the oldest', async () => {
    const calls: string[] = [];
    const isolation = routerWith({
      maxCachedDecisions: 2,
      strategyFor: (tenantId) => {
        calls.push(tenantId);
        return strategyByPlan(tenantId);
      },
    });
    for (const tenantId of ['tnt_free', 'tnt_pro', 'tnt_big', 'tnt_big', 'tnt_free']) await isolation.strategyOf(tenantId);
    expect(calls).toEqual(['tnt_free', 'tnt_pro', 'tnt_big', 'tnt_free']);
  });

  it('validates its options', async () => {
    for (const options of [
      { strategyFor: strategyByPlan },
      { strategyFor: 'database', shared: () => shared },
      { strategyFor: strategyByPlan, shared: 42 },
      { strategyFor: strategyByPlan, shared: () => shared, decisionTtlMs: -1 },
      { strategyFor: strategyByPlan, shared: () => shared, maxCachedDecisions: 0 },
      { strategyFor: strategyByPlan, shared: () => shared, cacheTtl: 5 },
    ]) {
      expect(() => createTenantIsolationRouter(options as never)).toThrowError(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
    }
    expect((await rejectionOf(routerWith().strategyOf('../x'))).code).toBe('TENANT_IDENTIFIER_INVALID');
  });

  it('onboards enterprise tenants onto their own database only (appliesTo), and offboards any tenant', async () => {
    const stores = memoryTenantContextStores();
    const registry = createTenantRegistry({ store: stores.tenants, plans: ['free', 'enterprise'] });
    const memberships = createMembershipService({ store: stores.memberships, registry });
    let nextId = 0;
    const lifecycle = createTenantLifecycle({
      registry,
      memberships,
      runs: stores.lifecycleRuns,
      usageCounters: stores.usageCounters,
      retryDelayMs: 0,
      createTenantId: () => `tnt_onboarded_${++nextId}`,
    });
    lifecycle.useOnboardingStep('provision-storage', tenantDatabaseOnboardingStep(databases, { appliesTo: ({ input }) => input.plan === 'enterprise' }));
    lifecycle.useOffboardingStep('delete-data', tenantDatabaseOffboardingStep(databases));
    const enterprise = await lifecycle.startOnboarding({ slug: 'big-co', name: 'Big', plan: 'enterprise', adminUserId: 'usr_1' });
    const free = await lifecycle.startOnboarding({ slug: 'small-co', name: 'Small', plan: 'free', adminUserId: 'usr_1' });
    expect(await provisioner.databaseExists(databases.databaseNameOf(enterprise.tenant.id))).toBe(true);
    expect(await provisioner.databaseExists(databases.databaseNameOf(free.tenant.id))).toBe(false);

    // Offboarding a shared tenant finds no database and records that.
    const offboardedFree = await lifecycle.startOffboarding(free.tenant.id, { reason: 'test', requestedBy: 'usr_ops' });
    expect(offboardedFree.run.artifacts).toEqual([expect.objectContaining({ details: expect.objectContaining({ dropped: false }) })]);
    const offboardedBig = await lifecycle.startOffboarding(enterprise.tenant.id, { reason: 'test', requestedBy: 'usr_ops' });
    expect(offboardedBig.run.artifacts).toEqual([expect.objectContaining({ details: expect.objectContaining({ dropped: true }) })]);
    expect(await provisioner.databaseExists(databases.databaseNameOf(enterprise.tenant.id))).toBe(false);
  });

  it('validates the lifecycle step helpers', () => {
    expect(() => tenantDatabaseOnboardingStep({} as never)).toThrowError(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
    expect(() => tenantDatabaseOffboardingStep(null as never)).toThrowError(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
    expect(() => tenantDatabaseOnboardingStep(databases, { appliesTo: 'yes' as never })).toThrowError(
      expect.objectContaining({ code: 'CONFIGURATION_INVALID' }),
    );
  });
});
