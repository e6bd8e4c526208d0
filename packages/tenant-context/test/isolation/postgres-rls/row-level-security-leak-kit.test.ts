import { createRowLevelSecurityDatabase, enableTenantRowLevelSecurity } from '@tenantkit/tenant-context/kysely';
import { describeWithService, runLeakKit, type LeakKitTarget } from '@tenantkit/test-utils';
import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRowLevelSecurityFixture, type RowLevelSecurityFixture } from './postgres-rls-fixture.js';

interface Database {
  leak_records: { tenant_id: string; id: string; value: string };
}

// More tenants than pooled connections, so every step queues for the pool and connections pass
// from tenant to tenant; two ids are prefixes of others.
const tenants = ['tnt_leak_a', 'tnt_leak_ab', 'tnt_leak_b', 'tnt_leak_c', 'tnt_leak_d', 'tnt_leak_e', 'tnt_leak_f', 'tnt_leak_f1'];

await describeWithService('postgres', 'Postgres row-level security leak kit as the application role', () => {
  let fixture: RowLevelSecurityFixture;
  let pool: pg.Pool;
  let target: LeakKitTarget;

  beforeAll(async () => {
    fixture = await createRowLevelSecurityFixture();
    const { admin, appRole } = fixture;
    await sql`create table leak_records (tenant_id text not null, id text not null, value text not null, primary key (tenant_id, id))`.execute(admin);
    await enableTenantRowLevelSecurity(admin, { table: 'leak_records', tenantColumnDefault: true, bypass: true });
    await sql`grant select, insert, update, delete on leak_records to ${sql.id(appRole)}`.execute(admin);
    const opened = fixture.openAppDb(5);
    pool = opened.pool;
    const rls = createRowLevelSecurityDatabase(opened.db as Kysely<Database>, { bypass: { onBypass: () => undefined } });
    const { db } = rls;
    // No query names a tenant: the column default and the policies do all of it.
    target = {
      async reset() {
        await rls.systemUnitOfWork({ reason: 'leak kit reset', actor: 'test' }, (trx) => trx.deleteFrom('leak_records').execute());
      },
      async insert(record) {
        await db.insertInto('leak_records').values({ id: record.id, value: record.value } as never).execute();
      },
      get: (id) => db.selectFrom('leak_records').select(['id', 'value']).where('id', '=', id).executeTakeFirst(),
      list: () => db.selectFrom('leak_records').select(['id', 'value']).execute(),
      async update(id, value) {
        const result = await db.updateTable('leak_records').set({ value }).where('id', '=', id).executeTakeFirst();
        return Number(result.numUpdatedRows);
      },
      async remove(id) {
        const result = await db.deleteFrom('leak_records').where('id', '=', id).executeTakeFirst();
        return Number(result.numDeletedRows);
      },
      async count() {
        const { rows } = await sql<{ count: string }>`select count(*) as count from leak_records`.execute(db);
        return Number(rows[0]?.count);
      },
      async insertClaimingTenant(record, foreignTenantId) {
        await db.insertInto('leak_records').values({ tenant_id: foreignTenantId, id: record.id, value: record.value }).execute();
      },
    };
  });

  afterAll(async () => {
    await fixture?.close();
  });

  it('leaks nothing over 10,000 random concurrent operations on a pool of 5', async () => {
    const report = await runLeakKit(target, { tenants, operations: 10_000, concurrent: true });
    expect(report.operations).toBeGreaterThanOrEqual(10_000);
    expect(report.refusedHostileWrites).toBeGreaterThan(0);
    expect(pool.totalCount).toBeLessThanOrEqual(5);
  }, 120_000);
});
