import { createId } from '@tenantkit/core';
import { describeWithService, testServices } from '@tenantkit/test-utils';
import { Kysely, MysqlDialect, sql } from 'kysely';
import { createPool } from 'mysql2';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mysqlDatabaseProvisioner } from '../../../src/isolation/database-per-tenant/mysql-database-provisioner.js';
import { describeDatabaseRouterEngine } from './database-router-engine-suite.js';
import { rejectionOf, type LeakDatabase } from './database-router-fixtures.js';

function urlOf(databaseName?: string): string {
  const url = new URL(testServices.mariadb.url);
  url.pathname = databaseName === undefined ? '/' : `/${databaseName}`;
  return url.toString();
}

function kyselyFor<DB>(databaseName: string | undefined, connectionLimit: number): Kysely<DB> {
  return new Kysely<DB>({ dialect: new MysqlDialect({ pool: createPool({ uri: urlOf(databaseName), connectionLimit }) }) });
}

await describeWithService('mariadb', 'database per tenant on MariaDB', () => {
  // Every database this file creates starts with this prefix, and afterAll drops them all.
  const prefix = `tk_dbpt_${createId().slice(0, 10)}_`;
  let admin: Kysely<any>;

  beforeAll(() => {
    admin = kyselyFor(undefined, 2);
  });

  afterAll(async () => {
    const { rows } = await sql<{ name: string }>`
      select schema_name as name from information_schema.schemata where schema_name like ${`${prefix}%`}
    `.execute(admin);
    for (const { name } of rows) await sql`drop database if exists ${sql.id(name)}`.execute(admin);
    await admin.destroy();
  });

  const databaseExists = async (databaseName: string) =>
    (await sql`select 1 from information_schema.schemata where schema_name = ${databaseName}`.execute(admin)).rows.length > 0;

  describeDatabaseRouterEngine({
    prefix,
    connectionsPerPool: 1,
    provisioner: () => mysqlDatabaseProvisioner({ admin }),
    openDatabase: (_tenantId, { databaseName }) => kyselyFor<LeakDatabase>(databaseName, 1),
    databaseExists,
    async tablesOf(databaseName) {
      const { rows } = await sql<{ name: string }>`
        select table_name as name from information_schema.tables where table_schema = ${databaseName}
      `.execute(admin);
      return rows.map((row) => row.name);
    },
  });

  describe('mysqlDatabaseProvisioner', () => {
    it('creates utf8mb4 databases with the requested collation', async () => {
      const provisioner = mysqlDatabaseProvisioner({ admin, collation: 'utf8mb4_unicode_ci' });
      const name = `${prefix}charset`;
      expect(await provisioner.createDatabase(name)).toEqual({ created: true });
      expect(await provisioner.createDatabase(name)).toEqual({ created: false });
      const { rows } = await sql<{ charset: string; collation: string }>`
        select default_character_set_name as charset, default_collation_name as collation
        from information_schema.schemata where schema_name = ${name}
      `.execute(admin);
      expect(rows).toEqual([{ charset: 'utf8mb4', collation: 'utf8mb4_unicode_ci' }]);
      expect(await provisioner.dropDatabase(name)).toEqual({ dropped: true });
      expect(await provisioner.dropDatabase(name)).toEqual({ dropped: false });
    });

    it('kills sessions that would block the drop with their metadata locks', async () => {
      const provisioner = mysqlDatabaseProvisioner({ admin });
      const name = `${prefix}locked`;
      await provisioner.createDatabase(name);
      const other = await mysql.createConnection(urlOf(name));
      other.on('error', () => undefined);
      await other.query('create table t (id int primary key)');
      // An open transaction that read the table holds a metadata lock DROP DATABASE waits for.
      await other.query('start transaction');
      await other.query('select * from t');
      expect(await provisioner.dropDatabase(name)).toEqual({ dropped: true });
      expect(await databaseExists(name)).toBe(false);
      await other.end().catch(() => undefined);
    });

    it('validates its options and refuses names MariaDB would reject', async () => {
      for (const options of [null, { admin: 1 }, { admin, characterSet: 'utf8mb4; drop' }, { admin, collation: 'X' }, { admin, killSessions: 'yes' }]) {
        expect(() => mysqlDatabaseProvisioner(options as never)).toThrowError(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
      }
      const provisioner = mysqlDatabaseProvisioner({ admin });
      expect(provisioner.maxDatabaseNameBytes).toBe(64);
      expect((await rejectionOf(provisioner.createDatabase('x'.repeat(65)))).code).toBe('CONFIGURATION_INVALID');
    });
  });
});
