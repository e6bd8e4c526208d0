import Database from 'better-sqlite3';
import { currentScope, requireTenantId, runAsSystem, runWithTenant } from '@tenantkit/tenant-context';
import { createRowLevelSecurityDatabase, enableTenantRowLevelSecurity, type RowLevelSecurityDatabase } from '@tenantkit/tenant-context/kysely';
import { describeWithService } from '@tenantkit/test-utils';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRowLevelSecurityFixture, type RowLevelSecurityFixture } from './postgres-rls-fixture.js';

interface ProjectsTable {
  tenant_id: string;
  id: string;
  name: string;
}
interface Database {
  projects: ProjectsTable;
}

const seed: readonly ProjectsTable[] = [
  { tenant_id: 'tnt_a', id: 'p1', name: 'a-one' },
  { tenant_id: 'tnt_a', id: 'p2', name: 'a-two' },
  { tenant_id: 'tnt_b', id: 'p1', name: 'b-one' },
  { tenant_id: 'tnt_b', id: 'p3', name: 'b-three' },
  { tenant_id: 'tnt_ab', id: 'p9', name: 'ab-nine' },
];

async function settingsOf(pool: pg.Pool): Promise<{ tenant: string | null; bypass: string | null }> {
  const { rows } = await pool.query<{ tenant: string | null; bypass: string | null }>(
    "select current_setting('app.tenant_id', true) as tenant, current_setting('app.tenantkit_bypass', true) as bypass",
  );
  return rows[0] ?? { tenant: 'missing', bypass: 'missing' };
}

/** Whether a setting is unset: NULL on a session that never saw it, '' after a transaction-local value ended. */
function isUnset(value: string | null): boolean {
  return value === null || value === '';
}

await describeWithService('postgres', 'Postgres row-level security database as the application role', () => {
  let fixture: RowLevelSecurityFixture;
  let appDb: Kysely<Database>;
  let appQueries: string[];
  let rls: RowLevelSecurityDatabase<Database>;
  // A second handle on a pool of ONE connection, so "the next borrower" is the same connection.
  let singlePool: pg.Pool;
  let singleRls: RowLevelSecurityDatabase<Database>;

  beforeAll(async () => {
    fixture = await createRowLevelSecurityFixture();
    const { admin, appRole } = fixture;
    await sql`create table projects (tenant_id text not null, id text not null, name text not null, primary key (tenant_id, id))`.execute(admin);
    await enableTenantRowLevelSecurity(admin, { table: 'projects', tenantColumnDefault: true, bypass: true });
    await sql`grant select, insert, update, delete on projects to ${sql.id(appRole)}`.execute(admin);
    const opened = fixture.openAppDb(5);
    appDb = opened.db as Kysely<Database>;
    appQueries = opened.queries;
    rls = createRowLevelSecurityDatabase(appDb);
    const single = fixture.openAppDb(1);
    singlePool = single.pool;
    singleRls = createRowLevelSecurityDatabase(single.db as Kysely<Database>);
  });

  afterAll(async () => {
    await fixture?.close();
  });

  beforeEach(async () => {
    await fixture.admin.deleteFrom('projects').execute();
    await fixture.admin.insertInto('projects').values([...seed]).execute();
  });

  const allRows = async (): Promise<ProjectsTable[]> =>
    fixture.admin.selectFrom('projects').selectAll().orderBy('tenant_id').orderBy('id').execute() as Promise<ProjectsTable[]>;

  describe('reads', () => {
    it('raw SQL without a WHERE returns only the scoped tenant rows', async () => {
      for (const tenant of ['tnt_a', 'tnt_b', 'tnt_ab']) {
        const { rows } = await runWithTenant(tenant, () => sql<ProjectsTable>`select * from projects`.execute(rls.db));
        expect(rows.length).toBe(seed.filter((row) => row.tenant_id === tenant).length);
        expect(rows.every((row) => row.tenant_id === tenant)).toBe(true);
      }
    });

    it('query-builder reads, counts and joins see the scoped tenant only', async () => {
      await runWithTenant('tnt_b', async () => {
        const rows = await rls.db.selectFrom('projects').selectAll().orderBy('id').execute();
        expect(rows.map((row) => `${row.tenant_id}/${row.id}`)).toEqual(['tnt_b/p1', 'tnt_b/p3']);
        const { count } = await rls.db.selectFrom('projects').select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
        expect(Number(count)).toBe(2);
        // A self-join by id would pair tnt_a/p1 with tnt_b/p1 without row-level security.
        const joined = await sql<{ left: string; right: string }>`
          select l.tenant_id as left, r.tenant_id as right from projects l join projects r on r.id = l.id`.execute(rls.db);
        expect(joined.rows.every((row) => row.left === 'tnt_b' && row.right === 'tnt_b')).toBe(true);
      });
    });

    it('the application role without a tenant setting sees no rows at all (fail closed)', async () => {
      const { rows } = await sql`select * from projects`.execute(appDb);
      expect(rows).toEqual([]);
      const { rows: settings } = await sql<{ tenant: string | null }>`select current_setting('app.tenant_id', true) as tenant`.execute(appDb);
      expect(isUnset(settings[0]?.tenant ?? null)).toBe(true);
      await expect(sql`insert into projects (tenant_id, id, name) values ('tnt_a', 'px', 'x')`.execute(appDb)).rejects.toMatchObject({
        code: '42501',
      });
      expect(await allRows()).toHaveLength(seed.length);
    });

    it('outside a tenant scope rejects with TENANT_SCOPE_REQUIRED and sends no SQL', async () => {
      appQueries.length = 0;
      await expect(sql`select * from projects`.execute(rls.db)).rejects.toMatchObject({ code: 'TENANT_SCOPE_REQUIRED' });
      await expect(rls.db.selectFrom('projects').selectAll().execute()).rejects.toMatchObject({ code: 'TENANT_SCOPE_REQUIRED' });
      await expect(rls.db.transaction().execute(async () => undefined)).rejects.toMatchObject({ code: 'TENANT_SCOPE_REQUIRED' });
      await expect(rls.unitOfWork(async () => undefined)).rejects.toMatchObject({ code: 'TENANT_SCOPE_REQUIRED' });
      await runAsSystem({ reason: 'test: the system scope is not a tenant' }, async () => {
        await expect(rls.db.selectFrom('projects').selectAll().execute()).rejects.toMatchObject({
          code: 'TENANT_SCOPE_REQUIRED',
          message: expect.stringContaining('systemUnitOfWork'),
        });
        await expect(rls.unitOfWork(async () => undefined)).rejects.toMatchObject({ code: 'TENANT_SCOPE_REQUIRED' });
      });
      expect(appQueries).toEqual([]);
    });
  });

  describe('writes', () => {
    it('an insert without tenant_id takes the tenant in scope', async () => {
      await runWithTenant('tnt_a', () => sql`insert into projects (id, name) values ('p7', 'seven')`.execute(rls.db));
      expect(await allRows()).toContainEqual({ tenant_id: 'tnt_a', id: 'p7', name: 'seven' });
    });

    it('inserting a row of another tenant rejects with TENANT_ISOLATION_VIOLATION and writes nothing', async () => {
      const attempt = runWithTenant('tnt_a', () =>
        rls.db.insertInto('projects').values({ tenant_id: 'tnt_b', id: 'p8', name: 'smuggled' }).execute(),
      );
      await expect(attempt).rejects.toMatchObject({ code: 'TENANT_ISOLATION_VIOLATION', cause: expect.objectContaining({ code: '42501' }) });
      expect((await allRows()).some((row) => row.id === 'p8')).toBe(false);
    });

    it('moving a row to another tenant is refused, and foreign rows cannot be updated or deleted', async () => {
      await runWithTenant('tnt_a', async () => {
        await expect(rls.db.updateTable('projects').set({ tenant_id: 'tnt_b' }).where('id', '=', 'p2').execute()).rejects.toMatchObject({
          code: 'TENANT_ISOLATION_VIOLATION',
        });
        // p3 exists only for tnt_b: invisible, so nothing to update or delete.
        const updated = await rls.db.updateTable('projects').set({ name: 'hijacked' }).where('id', '=', 'p3').executeTakeFirst();
        expect(updated.numUpdatedRows).toBe(0n);
        const deleted = await sql`delete from projects`.execute(rls.db);
        expect(deleted.numAffectedRows).toBe(2n);
      });
      const rows = await allRows();
      expect(rows.filter((row) => row.tenant_id === 'tnt_a')).toEqual([]);
      expect(rows.filter((row) => row.tenant_id !== 'tnt_a')).toEqual(seed.filter((row) => row.tenant_id !== 'tnt_a').sort((l, r) => l.tenant_id.localeCompare(r.tenant_id) || l.id.localeCompare(r.id)));
    });

    it('other driver errors pass through unchanged', async () => {
      await expect(
        runWithTenant('tnt_a', () => rls.db.insertInto('projects').values({ tenant_id: 'tnt_a', id: 'p1', name: 'duplicate' }).execute()),
      ).rejects.toMatchObject({ code: '23505' });
    });
  });

  describe('pooled connections', () => {
    it('the tenant setting never survives to the next borrower', async () => {
      await runWithTenant('tnt_a', () => singleRls.unitOfWork((trx) => trx.selectFrom('projects').selectAll().execute()));
      let settings = await settingsOf(singlePool);
      expect(isUnset(settings.tenant) && isUnset(settings.bypass)).toBe(true);

      await runWithTenant('tnt_b', () => singleRls.db.selectFrom('projects').selectAll().execute());
      settings = await settingsOf(singlePool);
      expect(isUnset(settings.tenant)).toBe(true);
      expect(singlePool.totalCount).toBe(1);
    });

    it('after a unit that throws, and after a failing statement, the connection is clean', async () => {
      await expect(
        runWithTenant('tnt_a', () =>
          singleRls.unitOfWork(async (trx) => {
            await trx.insertInto('projects').values({ id: 'p5', name: 'rolled back' } as ProjectsTable).execute();
            throw new Error('boom');
          }),
        ),
      ).rejects.toThrow('boom');
      expect(isUnset((await settingsOf(singlePool)).tenant)).toBe(true);
      expect((await allRows()).some((row) => row.id === 'p5')).toBe(false);

      await expect(runWithTenant('tnt_a', () => sql`select * from no_such_table`.execute(singleRls.db))).rejects.toMatchObject({ code: '42P01' });
      expect(isUnset((await settingsOf(singlePool)).tenant)).toBe(true);
      const { rows } = await runWithTenant('tnt_b', () => sql<ProjectsTable>`select * from projects`.execute(singleRls.db));
      expect(rows.every((row) => row.tenant_id === 'tnt_b')).toBe(true);
    });

    it('a stale session-level tenant or bypass left on the connection by someone else is overridden', async () => {
      const client = await singlePool.connect();
      try {
        await client.query("select set_config('app.tenant_id', 'tnt_b', false), set_config('app.tenantkit_bypass', 'on', false)");
      } finally {
        client.release();
      }
      try {
        const rows = await runWithTenant('tnt_a', () => singleRls.unitOfWork((trx) => trx.selectFrom('projects').selectAll().execute()));
        expect(rows.length).toBe(2);
        expect(rows.every((row) => row.tenant_id === 'tnt_a')).toBe(true);
        const plain = await runWithTenant('tnt_a', () => sql<ProjectsTable>`select * from projects`.execute(singleRls.db));
        expect(plain.rows.every((row) => row.tenant_id === 'tnt_a')).toBe(true);
      } finally {
        await singlePool.query('reset all');
      }
    });
  });

  describe('units of work', () => {
    it('commits when the work resolves and rolls back when it throws', async () => {
      await runWithTenant('tnt_a', async () => {
        const seen = await rls.unitOfWork(async (trx) => {
          await trx.insertInto('projects').values({ tenant_id: 'tnt_a', id: 'p10', name: 'ten' }).execute();
          return trx.selectFrom('projects').select('id').where('id', '=', 'p10').execute();
        });
        expect(seen).toEqual([{ id: 'p10' }]);
        await expect(
          rls.unitOfWork(async (trx) => {
            await trx.insertInto('projects').values({ tenant_id: 'tnt_a', id: 'p11', name: 'eleven' }).execute();
            throw new Error('abort');
          }),
        ).rejects.toThrow('abort');
      });
      const ids = (await allRows()).map((row) => row.id);
      expect(ids).toContain('p10');
      expect(ids).not.toContain('p11');
    });

    it('a nested unit is a savepoint: its rollback keeps the outer writes and the tenant', async () => {
      await runWithTenant('tnt_a', () =>
        rls.unitOfWork(async (trx) => {
          await trx.insertInto('projects').values({ tenant_id: 'tnt_a', id: 'outer', name: 'outer' }).execute();
          await expect(
            rls.unitOfWork(async (inner) => {
              expect(inner).toBe(trx);
              const { rows } = await sql<{ tenant: string }>`select current_setting('app.tenant_id') as tenant`.execute(inner);
              expect(rows[0]?.tenant).toBe('tnt_a');
              await inner.insertInto('projects').values({ tenant_id: 'tnt_a', id: 'inner', name: 'inner' }).execute();
              // A database error aborts the transaction; the savepoint recovers it.
              await sql`select * from no_such_table`.execute(inner);
            }),
          ).rejects.toMatchObject({ code: '42P01' });
          await rls.unitOfWork(async (inner) => {
            await inner.insertInto('projects').values({ tenant_id: 'tnt_a', id: 'after', name: 'after' }).execute();
          });
          const { rows } = await sql<{ tenant: string }>`select current_setting('app.tenant_id') as tenant`.execute(trx);
          expect(rows[0]?.tenant).toBe('tnt_a');
          const visible = await trx.selectFrom('projects').select('id').orderBy('id').execute();
          expect(visible.map((row) => row.id)).toEqual(['after', 'outer', 'p1', 'p2']);
        }),
      );
      const ids = (await allRows()).filter((row) => row.tenant_id === 'tnt_a').map((row) => row.id);
      expect(ids).toEqual(['after', 'outer', 'p1', 'p2']);
    });

    it('an outer failure rolls back the nested units that succeeded', async () => {
      await expect(
        runWithTenant('tnt_a', () =>
          rls.unitOfWork(async () => {
            await rls.unitOfWork((inner) => inner.insertInto('projects').values({ tenant_id: 'tnt_a', id: 'nested', name: 'n' }).execute());
            throw new Error('outer fails');
          }),
        ),
      ).rejects.toThrow('outer fails');
      expect((await allRows()).some((row) => row.id === 'nested')).toBe(false);
    });

    it('concurrent nested units of one parent run one after another', async () => {
      const events: string[] = [];
      await runWithTenant('tnt_a', () =>
        rls.unitOfWork(async () => {
          const nested = (name: string, fail: boolean) =>
            rls.unitOfWork(async (inner) => {
              events.push(`start ${name}`);
              await inner.insertInto('projects').values({ tenant_id: 'tnt_a', id: name, name }).execute();
              await sql`select pg_sleep(0.01)`.execute(inner);
              events.push(`end ${name}`);
              if (fail) throw new Error(`${name} fails`);
            });
          const results = await Promise.allSettled([nested('c1', false), nested('c2', true), nested('c3', false)]);
          expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
        }),
      );
      expect(events).toEqual(['start c1', 'end c1', 'start c2', 'end c2', 'start c3', 'end c3']);
      const ids = (await allRows()).map((row) => row.id);
      expect(ids).toEqual(expect.arrayContaining(['c1', 'c3']));
      expect(ids).not.toContain('c2');
    });

    it('switching tenant inside a unit is TENANT_SCOPE_CONFLICT and the setting stays the scope', async () => {
      await runWithTenant('tnt_a', () =>
        rls.unitOfWork(async (trx) => {
          expect(() => runWithTenant('tnt_b', () => rls.unitOfWork(async () => undefined))).toThrow(
            expect.objectContaining({ code: 'TENANT_SCOPE_CONFLICT' }),
          );
          // Re-entering the same tenant is fine and nests.
          await runWithTenant('tnt_a', () => rls.unitOfWork(async () => undefined));
          const { rows } = await sql<{ tenant: string }>`select current_setting('app.tenant_id') as tenant`.execute(trx);
          expect(rows[0]?.tenant).toBe(requireTenantId());
        }),
      );
    });

    it('a nested unit inside the system scope of a tenant unit is refused', async () => {
      await runWithTenant('tnt_a', () =>
        rls.unitOfWork(async () => {
          await runAsSystem({ reason: 'test' }, async () => {
            expect(currentScope()?.kind).toBe('system');
            await expect(rls.unitOfWork(async () => undefined)).rejects.toMatchObject({ code: 'TENANT_SCOPE_REQUIRED' });
          });
        }),
      );
    });

    it('honours isolation level and access mode, and nested units cannot change them', async () => {
      await runWithTenant('tnt_a', async () => {
        const level = await rls.unitOfWork({ isolationLevel: 'serializable' }, async (trx) => {
          await expect(rls.unitOfWork({ isolationLevel: 'read committed' }, async () => undefined)).rejects.toMatchObject({
            code: 'VALIDATION_FAILED',
          });
          await rls.unitOfWork({ isolationLevel: 'serializable' }, async () => undefined);
          const { rows } = await sql<{ transaction_isolation: string }>`show transaction_isolation`.execute(trx);
          return rows[0]?.transaction_isolation;
        });
        expect(level).toBe('serializable');
        await expect(
          rls.unitOfWork({ accessMode: 'read only' }, (trx) => trx.insertInto('projects').values({ tenant_id: 'tnt_a', id: 'ro', name: 'ro' }).execute()),
        ).rejects.toMatchObject({ code: '25006' });
        await expect(rls.unitOfWork({ isolationLevel: 'snapshot' as never }, async () => undefined)).rejects.toMatchObject({
          code: 'VALIDATION_FAILED',
        });
        await expect(rls.unitOfWork({} as never)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      });
    });

    it("Kysely's own transaction() and startTransaction() set the tenant, and their savepoints work", async () => {
      await runWithTenant('tnt_b', async () => {
        const tenant = await rls.db.transaction().execute(async (trx) => {
          const { rows } = await sql<{ tenant: string }>`select current_setting('app.tenant_id') as tenant`.execute(trx);
          return rows[0]?.tenant;
        });
        expect(tenant).toBe('tnt_b');
        const trx = await rls.db.startTransaction().execute();
        await trx.insertInto('projects').values({ tenant_id: 'tnt_b', id: 'kept', name: 'kept' }).execute();
        const withSavepoint = await trx.savepoint('before_drop').execute();
        await withSavepoint.insertInto('projects').values({ tenant_id: 'tnt_b', id: 'dropped', name: 'dropped' }).execute();
        await withSavepoint.rollbackToSavepoint('before_drop').execute();
        const visible = await trx.selectFrom('projects').select('tenant_id').distinct().execute();
        expect(visible).toEqual([{ tenant_id: 'tnt_b' }]);
        await trx.commit().execute();
      });
      const ids = (await allRows()).map((row) => row.id);
      expect(ids).toContain('kept');
      expect(ids).not.toContain('dropped');
    });

    it('refuses raw transaction-control statements, which would escape the scoping', async () => {
      await runWithTenant('tnt_a', async () => {
        await expect(sql`begin`.execute(rls.db)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
        await expect(sql`  COMMIT`.execute(rls.db)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
        await rls.unitOfWork(async (trx) => {
          await expect(sql`commit`.execute(trx)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
          await expect(sql`start transaction`.execute(trx)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
          // Savepoint commands are fine inside a transaction.
          await sql`savepoint manual`.execute(trx);
          await sql`rollback to savepoint manual`.execute(trx);
        });
      });
    });
  });

  describe('options', () => {
    it('refuses what is not a root Postgres Kysely instance with CONFIGURATION_INVALID', async () => {
      const sqlite = new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
      try {
        expect(() => createRowLevelSecurityDatabase(sqlite)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
      } finally {
        await sqlite.destroy();
      }
      expect(() => createRowLevelSecurityDatabase({} as never)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
      await runWithTenant('tnt_a', () =>
        rls.unitOfWork(async (trx) => {
          expect(() => createRowLevelSecurityDatabase(trx as never)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
        }),
      );
    });

    it('validates settings and the bypass hook up front', () => {
      for (const tenantSetting of ['tenant_id', 'App.Tenant', "app.x'; drop table projects; --", '', 'a.'.repeat(40) + 'b']) {
        expect(() => createRowLevelSecurityDatabase(appDb, { tenantSetting })).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
      }
      expect(() => createRowLevelSecurityDatabase(appDb, { bypass: {} as never })).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
      expect(() =>
        createRowLevelSecurityDatabase(appDb, { tenantSetting: 'app.same', bypass: { setting: 'app.same', onBypass: () => undefined } }),
      ).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
      expect(createRowLevelSecurityDatabase(appDb, { tenantSetting: 'my_app.tenant' }).db).toBeInstanceOf(Kysely);
    });

    it('destroying the handle destroys the wrapped instance and its pool', async () => {
      const opened = fixture.openAppDb(1);
      const handle = createRowLevelSecurityDatabase(opened.db as Kysely<Database>);
      await runWithTenant('tnt_a', () => handle.db.selectFrom('projects').selectAll().execute());
      await handle.db.destroy();
      await expect(sql`select 1`.execute(opened.db)).rejects.toThrow('driver has already been destroyed');
      expect(opened.pool.ended).toBe(true);
    });

    it('a custom tenant setting is the one set', async () => {
      const custom = createRowLevelSecurityDatabase(appDb, { tenantSetting: 'my_app.current_tenant' });
      const { rows } = await runWithTenant('tnt_x', () =>
        sql<{ custom: string; standard: string | null }>`select current_setting('my_app.current_tenant') as custom, current_setting('app.tenant_id', true) as standard`.execute(custom.db),
      );
      expect(rows[0]?.custom).toBe('tnt_x');
      expect(isUnset(rows[0]?.standard ?? null)).toBe(true);
    });
  });
});
