import { kyselyAuthStores, migrateAuthSchema } from '@tenantkit/auth/kysely';
import { buildAccountRecord, createTemporaryPostgresDatabase, describeWithService, unusedLocalPort, type TemporaryDatabase } from '@tenantkit/test-utils';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { describeMigratedKyselyAuthStores } from './kysely-auth-adapter-suite.js';

await describeWithService('postgres', 'kysely auth stores on PostgreSQL', () => {
  let database: TemporaryDatabase | undefined;
  const instances: Kysely<any>[] = [];

  function connect(url: string, options: pg.PoolConfig = {}): Kysely<any> {
    const instance = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 10, ...options }) }) });
    instances.push(instance);
    return instance;
  }

  describeMigratedKyselyAuthStores({
    name: 'kysely on PostgreSQL',
    dialect: 'postgres',
    async open() {
      // A locale collation, as production databases usually have: with the server's C default,
      // code relying on byte-wise comparison without asking for it would pass unnoticed.
      database = await createTemporaryPostgresDatabase({ icuLocale: 'en-US' });
      return connect(database.url);
    },
    async close() {
      for (const instance of instances) await instance.destroy();
      await database?.drop();
    },
    connectAgain: () => connect(database?.url ?? ''),
  });

  describe('an unreachable server', () => {
    it('fails reads, writes, atomic steps and the migration with STORE_UNAVAILABLE, keeping the driver error', async () => {
      const port = await unusedLocalPort();
      const unreachable = connect(`postgres://postgres@127.0.0.1:${port}/test`, { connectionTimeoutMillis: 2_000 });
      const stores = kyselyAuthStores(unreachable);
      await expect(stores.accounts.findByEmail('a@example.com')).rejects.toMatchObject({
        name: 'AuthError',
        code: 'STORE_UNAVAILABLE',
        status: 503,
        cause: expect.objectContaining({ code: 'ECONNREFUSED' }),
      });
      await expect(stores.accounts.create(buildAccountRecord({ id: 'usr_1', email: 'a@example.com', createdAt: 0 }))).rejects.toMatchObject({
        code: 'STORE_UNAVAILABLE',
      });
      await expect(stores.oneTimeTokens.consume('hash', 'password-reset', 0)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await expect(stores.sessions.touch('ses_1', { now: 0, expiresAt: 1 })).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await expect(migrateAuthSchema(unreachable)).rejects.toMatchObject({ name: 'AuthError', code: 'STORE_UNAVAILABLE' });
    });

    it('fails with STORE_UNAVAILABLE once the Kysely instance is destroyed', async () => {
      const closed = connect(database?.url ?? '');
      const stores = kyselyAuthStores(closed);
      expect(await stores.apiKeys.listByTenant('tnt_destroyed')).toEqual([]);
      await closed.destroy();
      await expect(stores.apiKeys.listByTenant('tnt_destroyed')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    });
  });
});
