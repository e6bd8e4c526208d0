import { runWithTenant } from '@tenantkit/tenant-context';
import {
  createRowLevelSecurityDatabase,
  disableTenantRowLevelSecurity,
  enableTenantRowLevelSecurity,
  rowLevelSecurityDefaults,
} from '@tenantkit/tenant-context/kysely';
import { describeWithService } from '@tenantkit/test-utils';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql, type Migration } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRowLevelSecurityFixture, type RowLevelSecurityFixture } from './postgres-rls-fixture.js';

interface TableState {
  relrowsecurity: boolean;
  relforcerowsecurity: boolean;
}

await describeWithService('postgres', 'Postgres row-level security migration helpers', () => {
  let fixture: RowLevelSecurityFixture;
  let appDb: Kysely<any>;
  let appQueries: string[];

  beforeAll(async () => {
    fixture = await createRowLevelSecurityFixture();
    const opened = fixture.openAppDb(2);
    appDb = opened.db;
    appQueries = opened.queries;
  });

  afterAll(async () => {
    await fixture?.close();
  });

  const tableState = async (table: string, schema = 'public'): Promise<TableState | undefined> => {
    const { rows } = await sql<TableState>`
      select c.relrowsecurity, c.relforcerowsecurity from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = ${schema} and c.relname = ${table}`.execute(fixture.admin);
    return rows[0];
  };
  const policiesOf = async (table: string) => {
    const { rows } = await sql<{ policyname: string; permissive: string; roles: string[] | string; cmd: string; qual: string; with_check: string }>`
      select policyname, permissive, roles::text[] as roles, cmd, qual, with_check from pg_policies where tablename = ${table} order by policyname`.execute(
      fixture.admin,
    );
    return rows;
  };
  const grantTo = (table: string) => sql`grant select, insert, update, delete on ${sql.table(table)} to ${sql.id(fixture.appRole)}`.execute(fixture.admin);

  it('enables and forces row level security and creates the tenant and bypass policies', async () => {
    await sql`create table docs (tenant_id text not null, id text not null, primary key (tenant_id, id))`.execute(fixture.admin);
    await enableTenantRowLevelSecurity(fixture.admin, { table: 'docs', bypass: true });
    expect(await tableState('docs')).toEqual({ relrowsecurity: true, relforcerowsecurity: true });
    const policies = await policiesOf('docs');
    expect(policies.map((policy) => [policy.policyname, policy.permissive, policy.cmd])).toEqual([
      [rowLevelSecurityDefaults.bypassPolicy, 'PERMISSIVE', 'ALL'],
      [rowLevelSecurityDefaults.tenantPolicy, 'PERMISSIVE', 'ALL'],
    ]);
    const tenantPolicy = policies[1];
    expect(tenantPolicy?.qual).toContain("current_setting('app.tenant_id'::text, true)");
    expect(tenantPolicy?.with_check).toBe(tenantPolicy?.qual);
    expect(policies[0]?.qual).toContain("current_setting('app.tenantkit_bypass'::text, true)");
  });

  it('is idempotent and running it again without the bypass drops the bypass policy', async () => {
    await sql`create table notes (tenant_id text not null, id text not null)`.execute(fixture.admin);
    await enableTenantRowLevelSecurity(fixture.admin, { table: 'notes', bypass: true });
    await enableTenantRowLevelSecurity(fixture.admin, { table: 'notes', bypass: true });
    expect((await policiesOf('notes')).length).toBe(2);
    await enableTenantRowLevelSecurity(fixture.admin, { table: 'notes' });
    expect((await policiesOf('notes')).map((policy) => policy.policyname)).toEqual([rowLevelSecurityDefaults.tenantPolicy]);
  });

  it('limits policies to the given roles', async () => {
    const jobsRole = await fixture.createRole('tk_jobs', 'nologin');
    await sql`create table limited (tenant_id text not null, id text not null)`.execute(fixture.admin);
    await enableTenantRowLevelSecurity(fixture.admin, { table: 'limited', roles: [fixture.appRole], bypass: { roles: [jobsRole] } });
    const policies = await policiesOf('limited');
    expect(policies.map((policy) => [policy.policyname, policy.roles])).toEqual([
      [rowLevelSecurityDefaults.bypassPolicy, [jobsRole]],
      [rowLevelSecurityDefaults.tenantPolicy, [fixture.appRole]],
    ]);
  });

  it('casts the setting for a uuid tenant column, and without a tenant fails closed instead of erroring', async () => {
    const tenantA = '0b5bd6c4-57f3-4c3c-9a58-6c3a5d0f3a11';
    const tenantB = '7e3c2a1f-3d4b-4a7e-8f2c-1a2b3c4d5e6f';
    await sql`create table uuid_docs (tenant_id uuid not null, id text not null, primary key (tenant_id, id))`.execute(fixture.admin);
    await enableTenantRowLevelSecurity(fixture.admin, { table: 'uuid_docs', tenantColumnType: 'uuid', tenantColumnDefault: true });
    await grantTo('uuid_docs');
    await sql`insert into uuid_docs (tenant_id, id) values (${tenantA}::uuid, 'a1'), (${tenantB}::uuid, 'b1')`.execute(fixture.admin);
    const rls = createRowLevelSecurityDatabase(appDb);
    const { rows } = await runWithTenant(tenantA, () => sql<{ tenant_id: string; id: string }>`select * from uuid_docs`.execute(rls.db));
    expect(rows).toEqual([{ tenant_id: tenantA, id: 'a1' }]);
    await runWithTenant(tenantB, () => sql`insert into uuid_docs (id) values ('b2')`.execute(rls.db));
    expect((await sql`select * from uuid_docs where tenant_id = ${tenantB}::uuid`.execute(fixture.admin)).rows).toHaveLength(2);
    // No setting at all, and the empty value a session keeps after a transaction-local one.
    expect((await sql`select * from uuid_docs`.execute(appDb)).rows).toEqual([]);
    // A tenant id that is no uuid cannot match a uuid column: Postgres refuses the cast.
    await expect(runWithTenant('tnt_not_a_uuid', () => sql`select * from uuid_docs`.execute(rls.db))).rejects.toMatchObject({ code: '22P02' });
  });

  it('sets and drops the tenant column default', async () => {
    await sql`create table defaulted (tenant_id text not null, id text not null)`.execute(fixture.admin);
    await enableTenantRowLevelSecurity(fixture.admin, { table: 'defaulted', tenantColumnDefault: true });
    const defaultOf = async () =>
      (
        await sql<{ column_default: string | null }>`
          select column_default from information_schema.columns where table_name = 'defaulted' and column_name = 'tenant_id'`.execute(
          fixture.admin,
        )
      ).rows[0]?.column_default;
    expect(await defaultOf()).toContain("current_setting('app.tenant_id'::text, true)");
    await grantTo('defaulted');
    // Outside a tenant scope the default is NULL, which the policy's WITH CHECK refuses first.
    await expect(sql`insert into defaulted (id) values ('x')`.execute(appDb)).rejects.toMatchObject({ code: '42501' });
    await disableTenantRowLevelSecurity(fixture.admin, { table: 'defaulted', tenantColumnDefault: true });
    expect(await defaultOf()).toBeNull();
  });

  it('the inverse drops the policies and turns row level security off', async () => {
    await sql`create table reverted (tenant_id text not null, id text not null)`.execute(fixture.admin);
    await enableTenantRowLevelSecurity(fixture.admin, { table: 'reverted', bypass: true });
    await disableTenantRowLevelSecurity(fixture.admin, { table: 'reverted' });
    expect(await tableState('reverted')).toEqual({ relrowsecurity: false, relforcerowsecurity: false });
    expect(await policiesOf('reverted')).toEqual([]);
  });

  it('works in a schema and inside a Kysely migration transaction', async () => {
    await sql`create schema billing`.execute(fixture.admin);
    const migration: Migration = {
      async up(db) {
        await db.schema.withSchema('billing').createTable('invoices').addColumn('tenant_id', 'text', (col) => col.notNull()).addColumn('id', 'text').execute();
        await enableTenantRowLevelSecurity(db, { schema: 'billing', table: 'invoices' });
      },
      async down(db) {
        await disableTenantRowLevelSecurity(db, { schema: 'billing', table: 'invoices' });
      },
    };
    const migrator = new Migrator({ db: fixture.admin, provider: { getMigrations: async () => ({ '0001_invoices': migration }) } });
    const { error } = await migrator.migrateToLatest();
    expect(error).toBeUndefined();
    expect(await tableState('invoices', 'billing')).toEqual({ relrowsecurity: true, relforcerowsecurity: true });
  });

  it('leaves the table as it was when a statement fails (TENANT_MIGRATION_FAILED)', async () => {
    await sql`create table broken (owner text not null, id text not null)`.execute(fixture.admin);
    const failure = enableTenantRowLevelSecurity(fixture.admin, { table: 'broken' });
    await expect(failure).rejects.toMatchObject({
      code: 'TENANT_MIGRATION_FAILED',
      message: expect.stringContaining('tenant_id'),
      cause: expect.objectContaining({ code: '42703' }),
    });
    expect(await tableState('broken')).toEqual({ relrowsecurity: false, relforcerowsecurity: false });
    await expect(enableTenantRowLevelSecurity(fixture.admin, { table: 'no_such_table' })).rejects.toMatchObject({ code: 'TENANT_MIGRATION_FAILED' });
  });

  it('the application role, not owning the table, cannot run it', async () => {
    await sql`create table owned_elsewhere (tenant_id text not null)`.execute(fixture.admin);
    await expect(enableTenantRowLevelSecurity(appDb, { table: 'owned_elsewhere' })).rejects.toMatchObject({
      code: 'TENANT_MIGRATION_FAILED',
      cause: expect.objectContaining({ code: '42501' }),
    });
  });

  describe('validation before any SQL', () => {
    const invalid: readonly [string, unknown][] = [
      ['no options', undefined],
      ['a quoted table name', { table: 'docs"; drop table docs; --' }],
      ['a dotted table name', { table: 'public.docs' }],
      ['an empty table name', { table: '' }],
      ['a bad schema', { table: 'docs', schema: 'a b' }],
      ['a bad column', { table: 'docs', tenantColumn: 'tenant-id' }],
      ['an unknown column type', { table: 'docs', tenantColumnType: 'jsonb' }],
      ['a setting without prefix', { table: 'docs', tenantSetting: 'tenant_id' }],
      ['a setting with a quote', { table: 'docs', tenantSetting: "app.x'y" }],
      ['a non-boolean default flag', { table: 'docs', tenantColumnDefault: 'yes' }],
      ['an empty role list', { table: 'docs', roles: [] }],
      ['the role public', { table: 'docs', roles: ['public'] }],
      ['a bad bypass', { table: 'docs', bypass: 'on' }],
      ['a bypass on the tenant setting', { table: 'docs', bypass: { setting: 'app.tenant_id' } }],
      ['a bad bypass role', { table: 'docs', bypass: { roles: ['x y'] } }],
    ];
    it.each(invalid)('refuses %s with CONFIGURATION_INVALID', async (_name, options) => {
      appQueries.length = 0;
      await expect(enableTenantRowLevelSecurity(appDb, options as never)).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
      expect(appQueries).toEqual([]);
    });

    it('refuses invalid options of the inverse and other dialects', async () => {
      await expect(disableTenantRowLevelSecurity(appDb, { table: 'x;' })).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
      await expect(disableTenantRowLevelSecurity(appDb, undefined as never)).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
      const sqlite = new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
      try {
        await expect(enableTenantRowLevelSecurity(sqlite, { table: 'docs' })).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
      } finally {
        await sqlite.destroy();
      }
      await expect(enableTenantRowLevelSecurity({} as never, { table: 'docs' })).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
    });
  });
});
