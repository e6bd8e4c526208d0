import { runWithTenant } from '@tenantkit/tenant-context';
import { createSchemaPerTenant, defaultTenantSchemaName, type SchemaPerTenant } from '@tenantkit/tenant-context/kysely';
import { createTemporaryPostgresDatabase, describeWithService, type TemporaryDatabase } from '@tenantkit/test-utils';
import { Kysely, PostgresDialect, sql, type Migration } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asSystem, gate, leakRecordsMigrations, schemasStartingWith, tablesOf, waitFor } from './schema-per-tenant-fixtures.js';

await describeWithService('postgres', 'schema-per-tenant on PostgreSQL', () => {
  let database: TemporaryDatabase;
  let db: Kysely<any>;
  const instances: Kysely<any>[] = [];

  function connect(options: pg.PoolConfig = {}): Kysely<any> {
    const pool = new pg.Pool({ connectionString: database.url, max: 6, ...options });
    // Idle clients whose backend a test terminates report it here; that is the point of such tests.
    pool.on('error', () => undefined);
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

  async function appliedIn(schema: string): Promise<string[]> {
    const rows = await db.withSchema(schema).selectFrom('kysely_migration').select('name').orderBy('name').execute();
    return rows.map((row) => String(row.name));
  }

  describe('provisioning and routing', () => {
    let schemas: SchemaPerTenant;
    beforeAll(() => {
      schemas = createSchemaPerTenant({ db, migrations: leakRecordsMigrations });
    });

    it('creates the schema, records its owner and runs the migrations in it; again is a no-op', async () => {
      const first = await asSystem(() => schemas.provision('tnt_prov'));
      expect(first).toEqual({ tenantId: 'tnt_prov', schema: 't_tnt_prov', created: true, applied: ['001_leak_records'] });
      expect(await tablesOf(db, 't_tnt_prov')).toEqual(['kysely_migration', 'kysely_migration_lock', 'leak_records']);
      expect(await tablesOf(db, 'public')).toEqual([]);
      const owners = await db.withSchema('tenantkit').selectFrom('tenant_schemas').select(['tenant_id', 'schema_name']).execute();
      expect(owners).toContainEqual({ tenant_id: 'tnt_prov', schema_name: 't_tnt_prov' });

      const again = await asSystem(() => schemas.provision('tnt_prov'));
      expect(again).toEqual({ tenantId: 'tnt_prov', schema: 't_tnt_prov', created: false, applied: [] });
      expect(await appliedIn('t_tnt_prov')).toEqual(['001_leak_records']);
      await expect(asSystem(() => schemas.migrationStatus('tnt_prov'))).resolves.toEqual({
        tenantId: 'tnt_prov',
        schema: 't_tnt_prov',
        provisioned: true,
        applied: ['001_leak_records'],
        pending: [],
        unknown: [],
      });
    });

    it("keeps two tenants' rows apart through the scope-routed db and forTenant()", async () => {
      await asSystem(() => Promise.all([schemas.provision('tnt_red'), schemas.provision('tnt_blue')]));
      await runWithTenant('tnt_red', () => schemas.db.insertInto('leak_records').values({ id: 'r1', value: 'red' }).execute());
      await runWithTenant('tnt_blue', () => schemas.db.insertInto('leak_records').values({ id: 'r1', value: 'blue' }).execute());
      // The same id exists in both: a primary key per schema, not one shared table.
      await expect(runWithTenant('tnt_red', () => schemas.db.selectFrom('leak_records').selectAll().execute())).resolves.toEqual([
        { id: 'r1', value: 'red' },
      ]);
      await expect(runWithTenant('tnt_blue', () => schemas.forTenant().selectFrom('leak_records').selectAll().execute())).resolves.toEqual([
        { id: 'r1', value: 'blue' },
      ]);
      await expect(asSystem(() => schemas.forTenant('tnt_red').selectFrom('leak_records').select('value').execute())).resolves.toEqual([
        { value: 'red' },
      ]);
      // A transaction opened in a tenant's scope stays in its schema.
      await runWithTenant('tnt_red', () =>
        schemas.db.transaction().execute(async (trx) => {
          await trx.updateTable('leak_records').set({ value: 'red2' }).where('id', '=', 'r1').execute();
        }),
      );
      expect(await db.withSchema('t_tnt_red').selectFrom('leak_records').select('value').execute()).toEqual([{ value: 'red2' }]);
      expect(await db.withSchema('t_tnt_blue').selectFrom('leak_records').select('value').execute()).toEqual([{ value: 'blue' }]);
    });

    it('fails closed: no scope, the system scope or another tenant get coded errors and run nothing', async () => {
      await expect(schemas.db.selectFrom('leak_records').selectAll().execute()).rejects.toMatchObject({ code: 'TENANT_SCOPE_REQUIRED' });
      await expect(asSystem(() => schemas.db.selectFrom('leak_records').selectAll().execute())).rejects.toMatchObject({
        code: 'TENANT_SCOPE_REQUIRED',
      });
      expect(() => schemas.forTenant()).toThrow(expect.objectContaining({ code: 'TENANT_SCOPE_REQUIRED' }));
      expect(() => asSystem(() => schemas.forTenant())).toThrow(expect.objectContaining({ code: 'TENANT_SCOPE_REQUIRED' }));
      expect(() => schemas.forTenant('tnt_red')).toThrow(expect.objectContaining({ code: 'TENANT_SCOPE_REQUIRED' }));
      expect(() => runWithTenant('tnt_blue', () => schemas.forTenant('tnt_red'))).toThrow(expect.objectContaining({ code: 'TENANT_SCOPE_CONFLICT' }));
      await expect(schemas.provision('tnt_unscoped')).rejects.toMatchObject({ code: 'TENANT_SCOPE_REQUIRED' });
      await expect(runWithTenant('tnt_blue', () => schemas.drop('tnt_red'))).rejects.toMatchObject({ code: 'TENANT_SCOPE_CONFLICT' });
      await expect(schemas.migrate('tnt_red')).rejects.toMatchObject({ code: 'TENANT_SCOPE_REQUIRED' });
      await expect(schemas.migrationStatus('tnt_red')).rejects.toMatchObject({ code: 'TENANT_SCOPE_REQUIRED' });
      await expect(asSystem(() => schemas.provision('../etc'))).rejects.toMatchObject({ code: 'TENANT_IDENTIFIER_INVALID' });
      expect(await schemasStartingWith(db, 't_tnt_unscoped')).toEqual([]);
      // A tenant may provision itself (lifecycle steps run in its scope).
      await expect(runWithTenant('tnt_self', () => schemas.provision('tnt_self'))).resolves.toMatchObject({ created: true });
    });

    it("never touches a pooled connection's search_path", async () => {
      const single = connect({ max: 1 });
      const pooled = createSchemaPerTenant({ db: single, migrations: leakRecordsMigrations });
      const showSearchPath = async () => (await sql<{ search_path: string }>`show search_path`.execute(single)).rows[0]?.search_path;
      const before = await showSearchPath();
      expect(before).toBe('"$user", public');

      await asSystem(() => pooled.provision('tnt_path'));
      await runWithTenant('tnt_path', async () => {
        await pooled.db.insertInto('leak_records').values({ id: 'p', value: 'v' }).execute();
        // Not even a transaction-local setting: the query text carries the schema.
        await pooled.db.transaction().execute(async (trx) => {
          await trx.selectFrom('leak_records').selectAll().execute();
          const inside = await sql<{ path: string }>`select current_setting('search_path') as path`.execute(trx);
          expect(inside.rows[0]?.path).toBe(before);
        });
      });
      await asSystem(() => pooled.forTenant('tnt_path').selectFrom('leak_records').selectAll().execute());
      await asSystem(() => pooled.migrate('tnt_path'));
      // The one connection of the pool served all of it and is back as it was.
      expect(await showSearchPath()).toBe(before);
      // The migration lock's wait limit was statement-local too.
      expect((await sql<{ lock_timeout: string }>`show lock_timeout`.execute(single)).rows[0]?.lock_timeout).toBe('0');
      const unqualified = await sql<{ id: string }>`select count(*)::int as id from pg_catalog.pg_tables where tablename = 'leak_records' and schemaname = any (current_schemas(false))`.execute(single);
      expect(unqualified.rows[0]?.id).toBe(0);
    });

    it('does not qualify raw SQL: unqualified names resolve through search_path, qualified ones do not', async () => {
      await asSystem(() => schemas.provision('tnt_raw'));
      await runWithTenant('tnt_raw', () => schemas.db.insertInto('leak_records').values({ id: 'mine', value: 'tenant row' }).execute());
      const unqualified = () => runWithTenant('tnt_raw', () => sql`select id, value from leak_records`.execute(schemas.db));
      await expect(unqualified()).rejects.toMatchObject({ code: '42P01' });
      await expect(
        runWithTenant('tnt_raw', () => sql`select id, value from ${sql.table('leak_records')}`.execute(schemas.db)),
      ).rejects.toMatchObject({ code: '42P01' });
      // With a table of that name in public, unqualified raw SQL reads it instead: the pitfall.
      await db.schema.createTable('leak_records').addColumn('id', 'text').addColumn('value', 'text').execute();
      try {
        await db.insertInto('leak_records').values({ id: 'decoy', value: 'public row' }).execute();
        await expect(unqualified()).resolves.toMatchObject({ rows: [{ id: 'decoy', value: 'public row' }] });
        const qualified = await runWithTenant('tnt_raw', () =>
          sql`select id, value from ${sql.id(schemas.schemaNameOf('tnt_raw'), 'leak_records')}`.execute(schemas.db),
        );
        expect(qualified.rows).toEqual([{ id: 'mine', value: 'tenant row' }]);
      } finally {
        await db.schema.dropTable('leak_records').execute();
      }
    });

    it('hands migrations a schema-bound db and, with the factory form, the schema name for raw SQL', async () => {
      const seen: Array<{ schema: string; tenantId: string }> = [];
      const withRawSql = createSchemaPerTenant({
        db,
        controlSchema: 'ctl_raw',
        migrations: (context) => {
          seen.push(context);
          return {
            '001_notes': {
              up: async (migrationDb: Kysely<any>) => {
                await migrationDb.schema.createTable('notes').addColumn('id', 'text', (column) => column.primaryKey()).execute();
                await sql`create index notes_id on ${sql.id(context.schema, 'notes')} (id)`.execute(migrationDb);
                // Unqualified raw SQL in a migration lands in public, not in the tenant schema.
                await sql`create table if not exists raw_unqualified_marker (id int)`.execute(migrationDb);
              },
            },
          };
        },
      });
      try {
        await asSystem(() => withRawSql.provision('tnt_notes'));
        expect(seen).toContainEqual({ schema: 't_tnt_notes', tenantId: 'tnt_notes' });
        expect(await tablesOf(db, 't_tnt_notes')).toEqual(['kysely_migration', 'kysely_migration_lock', 'notes']);
        expect(await tablesOf(db, 'public')).toEqual(['raw_unqualified_marker']);
        const { rows } = await sql<{ schema: string }>`select schemaname as schema from pg_catalog.pg_indexes where indexname = 'notes_id'`.execute(db);
        expect(rows).toEqual([{ schema: 't_tnt_notes' }]);
      } finally {
        await sql`drop table if exists raw_unqualified_marker`.execute(db);
      }
    });
  });

  describe('schema names', () => {
    it('maps ids injectively: case is kept, long ids are hashed within 63 bytes', async () => {
      const schemas = createSchemaPerTenant({ db, controlSchema: 'ctl_names', migrations: leakRecordsMigrations });
      const long = `tnt_${'x'.repeat(60)}`;
      await asSystem(() => Promise.all([schemas.provision('Acme'), schemas.provision('acme'), schemas.provision(long)]));
      expect(await schemasStartingWith(db, 't_Acme')).toEqual(['t_Acme']);
      expect(await schemasStartingWith(db, 't_acme')).toEqual(['t_acme']);
      const longSchema = defaultTenantSchemaName(long);
      expect(Buffer.byteLength(longSchema)).toBe(63);
      expect(await tablesOf(db, longSchema)).toContain('leak_records');
      await runWithTenant('Acme', () => schemas.db.insertInto('leak_records').values({ id: '1', value: 'upper' }).execute());
      await expect(runWithTenant('acme', () => schemas.db.selectFrom('leak_records').selectAll().execute())).resolves.toEqual([]);
    });

    it('refuses unusable names from a custom schemaName with CONFIGURATION_INVALID', async () => {
      const bad = ['pg_tenant', 'public', 'PUBLIC', 'information_schema', 'ctl_bad', 'a'.repeat(64), `${'é'.repeat(32)}`, 'has space', '1starts_with_digit', ''];
      for (const name of bad) {
        const schemas = createSchemaPerTenant({ db, controlSchema: 'ctl_bad', migrations: leakRecordsMigrations, schemaName: () => name });
        expect(() => schemas.schemaNameOf('tnt_a'), name).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
        await expect(asSystem(() => schemas.provision('tnt_a')), name).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
        expect(() => runWithTenant('tnt_a', () => schemas.forTenant()), name).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
        await expect(runWithTenant('tnt_a', () => schemas.db.selectFrom('leak_records').selectAll().execute()), name).rejects.toMatchObject({
          code: 'CONFIGURATION_INVALID',
        });
      }
      const throwing = createSchemaPerTenant({
        db,
        migrations: leakRecordsMigrations,
        schemaName: () => {
          throw new Error('naming service down');
        },
      });
      expect(() => throwing.schemaNameOf('tnt_a')).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID', cause: expect.any(Error) }));
      expect(await schemasStartingWith(db, 'pg_tenant')).toEqual([]);
    });

    it('refuses a second tenant mapped onto a schema another tenant owns, and schemas nobody owns', async () => {
      const lowerCasing = createSchemaPerTenant({
        db,
        controlSchema: 'ctl_collide',
        migrations: leakRecordsMigrations,
        schemaName: (tenantId) => `shared_${tenantId.toLowerCase()}`,
      });
      await asSystem(() => lowerCasing.provision('Globex'));
      await expect(asSystem(() => lowerCasing.provision('globex'))).rejects.toMatchObject({
        code: 'CONFIGURATION_INVALID',
        message: expect.stringContaining('owns'),
      });
      const owners = await db.withSchema('ctl_collide').selectFrom('tenant_schemas').select('tenant_id').execute();
      expect(owners).toEqual([{ tenant_id: 'Globex' }]);
      // Both at once: exactly one wins and the other is a collision — never "a schema nobody owns",
      // whichever of the loser's reads the winner's commit falls between (several rounds widen the race).
      for (const name of ['Initech', 'Hooli', 'Umbrella', 'Soylent', 'Cyberdyne']) {
        const results = await asSystem(() => Promise.allSettled([lowerCasing.provision(name), lowerCasing.provision(name.toUpperCase())]));
        expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
        expect(results.find((result) => result.status === 'rejected')).toMatchObject({ reason: { code: 'CONFIGURATION_INVALID' } });
      }

      // An existing schema that no tenant owns is never adopted (drop would destroy it).
      await db.schema.createSchema('t_tnt_squatted').execute();
      await db.schema.withSchema('t_tnt_squatted').createTable('precious').addColumn('id', 'integer').execute();
      const schemas = createSchemaPerTenant({ db, controlSchema: 'ctl_collide', migrations: leakRecordsMigrations });
      await expect(asSystem(() => schemas.provision('tnt_squatted'))).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
      await expect(asSystem(() => schemas.drop('tnt_squatted'))).resolves.toEqual({ tenantId: 'tnt_squatted', schema: null, dropped: false });
      expect(await tablesOf(db, 't_tnt_squatted')).toEqual(['precious']);
    });

    it('detects a schemaName that changed after tenants were provisioned', async () => {
      const before = createSchemaPerTenant({ db, controlSchema: 'ctl_drift', migrations: leakRecordsMigrations });
      await asSystem(() => before.provision('tnt_renamed'));
      const after = createSchemaPerTenant({ db, controlSchema: 'ctl_drift', migrations: leakRecordsMigrations, schemaName: (id) => `tenant_${id}` });
      await expect(asSystem(() => after.provision('tnt_renamed'))).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
      await expect(asSystem(() => after.migrate('tnt_renamed'))).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
      expect(await schemasStartingWith(db, 'tenant_tnt_renamed')).toEqual([]);
      // drop still removes what the tenant owns.
      await expect(asSystem(() => after.drop('tnt_renamed'))).resolves.toEqual({ tenantId: 'tnt_renamed', schema: 't_tnt_renamed', dropped: true });
    });
  });

  describe('drop', () => {
    it('drops the schema with its data and its ownership; idempotent; provision starts afresh', async () => {
      const schemas = createSchemaPerTenant({ db, controlSchema: 'ctl_drop', migrations: leakRecordsMigrations });
      await asSystem(() => schemas.provision('tnt_gone'));
      await runWithTenant('tnt_gone', () => schemas.db.insertInto('leak_records').values({ id: 'x', value: 'old' }).execute());
      await expect(asSystem(() => schemas.drop('tnt_gone'))).resolves.toEqual({ tenantId: 'tnt_gone', schema: 't_tnt_gone', dropped: true });
      expect(await schemasStartingWith(db, 't_tnt_gone')).toEqual([]);
      await expect(asSystem(() => schemas.drop('tnt_gone'))).resolves.toEqual({ tenantId: 'tnt_gone', schema: null, dropped: false });
      await expect(asSystem(() => schemas.drop('tnt_never'))).resolves.toEqual({ tenantId: 'tnt_never', schema: null, dropped: false });
      await expect(asSystem(() => schemas.migrate('tnt_gone'))).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
      await expect(runWithTenant('tnt_gone', () => schemas.db.selectFrom('leak_records').selectAll().execute())).rejects.toMatchObject({
        code: '42P01',
      });
      await expect(asSystem(() => schemas.migrationStatus('tnt_gone'))).resolves.toMatchObject({ provisioned: false, applied: [], pending: ['001_leak_records'] });

      await expect(asSystem(() => schemas.provision('tnt_gone'))).resolves.toMatchObject({ created: true });
      await expect(runWithTenant('tnt_gone', () => schemas.db.selectFrom('leak_records').selectAll().execute())).resolves.toEqual([]);
    });
  });

  describe('migrate', () => {
    const second: Record<string, Migration> = {
      ...leakRecordsMigrations,
      '002_leak_notes': {
        up: async (migrationDb) => {
          await migrationDb.schema.createTable('leak_notes').addColumn('id', 'text').execute();
        },
      },
    };

    it('applies new migrations, reports status, and refuses unprovisioned tenants', async () => {
      const v1 = createSchemaPerTenant({ db, controlSchema: 'ctl_mig', migrations: leakRecordsMigrations });
      const v2 = createSchemaPerTenant({ db, controlSchema: 'ctl_mig', migrations: second });
      await asSystem(() => v1.provision('tnt_mig'));
      await expect(asSystem(() => v2.migrationStatus('tnt_mig'))).resolves.toMatchObject({
        applied: ['001_leak_records'],
        pending: ['002_leak_notes'],
        unknown: [],
      });
      await expect(asSystem(() => v2.migrate('tnt_mig'))).resolves.toEqual({ tenantId: 'tnt_mig', schema: 't_tnt_mig', applied: ['002_leak_notes'] });
      await expect(asSystem(() => v2.migrate('tnt_mig'))).resolves.toMatchObject({ applied: [] });
      // Drift the other way: the schema has a migration this release does not ship.
      await expect(asSystem(() => v1.migrationStatus('tnt_mig'))).resolves.toMatchObject({ pending: [], unknown: ['002_leak_notes'] });
      await expect(asSystem(() => v1.migrate('tnt_mig'))).rejects.toMatchObject({ code: 'TENANT_MIGRATION_FAILED' });
      await expect(asSystem(() => v2.migrate('tnt_unknown'))).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
      expect(await schemasStartingWith(db, 't_tnt_unknown')).toEqual([]);
    });

    it('rolls back every pending migration of the tenant when one fails', async () => {
      const v1 = createSchemaPerTenant({ db, controlSchema: 'ctl_mig', migrations: {} });
      await asSystem(() => v1.provision('tnt_rollback'));
      const failing = createSchemaPerTenant({
        db,
        controlSchema: 'ctl_mig',
        migrations: {
          ...second,
          '003_broken': {
            up: async () => {
              throw new Error('broken migration');
            },
          },
        },
      });
      const error = await asSystem(() => failing.migrate('tnt_rollback')).catch((reason: unknown) => reason);
      expect(error).toMatchObject({
        code: 'TENANT_MIGRATION_FAILED',
        details: { tenantId: 'tnt_rollback', schema: 't_tnt_rollback', migration: '003_broken' },
        cause: expect.objectContaining({ message: 'broken migration' }),
      });
      // 001 and 002 ran in the same transaction and went with it.
      expect(await tablesOf(db, 't_tnt_rollback')).toEqual(['kysely_migration', 'kysely_migration_lock']);
      expect(await appliedIn('t_tnt_rollback')).toEqual([]);
    });

    it('fails with CONFIGURATION_INVALID when the migrations cannot be loaded', async () => {
      const broken = createSchemaPerTenant({
        db,
        controlSchema: 'ctl_mig',
        migrations: {
          getMigrations: async () => {
            throw new Error('migration folder missing');
          },
        },
      });
      await expect(asSystem(() => broken.provision('tnt_noload'))).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
      const malformed = createSchemaPerTenant({ db, controlSchema: 'ctl_mig', migrations: () => ({ '001': { down: async () => undefined } }) as never });
      await expect(asSystem(() => malformed.migrate('tnt_noload'))).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
    });

    it('lets two processes migrating one tenant take turns on its lock: the migration runs once', async () => {
      const admin = connect();
      await asSystem(() => createSchemaPerTenant({ db, controlSchema: 'ctl_lock', migrations: {} }).provision('tnt_locked'));
      let runs = 0;
      const waitingForTheLock = async () => {
        const { rows } = await sql<{ waiting: number }>`
          select count(*)::int as waiting from pg_catalog.pg_locks
          where locktype = 'advisory' and not granted and database = (select oid from pg_catalog.pg_database where datname = current_database())`.execute(admin);
        return (rows[0]?.waiting ?? 0) > 0;
      };
      const migrations: Record<string, Migration> = {
        '001_once': {
          up: async (migrationDb) => {
            runs += 1;
            // Hold the lock until the other process is seen queued behind it.
            await waitFor(waitingForTheLock, 'the second process to wait for the schema lock');
            await migrationDb.schema.createTable('once').addColumn('id', 'integer').execute();
          },
        },
      };
      const processA = createSchemaPerTenant({ db: connect({ max: 2 }), controlSchema: 'ctl_lock', migrations });
      const processB = createSchemaPerTenant({ db: connect({ max: 2 }), controlSchema: 'ctl_lock', migrations });
      const [a, b] = await asSystem(() => Promise.all([processA.migrate('tnt_locked'), processB.migrate('tnt_locked')]));
      expect(runs).toBe(1);
      expect([a.applied, b.applied].sort()).toEqual([[], ['001_once']]);
      expect(await appliedIn('t_tnt_locked')).toEqual(['001_once']);
    });

    it("migrates different tenants at the same time (a lock per schema, not Kysely's database-wide one)", async () => {
      const base = createSchemaPerTenant({ db, controlSchema: 'ctl_lock', migrations: {} });
      await asSystem(() => Promise.all([base.provision('tnt_par_a'), base.provision('tnt_par_b')]));
      let inside = 0;
      let together = false;
      const migrations: Record<string, Migration> = {
        '001_together': {
          up: async () => {
            inside += 1;
            // Serialized migrations would never meet here and time out.
            await waitFor(() => inside === 2, 'both tenants inside their migration at once');
            together = true;
          },
        },
      };
      const schemas = createSchemaPerTenant({ db, controlSchema: 'ctl_lock', migrations });
      await asSystem(() => Promise.all([schemas.migrate('tnt_par_a'), schemas.migrate('tnt_par_b')]));
      expect(together).toBe(true);
    });
  });
});
