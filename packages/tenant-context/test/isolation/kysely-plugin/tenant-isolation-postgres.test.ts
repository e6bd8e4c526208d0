import { createTemporaryPostgresDatabase, describeWithService, type TemporaryDatabase } from '@tenantkit/test-utils';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { describeTenantIsolationPluginBehaviour } from './tenant-isolation-behaviour-suite.js';

await describeWithService('postgres', 'tenant isolation plugin on PostgreSQL', () => {
  let database: TemporaryDatabase | undefined;
  let db: Kysely<any> | undefined;

  describeTenantIsolationPluginBehaviour({
    name: 'PostgreSQL (pg)',
    dialect: 'postgres',
    async open() {
      database = await createTemporaryPostgresDatabase();
      // Durability is not under test: not waiting for the WAL flush keeps 10,000 writes quick.
      db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 10, options: '-c synchronous_commit=off' }) }) });
      return db;
    },
    async close() {
      await db?.destroy();
      await database?.drop();
    },
  });
});
