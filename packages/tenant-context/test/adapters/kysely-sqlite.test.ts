import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kyselyTenantContextStores, kyselyTenantStore, migrateTenantContextSchema } from '@tenantkit/tenant-context/kysely';
import { buildTenant, fixtureEpochMs } from '@tenantkit/test-utils';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql, type LogEvent } from 'kysely';
import { describe, expect, it } from 'vitest';
import { sqliteVersionSupportsStores } from '../../src/adapters/kysely/schema-ddl.js';
import { allMigrationsApplied, clearTenantContextTables, describeMigratedKyselyStores } from './kysely-adapter-suite.js';

describe('kysely adapter on SQLite (better-sqlite3)', () => {
  // A file of its own rather than `:memory:`, so that further connections (standing in for
  // other processes) open the same database.
  const directory = mkdtempSync(join(tmpdir(), 'tenantkit-sqlite-'));
  const file = join(directory, 'tenant-context.sqlite');
  const connections: Database.Database[] = [];
  const instances: Kysely<any>[] = [];
  let db: Kysely<any>;

  /*
   * Every connection lives on this one thread, where better-sqlite3's busy timeout would wait
   * synchronously and so block the very connection holding the lock. A zero timeout makes
   * contention surface at once: as an error, or as the adapter's own asynchronous retry.
   */
  function openDatabase(): Database.Database {
    const database = new Database(file, { timeout: 0 });
    connections.push(database);
    return database;
  }

  function connect(log?: (event: LogEvent) => void): Kysely<any> {
    const instance = new Kysely<any>({ dialect: new SqliteDialect({ database: openDatabase() }), ...(log ? { log } : {}) });
    instances.push(instance);
    return instance;
  }

  describeMigratedKyselyStores({
    name: 'kysely on SQLite',
    dialect: 'sqlite',
    open() {
      // WAL, as production SQLite deployments with several processes use it.
      new Database(file).pragma('journal_mode = WAL');
      db = connect();
      return db;
    },
    async close() {
      for (const instance of instances) await instance.destroy().catch(() => undefined);
      for (const connection of connections) if (connection.open) connection.close();
      rmSync(directory, { recursive: true, force: true });
    },
    connectAgain: () => connect(),
  });

  describe('SQLite column storage', () => {
    it('stores integers with INTEGER storage class although better-sqlite3 binds numbers as REAL', async () => {
      await clearTenantContextTables(db);
      const stores = kyselyTenantContextStores(db);
      const tenant = buildTenant({ id: 'tnt_a', createdAt: Number.MAX_SAFE_INTEGER, version: 1 });
      await stores.tenants.insertTenant(tenant);
      expect(await stores.tenants.updateTenant({ ...tenant, version: 2 }, 1)).toBe(true);
      await stores.usageCounters.increment('tnt_a', 'seats', 5, 10);
      await stores.usageCounters.decrement('tnt_a', 'seats', 2);
      await stores.usageCounters.set('tnt_a', 'bytes', 7);
      const { rows: tenantTypes } = await sql<Record<string, string>>`
        select typeof(created_at) as created_at, typeof(updated_at) as updated_at, typeof(deleted_at) as deleted_at,
          typeof(version) as version from tenantkit_tenants
      `.execute(db);
      expect(tenantTypes).toEqual([{ created_at: 'integer', updated_at: 'integer', deleted_at: 'null', version: 'integer' }]);
      const { rows: counterTypes } = await sql<{ resource: string; type: string }>`
        select resource, typeof(value) as type from tenantkit_usage_counters order by resource
      `.execute(db);
      expect(counterTypes).toEqual([
        { resource: 'bytes', type: 'integer' },
        { resource: 'seats', type: 'integer' },
      ]);
      expect(await stores.usageCounters.getAll('tnt_a')).toEqual({ bytes: 7, seats: 3 });
    });

    it('reads integers exactly when the driver returns them as bigint (safeIntegers mode)', async () => {
      await clearTenantContextTables(db);
      const database = openDatabase();
      database.defaultSafeIntegers(true);
      const bigintDb = new Kysely<any>({ dialect: new SqliteDialect({ database }) });
      instances.push(bigintDb);
      const stores = kyselyTenantContextStores(bigintDb);
      const tenant = buildTenant({ id: 'tnt_big', createdAt: Number.MAX_SAFE_INTEGER, deletedAt: -Number.MAX_SAFE_INTEGER });
      await stores.tenants.insertTenant(tenant);
      expect(await stores.tenants.getTenantById('tnt_big')).toEqual(tenant);
      expect(await stores.usageCounters.increment('tnt_big', 'seats', 2, 3)).toEqual({ applied: true, value: 2 });
      expect(await stores.usageCounters.increment('tnt_big', 'seats', 2, 3)).toEqual({ applied: false, value: 2 });
      expect(await stores.usageCounters.decrement('tnt_big', 'seats', 5)).toBe(0);
      await sql`update tenantkit_tenants set version = 9007199254740993`.execute(bigintDb);
      await expect(stores.tenants.getTenantById('tnt_big')).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
    });

    it('refuses an integer column holding a fraction or text instead of rounding or parsing it', async () => {
      await clearTenantContextTables(db);
      const stores = kyselyTenantContextStores(db);
      await stores.tenants.insertTenant(buildTenant({ id: 'tnt_a' }));
      await stores.tenants.insertTenant(buildTenant({ id: 'tnt_b', slug: 'b' }));
      // INTEGER affinity keeps what it cannot convert losslessly as REAL or TEXT.
      await sql`update tenantkit_tenants set version = 1.5 where id = 'tnt_a'`.execute(db);
      await sql`update tenantkit_tenants set version = 'one' where id = 'tnt_b'`.execute(db);
      await expect(stores.tenants.getTenantById('tnt_a')).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
      await expect(stores.tenants.getTenantById('tnt_b')).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
    });
  });

  describe('SQLite search and keys', () => {
    it('searches case-insensitively even with PRAGMA case_sensitive_like, and never matches ids by case', async () => {
      await clearTenantContextTables(db);
      const caseSensitive = connect();
      await sql`pragma case_sensitive_like = on`.execute(caseSensitive);
      const stores = kyselyTenantContextStores(caseSensitive);
      await stores.tenants.insertTenant(buildTenant({ id: 'tnt_a', slug: 'acme-corp', name: 'Acme Corporation' }));
      await stores.tenants.insertTenant(buildTenant({ id: 'tnt_b', slug: 'other', name: 'The ACME_Group', createdAt: fixtureEpochMs + 1 }));
      const ids = async (search: string) => (await stores.tenants.listTenants({ limit: 50, search })).items.map((t) => t.id);
      expect(await ids('ACME')).toEqual(['tnt_a', 'tnt_b']);
      expect(await ids('acme_')).toEqual(['tnt_b']);
      expect(await ids('CORP%')).toEqual([]);
      expect(await stores.tenants.getTenantBySlug('ACME-CORP')).toBeNull();
      expect(await stores.tenants.getTenantById('TNT_A')).toBeNull();
    });
  });

  describe('SQLite locking', () => {
    it('fails a write with STORE_UNAVAILABLE while another connection holds the write lock, and writes nothing', async () => {
      await clearTenantContextTables(db);
      const stores = kyselyTenantContextStores(db);
      const other = openDatabase();
      other.exec('begin immediate');
      try {
        await expect(stores.tenants.insertTenant(buildTenant({ id: 'tnt_a' }))).rejects.toMatchObject({
          code: 'STORE_UNAVAILABLE',
          cause: expect.objectContaining({ code: 'SQLITE_BUSY' }),
        });
        await expect(stores.usageCounters.increment('tnt_a', 'seats', 1, 5)).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      } finally {
        other.exec('rollback');
      }
      expect(await stores.tenants.getTenantById('tnt_a')).toBeNull();
      expect(await stores.usageCounters.increment('tnt_a', 'seats', 1, 5)).toEqual({ applied: true, value: 1 });
    });

    it('fails a caller transaction that read before another connection wrote with STORE_CONFLICT', async () => {
      await clearTenantContextTables(db);
      const otherStores = kyselyTenantContextStores(connect());
      await expect(
        db.transaction().execute(async (trx) => {
          const stores = kyselyTenantContextStores(trx);
          // The read opens the transaction's WAL snapshot; the other connection then commits.
          expect(await stores.tenants.getTenantBySlug('shared')).toBeNull();
          await otherStores.tenants.insertTenant(buildTenant({ id: 'tnt_other', slug: 'shared' }));
          await stores.tenants.insertTenant(buildTenant({ id: 'tnt_mine', slug: 'shared' }));
        }),
      ).rejects.toMatchObject({ code: 'STORE_CONFLICT', cause: expect.objectContaining({ code: 'SQLITE_BUSY_SNAPSHOT' }) });
      const stores = kyselyTenantContextStores(db);
      expect((await stores.tenants.getTenantBySlug('shared'))?.id).toBe('tnt_other');
      expect(await stores.tenants.getTenantById('tnt_mine')).toBeNull();
    });

    it('admits exactly 150 of 200 concurrent increments spread over four connections', async () => {
      await clearTenantContextTables(db);
      const counters = [db, connect(), connect(), connect()].map((instance) => kyselyTenantContextStores(instance).usageCounters);
      // 50 rounds of one increment per connection: 200 calls, interleaved.
      const results = await Promise.all(
        Array.from({ length: 50 }, () => counters.map((counter) => counter.increment('tnt_a', 'seats', 1, 150))).flat(),
      );
      const admitted = results.filter((result) => result.applied).map((result) => result.value);
      expect(admitted.sort((a, b) => a - b)).toEqual(Array.from({ length: 150 }, (_, index) => index + 1));
      expect(results.filter((result) => !result.applied).every((result) => result.value === 150)).toBe(true);
      expect(await counters[0]?.get('tnt_a', 'seats')).toBe(150);
    });
  });

  describe('SQLite migrations', () => {
    it('waits for another connection\'s write lock instead of failing, then migrates', async () => {
      let reportBusy: () => void = () => undefined;
      const firstBusy = new Promise<void>((resolve) => {
        reportBusy = resolve;
      });
      const waiting = connect((event) => {
        if (event.level === 'error' && (event.error as { code?: unknown }).code === 'SQLITE_BUSY') reportBusy();
      });
      const other = openDatabase();
      other.exec('begin immediate');
      const migration = migrateTenantContextSchema(waiting, { tablePrefix: 'wait_' });
      await firstBusy;
      other.exec('commit');
      expect(await migration).toEqual(allMigrationsApplied);
    });

    it('rolls a failed migration back as a whole, bookkeeping included', async () => {
      const tableNames = async (prefix: string) =>
        (await sql<{ name: string }>`select name from sqlite_master where type = 'table' order by name`.execute(db)).rows
          .map((row) => row.name)
          .filter((name) => name.startsWith(prefix));
      // A leftover table without the columns the migration indexes makes it fail half-way.
      await sql`create table fail_lifecycle_runs (id text primary key)`.execute(db);
      await expect(migrateTenantContextSchema(db, { tablePrefix: 'fail_' })).rejects.toMatchObject({
        code: 'CONFIGURATION_INVALID',
        details: { migrationName: 'tenantkit_tenant_context_0001_initial_schema' },
      });
      expect(await tableNames('fail_')).toEqual(['fail_lifecycle_runs']);
      await sql`drop table fail_lifecycle_runs`.execute(db);
      expect(await migrateTenantContextSchema(db, { tablePrefix: 'fail_' })).toEqual(allMigrationsApplied);
      expect(await tableNames('fail_')).toHaveLength(7);
    });

    it('accepts SQLite 3.35.0 and later only, which have RETURNING', () => {
      for (const version of ['3.35.0', '3.35.5', '3.53.2', '3.100.0', '4.0.0']) expect(sqliteVersionSupportsStores(version)).toBe(true);
      for (const version of ['3.34.1', '3.9.2', '2.8.17', '', 'unknown']) expect(sqliteVersionSupportsStores(version)).toBe(false);
      expect(sqliteVersionSupportsStores(String(new Database(':memory:').prepare('select sqlite_version() as v').pluck().get()))).toBe(true);
    });
  });

  describe('a closed database', () => {
    it('fails with STORE_UNAVAILABLE once the Kysely instance is destroyed', async () => {
      const closing = connect();
      const store = kyselyTenantStore(closing);
      expect(await store.getTenantById('tnt_a')).toBeNull();
      await closing.destroy();
      await expect(store.getTenantById('tnt_a')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    });

    it('fails with STORE_UNAVAILABLE, keeping the driver error, once the better-sqlite3 database is closed underneath', async () => {
      const database = openDatabase();
      const store = kyselyTenantStore(new Kysely<any>({ dialect: new SqliteDialect({ database }) }));
      expect(await store.getTenantById('tnt_a')).toBeNull();
      database.close();
      await expect(store.getTenantById('tnt_a')).rejects.toMatchObject({
        name: 'TenantContextError',
        code: 'STORE_UNAVAILABLE',
        status: 503,
        cause: expect.any(TypeError),
      });
    });
  });
});
