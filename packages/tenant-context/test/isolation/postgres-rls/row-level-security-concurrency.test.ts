import { runWithTenant } from '@tenantkit/tenant-context';
import { createRowLevelSecurityDatabase, enableTenantRowLevelSecurity, type RowLevelSecurityDatabase } from '@tenantkit/tenant-context/kysely';
import { describeWithService } from '@tenantkit/test-utils';
import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRowLevelSecurityFixture, type RowLevelSecurityFixture } from './postgres-rls-fixture.js';

interface Database {
  projects: { tenant_id: string; id: string; name: string };
}

const tenants = Array.from({ length: 10 }, (_, index) => `tnt_${index}`);

await describeWithService('postgres', 'Postgres row-level security under concurrency', () => {
  let fixture: RowLevelSecurityFixture;
  let pool: pg.Pool;
  let rls: RowLevelSecurityDatabase<Database>;

  beforeAll(async () => {
    fixture = await createRowLevelSecurityFixture();
    const { admin, appRole } = fixture;
    await sql`create table projects (tenant_id text not null, id text not null, name text not null, primary key (tenant_id, id))`.execute(admin);
    await enableTenantRowLevelSecurity(admin, { table: 'projects', tenantColumnDefault: true });
    await sql`grant select, insert, update, delete on projects to ${sql.id(appRole)}`.execute(admin);
    await admin
      .insertInto('projects')
      .values(tenants.flatMap((tenant) => [0, 1, 2].map((index) => ({ tenant_id: tenant, id: `seed_${index}`, name: `${tenant} seed` }))))
      .execute();
    const opened = fixture.openAppDb(5);
    pool = opened.pool;
    rls = createRowLevelSecurityDatabase(opened.db as Kysely<Database>);
  });

  afterAll(async () => {
    await fixture?.close();
  });

  it('100 concurrent units of work over 10 tenants on a pool of 5 never see a foreign row', async () => {
    const foreign: string[] = [];
    const check = (tenant: string, rows: readonly { tenant_id: string; name?: string }[], where: string) => {
      for (const row of rows) {
        if (row.tenant_id !== tenant || (row.name !== undefined && !row.name.startsWith(tenant))) {
          foreign.push(`${tenant} saw ${row.tenant_id}/${row.name ?? ''} (${where})`);
        }
      }
    };
    const units = Array.from({ length: 100 }, (_, index) => {
      const tenant = tenants[index % tenants.length] as string;
      return runWithTenant(tenant, async () => {
        // Interleave with plain statements, each in a transaction of its own, on the same pool.
        check(tenant, (await sql<{ tenant_id: string; name: string }>`select * from projects`.execute(rls.db)).rows, 'plain before');
        await rls.unitOfWork(async (trx) => {
          const { rows: settings } = await sql<{ tenant: string }>`select current_setting('app.tenant_id') as tenant`.execute(trx);
          if (settings[0]?.tenant !== tenant) foreign.push(`${tenant} ran with setting ${settings[0]?.tenant}`);
          check(tenant, await trx.selectFrom('projects').selectAll().execute(), 'unit read');
          await trx.insertInto('projects').values({ id: `unit_${index}`, name: `${tenant} unit ${index}` } as never).execute();
          // Hold the connection a moment so units queue for the five connections and reuse them.
          await sql`select pg_sleep(0.002)`.execute(trx);
          await rls.unitOfWork(async (inner) => {
            check(tenant, (await sql<{ tenant_id: string; name: string }>`select * from projects`.execute(inner)).rows, 'nested read');
          });
          check(tenant, await trx.selectFrom('projects').select(['tenant_id', 'name']).execute(), 'unit read after write');
        });
        check(tenant, (await sql<{ tenant_id: string; name: string }>`select * from projects`.execute(rls.db)).rows, 'plain after');
      });
    });
    await Promise.all(units);
    expect(foreign).toEqual([]);
    expect(pool.totalCount).toBeLessThanOrEqual(5);

    const perTenant = await fixture.admin
      .selectFrom('projects')
      .select(['tenant_id', (eb) => eb.fn.countAll<string>().as('count')])
      .where('id', 'like', 'unit_%')
      .groupBy('tenant_id')
      .orderBy('tenant_id')
      .execute();
    expect(perTenant.map((row) => [row.tenant_id, Number(row.count)])).toEqual(tenants.map((tenant) => [tenant, 10]));
    // Every unit's row landed in the tenant of its scope.
    const misplaced = await fixture.admin.selectFrom('projects').select(['tenant_id', 'name']).execute();
    expect(misplaced.filter((row) => !row.name.startsWith(row.tenant_id))).toEqual([]);
  });
});
