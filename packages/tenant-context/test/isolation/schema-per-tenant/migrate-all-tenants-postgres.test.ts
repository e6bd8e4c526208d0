import { runWithTenant } from '@tenantkit/tenant-context';
import {
  createSchemaPerTenant,
  formatTenantSchemaMigrationProgress,
  type SchemaPerTenant,
  type TenantSchemaMigrationProgress,
} from '@tenantkit/tenant-context/kysely';
import { createTemporaryPostgresDatabase, describeWithService, type TemporaryDatabase } from '@tenantkit/test-utils';
import { Kysely, PostgresDialect, sql, type Migration } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listOwnedTenantIds } from '../../../src/isolation/schema-per-tenant/tenant-schema-ownership.js';
import { asSystem, gate, leakRecordsMigrations, tablesOf, waitFor } from './schema-per-tenant-fixtures.js';

await describeWithService('postgres', 'schema-per-tenant migrateAllTenants on PostgreSQL', () => {
  let database: TemporaryDatabase;
  let db: Kysely<any>;
  const instances: Kysely<any>[] = [];

  function connect(options: pg.PoolConfig = {}): Kysely<any> {
    const pool = new pg.Pool({ connectionString: database.url, max: 6, ...options });
    // The crash test terminates backends: idle clients report it to the pool, checked-out
    // ones (a Migrator holding its connection) to themselves.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
    const instance = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
    instances.push(instance);
    return instance;
  }

  beforeAll(async () => {
    database = await createTemporaryPostgresDatabase();
    db = connect();
  });

  afterAll(async () => {
    for (const instance of instances) await instance.destroy();
    await database?.drop();
  });

  /** Provisions `count` tenants with the first migration only, in a control schema of their own. */
  async function fleet(controlSchema: string, count: number): Promise<string[]> {
    const tenants = Array.from({ length: count }, (_, index) => `tnt_${controlSchema}_${String(index).padStart(2, '0')}`);
    const v1 = createSchemaPerTenant({ db, controlSchema, migrations: leakRecordsMigrations });
    await asSystem(async () => {
      for (const tenant of tenants) await v1.provision(tenant);
    });
    return tenants;
  }

  function release(controlSchema: string, up: (migrationDb: Kysely<any>, tenantId: string) => Promise<void>): SchemaPerTenant {
    return createSchemaPerTenant({
      db,
      controlSchema,
      migrations: ({ tenantId }) => ({
        ...leakRecordsMigrations,
        '002_release': { up: (migrationDb: Kysely<any>) => up(migrationDb, tenantId) } satisfies Migration,
      }),
    });
  }

  async function appliedIn(schema: string): Promise<string[]> {
    const rows = await db.withSchema(schema).selectFrom('kysely_migration').select('name').orderBy('name').execute();
    return rows.map((row) => String(row.name));
  }

  it('needs the system scope and validates its options', async () => {
    const schemas = createSchemaPerTenant({ db, controlSchema: 'ctl_opts', migrations: leakRecordsMigrations });
    await expect(schemas.migrateAllTenants()).rejects.toMatchObject({ code: 'TENANT_SCOPE_REQUIRED' });
    await expect(runWithTenant('tnt_a', () => schemas.migrateAllTenants())).rejects.toMatchObject({ code: 'TENANT_SCOPE_CONFLICT' });
    const invalid: unknown[] = [
      { concurrency: 0 },
      { concurrency: 65 },
      { concurrency: 1.5 },
      { tenants: 'tnt_a' },
      { tenants: 42 },
      { onProgress: 'log' },
      { signal: {} },
      { stopOnError: 'yes' },
      { resume: 'run_1' },
    ];
    for (const options of invalid) {
      await expect(asSystem(() => schemas.migrateAllTenants(options as never)), JSON.stringify(options)).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
    }
  });

  it('migrates every provisioned tenant with at most `concurrency` at once, and reports progress', async () => {
    const tenants = await fleet('ctl_bound', 9);
    let active = 0;
    let maxActive = 0;
    let entered = 0;
    const schemas = release('ctl_bound', async (migrationDb) => {
      active += 1;
      entered += 1;
      maxActive = Math.max(maxActive, active);
      try {
        // The first two wait for each other, so the run must be parallel to get past them;
        // the others take a little while, so the bound is put to the test.
        if (entered <= 2) await waitFor(() => entered >= 2, 'two tenants migrating at once');
        else await new Promise((resolve) => setTimeout(resolve, 15));
        await migrationDb.schema.createTable('release_marker').addColumn('id', 'integer').execute();
      } finally {
        active -= 1;
      }
    });
    const events: TenantSchemaMigrationProgress[] = [];
    const report = await asSystem(() => schemas.migrateAllTenants({ concurrency: 3, onProgress: (event) => void events.push(event) }));

    expect(report).toEqual({ migrated: 9, upToDate: 0, failed: 0, failures: [], complete: true });
    expect(maxActive).toBeGreaterThanOrEqual(2);
    expect(maxActive).toBeLessThanOrEqual(3);
    for (const tenant of tenants) expect(await appliedIn(`t_${tenant}`)).toEqual(['001_leak_records', '002_release']);
    expect(events.filter((event) => event.type === 'tenant-started').map((event) => event.tenantId).sort()).toEqual(tenants);
    const migrated = events.filter((event) => event.type === 'tenant-migrated');
    expect(migrated).toHaveLength(9);
    expect(migrated[0]).toMatchObject({ applied: ['002_release'], counts: { done: 1, total: 9, migrated: 1 } });
    expect(events.at(-1)?.counts).toEqual({ started: 9, done: 9, migrated: 9, upToDate: 0, failed: 0, total: 9 });
    // Never more started-but-unfinished tenants than the bound, as the events tell it too.
    expect(Math.max(...events.map((event) => event.counts.started - event.counts.done))).toBeLessThanOrEqual(3);
    const line = formatTenantSchemaMigrationProgress(migrated[0] as TenantSchemaMigrationProgress);
    expect(line).toMatch(/^\[1\/9\] tnt_ctl_bound_\d\d \(t_tnt_ctl_bound_\d\d\): migrated 002_release$/);

    // A second run finds nothing to do and locks nothing.
    const again: TenantSchemaMigrationProgress[] = [];
    await expect(asSystem(() => schemas.migrateAllTenants({ onProgress: (event) => void again.push(event) }))).resolves.toMatchObject({
      migrated: 0,
      upToDate: 9,
    });
    expect(formatTenantSchemaMigrationProgress(again.at(-1) as TenantSchemaMigrationProgress)).toMatch(/^\[9\/9\] .+: up to date$/);

    // The default source pages through the ownership table; small pages lose and repeat nothing.
    const paged: string[] = [];
    for await (const tenantId of listOwnedTenantIds(db, 'ctl_bound', 2)) paged.push(tenantId);
    expect(paged).toEqual(tenants);
  });

  it('records a failing tenant, migrates the others, and retries only that one on the next run', async () => {
    const tenants = await fleet('ctl_fail', 5);
    const broken = tenants[2] as string;
    let failNext = true;
    const runs = new Map<string, number>();
    const schemas = release('ctl_fail', async (migrationDb, tenantId) => {
      runs.set(tenantId, (runs.get(tenantId) ?? 0) + 1);
      await migrationDb.schema.createTable('release_marker').addColumn('id', 'integer').execute();
      if (tenantId === broken && failNext) {
        failNext = false;
        throw new Error('disk full');
      }
    });
    const events: TenantSchemaMigrationProgress[] = [];
    const error = await asSystem(() => schemas.migrateAllTenants({ concurrency: 2, onProgress: (event) => void events.push(event) })).catch(
      (reason: unknown) => reason,
    );
    expect(error).toMatchObject({
      code: 'TENANT_MIGRATION_FAILED',
      message: expect.stringContaining(broken),
      details: {
        migrated: 4,
        upToDate: 0,
        failed: 1,
        complete: true,
        failures: [{ tenantId: broken, schema: `t_${broken}`, migration: '002_release', code: 'TENANT_MIGRATION_FAILED' }],
      },
      cause: { code: 'TENANT_MIGRATION_FAILED', cause: expect.objectContaining({ message: 'disk full' }) },
    });
    const failed = events.find((event) => event.type === 'tenant-failed');
    expect(failed).toMatchObject({ tenantId: broken, error: { code: 'TENANT_MIGRATION_FAILED' } });
    expect(formatTenantSchemaMigrationProgress(failed as TenantSchemaMigrationProgress)).toContain('FAILED (TENANT_MIGRATION_FAILED)');
    expect(formatTenantSchemaMigrationProgress(failed as TenantSchemaMigrationProgress)).toContain(': disk full');
    expect(await appliedIn(`t_${broken}`)).toEqual(['001_leak_records']);
    expect(await tablesOf(db, `t_${broken}`)).not.toContain('release_marker');

    const retry: TenantSchemaMigrationProgress[] = [];
    await expect(asSystem(() => schemas.migrateAllTenants({ onProgress: (event) => void retry.push(event) }))).resolves.toMatchObject({
      migrated: 1,
      upToDate: 4,
      complete: true,
    });
    expect(retry.filter((event) => event.type === 'tenant-migrated').map((event) => event.tenantId)).toEqual([broken]);
    for (const tenant of tenants) expect(runs.get(tenant)).toBe(tenant === broken ? 2 : 1);
  });

  it('stops starting tenants after the first failure with stopOnError', async () => {
    const tenants = await fleet('ctl_stop', 4);
    const schemas = release('ctl_stop', async (_migrationDb, tenantId) => {
      if (tenantId === tenants[0]) throw new Error('first tenant breaks');
    });
    await expect(asSystem(() => schemas.migrateAllTenants({ concurrency: 1, stopOnError: true }))).rejects.toMatchObject({
      code: 'TENANT_MIGRATION_FAILED',
      details: { migrated: 0, failed: 1, complete: false, stoppedBy: 'error', failures: [{ tenantId: tenants[0] }] },
    });
    for (const tenant of tenants) expect(await appliedIn(`t_${tenant}`)).toEqual(['001_leak_records']);
  });

  it('resumes an aborted run: finished tenants are skipped, the rest migrated', async () => {
    const tenants = await fleet('ctl_abort', 6);
    const runs = new Map<string, number>();
    const schemas = release('ctl_abort', async (migrationDb, tenantId) => {
      runs.set(tenantId, (runs.get(tenantId) ?? 0) + 1);
      await migrationDb.schema.createTable('release_marker').addColumn('id', 'integer').execute();
    });
    const controller = new AbortController();
    const error = await asSystem(() =>
      schemas.migrateAllTenants({
        concurrency: 1,
        signal: controller.signal,
        onProgress: (event) => {
          if (event.counts.done === 2) controller.abort(new Error('deploy cancelled'));
        },
      }),
    ).catch((reason: unknown) => reason);
    expect(error).toMatchObject({
      code: 'TENANT_MIGRATION_FAILED',
      details: { migrated: 2, complete: false, stoppedBy: 'abort' },
      cause: expect.objectContaining({ message: 'deploy cancelled' }),
    });
    expect([...runs.keys()]).toEqual(tenants.slice(0, 2));

    const resumed: TenantSchemaMigrationProgress[] = [];
    await expect(asSystem(() => schemas.migrateAllTenants({ onProgress: (event) => void resumed.push(event) }))).resolves.toMatchObject({
      migrated: 4,
      upToDate: 2,
    });
    expect(resumed.filter((event) => event.type === 'tenant-up-to-date').map((event) => event.tenantId).sort()).toEqual(tenants.slice(0, 2).sort());
    for (const tenant of tenants) expect(runs.get(tenant)).toBe(1);
    // An already aborted signal starts nothing.
    await expect(asSystem(() => schemas.migrateAllTenants({ signal: AbortSignal.abort() }))).rejects.toMatchObject({
      details: { migrated: 0, upToDate: 0, stoppedBy: 'abort' },
    });
  });

  it('survives a crash mid-run: the cut-off tenants were rolled back, a new run finishes the job', async () => {
    const tenants = await fleet('ctl_crash', 6);
    const victim = tenants[3] as string;
    const admin = connect();
    const crashing = connect({ application_name: 'tenantkit-crash-test', max: 3 });
    const holdVictim = gate();
    let victimReached = false;
    const completed: string[] = [];
    const up = async (migrationDb: Kysely<any>, tenantId: string) => {
      // Two statements, so a half-applied migration would show.
      await migrationDb.schema.createTable('release_a').addColumn('id', 'integer').execute();
      if (tenantId === victim && !victimReached) {
        victimReached = true;
        await holdVictim.promise;
      }
      await migrationDb.schema.createTable('release_b').addColumn('id', 'integer').execute();
      completed.push(tenantId);
    };
    const migrationsOf = ({ tenantId }: { tenantId: string }) => ({
      ...leakRecordsMigrations,
      '002_release': { up: (migrationDb: Kysely<any>) => up(migrationDb, tenantId) },
    });
    const dying = createSchemaPerTenant({ db: crashing, controlSchema: 'ctl_crash', migrations: migrationsOf });
    const controller = new AbortController();
    const run = asSystem(() => dying.migrateAllTenants({ concurrency: 2, signal: controller.signal })).catch((reason: unknown) => reason);

    await waitFor(() => victimReached, 'the run to reach the victim tenant');
    // What a killed process looks like to Postgres: its sessions end mid-transaction. The
    // abort stands in for the process no longer starting anything.
    controller.abort(new Error('process killed'));
    await sql`select pg_terminate_backend(pid) from pg_catalog.pg_stat_activity where application_name = 'tenantkit-crash-test'`.execute(admin);
    holdVictim.open();
    await expect(run).resolves.toMatchObject({ code: 'TENANT_MIGRATION_FAILED', details: { complete: false } });

    // Nothing of the cut-off migration is left: both tables or neither, and no record.
    expect(await tablesOf(db, `t_${victim}`)).toEqual(['kysely_migration', 'kysely_migration_lock', 'leak_records']);
    expect(await appliedIn(`t_${victim}`)).toEqual(['001_leak_records']);
    const finishedBeforeCrash = [...completed];
    expect(finishedBeforeCrash).not.toContain(victim);

    // Another process picks it up; the advisory locks of the dead sessions are gone with them.
    const successor = createSchemaPerTenant({ db: connect(), controlSchema: 'ctl_crash', migrations: migrationsOf });
    const events: TenantSchemaMigrationProgress[] = [];
    const report = await asSystem(() => successor.migrateAllTenants({ concurrency: 2, onProgress: (event) => void events.push(event) }));
    expect(report).toMatchObject({ failed: 0, complete: true });
    const upToDate = events.filter((event) => event.type === 'tenant-up-to-date').map((event) => event.tenantId);
    const migratedNow = events.filter((event) => event.type === 'tenant-migrated').map((event) => event.tenantId);
    expect(migratedNow).toContain(victim);
    expect([...upToDate, ...migratedNow].sort()).toEqual(tenants);
    // Tenants that committed before the crash are skipped: their migration body ran once in all.
    for (const tenant of upToDate) expect(completed.filter((name) => name === tenant)).toHaveLength(1);
    for (const tenant of tenants) {
      expect(await appliedIn(`t_${tenant}`)).toEqual(['001_leak_records', '002_release']);
      expect(await tablesOf(db, `t_${tenant}`)).toEqual(['kysely_migration', 'kysely_migration_lock', 'leak_records', 'release_a', 'release_b']);
    }
    expect(upToDate.every((tenant) => finishedBeforeCrash.includes(tenant))).toBe(true);
  });

  it('takes tenants from any iterable and records malformed or unprovisioned ones as failures', async () => {
    const tenants = await fleet('ctl_iter', 2);
    const schemas = release('ctl_iter', async () => undefined);
    async function* source() {
      yield tenants[0] as string;
      yield 'bad id!';
      yield 'tnt_not_provisioned';
      yield tenants[1] as string;
    }
    const events: TenantSchemaMigrationProgress[] = [];
    await expect(asSystem(() => schemas.migrateAllTenants({ tenants: source(), onProgress: (event) => void events.push(event) }))).rejects.toMatchObject({
      code: 'TENANT_MIGRATION_FAILED',
      details: {
        migrated: 2,
        failed: 2,
        complete: true,
        failures: [
          { tenantId: 'bad id!', code: 'TENANT_IDENTIFIER_INVALID' },
          { tenantId: 'tnt_not_provisioned', code: 'TENANT_NOT_FOUND' },
        ],
      },
      cause: expect.any(AggregateError),
    });
    expect(events.every((event) => event.counts.total === null)).toBe(true);

    // An array counts as known size; a failing source stops the run with a coded error.
    await expect(asSystem(() => schemas.migrateAllTenants({ tenants: [...tenants] }))).resolves.toMatchObject({ upToDate: 2 });
    async function* failingSource() {
      yield tenants[0] as string;
      throw new Error('registry unavailable');
    }
    await expect(asSystem(() => schemas.migrateAllTenants({ tenants: failingSource() }))).rejects.toMatchObject({
      code: 'TENANT_MIGRATION_FAILED',
      details: { upToDate: 1, complete: false, stoppedBy: 'source' },
      cause: expect.objectContaining({ message: 'registry unavailable' }),
    });
  });

  it('ignores a progress listener that throws', async () => {
    await fleet('ctl_listener', 2);
    const schemas = release('ctl_listener', async () => undefined);
    await expect(
      asSystem(() =>
        schemas.migrateAllTenants({
          onProgress: () => {
            throw new Error('logger broke');
          },
        }),
      ),
    ).resolves.toMatchObject({ migrated: 2, complete: true });
  });
});
