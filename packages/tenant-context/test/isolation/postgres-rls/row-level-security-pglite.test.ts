import { PGlite } from '@electric-sql/pglite';
import { runWithTenant } from '@tenantkit/tenant-context';
import {
  assertRowLevelSecurityEnforced,
  createRowLevelSecurityDatabase,
  enableTenantRowLevelSecurity,
  type RowLevelSecurityDatabase,
} from '@tenantkit/tenant-context/kysely';
import { runLeakKit, type LeakKitTarget } from '@tenantkit/test-utils';
import { Kysely, sql } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

interface Database {
  projects: { tenant_id: string; id: string; name: string };
  leak_records: { tenant_id: string; id: string; value: string };
}

// PGlite is one single-user session: the application role is entered with SET ROLE, which
// RESET ROLE undoes. Row-level security filters exactly as on a server, but nothing stops SQL
// on the same session from becoming the superuser again, and the startup check says so.
describe('Postgres row-level security on PGlite (SET ROLE to an application role)', () => {
  let pglite: PGlite;
  let db: Kysely<Database>;
  let rls: RowLevelSecurityDatabase<Database>;

  const settingOnSession = async (): Promise<string | null> =>
    (await pglite.query<{ tenant: string | null }>("select current_setting('app.tenant_id', true) as tenant")).rows[0]?.tenant ?? null;

  beforeAll(async () => {
    pglite = new PGlite();
    db = new Kysely<Database>({ dialect: new PGliteDialect(pglite) });
    await sql`create table projects (tenant_id text not null, id text not null, name text not null, primary key (tenant_id, id))`.execute(db);
    await enableTenantRowLevelSecurity(db, { table: 'projects', tenantColumnDefault: true, bypass: true });
    await sql`create table leak_records (tenant_id text not null, id text not null, value text not null, primary key (tenant_id, id))`.execute(db);
    await enableTenantRowLevelSecurity(db, { table: 'leak_records', tenantColumnDefault: true, bypass: true });
    await sql`create role tk_app nologin nosuperuser nobypassrls`.execute(db);
    await sql`grant select, insert, update, delete on projects, leak_records to tk_app`.execute(db);
    await sql`set role tk_app`.execute(db);
    rls = createRowLevelSecurityDatabase(db, { bypass: { onBypass: () => undefined } });
  });

  afterAll(async () => {
    await db?.destroy();
  });

  beforeEach(async () => {
    await rls.systemUnitOfWork({ reason: 'test seed' }, async (trx) => {
      await trx.deleteFrom('projects').execute();
      await trx
        .insertInto('projects')
        .values([
          { tenant_id: 'tnt_a', id: 'p1', name: 'a1' },
          { tenant_id: 'tnt_a', id: 'p2', name: 'a2' },
          { tenant_id: 'tnt_b', id: 'p1', name: 'b1' },
        ])
        .execute();
    });
  });

  it('runs as the application role, which sees nothing without a tenant', async () => {
    const { rows } = await sql<{ role: string; rows: string }>`select current_user as role, (select count(*) from projects) as rows`.execute(db);
    expect(rows[0]).toEqual({ role: 'tk_app', rows: 0 });
  });

  it('raw SQL without a WHERE returns only the scoped tenant rows', async () => {
    const { rows } = await runWithTenant('tnt_a', () => sql<{ tenant_id: string }>`select * from projects`.execute(rls.db));
    expect(rows.map((row) => row.tenant_id)).toEqual(['tnt_a', 'tnt_a']);
    expect(await settingOnSession()).toBe('');
  });

  it('refuses a row of another tenant with TENANT_ISOLATION_VIOLATION', async () => {
    await expect(
      runWithTenant('tnt_a', () => rls.db.insertInto('projects').values({ tenant_id: 'tnt_b', id: 'p9', name: 'x' }).execute()),
    ).rejects.toMatchObject({ code: 'TENANT_ISOLATION_VIOLATION' });
  });

  it('nests units through savepoints, though the PGlite driver has no savepoint support of its own', async () => {
    await runWithTenant('tnt_b', () =>
      rls.unitOfWork(async (trx) => {
        await trx.insertInto('projects').values({ id: 'outer', name: 'o' } as never).execute();
        await expect(
          rls.unitOfWork(async (inner) => {
            await inner.insertInto('projects').values({ id: 'inner', name: 'i' } as never).execute();
            throw new Error('inner fails');
          }),
        ).rejects.toThrow('inner fails');
      }),
    );
    const ids = await runWithTenant('tnt_b', () => rls.db.selectFrom('projects').select('id').orderBy('id').execute());
    expect(ids.map((row) => row.id)).toEqual(['outer', 'p1']);
    expect(await settingOnSession()).toBe('');
  });

  it('streams only the scoped rows, and a stream stopped early ends its transaction', async () => {
    await runWithTenant('tnt_a', async () => {
      const streamed: string[] = [];
      for await (const row of rls.db.selectFrom('projects').selectAll().orderBy('id').stream(1)) streamed.push(`${row.tenant_id}/${row.id}`);
      expect(streamed).toEqual(['tnt_a/p1', 'tnt_a/p2']);
      for await (const row of rls.db.selectFrom('projects').selectAll().stream(1)) {
        expect(row.tenant_id).toBe('tnt_a');
        break;
      }
    });
    // Still 'tnt_a' if the stopped stream had left its transaction open.
    expect(await settingOnSession()).toBe('');
  });

  it('concurrent units over several tenants on the single connection never see a foreign row', async () => {
    const tenants = ['tnt_a', 'tnt_b', 'tnt_c', 'tnt_d', 'tnt_e'];
    const seen = await Promise.all(
      Array.from({ length: 30 }, (_, index) => {
        const tenant = tenants[index % tenants.length] as string;
        return runWithTenant(tenant, () =>
          rls.unitOfWork(async (trx) => {
            await trx.insertInto('projects').values({ id: `u${index}`, name: tenant } as never).execute();
            const rows = await trx.selectFrom('projects').select(['tenant_id']).execute();
            return rows.filter((row) => row.tenant_id !== tenant).length;
          }),
        );
      }),
    );
    expect(seen.every((foreignRows) => foreignRows === 0)).toBe(true);
  });

  it('the startup check refuses it: RESET ROLE would make the session superuser again', async () => {
    await expect(assertRowLevelSecurityEnforced(db, { tables: ['projects'] })).rejects.toMatchObject({
      code: 'CONFIGURATION_INVALID',
      details: { problems: ['the session user "postgres" is a superuser: RESET ROLE would lift row-level security for role "tk_app"'] },
    });
  });

  // PGlite runs every statement through WebAssembly on the test process's own thread, so the
  // 10,000-operation run belongs to the Postgres server suite; this is a shorter smoke run.
  it('leaks nothing over 400 random operations', async () => {
    const target: LeakKitTarget = {
      async reset() {
        await rls.systemUnitOfWork({ reason: 'leak kit reset' }, (trx) => trx.deleteFrom('leak_records').execute());
      },
      async insert(record) {
        await rls.db.insertInto('leak_records').values({ id: record.id, value: record.value } as never).execute();
      },
      get: (id) => rls.db.selectFrom('leak_records').select(['id', 'value']).where('id', '=', id).executeTakeFirst(),
      list: () => rls.db.selectFrom('leak_records').select(['id', 'value']).execute(),
      async update(id, value) {
        return Number((await rls.db.updateTable('leak_records').set({ value }).where('id', '=', id).executeTakeFirst()).numUpdatedRows);
      },
      async remove(id) {
        return Number((await rls.db.deleteFrom('leak_records').where('id', '=', id).executeTakeFirst()).numDeletedRows);
      },
      async insertClaimingTenant(record, foreignTenantId) {
        await rls.db.insertInto('leak_records').values({ tenant_id: foreignTenantId, id: record.id, value: record.value }).execute();
      },
    };
    const report = await runLeakKit(target, { operations: 400 });
    expect(report.operations).toBeGreaterThanOrEqual(400);
    expect(report.refusedHostileWrites).toBeGreaterThan(0);
  }, 60_000);
});
