import type { Kysely, RawBuilder } from 'kysely';
import { sql } from 'kysely';
import { TenantContextError } from '../../errors.js';
import { columnLengths, tenantContextConstraintNames, tenantContextTableNames } from './schema.js';
import type { SqlDialect } from './sql-dialect.js';

/*
 * The tables as migration 0001 creates them (later migrations change them in place; 0002 adds
 * `lifecycle_runs.artifacts`, see lifecycle-run-artifacts-column.ts), written once as data and
 * rendered per dialect:
 * - Key-like columns compare and sort byte-wise, as the store contracts require (`t_a` and
 *   `t_A` are two tenants; lists sort like JavaScript string comparison): `collate "C"` on
 *   Postgres, a NO PAD binary collation on MySQL (the default `utf8mb4_bin` pads, so `'a'`
 *   would equal `'a '`), SQLite's default BINARY collation.
 * - Timestamps, versions and counters are `bigint` epoch milliseconds: exact on every dialect
 *   and independent of the server's and the driver's time zone settings.
 * - JSON is stored as text, returned byte for byte by every driver.
 * - `tenant_id` leads every key and index of the tenant-owned tables, so the tables can be
 *   distributed by tenant (Citus). Tenants, domains and runs are keyed by their own globally
 *   unique id or host name, which a distributed setup keeps as reference tables.
 * - Every statement is `if not exists`, so a migration that failed half-way on a dialect
 *   without transactional DDL (MySQL) can simply run again.
 */

type ColumnKind =
  /** Compared and sorted byte-wise; the length is in characters. */
  | { kind: 'key'; length: number }
  /** A short label (status, region); the length is in characters. */
  | { kind: 'label'; length: number }
  /** Unbounded text or JSON. */
  | { kind: 'text' }
  /** A 64-bit integer. */
  | { kind: 'integer' };

interface ColumnDefinition {
  name: string;
  type: ColumnKind;
  nullable?: boolean;
}

interface KeyDefinition {
  name: string;
  columns: readonly string[];
}

interface TableDefinition {
  name: string;
  columns: readonly ColumnDefinition[];
  primaryKey: KeyDefinition;
  uniqueKeys: readonly KeyDefinition[];
  indexes: readonly KeyDefinition[];
}

const key = (length: number): ColumnKind => ({ kind: 'key', length });
const label = (length: number): ColumnKind => ({ kind: 'label', length });
const text: ColumnKind = { kind: 'text' };
const integer: ColumnKind = { kind: 'integer' };

function tableDefinitions(prefix: string): readonly TableDefinition[] {
  const tables = tenantContextTableNames(prefix);
  const names = tenantContextConstraintNames(prefix);
  return [
    {
      name: tables.tenants,
      columns: [
        { name: 'id', type: key(columnLengths.tenantId) },
        { name: 'slug', type: key(columnLengths.slug) },
        { name: 'name', type: text },
        { name: 'status', type: label(columnLengths.status) },
        { name: 'status_reason', type: text, nullable: true },
        { name: 'plan', type: key(columnLengths.plan) },
        { name: 'settings', type: text },
        { name: 'features', type: text },
        { name: 'limits', type: text },
        { name: 'region', type: label(columnLengths.region), nullable: true },
        { name: 'created_at', type: integer },
        { name: 'updated_at', type: integer },
        { name: 'deleted_at', type: integer, nullable: true },
        { name: 'version', type: integer },
      ],
      primaryKey: { name: names.tenantsPrimaryKey, columns: ['id'] },
      uniqueKeys: [{ name: names.tenantsSlugKey, columns: ['slug'] }],
      indexes: [
        { name: names.tenantsCreatedIndex, columns: ['created_at', 'id'] },
        { name: names.tenantsStatusIndex, columns: ['status', 'created_at', 'id'] },
        { name: names.tenantsPlanIndex, columns: ['plan', 'created_at', 'id'] },
      ],
    },
    {
      name: tables.tenant_domains,
      columns: [
        { name: 'hostname', type: key(columnLengths.hostname) },
        { name: 'tenant_id', type: key(columnLengths.tenantId) },
        { name: 'status', type: label(columnLengths.status) },
        { name: 'verification_token', type: label(columnLengths.verificationToken) },
        { name: 'created_at', type: integer },
        { name: 'verified_at', type: integer, nullable: true },
      ],
      primaryKey: { name: names.domainsPrimaryKey, columns: ['hostname'] },
      uniqueKeys: [],
      indexes: [{ name: names.domainsTenantIndex, columns: ['tenant_id', 'hostname'] }],
    },
    {
      name: tables.memberships,
      columns: [
        { name: 'tenant_id', type: key(columnLengths.tenantId) },
        { name: 'user_id', type: key(columnLengths.userId) },
        { name: 'status', type: label(columnLengths.status) },
        { name: 'invited_by', type: label(columnLengths.userId), nullable: true },
        { name: 'created_at', type: integer },
        { name: 'updated_at', type: integer },
      ],
      primaryKey: { name: names.membershipsPrimaryKey, columns: ['tenant_id', 'user_id'] },
      uniqueKeys: [],
      indexes: [{ name: names.membershipsUserIndex, columns: ['user_id', 'tenant_id'] }],
    },
    {
      name: tables.lifecycle_runs,
      columns: [
        { name: 'id', type: key(columnLengths.runId) },
        { name: 'tenant_id', type: key(columnLengths.tenantId) },
        { name: 'kind', type: label(columnLengths.status) },
        { name: 'state', type: label(columnLengths.status) },
        { name: 'completed_steps', type: text },
        { name: 'compensated_steps', type: text },
        { name: 'input', type: text },
        { name: 'error', type: text, nullable: true },
        { name: 'lease_owner', type: label(columnLengths.leaseOwner), nullable: true },
        { name: 'lease_expires_at', type: integer, nullable: true },
        { name: 'created_at', type: integer },
        { name: 'updated_at', type: integer },
        { name: 'version', type: integer },
      ],
      primaryKey: { name: names.runsPrimaryKey, columns: ['id'] },
      uniqueKeys: [],
      indexes: [
        { name: names.runsTenantIndex, columns: ['tenant_id', 'created_at', 'id'] },
        { name: names.runsStateIndex, columns: ['state', 'created_at', 'id'] },
        { name: names.runsCreatedIndex, columns: ['created_at', 'id'] },
      ],
    },
    {
      name: tables.usage_counters,
      columns: [
        { name: 'tenant_id', type: key(columnLengths.tenantId) },
        { name: 'resource', type: key(columnLengths.resource) },
        { name: 'value', type: integer },
      ],
      primaryKey: { name: names.countersPrimaryKey, columns: ['tenant_id', 'resource'] },
      uniqueKeys: [],
      indexes: [],
    },
  ];
}

function columnType(dialect: SqlDialect, type: ColumnKind): RawBuilder<unknown> {
  switch (type.kind) {
    case 'key':
      if (dialect === 'postgres') return sql.raw(`varchar(${type.length}) collate "C"`);
      return sql.raw(dialect === 'mysql' ? `varchar(${type.length})` : 'text');
    case 'label':
      return sql.raw(dialect === 'sqlite' ? 'text' : `varchar(${type.length})`);
    case 'text':
      // MySQL's TEXT holds 64 KiB; settings and run input may be larger.
      return sql.raw(dialect === 'mysql' ? 'longtext' : 'text');
    case 'integer':
      return sql.raw(dialect === 'sqlite' ? 'integer' : 'bigint');
  }
}

function columnList(columns: readonly string[]): RawBuilder<unknown> {
  return sql.join(columns.map((column) => sql.ref(column)));
}

/** NO PAD binary collations, MariaDB's and MySQL 8's; the first one the server has is used. */
const mysqlNoPadBinaryCollations = ['utf8mb4_nopad_bin', 'utf8mb4_0900_bin'] as const;

async function mysqlNoPadBinaryCollation(db: Kysely<any>): Promise<string> {
  const { rows } = await sql<{ name: unknown }>`
    select collation_name as name from information_schema.collations
    where collation_name in (${sql.join([...mysqlNoPadBinaryCollations])})
  `.execute(db);
  const available = new Set(rows.map((row) => String(row.name)));
  const collation = mysqlNoPadBinaryCollations.find((name) => available.has(name));
  if (collation === undefined) {
    throw new TenantContextError(
      'CONFIGURATION_INVALID',
      'The tenant-context tables need a NO PAD binary collation (MariaDB 10.2+ or MySQL 8.0+)',
    );
  }
  return collation;
}

/** RETURNING arrived in SQLite 3.35.0; the stores' upserts and decrements depend on it. */
const minimumSqliteVersion = [3, 35, 0] as const;

/**
 * Whether a `sqlite_version()` string is at least 3.35.0.
 *
 * @example
 * ```ts
 * sqliteVersionSupportsStores('3.34.1'); // false
 * ```
 */
export function sqliteVersionSupportsStores(version: string): boolean {
  const parts = /^(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (parts === null) return false;
  const [major, minor, patch] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
  const [minimumMajor, minimumMinor, minimumPatch] = minimumSqliteVersion;
  if (major !== minimumMajor) return major > minimumMajor;
  if (minor !== minimumMinor) return minor > minimumMinor;
  return patch >= minimumPatch;
}

async function assertSqliteSupportsStores(db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ version: unknown }>`select sqlite_version() as version`.execute(db);
  const version = String(rows[0]?.version ?? '');
  if (!sqliteVersionSupportsStores(version)) {
    throw new TenantContextError(
      'CONFIGURATION_INVALID',
      `The tenant-context stores need SQLite 3.35.0 or later for RETURNING; this database is SQLite ${version || 'of an unknown version'}`,
    );
  }
}

function createTableStatements(dialect: SqlDialect, table: TableDefinition, mysqlCollation: string | null): RawBuilder<unknown>[] {
  const columns = table.columns.map(
    (column) => sql`${sql.ref(column.name)} ${columnType(dialect, column.type)} ${sql.raw(column.nullable === true ? 'null' : 'not null')}`,
  );
  const keys = [
    sql`constraint ${sql.id(table.primaryKey.name)} primary key (${columnList(table.primaryKey.columns)})`,
    ...table.uniqueKeys.map((unique) => sql`constraint ${sql.id(unique.name)} unique (${columnList(unique.columns)})`),
  ];
  if (dialect === 'mysql') {
    // MySQL has no CREATE INDEX IF NOT EXISTS; inline indexes keep the statement re-runnable.
    const indexes = table.indexes.map((index) => sql`index ${sql.id(index.name)} (${columnList(index.columns)})`);
    return [
      sql`create table if not exists ${sql.table(table.name)} (${sql.join([...columns, ...keys, ...indexes])})
        engine = InnoDB default charset = utf8mb4 collate = ${sql.raw(mysqlCollation ?? 'utf8mb4_nopad_bin')}`,
    ];
  }
  return [
    sql`create table if not exists ${sql.table(table.name)} (${sql.join([...columns, ...keys])})`,
    ...table.indexes.map(
      (index) => sql`create index if not exists ${sql.id(index.name)} on ${sql.table(table.name)} (${columnList(index.columns)})`,
    ),
  ];
}

/**
 * Creates every tenant-context table and index that does not exist yet.
 *
 * @throws TenantContextError `CONFIGURATION_INVALID` on a MySQL server without a NO PAD binary
 *   collation, or on SQLite older than 3.35.0.
 *
 * @example
 * ```ts
 * await createTenantContextTables(db, 'postgres', 'tenantkit_');
 * ```
 */
export async function createTenantContextTables(db: Kysely<any>, dialect: SqlDialect, prefix: string): Promise<void> {
  // The collation name is interpolated raw, so it only ever comes from the fixed list above.
  const mysqlCollation = dialect === 'mysql' ? await mysqlNoPadBinaryCollation(db) : null;
  if (dialect === 'sqlite') await assertSqliteSupportsStores(db);
  for (const table of tableDefinitions(prefix)) {
    for (const statement of createTableStatements(dialect, table, mysqlCollation)) await statement.execute(db);
  }
}

/**
 * Drops every tenant-context table (and with them their indexes and data).
 *
 * @example
 * ```ts
 * await dropTenantContextTables(db, 'tenantkit_');
 * ```
 */
export async function dropTenantContextTables(db: Kysely<any>, prefix: string): Promise<void> {
  for (const table of [...tableDefinitions(prefix)].reverse()) {
    await sql`drop table if exists ${sql.table(table.name)}`.execute(db);
  }
}
