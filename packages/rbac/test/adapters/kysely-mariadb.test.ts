import { kyselyRbacStore, migrateRbacSchema } from '@tenantkit/rbac/kysely';
import {
  buildAssignment,
  buildGroup,
  buildRole,
  createTemporaryMariadbDatabase,
  describeWithService,
  fixtureEpochMs,
  unusedLocalPort,
  type TemporaryDatabase,
} from '@tenantkit/test-utils';
import { Kysely, MysqlDialect } from 'kysely';
import { createPool, type PoolOptions } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { clearRbacTables, describeMigratedKyselyRbacStore } from './kysely-rbac-adapter-suite.js';

await describeWithService('mariadb', 'kysely RBAC store on MariaDB', () => {
  let database: TemporaryDatabase | undefined;
  const instances: Kysely<any>[] = [];

  function connect(url: string, options: PoolOptions = {}): Kysely<any> {
    const instance = new Kysely<any>({ dialect: new MysqlDialect({ pool: createPool({ uri: url, connectionLimit: 10, ...options }) }) });
    instances.push(instance);
    return instance;
  }

  const db = describeMigratedKyselyRbacStore({
    name: 'kysely on MariaDB',
    dialect: 'mysql',
    async open() {
      database = await createTemporaryMariadbDatabase();
      return connect(database.url);
    },
    async close() {
      for (const instance of instances) await instance.destroy();
      await database?.drop();
    },
    connectAgain: () => connect(database?.url ?? ''),
  });

  describe('MySQL row counts', () => {
    it('decides updates by what it read, not by the changed-rows count of a client without FOUND_ROWS', async () => {
      await clearRbacTables(db());
      // Without FOUND_ROWS the server reports 0 affected rows for an update that writes the
      // values a row already has.
      const store = kyselyRbacStore(connect(database?.url ?? '', { flags: ['-FOUND_ROWS'] }));
      const role = buildRole({ tenantId: 'tnt_a', key: 'editor' });
      await store.insertRole(role);
      expect(await store.updateRole({ ...role, version: 2 }, 1)).toBe(true);
      expect(await store.updateRole({ ...role, version: 2 }, 1)).toBe(false);
      await store.insertGroup(buildGroup({ tenantId: 'tnt_a', id: 'grp_1', name: 'Same' }));
      expect(await store.renameGroup('tnt_a', 'grp_1', 'Same', fixtureEpochMs)).toBe(true);
      expect(await store.moveGroup('tnt_a', 'grp_1', null, fixtureEpochMs)).toBe('moved');
      await store.insertAssignment(buildAssignment({ tenantId: 'tnt_a', id: 'asg_1', status: 'pending', approvedBy: 'usr_2', updatedAt: fixtureEpochMs }), {
        maxAssignments: null,
        now: 0,
      });
      expect((await store.approveAssignment('tnt_a', 'asg_1', 'usr_2', fixtureEpochMs))?.status).toBe('active');
      expect(await store.getPolicyVersion('tnt_a')).toBe(7);
    });
  });

  describe('an unreachable server', () => {
    it('fails reads, mutations and the migration with STORE_UNAVAILABLE, keeping the driver error', async () => {
      const port = await unusedLocalPort();
      const unreachable = connect(`mysql://root@127.0.0.1:${port}/test`, { connectTimeout: 2_000 });
      const store = kyselyRbacStore(unreachable);
      await expect(store.listRoles('tnt_a')).rejects.toMatchObject({
        name: 'RbacError',
        code: 'STORE_UNAVAILABLE',
        status: 503,
        cause: expect.objectContaining({ code: 'ECONNREFUSED' }),
      });
      await expect(store.moveGroup('tnt_a', 'grp_1', null, 0)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await expect(migrateRbacSchema(unreachable)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    });
  });
});
