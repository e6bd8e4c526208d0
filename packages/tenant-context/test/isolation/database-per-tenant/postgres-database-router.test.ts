import { createId } from '@tenantkit/core';
import { describeWithService, testServices } from '@tenantkit/test-utils';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresDatabaseProvisioner } from '../../../src/isolation/database-per-tenant/postgres-database-provisioner.js';
import { createTenantDatabaseRouter } from '../../../src/isolation/database-per-tenant/tenant-database-router.js';
import { runAsSystem, runWithTenant } from '../../../src/scope/tenant-scope.js';
import { describeDatabaseRouterEngine } from './database-router-engine-suite.js';
import { rejectionOf, tenantMigrations, type LeakDatabase } from './database-router-fixtures.js';

function urlOf(databaseName: string): string {
  const url = new URL(testServices.postgres.url);
  url.pathname = `/${databaseName}`;
  return url.toString();
}

/** A pool that ignores errors of idle clients (a forced drop terminates their sessions). */
function poolFor(databaseName: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: urlOf(databaseName), max });
  pool.on('error', () => undefined);
  return pool;
}

await describeWithService('postgres', 'database per tenant on PostgreSQL', () => {
  // Every database this file creates starts with this prefix, and afterAll drops them all.
  const prefix = `tk_dbpt_${createId().slice(0, 10)}_`;
  let admin: Kysely<any>;

  beforeAll(() => {
    admin = new Kysely<any>({ dialect: new PostgresDialect({ pool: poolFor('postgres', 2) }) });
  });

  afterAll(async () => {
    const { rows } = await sql<{ datname: string }>`
      select datname from pg_database where starts_with(datname, ${prefix})
    `.execute(admin);
    for (const { datname } of rows) await sql`drop database if exists ${sql.id(datname)} with (force)`.execute(admin);
    await admin.destroy();
  });

  const databaseExists = async (databaseName: string) =>
    (await sql`select 1 from pg_database where datname = ${databaseName}`.execute(admin)).rows.length > 0;

  describeDatabaseRouterEngine({
    prefix,
    connectionsPerPool: 1,
    provisioner: () => postgresDatabaseProvisioner({ admin }),
    openDatabase: (_tenantId, { databaseName }) => new Kysely<LeakDatabase>({ dialect: new PostgresDialect({ pool: poolFor(databaseName, 1) }) }),
    databaseExists,
    async tablesOf(databaseName) {
      const client = new pg.Client({ connectionString: urlOf(databaseName) });
      await client.connect();
      try {
        const { rows } = await client.query<{ tablename: string }>("select tablename from pg_tables where schemaname = 'public'");
        return rows.map((row) => row.tablename);
      } finally {
        await client.end();
      }
    },
  });

  describe('postgresDatabaseProvisioner', () => {
    it('drops a database another process is still connected to (WITH (FORCE))', async () => {
      const provisioner = postgresDatabaseProvisioner({ admin, disconnectWaitMs: 0 });
      const name = `${prefix}forced`;
      expect(await provisioner.createDatabase(name)).toEqual({ created: true });
      const other = new pg.Client({ connectionString: urlOf(name) });
      const terminated = new Promise<unknown>((resolve) => other.on('error', resolve));
      await other.connect();
      await other.query('select 1');
      expect(await provisioner.dropDatabase(name)).toEqual({ dropped: true });
      expect(await terminated).toMatchObject({ code: '57P01' });
      expect(await databaseExists(name)).toBe(false);
      await other.end().catch(() => undefined);
    });

    it('creates databases owned by the given role, from the given template', async () => {
      const role = `${prefix}owner`;
      await sql`create role ${sql.id(role)} nologin`.execute(admin);
      try {
        const provisioner = postgresDatabaseProvisioner({ admin, owner: role, template: 'template0', encoding: 'UTF8' });
        const name = `${prefix}owned`;
        expect(await provisioner.createDatabase(name)).toEqual({ created: true });
        const { rows } = await sql<{ owner: string; encoding: string }>`
          select pg_get_userbyid(datdba) as owner, pg_encoding_to_char(encoding) as encoding from pg_database where datname = ${name}
        `.execute(admin);
        expect(rows).toEqual([{ owner: role, encoding: 'UTF8' }]);
        expect(await provisioner.dropDatabase(name)).toEqual({ dropped: true });
      } finally {
        await sql`drop role if exists ${sql.id(role)}`.execute(admin);
      }
    });

    it('reports a missing privilege as CONFIGURATION_INVALID', async () => {
      const role = `${prefix}weak`;
      await sql`create role ${sql.id(role)} login`.execute(admin);
      const url = new URL(testServices.postgres.url);
      url.username = role;
      url.pathname = '/postgres';
      const weakPool = new pg.Pool({ connectionString: url.toString(), max: 1 });
      weakPool.on('error', () => undefined);
      const weak = new Kysely<any>({ dialect: new PostgresDialect({ pool: weakPool }) });
      try {
        const error = await rejectionOf(postgresDatabaseProvisioner({ admin: weak }).createDatabase(`${prefix}denied`));
        expect(error.code).toBe('CONFIGURATION_INVALID');
        expect(await databaseExists(`${prefix}denied`)).toBe(false);
      } finally {
        await weak.destroy();
        await sql`drop role if exists ${sql.id(role)}`.execute(admin);
      }
    });

    it('validates its options', () => {
      for (const options of [
        null,
        {},
        { admin: {} },
        { admin, owner: 'bad owner' },
        { admin, template: 'x"y' },
        { admin, encoding: "UTF8'; drop" },
        { admin, disconnectWaitMs: -1 },
      ]) {
        expect(() => postgresDatabaseProvisioner(options as never)).toThrowError(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
      }
    });

    it('refuses names PostgreSQL would truncate', async () => {
      const provisioner = postgresDatabaseProvisioner({ admin });
      expect(provisioner.maxDatabaseNameBytes).toBe(63);
      expect((await rejectionOf(provisioner.createDatabase(`${prefix}${'x'.repeat(64 - prefix.length)}`))).code).toBe('CONFIGURATION_INVALID');
    });
  });

  describe('router on PostgreSQL', () => {
    it('keeps the server-side session count within maxConnections', async () => {
      const router = createTenantDatabaseRouter<LeakDatabase>({
        provisioner: postgresDatabaseProvisioner({ admin }),
        databaseNamePrefix: prefix,
        migrations: { provider: tenantMigrations() },
        openDatabase: (_tenantId, { databaseName }) => new Kysely<LeakDatabase>({ dialect: new PostgresDialect({ pool: poolFor(databaseName, 2) }) }),
        connectionsPerPool: 2,
        maxPools: 5,
        maxConnections: 2,
        acquireTimeoutMs: 20_000,
        evictionIntervalMs: false,
      });
      const tenants = ['tnt_pg_1', 'tnt_pg_2'];
      const sessions = async () => {
        const { rows } = await sql<{ sessions: string }>`
          select count(*) as sessions from pg_stat_activity where starts_with(datname, ${`${prefix}tnt__pg__`})
        `.execute(admin);
        return Number(rows[0]?.sessions);
      };
      try {
        for (const tenantId of tenants) await runAsSystem({ reason: 'test' }, () => router.provision(tenantId));
        // Each tenant runs two sleeping queries at once: both of one tenant's connections are
        // busy, so the other tenant must wait for the pool to be closed before it gets one.
        const sampled: number[] = [];
        let running = true;
        const sampling = (async () => {
          while (running) sampled.push(await sessions());
        })();
        await Promise.all(
          tenants.map((tenantId) =>
            runWithTenant(tenantId, () => Promise.all([sql`select pg_sleep(0.2)`.execute(router.db()), sql`select pg_sleep(0.2)`.execute(router.db())])),
          ),
        );
        running = false;
        await sampling;
        expect(sampled.length).toBeGreaterThan(0);
        expect(Math.max(...sampled)).toBeLessThanOrEqual(2);
        expect(router.stats()).toMatchObject({ pools: 1, connections: 2, leases: 0 });
      } finally {
        for (const tenantId of tenants) await runAsSystem({ reason: 'test' }, () => router.deprovision(tenantId));
        await router.close();
      }
    });
  });
});
