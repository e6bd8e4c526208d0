import { existsSync, writeFileSync } from 'node:fs';
import { createId } from '@tenantkit/core';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { sqliteDatabaseProvisioner } from '../../../src/isolation/database-per-tenant/sqlite-database-provisioner.js';
import { describeDatabaseRouterEngine } from './database-router-engine-suite.js';
import { openSqliteTenantDatabase, rejectionOf, temporarySqliteDirectory } from './database-router-fixtures.js';

describe('database per tenant on SQLite (a file per tenant)', () => {
  const directory = temporarySqliteDirectory();
  const provisioner = sqliteDatabaseProvisioner({ directory: `${directory.path}/tenants` });
  afterAll(() => directory.remove());

  describeDatabaseRouterEngine({
    prefix: `tk_${createId().slice(0, 8)}_`,
    connectionsPerPool: 1,
    provisioner: () => provisioner,
    openDatabase: (_tenantId, { databaseName }) => openSqliteTenantDatabase(provisioner.filePathOf(databaseName)),
    databaseExists: async (databaseName) => existsSync(provisioner.filePathOf(databaseName)),
    async tablesOf(databaseName) {
      const database = new Database(provisioner.filePathOf(databaseName), { fileMustExist: true, readonly: true });
      try {
        return (database.prepare("select name from sqlite_master where type = 'table'").all() as { name: string }[]).map((row) => row.name);
      } finally {
        database.close();
      }
    },
  });

  describe('sqliteDatabaseProvisioner', () => {
    it('creates the directory, creates each file once and drops it with its side files', async () => {
      const name = 'tenant_side_files';
      const file = provisioner.filePathOf(name);
      expect(await provisioner.createDatabase(name)).toEqual({ created: true });
      expect(await provisioner.createDatabase(name)).toEqual({ created: false });
      const database = new Database(file, { fileMustExist: true });
      database.pragma('journal_mode = WAL');
      database.exec('create table t (x integer)');
      database.close();
      // A crash can leave side files behind; drop removes them too.
      for (const suffix of ['-wal', '-shm', '-journal']) writeFileSync(`${file}${suffix}`, '');
      expect(await provisioner.dropDatabase(name)).toEqual({ dropped: true });
      for (const suffix of ['', '-wal', '-shm', '-journal']) expect(existsSync(`${file}${suffix}`)).toBe(false);
      expect(await provisioner.dropDatabase(name)).toEqual({ dropped: false });
    });

    it('validates its options', () => {
      for (const options of [{ directory: 'relative/path' }, { directory: '/tmp/x', extension: 'sqlite' }, { directory: '/tmp/x', extension: '.s/q' }, null]) {
        expect(() => sqliteDatabaseProvisioner(options as never)).toThrowError(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
      }
    });

    it('keeps file names within the file system limit', async () => {
      expect(provisioner.maxDatabaseNameBytes).toBe(255 - '.sqlite'.length - '-journal'.length);
      expect((await rejectionOf(provisioner.createDatabase('x'.repeat(241)))).code).toBe('CONFIGURATION_INVALID');
      expect(() => provisioner.filePathOf('../escape')).toThrowError(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
    });
  });
});
