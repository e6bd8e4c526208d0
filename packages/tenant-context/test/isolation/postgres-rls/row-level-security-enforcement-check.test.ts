import { assertRowLevelSecurityEnforced, enableTenantRowLevelSecurity } from '@tenantkit/tenant-context/kysely';
import { describeWithService } from '@tenantkit/test-utils';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRowLevelSecurityFixture, type RowLevelSecurityFixture } from './postgres-rls-fixture.js';

async function problemsOf(check: Promise<unknown>): Promise<string[]> {
  try {
    await check;
  } catch (error) {
    expect(error).toMatchObject({ code: 'CONFIGURATION_INVALID' });
    const { details, message } = error as { details: { problems: string[] }; message: string };
    for (const problem of details.problems) expect(message).toContain(problem);
    return details.problems;
  }
  throw new Error('the check passed');
}

await describeWithService('postgres', 'Postgres row-level security startup check', () => {
  let fixture: RowLevelSecurityFixture;
  let appDb: Kysely<any>;

  beforeAll(async () => {
    fixture = await createRowLevelSecurityFixture();
    const { admin, appRole } = fixture;
    const table = async (name: string) => {
      await sql`create table ${sql.id(name)} (tenant_id text not null, id text not null)`.execute(admin);
      await sql`grant select, insert, update, delete on ${sql.id(name)} to ${sql.id(appRole)}`.execute(admin);
    };
    await table('projects');
    await enableTenantRowLevelSecurity(admin, { table: 'projects', bypass: true });
    await table('tasks');
    await enableTenantRowLevelSecurity(admin, { table: 'tasks' });
    // Restrictive policies can only narrow access: they pass.
    await sql`create policy only_short_ids on tasks as restrictive for all using (length(id) < 100)`.execute(admin);

    await table('unprotected');
    await table('no_policy');
    await sql`alter table no_policy enable row level security`.execute(admin);
    await sql`alter table no_policy force row level security`.execute(admin);
    await table('opened');
    await enableTenantRowLevelSecurity(admin, { table: 'opened' });
    await sql`create policy everyone on opened for select using (true)`.execute(admin);
    await table('other_role_only');
    const otherRole = await fixture.createRole('tk_other', 'nologin');
    await enableTenantRowLevelSecurity(admin, { table: 'other_role_only', roles: [otherRole] });
    // Owned by the application role, RLS enabled but not forced: the owner bypasses it.
    await table('owned_unforced');
    await sql`alter table owned_unforced owner to ${sql.id(appRole)}`.execute(admin);
    await enableTenantRowLevelSecurity(admin, { table: 'owned_unforced' });
    await sql`alter table owned_unforced no force row level security`.execute(admin);
    await table('unforced');
    await enableTenantRowLevelSecurity(admin, { table: 'unforced' });
    await sql`alter table unforced no force row level security`.execute(admin);
    await sql`create view projects_view as select * from projects`.execute(admin);
    await sql`grant select on projects_view to ${sql.id(appRole)}`.execute(admin);
    appDb = fixture.openDbAs(appRole, 1);
  });

  afterAll(async () => {
    await fixture?.close();
  });

  it('accepts the application role on forced tables with tenant policies', async () => {
    const report = await assertRowLevelSecurityEnforced(appDb, { tables: ['projects', 'tasks'] });
    expect(report).toEqual({ role: fixture.appRole, tables: ['"public"."projects"', '"public"."tasks"'] });
    await expect(assertRowLevelSecurityEnforced(appDb, { tables: ['projects'], schema: 'public' })).resolves.toMatchObject({
      tables: ['"public"."projects"'],
    });
  });

  it('refuses the superuser postgres', async () => {
    const problems = await problemsOf(assertRowLevelSecurityEnforced(fixture.admin, { tables: ['projects'] }));
    expect(problems).toEqual(['role "postgres" is a superuser: superusers bypass row-level security', 'role "postgres" has BYPASSRLS: it bypasses row-level security']);
  });

  it('refuses a BYPASSRLS role, and a role that can SET ROLE to one', async () => {
    const bypassRole = await fixture.createRole('tk_bypass', 'login nosuperuser bypassrls');
    await sql`grant select on projects to ${sql.id(bypassRole)}`.execute(fixture.admin);
    const bypassDb = fixture.openDbAs(bypassRole, 1);
    expect(await problemsOf(assertRowLevelSecurityEnforced(bypassDb, { tables: ['projects'] }))).toEqual([
      `role "${bypassRole}" has BYPASSRLS: it bypasses row-level security`,
    ]);

    const memberRole = await fixture.createRole('tk_member', 'login nosuperuser nobypassrls');
    await sql`grant ${sql.id(bypassRole)} to ${sql.id(memberRole)}`.execute(fixture.admin);
    const memberDb = fixture.openDbAs(memberRole, 1);
    expect(await problemsOf(assertRowLevelSecurityEnforced(memberDb, { tables: ['projects'] }))).toEqual([
      `role "${memberRole}" can SET ROLE to "${bypassRole}", which has BYPASSRLS`,
    ]);
  });

  it('refuses a session that SET ROLE away from a superuser', async () => {
    const problems = await fixture.admin.connection().execute(async (connection) => {
      await sql`set role ${sql.id(fixture.appRole)}`.execute(connection);
      try {
        return await problemsOf(assertRowLevelSecurityEnforced(connection, { tables: ['projects'] }));
      } finally {
        await sql`reset role`.execute(connection);
      }
    });
    expect(problems).toEqual([
      `the session user "postgres" is a superuser: RESET ROLE would lift row-level security for role "${fixture.appRole}"`,
    ]);
  });

  it('names each table problem', async () => {
    const tables = ['unprotected', 'no_policy', 'opened', 'other_role_only', 'owned_unforced', 'unforced', 'projects_view', 'missing'];
    const problems = await problemsOf(assertRowLevelSecurityEnforced(appDb, { tables }));
    const role = fixture.appRole;
    expect(problems).toEqual([
      '"public"."unprotected" does not have row level security enabled',
      '"public"."unprotected" does not FORCE ROW LEVEL SECURITY: its owner "postgres" bypasses every policy',
      `"public"."unprotected" has no policy for role "${role}" that reads current_setting('app.tenant_id'): it shows no rows`,
      `"public"."no_policy" has no policy for role "${role}" that reads current_setting('app.tenant_id'): it shows no rows`,
      `policy "everyone" on "public"."opened" is permissive and reads neither current_setting('app.tenant_id') nor current_setting('app.tenantkit_bypass'): it opens rows of every tenant`,
      `"public"."other_role_only" has no policy for role "${role}" that reads current_setting('app.tenant_id'): it shows no rows`,
      `"public"."owned_unforced" is owned by "${role}" (role "${role}" or a role it belongs to) without FORCE ROW LEVEL SECURITY: the owner bypasses every policy`,
      '"public"."unforced" does not FORCE ROW LEVEL SECURITY: its owner "postgres" bypasses every policy',
      '"public"."projects_view" is not a table (views and other relations carry no row-level security policies)',
      `table "missing" does not exist (or role "${role}" cannot see it)`,
    ]);
  });

  it('reads the configured settings', async () => {
    const problems = await problemsOf(assertRowLevelSecurityEnforced(appDb, { tables: ['projects'], tenantSetting: 'my_app.tenant' }));
    expect(problems).toEqual([
      `"public"."projects" has no policy for role "${fixture.appRole}" that reads current_setting('my_app.tenant'): it shows no rows`,
      `policy "tenantkit_tenant_isolation" on "public"."projects" is permissive and reads neither current_setting('my_app.tenant') nor current_setting('app.tenantkit_bypass'): it opens rows of every tenant`,
    ]);
  });

  describe('options', () => {
    it.each([
      ['no options', undefined],
      ['no tables', { tables: [] }],
      ['a bad table name', { tables: ['projects; drop table projects'] }],
      ['a bad schema', { tables: ['projects'], schema: '1x' }],
      ['a bad setting', { tables: ['projects'], tenantSetting: 'tenant' }],
      ['a bad bypass setting', { tables: ['projects'], bypassSetting: 'Bypass' }],
    ])('refuses %s with CONFIGURATION_INVALID', async (_name, options) => {
      await expect(assertRowLevelSecurityEnforced(appDb, options as never)).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
    });

    it('refuses other dialects', async () => {
      const sqlite = new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
      try {
        await expect(assertRowLevelSecurityEnforced(sqlite, { tables: ['projects'] })).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
      } finally {
        await sqlite.destroy();
      }
      await expect(assertRowLevelSecurityEnforced(null as never, { tables: ['projects'] })).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
    });
  });
});
