import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kyselyRbacStore, migrateRbacSchema } from '@tenantkit/rbac/kysely';
import { buildAssignment, buildGroup, buildRole, fixtureEpochMs } from '@tenantkit/test-utils';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql, type LogEvent } from 'kysely';
import { describe, expect, it } from 'vitest';
import { allRbacMigrationsApplied, clearRbacTables, describeMigratedKyselyRbacStore } from './kysely-rbac-adapter-suite.js';

describe('kysely RBAC store on SQLite (better-sqlite3)', () => {
  // A file rather than `:memory:`, so that further connections (standing in for other
  // processes) open the same database.
  const directory = mkdtempSync(join(tmpdir(), 'tenantkit-rbac-sqlite-'));
  const file = join(directory, 'rbac.sqlite');
  const connections: Database.Database[] = [];
  const instances: Kysely<any>[] = [];

  /*
   * Every connection lives on this one thread, where better-sqlite3's busy timeout would wait
   * synchronously and so block the very connection holding the lock. A zero timeout makes
   * contention surface at once, as the store's own asynchronous wait for the write lock.
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

  const db = describeMigratedKyselyRbacStore({
    name: 'kysely on SQLite',
    dialect: 'sqlite',
    open() {
      // WAL, as production SQLite deployments with several processes use it.
      new Database(file).pragma('journal_mode = WAL');
      return connect();
    },
    async close() {
      for (const instance of instances) await instance.destroy().catch(() => undefined);
      for (const connection of connections) if (connection.open) connection.close();
      rmSync(directory, { recursive: true, force: true });
    },
    connectAgain: () => connect(),
  });

  describe('SQLite column storage', () => {
    it('stores integers with INTEGER storage class and reads them exactly in safeIntegers mode', async () => {
      await clearRbacTables(db());
      const store = kyselyRbacStore(db());
      const role = buildRole({ tenantId: 'tnt_a', key: 'editor', createdAt: Number.MAX_SAFE_INTEGER, customized: true });
      await store.insertRole(role);
      await store.insertAssignment(buildAssignment({ tenantId: 'tnt_a', id: 'asg_1', expiresAt: Number.MAX_SAFE_INTEGER }), { maxAssignments: 1, now: 0 });
      const { rows } = await sql<Record<string, string>>`
        select typeof(r.created_at) as created_at, typeof(r.version) as version, typeof(r.customized) as customized,
          typeof(a.expires_at) as expires_at, typeof(v.version) as policy_version
        from tenantkit_rbac_roles r, tenantkit_rbac_assignments a, tenantkit_rbac_policy_versions v
      `.execute(db());
      expect(rows).toEqual([{ created_at: 'integer', version: 'integer', customized: 'integer', expires_at: 'integer', policy_version: 'integer' }]);

      const database = openDatabase();
      database.defaultSafeIntegers(true);
      const bigintStore = kyselyRbacStore(new Kysely<any>({ dialect: new SqliteDialect({ database }) }));
      expect(await bigintStore.getRole('tnt_a', 'editor')).toEqual(role);
      expect(await bigintStore.getPolicyVersion('tnt_a')).toBe(2);
      expect(await bigintStore.insertAssignment(buildAssignment({ tenantId: 'tnt_a', id: 'asg_2', subjectId: 'usr_2' }), { maxAssignments: 1, now: 0 })).toBe(
        'limit-reached',
      );
    });
  });

  describe('SQLite locking', () => {
    it("waits for another connection's write lock instead of failing, then writes", async () => {
      await clearRbacTables(db());
      let reportBusy: () => void = () => undefined;
      const firstBusy = new Promise<void>((resolve) => {
        reportBusy = resolve;
      });
      const waiting = kyselyRbacStore(
        connect((event) => {
          if (event.level === 'error' && (event.error as { code?: unknown }).code === 'SQLITE_BUSY') reportBusy();
        }),
      );
      const other = openDatabase();
      other.exec('begin immediate');
      const insert = waiting.insertRole(buildRole({ tenantId: 'tnt_a', key: 'editor' }));
      await firstBusy;
      other.exec('commit');
      expect(await insert).toBe(true);
      expect(await kyselyRbacStore(db()).getPolicyVersion('tnt_a')).toBe(1);
    });

    it('checks and writes under the write lock even in a caller transaction that read first', async () => {
      await clearRbacTables(db());
      const outside = kyselyRbacStore(connect());
      // The caller's deferred transaction reads, another connection writes, then the caller's
      // mutation must not decide on the stale read: SQLite refuses its write (STORE_CONFLICT).
      await expect(
        db()
          .transaction()
          .execute(async (trx) => {
            const store = kyselyRbacStore(trx);
            expect(await store.getGroup('tnt_a', 'grp_1')).toBeNull();
            expect(await outside.insertGroup(buildGroup({ tenantId: 'tnt_a', id: 'grp_1', name: 'Taken' }))).toBe(true);
            await store.insertGroup(buildGroup({ tenantId: 'tnt_a', id: 'grp_2', name: 'Taken' }));
          }),
      ).rejects.toMatchObject({ name: 'RbacError', code: 'STORE_CONFLICT', cause: expect.objectContaining({ code: 'SQLITE_BUSY_SNAPSHOT' }) });
      expect((await kyselyRbacStore(db()).listGroups('tnt_a')).map((group) => group.id)).toEqual(['grp_1']);
    });
  });

  describe('SQLite migrations', () => {
    it('rolls a failed migration back as a whole, bookkeeping included, and can run again', async () => {
      const tableNames = async (prefix: string) =>
        (await sql<{ name: string }>`select name from sqlite_master where type = 'table' order by name`.execute(db())).rows
          .map((row) => row.name)
          .filter((name) => name.startsWith(prefix));
      // A leftover table without the columns the migration indexes makes it fail half-way.
      await sql`create table fail_rbac_groups (id text primary key)`.execute(db());
      await expect(migrateRbacSchema(db(), { tablePrefix: 'fail_' })).rejects.toMatchObject({
        code: 'CONFIGURATION_INVALID',
        details: { migrationName: 'tenantkit_rbac_0001_initial_schema' },
      });
      expect(await tableNames('fail_')).toEqual(['fail_rbac_groups']);
      await sql`drop table fail_rbac_groups`.execute(db());
      expect(await migrateRbacSchema(db(), { tablePrefix: 'fail_' })).toEqual(allRbacMigrationsApplied);
      expect(await tableNames('fail_')).toHaveLength(7);
    });

    it('migrates and serves an in-memory database', async () => {
      const memory = new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
      try {
        expect(await migrateRbacSchema(memory)).toEqual(allRbacMigrationsApplied);
        expect(await migrateRbacSchema(memory)).toEqual([]);
        const store = kyselyRbacStore(memory);
        expect(await store.insertGroup(buildGroup({ tenantId: 'tnt_a', id: 'grp_1' }))).toBe(true);
        expect(await store.moveGroup('tnt_a', 'grp_1', 'grp_1', fixtureEpochMs)).toBe('cycle');
        expect(await store.getPolicyVersion('tnt_a')).toBe(1);
      } finally {
        await memory.destroy();
      }
    });
  });

  describe('a closed database', () => {
    it('fails with STORE_UNAVAILABLE once the Kysely instance is destroyed or the database closed underneath', async () => {
      const closing = connect();
      const store = kyselyRbacStore(closing);
      expect(await store.getPolicyVersion('tnt_a')).toBeGreaterThanOrEqual(0);
      await closing.destroy();
      await expect(store.getPolicyVersion('tnt_a')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });

      const database = openDatabase();
      const underneath = kyselyRbacStore(new Kysely<any>({ dialect: new SqliteDialect({ database }) }));
      expect(await underneath.listRoles('tnt_a')).toEqual(expect.any(Array));
      database.close();
      await expect(underneath.insertRole(buildRole({ tenantId: 'tnt_a', key: 'x' }))).rejects.toMatchObject({
        name: 'RbacError',
        code: 'STORE_UNAVAILABLE',
        cause: expect.any(TypeError),
      });
    });
  });
});
