import { PGlite } from '@electric-sql/pglite';
import { Kysely } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import { describeTenantIsolationPluginBehaviour } from './tenant-isolation-behaviour-suite.js';

let db: Kysely<any> | undefined;

describeTenantIsolationPluginBehaviour({
  name: 'PGlite',
  dialect: 'postgres',
  async open() {
    // In memory; relaxed durability skips waiting for the (virtual) file system on every commit.
    db = new Kysely<any>({ dialect: new PGliteDialect(new PGlite({ relaxedDurability: true })) });
    return db;
  },
  async close() {
    await db?.destroy();
  },
});
