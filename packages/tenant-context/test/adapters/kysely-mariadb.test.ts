import { kyselyTenantContextStores, migrateTenantContextSchema } from '@tenantkit/tenant-context/kysely';
import {
  buildDomain,
  buildMembership,
  buildTenant,
  createTemporaryMariadbDatabase,
  describeWithService,
  unusedLocalPort,
  type TemporaryDatabase,
} from '@tenantkit/test-utils';
import { Kysely, MysqlDialect } from 'kysely';
import { createPool, type PoolOptions } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { clearTenantContextTables, describeMigratedKyselyStores } from './kysely-adapter-suite.js';

await describeWithService('mariadb', 'kysely adapter on MariaDB', () => {
  let database: TemporaryDatabase | undefined;
  let db: Kysely<any>;
  const instances: Kysely<any>[] = [];

  function connect(url: string, options: PoolOptions = {}): Kysely<any> {
    const instance = new Kysely<any>({ dialect: new MysqlDialect({ pool: createPool({ uri: url, connectionLimit: 10, ...options }) }) });
    instances.push(instance);
    return instance;
  }

  describeMigratedKyselyStores({
    name: 'kysely on MariaDB',
    dialect: 'mysql',
    async open() {
      database = await createTemporaryMariadbDatabase();
      db = connect(database.url);
      return db;
    },
    async close() {
      for (const instance of instances) await instance.destroy();
      await database?.drop();
    },
    connectAgain: () => connect(database?.url ?? ''),
  });

  describe('MySQL row counts', () => {
    it('reports updates right when the client counts changed rather than found rows', async () => {
      await clearTenantContextTables(db);
      // Without FOUND_ROWS the server reports 0 affected rows for an update that writes the
      // values a row already has.
      const changedRowsOnly = connect(database?.url ?? '', { flags: ['-FOUND_ROWS'] });
      const stores = kyselyTenantContextStores(changedRowsOnly);
      const tenant = buildTenant({ id: 'tnt_a' });
      await stores.tenants.insertTenant(tenant);
      expect(await stores.tenants.updateTenant({ ...tenant, version: 2 }, 1)).toBe(true);
      expect(await stores.tenants.updateTenant({ ...tenant, version: 2 }, 1)).toBe(false);
      const membership = buildMembership({ tenantId: 'tnt_a', userId: 'usr_1' });
      await stores.memberships.insertMembership(membership);
      expect(await stores.memberships.updateMembership(membership, { status: membership.status, updatedAt: membership.updatedAt })).toBe(true);
      expect(await stores.memberships.updateMembership({ ...membership, tenantId: 'tnt_b' }, { status: membership.status, updatedAt: membership.updatedAt })).toBe(false);
      const domain = buildDomain({ tenantId: 'tnt_a', hostname: 'app.test' });
      await stores.tenants.insertDomain(domain);
      expect(await stores.tenants.updateDomain(domain)).toBe(true);
      expect(await stores.tenants.updateDomain({ ...domain, tenantId: 'tnt_b' })).toBe(false);
      await stores.usageCounters.set('tnt_a', 'users', 0);
      expect(await stores.usageCounters.decrement('tnt_a', 'users', 1)).toBe(0);
      expect(await stores.usageCounters.increment('tnt_a', 'users', 2, 2)).toEqual({ applied: true, value: 2 });
      expect(await stores.usageCounters.increment('tnt_a', 'users', 1, 2)).toEqual({ applied: false, value: 2 });
    });
  });

  describe('an unreachable server', () => {
    it('fails every store call and the migration with STORE_UNAVAILABLE, keeping the driver error', async () => {
      const port = await unusedLocalPort();
      const unreachable = connect(`mysql://root@127.0.0.1:${port}/test`, { connectTimeout: 2_000 });
      const stores = kyselyTenantContextStores(unreachable);
      await expect(stores.tenants.getTenantById('tnt_a')).rejects.toMatchObject({
        name: 'TenantContextError',
        code: 'STORE_UNAVAILABLE',
        status: 503,
        cause: expect.objectContaining({ code: 'ECONNREFUSED' }),
      });
      await expect(stores.usageCounters.increment('tnt_a', 'users', 1, 5)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await expect(stores.memberships.updateMembership(buildMembership({ tenantId: 'a', userId: 'b' }), { status: 'active', updatedAt: 0 })).rejects.toMatchObject({
        code: 'STORE_UNAVAILABLE',
      });
      await expect(migrateTenantContextSchema(unreachable)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    });
  });
});
