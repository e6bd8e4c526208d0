import { kyselyTenantContextStores, kyselyTenantStore, migrateTenantContextSchema } from '@tenantkit/tenant-context/kysely';
import { createTemporaryPostgresDatabase, describeWithService, unusedLocalPort, type TemporaryDatabase } from '@tenantkit/test-utils';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { describeMigratedKyselyStores } from './kysely-adapter-suite.js';

await describeWithService('postgres', 'kysely adapter on PostgreSQL', () => {
  let database: TemporaryDatabase | undefined;
  let db: Kysely<any>;
  const instances: Kysely<any>[] = [];

  function connect(url: string, options: pg.PoolConfig = {}): Kysely<any> {
    const instance = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 10, ...options }) }) });
    instances.push(instance);
    return instance;
  }

  describeMigratedKyselyStores({
    name: 'kysely on PostgreSQL',
    dialect: 'postgres',
    async open() {
      // A locale collation, as production databases usually have: with the server's C default,
      // code relying on byte-wise ordering without asking for it would pass unnoticed.
      database = await createTemporaryPostgresDatabase({ icuLocale: 'en-US' });
      db = connect(database.url);
      return db;
    },
    async close() {
      for (const instance of instances) await instance.destroy();
      await database?.drop();
    },
    connectAgain: () => connect(database?.url ?? ''),
  });

  describe('an unreachable server', () => {
    it('fails every store call and the migration with STORE_UNAVAILABLE, keeping the driver error', async () => {
      const port = await unusedLocalPort();
      const unreachable = connect(`postgres://postgres@127.0.0.1:${port}/test`, { connectionTimeoutMillis: 2_000 });
      const stores = kyselyTenantContextStores(unreachable);
      await expect(stores.tenants.getTenantById('tnt_a')).rejects.toMatchObject({
        name: 'TenantContextError',
        code: 'STORE_UNAVAILABLE',
        status: 503,
        cause: expect.objectContaining({ code: 'ECONNREFUSED' }),
      });
      await expect(stores.usageCounters.increment('tnt_a', 'users', 1, 5)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await expect(stores.tenants.purgeTenant('tnt_a', { status: 'active', version: 1 })).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await expect(migrateTenantContextSchema(unreachable)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    });

    it('fails with STORE_UNAVAILABLE once the Kysely instance is destroyed', async () => {
      const closed = connect(database?.url ?? '');
      const store = kyselyTenantStore(closed);
      expect(await store.getTenantById('tnt_a')).toBeNull();
      await closed.destroy();
      await expect(store.getTenantById('tnt_a')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    });
  });
});
