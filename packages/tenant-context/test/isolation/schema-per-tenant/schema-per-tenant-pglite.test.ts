import { PGlite } from '@electric-sql/pglite';
import {
  createMembershipService,
  createTenantLifecycle,
  createTenantRegistry,
  memoryTenantContextStores,
  runWithTenant,
} from '@tenantkit/tenant-context';
import { createSchemaPerTenant, dropTenantSchemaStep, provisionTenantSchemaStep, type SchemaPerTenant } from '@tenantkit/tenant-context/kysely';
import { Kysely, sql } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asSystem, leakRecordsMigrations, schemasStartingWith, tablesOf } from './schema-per-tenant-fixtures.js';

describe('schema-per-tenant on PGlite', () => {
  let db: Kysely<any>;
  let schemas: SchemaPerTenant;
  let initialSearchPath: string | undefined;

  beforeAll(async () => {
    db = new Kysely<any>({ dialect: new PGliteDialect(new PGlite()) });
    schemas = createSchemaPerTenant({ db, migrations: leakRecordsMigrations });
    // Starting PGlite (a WebAssembly Postgres) takes seconds: done here, not in the first test.
    initialSearchPath = (await sql<{ search_path: string }>`show search_path`.execute(db)).rows[0]?.search_path;
  });

  afterAll(async () => {
    await db.destroy();
  });

  function lifecycle() {
    const stores = memoryTenantContextStores();
    const registry = createTenantRegistry({ store: stores.tenants, plans: ['free'] });
    const memberships = createMembershipService({ store: stores.memberships, registry });
    const instance = createTenantLifecycle({
      registry,
      memberships,
      runs: stores.lifecycleRuns,
      usageCounters: stores.usageCounters,
      retryDelayMs: 0,
      maxStepAttempts: 1,
    });
    instance.useOnboardingStep('provision-storage', provisionTenantSchemaStep(schemas));
    instance.useOffboardingStep('delete-data', dropTenantSchemaStep(schemas));
    return instance;
  }

  it('provisions the new tenant’s schema during onboarding, usable once the tenant is active', async () => {
    const { tenant, run } = await lifecycle().startOnboarding({ slug: 'acme', name: 'Acme', adminUserId: 'usr_1' });
    expect(run.state).toBe('completed');
    expect(run.completedSteps).toContain('provision-storage:tenant-schema');
    expect(await tablesOf(db, schemas.schemaNameOf(tenant.id))).toContain('leak_records');
    await runWithTenant(tenant.id, () => schemas.db.insertInto('leak_records').values({ id: '1', value: 'acme' }).execute());
    await expect(runWithTenant(tenant.id, () => schemas.db.selectFrom('leak_records').select('value').execute())).resolves.toEqual([
      { value: 'acme' },
    ]);
  });

  it('drops the schema again when a later onboarding step fails for good (compensation)', async () => {
    const failing = lifecycle();
    let provisionedSchema: string | undefined;
    failing.useOnboardingStep('seed-defaults', {
      name: 'broken-seed',
      run: async ({ tenantId }) => {
        provisionedSchema = schemas.schemaNameOf(tenantId);
        // The schema exists while later steps run.
        expect(await schemasStartingWith(db, provisionedSchema)).toEqual([provisionedSchema]);
        throw new Error('seed failed');
      },
    });
    await expect(failing.startOnboarding({ slug: 'globex', name: 'Globex', adminUserId: 'usr_1' })).rejects.toMatchObject({
      code: 'LIFECYCLE_STEP_FAILED',
      details: { state: 'rolled_back' },
    });
    expect(provisionedSchema).toBeDefined();
    expect(await schemasStartingWith(db, provisionedSchema as string)).toEqual([]);
  });

  it('drops the schema with its data during offboarding and records which schema went', async () => {
    const instance = lifecycle();
    const { tenant } = await instance.startOnboarding({ slug: 'initech', name: 'Initech', adminUserId: 'usr_1' });
    const schema = schemas.schemaNameOf(tenant.id);
    await runWithTenant(tenant.id, () => schemas.db.insertInto('leak_records').values({ id: '1', value: 'secret' }).execute());
    const { run } = await instance.startOffboarding(tenant.id, { reason: 'contract ended' });
    expect(run.state).toBe('completed');
    expect(run.artifacts).toContainEqual(
      expect.objectContaining({ step: 'delete-data:tenant-schema', location: `postgres-schema:${schema}`, details: { dropped: true } }),
    );
    expect(await schemasStartingWith(db, schema)).toEqual([]);
  });

  it('runs the drop step idempotently, as a resumed offboarding would', async () => {
    const step = dropTenantSchemaStep(schemas, { name: 'again' });
    const context = { tenantId: 'tnt_never_there' } as Parameters<typeof step.run>[0];
    await expect(runWithTenant('tnt_never_there', () => step.run(context))).resolves.toEqual({
      location: 'postgres-schema:t_tnt_never_there',
      details: { dropped: false },
    });
    expect(step.name).toBe('again');
  });

  it('migrates every tenant one after the other on its single connection, without touching search_path', async () => {
    const v1 = createSchemaPerTenant({ db, controlSchema: 'ctl_pglite', migrations: leakRecordsMigrations });
    const tenants = ['tnt_pgl_a', 'tnt_pgl_b', 'tnt_pgl_c'];
    await asSystem(async () => {
      for (const tenant of tenants) await v1.provision(tenant);
    });
    let active = 0;
    let maxActive = 0;
    const v2 = createSchemaPerTenant({
      db,
      controlSchema: 'ctl_pglite',
      migrations: {
        ...leakRecordsMigrations,
        '002_more': {
          up: async (migrationDb: Kysely<any>) => {
            active += 1;
            maxActive = Math.max(maxActive, active);
            await migrationDb.schema.alterTable('leak_records').addColumn('note', 'text').execute();
            active -= 1;
          },
        },
      },
    });
    await expect(asSystem(() => v2.migrateAllTenants({ concurrency: 4 }))).resolves.toMatchObject({ migrated: 3, complete: true });
    expect(maxActive).toBe(1);
    await runWithTenant('tnt_pgl_b', () => v2.db.insertInto('leak_records').values({ id: '1', value: 'b', note: 'n' }).execute());
    await expect(runWithTenant('tnt_pgl_a', () => v2.db.selectFrom('leak_records').selectAll().execute())).resolves.toEqual([]);
    const { rows } = await sql<{ search_path: string }>`show search_path`.execute(db);
    expect(initialSearchPath).toBe('public');
    expect(rows[0]?.search_path).toBe(initialSearchPath);
    await expect(asSystem(() => v2.migrateAllTenants())).resolves.toMatchObject({ migrated: 0, upToDate: 3 });
  });
});
