import { currentScope, onSystemScopeEntered, requireTenantId, runWithTenant } from '@tenantkit/tenant-context';
import {
  createRowLevelSecurityDatabase,
  enableTenantRowLevelSecurity,
  type RowLevelSecurityBypassEvent,
  type RowLevelSecurityDatabase,
} from '@tenantkit/tenant-context/kysely';
import { describeWithService } from '@tenantkit/test-utils';
import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRowLevelSecurityFixture, type RowLevelSecurityFixture } from './postgres-rls-fixture.js';

interface Database {
  projects: { tenant_id: string; id: string; name: string };
  jobs_only: { tenant_id: string; id: string };
}

await describeWithService('postgres', 'Postgres row-level security: audited system units of work', () => {
  let fixture: RowLevelSecurityFixture;
  let appDb: Kysely<Database>;
  let appQueries: string[];
  let singlePool: pg.Pool;
  let singleDb: Kysely<Database>;
  let audit: string[];
  let rls: RowLevelSecurityDatabase<Database>;

  beforeAll(async () => {
    fixture = await createRowLevelSecurityFixture();
    const { admin, appRole } = fixture;
    await sql`create table projects (tenant_id text not null, id text not null, name text not null, primary key (tenant_id, id))`.execute(admin);
    await enableTenantRowLevelSecurity(admin, { table: 'projects', bypass: true });
    // The bypass policy of this table applies to a separate jobs role only, not to the app role.
    const jobsRole = await fixture.createRole('tk_jobs', 'nologin nosuperuser nobypassrls');
    await sql`create table jobs_only (tenant_id text not null, id text not null, primary key (tenant_id, id))`.execute(admin);
    await enableTenantRowLevelSecurity(admin, { table: 'jobs_only', bypass: { roles: [jobsRole] } });
    await sql`grant select, insert, update, delete on projects, jobs_only to ${sql.id(appRole)}`.execute(admin);
    const opened = fixture.openAppDb(3);
    appDb = opened.db as Kysely<Database>;
    appQueries = opened.queries;
    const single = fixture.openAppDb(1);
    singlePool = single.pool;
    singleDb = single.db as Kysely<Database>;
  });

  afterAll(async () => {
    await fixture?.close();
  });

  beforeEach(async () => {
    audit = [];
    rls = createRowLevelSecurityDatabase(appDb, {
      bypass: {
        onBypass: (event: RowLevelSecurityBypassEvent) => {
          audit.push(`${event.reason} by ${event.actor ?? '-'} after ${appQueries.length} queries`);
        },
      },
    });
    const { admin } = fixture;
    await admin.deleteFrom('projects').execute();
    await admin.deleteFrom('jobs_only').execute();
    await admin
      .insertInto('projects')
      .values([
        { tenant_id: 'tnt_a', id: 'p1', name: 'a' },
        { tenant_id: 'tnt_b', id: 'p1', name: 'b' },
        { tenant_id: 'tnt_c', id: 'p2', name: 'c' },
      ])
      .execute();
    await admin.insertInto('jobs_only').values([{ tenant_id: 'tnt_a', id: 'j1' }, { tenant_id: 'tnt_b', id: 'j2' }]).execute();
  });

  it('is not reachable on a handle created without the bypass', async () => {
    const plain = createRowLevelSecurityDatabase(appDb);
    appQueries.length = 0;
    await expect(plain.systemUnitOfWork({ reason: 'test' }, async () => undefined)).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
    expect(appQueries).toEqual([]);
  });

  it('audits first, runs in the system scope and sees every tenant', async () => {
    const entered: string[] = [];
    const stop = onSystemScopeEntered((scope) => entered.push(scope.reason));
    try {
      appQueries.length = 0;
      const rows = await rls.systemUnitOfWork({ reason: 'usage-rollup', actor: 'cron' }, async (trx) => {
        expect(currentScope()).toMatchObject({ kind: 'system', reason: 'usage-rollup', actor: 'cron' });
        expect(() => requireTenantId()).toThrow(expect.objectContaining({ code: 'TENANT_SCOPE_REQUIRED' }));
        // Only the unit's transaction bypasses: the plain handle still needs a tenant.
        await expect(rls.db.selectFrom('projects').selectAll().execute()).rejects.toMatchObject({ code: 'TENANT_SCOPE_REQUIRED' });
        return trx.selectFrom('projects').selectAll().orderBy('tenant_id').execute();
      });
      expect(rows.map((row) => row.tenant_id)).toEqual(['tnt_a', 'tnt_b', 'tnt_c']);
      expect(audit).toEqual(['usage-rollup by cron after 0 queries']);
      expect(entered).toEqual(['usage-rollup']);
    } finally {
      stop();
    }
  });

  it('may write rows of any tenant', async () => {
    await rls.systemUnitOfWork({ reason: 'backfill' }, async (trx) => {
      await trx.insertInto('projects').values({ tenant_id: 'tnt_z', id: 'p1', name: 'z' }).execute();
      await trx.updateTable('projects').set({ name: 'renamed' }).where('id', '=', 'p1').execute();
    });
    const rows = await fixture.admin.selectFrom('projects').selectAll().where('id', '=', 'p1').execute();
    expect(rows.map((row) => `${row.tenant_id}:${row.name}`).sort()).toEqual(['tnt_a:renamed', 'tnt_b:renamed', 'tnt_z:renamed']);
  });

  it('refuses without a reason and when the audit hook fails, before any SQL', async () => {
    appQueries.length = 0;
    for (const options of [{}, { reason: '' }, { reason: '   ' }, { reason: 'x', actor: 42 }, { reason: 'x'.repeat(501) }]) {
      await expect(rls.systemUnitOfWork(options as never, async () => undefined)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    await expect(rls.systemUnitOfWork({ reason: 'x' }, undefined as never)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(audit).toEqual([]);
    const failingAudit = createRowLevelSecurityDatabase(appDb, {
      bypass: {
        onBypass: async () => {
          throw new Error('audit store down');
        },
      },
    });
    let ran = false;
    await expect(
      failingAudit.systemUnitOfWork({ reason: 'x' }, async () => {
        ran = true;
      }),
    ).rejects.toThrow('audit store down');
    const nonErrorAudit = createRowLevelSecurityDatabase(appDb, {
      bypass: {
        onBypass: () => {
          throw 'not an error';
        },
      },
    });
    await expect(nonErrorAudit.systemUnitOfWork({ reason: 'x' }, async () => undefined)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(ran).toBe(false);
    expect(appQueries).toEqual([]);
  });

  it('the bypass setting does not survive to the next borrower of the connection', async () => {
    const single = createRowLevelSecurityDatabase(singleDb, { bypass: { onBypass: () => undefined } });
    await single.systemUnitOfWork({ reason: 'test' }, (trx) => trx.selectFrom('projects').selectAll().execute());
    await expect(single.systemUnitOfWork({ reason: 'test' }, () => Promise.reject(new Error('fails')))).rejects.toThrow('fails');
    const { rows } = await singlePool.query<{ bypass: string | null }>("select current_setting('app.tenantkit_bypass', true) as bypass");
    expect(rows[0]?.bypass ?? '').toBe('');
    const next = await runWithTenant('tnt_b', () => single.db.selectFrom('projects').selectAll().execute());
    expect(next.map((row) => row.tenant_id)).toEqual(['tnt_b']);
  });

  it('cannot nest into a tenant unit, nor a tenant unit into it; system units nest as savepoints', async () => {
    await runWithTenant('tnt_a', () =>
      rls.unitOfWork(async () => {
        await expect(rls.systemUnitOfWork({ reason: 'sneaky' }, async () => undefined)).rejects.toMatchObject({ code: 'TENANT_SCOPE_CONFLICT' });
      }),
    );
    await rls.systemUnitOfWork({ reason: 'outer' }, async (trx) => {
      await expect(runWithTenant('tnt_a', () => rls.unitOfWork(async () => undefined))).rejects.toMatchObject({ code: 'TENANT_SCOPE_CONFLICT' });
      await trx.deleteFrom('projects').where('tenant_id', '=', 'tnt_a').execute();
      await expect(
        rls.systemUnitOfWork({ reason: 'inner' }, async (inner) => {
          await inner.deleteFrom('projects').execute();
          throw new Error('inner fails');
        }),
      ).rejects.toThrow('inner fails');
    });
    const left = await fixture.admin.selectFrom('projects').select('tenant_id').orderBy('tenant_id').execute();
    expect(left.map((row) => row.tenant_id)).toEqual(['tnt_b', 'tnt_c']);
    expect(audit.map((entry) => entry.split(' by ')[0])).toEqual(['outer', 'inner']);
  });

  it('setting the bypass by hand only works where the bypass policy applies to the role', async () => {
    // Raw SQL of the application role (say, injected) can set the setting itself: with the
    // policy TO PUBLIC that opens the table, with it TO the jobs role only it does not.
    const { projects, jobs } = await runWithTenant('tnt_a', () =>
      rls.unitOfWork(async (trx) => {
        await sql`select set_config('app.tenantkit_bypass', 'on', true)`.execute(trx);
        return {
          projects: await trx.selectFrom('projects').select('tenant_id').execute(),
          jobs: await trx.selectFrom('jobs_only').select('tenant_id').execute(),
        };
      }),
    );
    expect(projects.length).toBe(3);
    expect(jobs.map((row) => row.tenant_id)).toEqual(['tnt_a']);
    const bypassed = await rls.systemUnitOfWork({ reason: 'jobs table' }, (trx) => trx.selectFrom('jobs_only').selectAll().execute());
    expect(bypassed).toEqual([]);
  });
});
