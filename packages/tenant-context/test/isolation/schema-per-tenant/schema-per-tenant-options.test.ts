import { TenantContextError } from '@tenantkit/tenant-context';
import {
  createSchemaPerTenant,
  defaultTenantSchemaName,
  formatTenantSchemaMigrationProgress,
  type TenantSchemaMigrationCounts,
} from '@tenantkit/tenant-context/kysely';
import { testServices } from '@tenantkit/test-utils';
import Database from 'better-sqlite3';
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect } from 'kysely';
import { createPool } from 'mysql2';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { leakRecordsMigrations } from './schema-per-tenant-fixtures.js';

// Kysely instances connect lazily: these tests never reach a server.
const postgres = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: testServices.postgres.url }) }) });

afterAll(async () => {
  await postgres.destroy();
});

describe('createSchemaPerTenant options', () => {
  it('refuses invalid options with CONFIGURATION_INVALID when called', () => {
    const invalid: unknown[] = [
      undefined,
      {},
      { db: {}, migrations: leakRecordsMigrations },
      { db: postgres },
      { db: postgres, migrations: null },
      { db: postgres, migrations: [] },
      { db: postgres, migrations: { '001': {} } },
      { db: postgres, migrations: { '001': { up: 'create table' } } },
      { db: postgres, migrations: { '001': { up: async () => undefined, down: 'drop' } } },
      { db: postgres, migrations: { ['x'.repeat(256)]: { up: async () => undefined } } },
      { db: postgres, migrations: leakRecordsMigrations, schemaName: 't_fixed' },
      { db: postgres, migrations: leakRecordsMigrations, controlSchema: 'pg_control' },
      { db: postgres, migrations: leakRecordsMigrations, controlSchema: 'public' },
      { db: postgres, migrations: leakRecordsMigrations, controlSchema: 'c'.repeat(64) },
      { db: postgres, migrations: leakRecordsMigrations, controlSchema: '' },
      { db: postgres, migrations: leakRecordsMigrations, allowUnorderedMigrations: 'yes' },
      { db: postgres, migrations: leakRecordsMigrations, searchPath: 't_a' },
    ];
    for (const options of invalid) {
      expect(() => createSchemaPerTenant(options as never), String(JSON.stringify(options)).slice(0, 80)).toThrow(
        expect.objectContaining({ name: 'TenantContextError', code: 'CONFIGURATION_INVALID' }),
      );
    }
  });

  it('accepts a record, a MigrationProvider or a factory', () => {
    expect(() => createSchemaPerTenant({ db: postgres, migrations: leakRecordsMigrations })).not.toThrow();
    expect(() => createSchemaPerTenant({ db: postgres, migrations: { getMigrations: async () => ({}) } })).not.toThrow();
    expect(() => createSchemaPerTenant({ db: postgres, migrations: () => ({}) })).not.toThrow();
    expect(createSchemaPerTenant({ db: postgres, migrations: {} }).controlSchema).toBe('tenantkit');
  });

  it('refuses MariaDB/MySQL (a schema is a database there) and SQLite', async () => {
    const mariadb = new Kysely<any>({ dialect: new MysqlDialect({ pool: createPool({ uri: testServices.mariadb.url }) }) });
    const sqlite = new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
    try {
      expect(() => createSchemaPerTenant({ db: mariadb, migrations: leakRecordsMigrations })).toThrow(
        expect.objectContaining({ code: 'CONFIGURATION_INVALID', details: { dialect: 'mysql' }, message: expect.stringContaining('database-per-tenant') }),
      );
      expect(() => createSchemaPerTenant({ db: sqlite, migrations: leakRecordsMigrations })).toThrow(
        expect.objectContaining({ code: 'CONFIGURATION_INVALID', details: { dialect: 'sqlite' } }),
      );
    } finally {
      await mariadb.destroy();
      await sqlite.destroy();
    }
  });
});

describe('defaultTenantSchemaName', () => {
  it('prefixes the id unchanged while it fits 63 bytes', () => {
    expect(defaultTenantSchemaName('tnt_7k2m9q')).toBe('t_tnt_7k2m9q');
    expect(defaultTenantSchemaName('Tnt-A_b')).toBe('t_Tnt-A_b');
    const longest = 'a'.repeat(61);
    expect(defaultTenantSchemaName(longest)).toBe(`t_${longest}`);
  });

  it('hashes longer ids into 63 bytes, distinct from every shorter id and from each other', () => {
    const sharedPrefix = 'b'.repeat(40);
    const first = defaultTenantSchemaName(`${sharedPrefix}${'1'.repeat(24)}`);
    const second = defaultTenantSchemaName(`${sharedPrefix}${'2'.repeat(24)}`);
    expect(first).not.toBe(second);
    for (const name of [first, second]) {
      expect(name).toMatch(/^t_b{38}\$[0-9a-f]{22}$/);
      expect(Buffer.byteLength(name)).toBe(63);
    }
    expect(defaultTenantSchemaName('c'.repeat(62))).toContain('$');
  });

  it('refuses malformed tenant ids', () => {
    for (const id of ['', 'a'.repeat(65), 'a b', 'a$b', '../x', 'é']) {
      expect(() => defaultTenantSchemaName(id), id).toThrow(expect.objectContaining({ code: 'TENANT_IDENTIFIER_INVALID' }));
    }
  });
});

describe('formatTenantSchemaMigrationProgress', () => {
  const counts = (overrides: Partial<TenantSchemaMigrationCounts> = {}): TenantSchemaMigrationCounts => ({
    started: 3,
    done: 2,
    migrated: 1,
    upToDate: 1,
    failed: 0,
    total: 10,
    ...overrides,
  });

  it('renders one line per event', () => {
    expect(formatTenantSchemaMigrationProgress({ type: 'tenant-started', tenantId: 'tnt_a', schema: 't_tnt_a', counts: counts() })).toBe(
      '[3/10] tnt_a (t_tnt_a): migrating',
    );
    expect(
      formatTenantSchemaMigrationProgress({ type: 'tenant-migrated', tenantId: 'tnt_a', schema: 't_tnt_a', applied: ['002_a', '003_b'], counts: counts() }),
    ).toBe('[2/10] tnt_a (t_tnt_a): migrated 002_a, 003_b');
    expect(formatTenantSchemaMigrationProgress({ type: 'tenant-up-to-date', tenantId: 'tnt_a', schema: 't_tnt_a', counts: counts({ total: null }) })).toBe(
      '[2/?] tnt_a (t_tnt_a): up to date',
    );
    const error = new TenantContextError('TENANT_NOT_FOUND', 'Tenant "x" has no provisioned schema', { cause: new Error('driver says no') });
    expect(formatTenantSchemaMigrationProgress({ type: 'tenant-failed', tenantId: 'x', schema: null, error, counts: counts() })).toBe(
      '[2/10] x: FAILED (TENANT_NOT_FOUND) Tenant "x" has no provisioned schema: driver says no',
    );
  });
});
