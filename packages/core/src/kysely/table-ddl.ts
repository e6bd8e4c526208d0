import type { Kysely, RawBuilder } from 'kysely';
import { sql } from 'kysely';
import type { CodedErrorFactory, SharedErrorCode } from '../coded-error-factory.js';
import type { SqlDialect } from './sql-dialect.js';

/*
 * A package's tables, written once as data and rendered per dialect:
 * - Key-like columns compare and sort byte-wise, as the store contracts require (`t_a` and
 *   `t_A` are two keys; lists sort like JavaScript string comparison, and a materialized path's
 *   subtree is the range [`/a/b/`, `/a/b0`)): `collate "C"` on Postgres, a NO PAD binary
 *   collation on MySQL (the default `utf8mb4_bin` pads, so `'a'` would equal `'a '`), SQLite's
 *   default BINARY collation.
 * - Timestamps, versions and counters are `bigint` epoch milliseconds: exact on every dialect
 *   and independent of the server's and the driver's time zone settings.
 * - JSON is stored as text, returned byte for byte by every driver.
 * - Every statement is `if not exists`, so a migration that failed half-way on a dialect
 *   without transactional DDL (MySQL) can simply run again.
 */

/**
 * The type of a column, rendered per dialect.
 *
 * @example
 * ```ts
 * const kind: ColumnKind = { kind: 'key', length: 64 };
 * ```
 */
export type ColumnKind =
  /** Compared and sorted byte-wise; the length is in characters. */
  | { kind: 'key'; length: number }
  /** A short label (status, region); the length is in characters. */
  | { kind: 'label'; length: number }
  /** Unbounded text or JSON. */
  | { kind: 'text' }
  /** A 64-bit integer. */
  | { kind: 'integer' }
  /** A boolean as 0 or 1. */
  | { kind: 'flag' };

/**
 * A key-like column of `length` characters, compared and sorted byte-wise.
 *
 * @example
 * ```ts
 * { name: 'tenant_id', type: keyColumn(64) }
 * ```
 */
export const keyColumn = (length: number): ColumnKind => ({ kind: 'key', length });

/**
 * A short label column (status, region) of `length` characters.
 *
 * @example
 * ```ts
 * { name: 'status', type: labelColumn(32) }
 * ```
 */
export const labelColumn = (length: number): ColumnKind => ({ kind: 'label', length });

/**
 * An unbounded text or JSON column.
 *
 * @example
 * ```ts
 * { name: 'settings', type: textColumn }
 * ```
 */
export const textColumn: ColumnKind = Object.freeze({ kind: 'text' });

/**
 * A 64-bit integer column.
 *
 * @example
 * ```ts
 * { name: 'created_at', type: integerColumn }
 * ```
 */
export const integerColumn: ColumnKind = Object.freeze({ kind: 'integer' });

/**
 * A boolean column, stored as 0 or 1.
 *
 * @example
 * ```ts
 * { name: 'customized', type: flagColumn }
 * ```
 */
export const flagColumn: ColumnKind = Object.freeze({ kind: 'flag' });

/**
 * One column of a {@link TableDefinition}.
 *
 * @example
 * ```ts
 * const column: ColumnDefinition = { name: 'deleted_at', type: integerColumn, nullable: true };
 * ```
 */
export interface ColumnDefinition {
  name: string;
  type: ColumnKind;
  /** Default `false`. */
  nullable?: boolean;
}

/**
 * A primary key, unique key or index of a {@link TableDefinition}.
 *
 * @example
 * ```ts
 * const index: KeyDefinition = { name: 'tenantkit_rbac_groups_path_idx', columns: ['tenant_id', 'path'], mysqlPrefixLengths: { path: 700 } };
 * ```
 */
export interface KeyDefinition {
  name: string;
  columns: readonly string[];
  /**
   * MySQL indexes at most 3072 bytes (768 characters of utf8mb4) per key: longer columns are
   * indexed by a prefix there.
   */
  mysqlPrefixLengths?: Readonly<Record<string, number>>;
}

/**
 * A table as data, for {@link createTables} and {@link dropTables}.
 *
 * @example
 * ```ts
 * const table: TableDefinition = {
 *   name: 'tenantkit_rbac_policy_versions',
 *   columns: [{ name: 'tenant_id', type: keyColumn(64) }, { name: 'version', type: integerColumn }],
 *   primaryKey: { name: 'tenantkit_rbac_policy_versions_pkey', columns: ['tenant_id'] },
 *   uniqueKeys: [],
 *   indexes: [],
 * };
 * ```
 */
export interface TableDefinition {
  name: string;
  columns: readonly ColumnDefinition[];
  primaryKey: KeyDefinition;
  uniqueKeys: readonly KeyDefinition[];
  indexes: readonly KeyDefinition[];
}

/**
 * How {@link createTables} reports a database it cannot create the tables on.
 *
 * @example
 * ```ts
 * const options: CreateTablesOptions = { errors: codedErrorFactory(RbacError), subject: 'RBAC' };
 * ```
 */
export interface CreateTablesOptions {
  /** Makes the package's `CONFIGURATION_INVALID`. */
  errors: CodedErrorFactory<Error, SharedErrorCode>;
  /** What the messages call the package's tables: `'tenant-context'`, `'RBAC'`. */
  subject: string;
  /** Refuse SQLite older than 3.35.0, whose lack of RETURNING the stores cannot work around. Default `false`. */
  requireSqliteReturning?: boolean;
}

function columnType(dialect: SqlDialect, type: ColumnKind): RawBuilder<unknown> {
  switch (type.kind) {
    case 'key':
      if (dialect === 'postgres') return sql.raw(`varchar(${type.length}) collate "C"`);
      return sql.raw(dialect === 'mysql' ? `varchar(${type.length})` : 'text');
    case 'label':
      return sql.raw(dialect === 'sqlite' ? 'text' : `varchar(${type.length})`);
    case 'text':
      // MySQL's TEXT holds 64 KiB; settings, run input and role rules may be larger.
      return sql.raw(dialect === 'mysql' ? 'longtext' : 'text');
    case 'integer':
      return sql.raw(dialect === 'sqlite' ? 'integer' : 'bigint');
    case 'flag':
      return sql.raw(dialect === 'sqlite' ? 'integer' : 'smallint');
  }
}

function columnList(dialect: SqlDialect, definition: KeyDefinition): RawBuilder<unknown> {
  return sql.join(
    definition.columns.map((column) => {
      const prefixLength = dialect === 'mysql' ? definition.mysqlPrefixLengths?.[column] : undefined;
      return prefixLength === undefined ? sql.ref(column) : sql`${sql.ref(column)}(${sql.raw(String(prefixLength))})`;
    }),
  );
}

/** NO PAD binary collations, MariaDB's and MySQL 8's; the first one the server has is used. */
const mysqlNoPadBinaryCollations = ['utf8mb4_nopad_bin', 'utf8mb4_0900_bin'] as const;

async function mysqlNoPadBinaryCollation(db: Kysely<any>, options: CreateTablesOptions): Promise<string> {
  const { rows } = await sql<{ name: unknown }>`
    select collation_name as name from information_schema.collations
    where collation_name in (${sql.join([...mysqlNoPadBinaryCollations])})
  `.execute(db);
  const available = new Set(rows.map((row) => String(row.name)));
  const collation = mysqlNoPadBinaryCollations.find((name) => available.has(name));
  if (collation === undefined) {
    throw options.errors.create(
      'CONFIGURATION_INVALID',
      `The ${options.subject} tables need a NO PAD binary collation (MariaDB 10.2+ or MySQL 8.0+)`,
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

async function assertSqliteSupportsStores(db: Kysely<any>, options: CreateTablesOptions): Promise<void> {
  const { rows } = await sql<{ version: unknown }>`select sqlite_version() as version`.execute(db);
  const version = String(rows[0]?.version ?? '');
  if (!sqliteVersionSupportsStores(version)) {
    throw options.errors.create(
      'CONFIGURATION_INVALID',
      `The ${options.subject} stores need SQLite 3.35.0 or later for RETURNING; this database is SQLite ${version || 'of an unknown version'}`,
    );
  }
}

function createTableStatements(dialect: SqlDialect, table: TableDefinition, mysqlCollation: string | null): RawBuilder<unknown>[] {
  const columns = table.columns.map(
    (column) => sql`${sql.ref(column.name)} ${columnType(dialect, column.type)} ${sql.raw(column.nullable === true ? 'null' : 'not null')}`,
  );
  const keys = [
    sql`constraint ${sql.id(table.primaryKey.name)} primary key (${columnList(dialect, table.primaryKey)})`,
    ...table.uniqueKeys.map((unique) => sql`constraint ${sql.id(unique.name)} unique (${columnList(dialect, unique)})`),
  ];
  if (dialect === 'mysql') {
    // MySQL has no CREATE INDEX IF NOT EXISTS; inline indexes keep the statement re-runnable.
    const indexes = table.indexes.map((index) => sql`index ${sql.id(index.name)} (${columnList(dialect, index)})`);
    return [
      sql`create table if not exists ${sql.table(table.name)} (${sql.join([...columns, ...keys, ...indexes])})
        engine = InnoDB default charset = utf8mb4 collate = ${sql.raw(mysqlCollation ?? 'utf8mb4_nopad_bin')}`,
    ];
  }
  return [
    sql`create table if not exists ${sql.table(table.name)} (${sql.join([...columns, ...keys])})`,
    ...table.indexes.map(
      (index) => sql`create index if not exists ${sql.id(index.name)} on ${sql.table(table.name)} (${columnList(dialect, index)})`,
    ),
  ];
}

/**
 * Creates every table and index of `tables` that does not exist yet, in order.
 *
 * @throws The package's `CONFIGURATION_INVALID` on a MySQL server without a NO PAD binary
 *   collation, or (with `requireSqliteReturning`) on SQLite older than 3.35.0.
 *
 * @example
 * ```ts
 * await createTables(db, 'postgres', tableDefinitions('tenantkit_'), { errors: codedErrorFactory(RbacError), subject: 'RBAC' });
 * ```
 */
export async function createTables(
  db: Kysely<any>,
  dialect: SqlDialect,
  tables: readonly TableDefinition[],
  options: CreateTablesOptions,
): Promise<void> {
  // The collation name is interpolated raw, so it only ever comes from the fixed list above.
  const mysqlCollation = dialect === 'mysql' ? await mysqlNoPadBinaryCollation(db, options) : null;
  if (dialect === 'sqlite' && options.requireSqliteReturning === true) await assertSqliteSupportsStores(db, options);
  for (const table of tables) {
    for (const statement of createTableStatements(dialect, table, mysqlCollation)) await statement.execute(db);
  }
}

/**
 * Drops every table of `tables` (and with them their indexes and data), in reverse order.
 *
 * @example
 * ```ts
 * await dropTables(db, tableDefinitions('tenantkit_'));
 * ```
 */
export async function dropTables(db: Kysely<any>, tables: readonly TableDefinition[]): Promise<void> {
  for (const table of [...tables].reverse()) {
    await sql`drop table if exists ${sql.table(table.name)}`.execute(db);
  }
}
