import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kyselyAuthStores, migrateAuthSchema } from '@tenantkit/auth/kysely';
import { buildAccountRecord, buildOneTimeTokenRecord, buildRefreshFamilyRecord, buildRefreshTokenRecord } from '@tenantkit/test-utils';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql, type LogEvent } from 'kysely';
import { describe, expect, it } from 'vitest';
import { allAuthMigrationsApplied, describeMigratedKyselyAuthStores } from './kysely-auth-adapter-suite.js';

describe('kysely auth stores on SQLite (better-sqlite3)', () => {
  // A file rather than `:memory:`, so that further connections (standing in for other
  // processes) open the same database.
  const directory = mkdtempSync(join(tmpdir(), 'tenantkit-auth-sqlite-'));
  const file = join(directory, 'auth.sqlite');
  const connections: Database.Database[] = [];
  const instances: Kysely<any>[] = [];

  /*
   * Every connection lives on this one thread, where better-sqlite3's busy timeout would wait
   * synchronously and so block the very connection holding the lock. A zero timeout makes
   * contention surface at once, as the stores' own asynchronous wait for the write lock.
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

  const db = describeMigratedKyselyAuthStores({
    name: 'kysely on SQLite',
    dialect: 'sqlite',
    open() {
      // WAL, as production SQLite deployments with several processes use it.
      const setup = new Database(file);
      setup.pragma('journal_mode = WAL');
      setup.close();
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
    it('stores times with INTEGER storage class and reads them exactly in safeIntegers mode', async () => {
      const stores = kyselyAuthStores(db());
      const account = buildAccountRecord({ id: 'usr_sqlite_int', email: 'sqlite-int@example.com', createdAt: Number.MAX_SAFE_INTEGER });
      expect(await stores.accounts.create(account)).toBe('created');
      const { rows } = await sql<Record<string, string>>`
        select typeof(created_at) as created_at, typeof(password_changed_at) as password_changed_at
        from tenantkit_auth_accounts where id = 'usr_sqlite_int'
      `.execute(db());
      expect(rows).toEqual([{ created_at: 'integer', password_changed_at: 'integer' }]);

      const database = openDatabase();
      database.defaultSafeIntegers(true);
      const bigintStores = kyselyAuthStores(new Kysely<any>({ dialect: new SqliteDialect({ database }) }));
      expect(await bigintStores.accounts.findById(account.id)).toEqual(account);
      expect(await bigintStores.revocations.raiseEpoch('user', 'usr_sqlite_int', 5)).toBe(5);
      const { jtiRevoked } = await bigintStores.revocations.check({ jti: 'jti_none', sessionId: null, userId: 'usr_sqlite_int', tenantId: null }, 0);
      expect(jtiRevoked).toBe(false);
    });
  });

  describe('SQLite locking', () => {
    it("waits for another connection's write lock instead of failing, then rotates", async () => {
      const stores = kyselyAuthStores(db());
      const family = buildRefreshFamilyRecord({ id: 'rtf_sqlite_lock', userId: 'usr_lock', createdAt: 0, expiresAt: 10_000 });
      const first = buildRefreshTokenRecord({ tokenHash: 'hash_sqlite_lock', familyId: family.id, issuedAt: 0 });
      expect(await stores.refreshTokens.createFamily(family, first)).toBe('created');

      let reportBusy: () => void = () => undefined;
      const firstBusy = new Promise<void>((resolve) => {
        reportBusy = resolve;
      });
      const waiting = kyselyAuthStores(
        connect((event) => {
          if (event.level === 'error' && (event.error as { code?: unknown }).code === 'SQLITE_BUSY') reportBusy();
        }),
      );
      const other = openDatabase();
      other.exec('begin immediate');
      const rotation = waiting.refreshTokens.rotate({
        presentedHash: first.tokenHash,
        next: buildRefreshTokenRecord({ tokenHash: 'hash_sqlite_lock_1', familyId: family.id, generation: 1, issuedAt: 1 }),
        successorSealed: 'sealed',
        now: 1,
        graceMs: 0,
      });
      await firstBusy;
      other.exec('commit');
      expect(await rotation).toEqual({ outcome: 'rotated', family });
    });

    it('checks and writes under the write lock even in a caller transaction that read first', async () => {
      const outside = kyselyAuthStores(connect());
      const token = buildOneTimeTokenRecord({ tokenHash: 'hash_sqlite_snapshot', subject: 'usr_snapshot', createdAt: 0, expiresAt: 10_000 });
      // The caller's deferred transaction reads, another connection writes, then the caller's
      // write must not act on the stale read: SQLite refuses it (STORE_CONFLICT).
      await expect(
        db()
          .transaction()
          .execute(async (trx) => {
            const inTransaction = kyselyAuthStores(trx);
            expect(await inTransaction.accounts.findByEmail('nobody@example.com')).toBeNull();
            await outside.oneTimeTokens.issue(token);
            await inTransaction.oneTimeTokens.consume(token.tokenHash, 'password-reset', 1);
          }),
      ).rejects.toMatchObject({ name: 'AuthError', code: 'STORE_CONFLICT', cause: expect.objectContaining({ code: 'SQLITE_BUSY_SNAPSHOT' }) });
      expect(await outside.oneTimeTokens.consume(token.tokenHash, 'password-reset', 1)).toEqual(token);
    });
  });

  describe('SQLite migrations', () => {
    it('rolls a failed migration back as a whole, bookkeeping included, and can run again', async () => {
      const tableNames = async (prefix: string) =>
        (await sql<{ name: string }>`select name from sqlite_master where type = 'table' order by name`.execute(db())).rows
          .map((row) => row.name)
          .filter((name) => name.startsWith(prefix));
      // A leftover table without the columns the migration indexes makes it fail half-way.
      await sql`create table fail_auth_sessions (id text primary key)`.execute(db());
      await expect(migrateAuthSchema(db(), { tablePrefix: 'fail_' })).rejects.toMatchObject({
        code: 'CONFIGURATION_INVALID',
        details: { migrationName: 'tenantkit_auth_0001_initial_schema' },
      });
      expect(await tableNames('fail_')).toEqual(['fail_auth_sessions']);
      await sql`drop table fail_auth_sessions`.execute(db());
      expect(await migrateAuthSchema(db(), { tablePrefix: 'fail_' })).toEqual(allAuthMigrationsApplied);
      expect(await tableNames('fail_')).toHaveLength(10);
    });

    it('migrates and serves an in-memory database', async () => {
      const memory = new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
      try {
        expect(await migrateAuthSchema(memory)).toEqual(allAuthMigrationsApplied);
        expect(await migrateAuthSchema(memory)).toEqual([]);
        const stores = kyselyAuthStores(memory);
        const token = buildOneTimeTokenRecord({ tokenHash: 'h1', subject: 'usr_1', createdAt: 0 });
        expect(await stores.oneTimeTokens.issue(token)).toBe(0);
        expect(await stores.oneTimeTokens.consume('h1', 'password-reset', 1)).toEqual(token);
        expect(await stores.oneTimeTokens.consume('h1', 'password-reset', 1)).toBeNull();
      } finally {
        await memory.destroy();
      }
    });
  });

  describe('a closed database', () => {
    it('fails with STORE_UNAVAILABLE once the Kysely instance is destroyed or the database closed underneath', async () => {
      const closing = connect();
      const stores = kyselyAuthStores(closing);
      expect(await stores.apiKeys.findById('key_1')).toBeNull();
      await closing.destroy();
      await expect(stores.apiKeys.findById('key_1')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });

      const database = openDatabase();
      const underneath = kyselyAuthStores(new Kysely<any>({ dialect: new SqliteDialect({ database }) }));
      expect(await underneath.sessions.listByUser('usr_1', 0)).toEqual([]);
      database.close();
      await expect(underneath.revocations.revokeToken('jti_1', 1)).rejects.toMatchObject({
        name: 'AuthError',
        code: 'STORE_UNAVAILABLE',
        cause: expect.any(TypeError),
      });
    });
  });
});
