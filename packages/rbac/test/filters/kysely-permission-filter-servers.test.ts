import { createTemporaryMariadbDatabase, createTemporaryPostgresDatabase, describeWithService, type TemporaryDatabase } from '@tenantkit/test-utils';
import { Kysely, MysqlDialect, PostgresDialect } from 'kysely';
import { createPool } from 'mysql2';
import pg from 'pg';
import { afterAll, beforeAll, it } from 'vitest';
import { assertFilterMatchesReference, createFilterTestTable, filterTestRows } from './kysely-filter-differential.js';

await describeWithService('postgres', 'kyselyPermissionFilter on Postgres matches the reference evaluation', () => {
  let database: TemporaryDatabase;
  let db: Kysely<any>;
  beforeAll(async () => {
    // An ICU default collation, like production servers: the test table still compares bytewise.
    database = await createTemporaryPostgresDatabase({ icuLocale: 'en-US' });
    db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 4 }) }) });
    await createFilterTestTable(db, 'postgres', filterTestRows());
  });
  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  it('for random conditions', async () => {
    await assertFilterMatchesReference(db, 'postgres', 300);
  });
});

await describeWithService('mariadb', 'kyselyPermissionFilter on MariaDB matches the reference evaluation', () => {
  let database: TemporaryDatabase;
  let db: Kysely<any>;
  beforeAll(async () => {
    database = await createTemporaryMariadbDatabase();
    db = new Kysely<any>({ dialect: new MysqlDialect({ pool: createPool({ uri: database.url, connectionLimit: 4 }) }) });
    await createFilterTestTable(db, 'mysql', filterTestRows());
  });
  afterAll(async () => {
    await db?.destroy();
    await database?.drop();
  });

  it('for random conditions', async () => {
    await assertFilterMatchesReference(db, 'mysql', 300);
  });
});
