import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { describeTenantIsolationPluginBehaviour } from './tenant-isolation-behaviour-suite.js';

let db: Kysely<any> | undefined;

describeTenantIsolationPluginBehaviour({
  name: 'SQLite (better-sqlite3)',
  dialect: 'sqlite',
  async open() {
    db = new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
    return db;
  },
  async close() {
    await db?.destroy();
  },
});
