import { kyselyRbacStore, migrateRbacSchema } from '@tenantkit/rbac/kysely';
import { buildAssignment, buildRole, createTemporaryPostgresDatabase, describeWithService, unusedLocalPort, type TemporaryDatabase } from '@tenantkit/test-utils';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { describeMigratedKyselyRbacStore } from './kysely-rbac-adapter-suite.js';

await describeWithService('postgres', 'kysely RBAC store on PostgreSQL', () => {
  let database: TemporaryDatabase | undefined;
  const instances: Kysely<any>[] = [];

  function connect(url: string, options: pg.PoolConfig = {}): Kysely<any> {
    const instance = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 10, ...options }) }) });
    instances.push(instance);
    return instance;
  }

  describeMigratedKyselyRbacStore({
    name: 'kysely on PostgreSQL',
    dialect: 'postgres',
    async open() {
      // A locale collation, as production databases usually have: with the server's C default,
      // code relying on byte-wise ordering without asking for it would pass unnoticed.
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
    it('fails reads, mutations and the migration with STORE_UNAVAILABLE, keeping the driver error', async () => {
      const port = await unusedLocalPort();
      const unreachable = connect(`postgres://postgres@127.0.0.1:${port}/test`, { connectionTimeoutMillis: 2_000 });
      const store = kyselyRbacStore(unreachable);
      await expect(store.getRole('tnt_a', 'editor')).rejects.toMatchObject({
        name: 'RbacError',
        code: 'STORE_UNAVAILABLE',
        status: 503,
        cause: expect.objectContaining({ code: 'ECONNREFUSED' }),
      });
      await expect(store.insertRole(buildRole({ tenantId: 'tnt_a', key: 'editor' }))).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await expect(store.insertAssignment(buildAssignment({ tenantId: 'tnt_a', id: 'asg_1' }), { maxAssignments: 1, now: 0 })).rejects.toMatchObject({
        code: 'STORE_UNAVAILABLE',
      });
      await expect(migrateRbacSchema(unreachable)).rejects.toMatchObject({ name: 'RbacError', code: 'STORE_UNAVAILABLE' });
    });

    it('fails with STORE_UNAVAILABLE once the Kysely instance is destroyed', async () => {
      const closed = connect(database?.url ?? '');
      const store = kyselyRbacStore(closed);
      expect(await store.getPolicyVersion('tnt_a')).toBe(0);
      await closed.destroy();
      await expect(store.getPolicyVersion('tnt_a')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    });
  });
});
