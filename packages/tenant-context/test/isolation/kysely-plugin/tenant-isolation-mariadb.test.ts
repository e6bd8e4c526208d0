import { createTemporaryMariadbDatabase, describeWithService, type TemporaryDatabase } from '@tenantkit/test-utils';
import { Kysely, MysqlDialect } from 'kysely';
import { createPool } from 'mysql2';
import { describeTenantIsolationPluginBehaviour } from './tenant-isolation-behaviour-suite.js';

await describeWithService('mariadb', 'tenant isolation plugin on MariaDB', () => {
  let database: TemporaryDatabase | undefined;
  let db: Kysely<any> | undefined;

  describeTenantIsolationPluginBehaviour({
    name: 'MariaDB (mysql2)',
    dialect: 'mysql',
    async open() {
      database = await createTemporaryMariadbDatabase();
      db = new Kysely<any>({ dialect: new MysqlDialect({ pool: createPool({ uri: database.url, connectionLimit: 10 }) }) });
      return db;
    },
    async close() {
      await db?.destroy();
      await database?.drop();
    },
  });
});
