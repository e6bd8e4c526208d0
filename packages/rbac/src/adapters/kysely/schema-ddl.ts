import type { SqlDialect } from '@tenantkit/tenant-context/kysely';
import type { Kysely, RawBuilder } from 'kysely';
import { sql } from 'kysely';
import { RbacError } from '../../errors.js';
import { rbacColumnLengths as lengths, rbacConstraintNames, rbacTableNames } from './schema.js';

/*
 * The tables as migration 0001 creates them, written once as data and rendered per dialect:
 * - Keys, group names and paths compare and sort byte-wise, as the store contract requires
 *   (`Editor` and `editor` are two keys; lists sort like JavaScript string comparison):
 *   `collate "C"` on Postgres, a NO PAD binary collation on MySQL (`utf8mb4_bin` pads, so
 *   `'a'` would equal `'a '`), SQLite's default BINARY collation. Byte-wise order is also what
 *   lets a subtree be selected as the path range [`/a/b/`, `/a/b0`).
 * - Timestamps and versions are `bigint` epoch milliseconds: exact everywhere and independent
 *   of time zone settings. JSON is text, returned byte for byte by every driver.
 * - `tenant_id` leads every key and index, so the tables can be distributed by tenant (Citus)
 *   and every query is a range scan inside one tenant.
 * - Every statement is `if not exists`, so a migration that failed half-way on a dialect
 *   without transactional DDL (MySQL) can simply run again.
 */

type ColumnKind =
  | { kind: 'key'; length: number }
  | { kind: 'label'; length: number }
  | { kind: 'text' }
  | { kind: 'integer' }
  | { kind: 'flag' };

interface ColumnDefinition {
  name: string;
  type: ColumnKind;
  nullable?: boolean;
}

interface KeyDefinition {
  name: string;
  columns: readonly string[];
  /**
   * MySQL indexes at most 3072 bytes (768 characters of utf8mb4) per key: longer columns are
   * indexed by a prefix there.
   */
  mysqlPrefixLengths?: Readonly<Record<string, number>>;
}

interface TableDefinition {
  name: string;
  columns: readonly ColumnDefinition[];
  primaryKey: KeyDefinition;
  uniqueKeys: readonly KeyDefinition[];
  indexes: readonly KeyDefinition[];
}

const key = (length: number): ColumnKind => ({ kind: 'key', length });
const label: ColumnKind = { kind: 'label', length: lengths.label };
const text: ColumnKind = { kind: 'text' };
const integer: ColumnKind = { kind: 'integer' };
const flag: ColumnKind = { kind: 'flag' };

function tableDefinitions(prefix: string): readonly TableDefinition[] {
  const tables = rbacTableNames(prefix);
  const names = rbacConstraintNames(prefix);
  return [
    {
      name: tables.rbac_roles,
      columns: [
        { name: 'tenant_id', type: key(lengths.tenantId) },
        { name: 'role_key', type: key(lengths.roleKey) },
        { name: 'name', type: text },
        { name: 'description', type: text },
        { name: 'rules', type: text },
        { name: 'inherits', type: text },
        { name: 'assignment_policy', type: text },
        { name: 'origin', type: label },
        { name: 'customized', type: flag },
        { name: 'version', type: integer },
        { name: 'created_at', type: integer },
        { name: 'updated_at', type: integer },
      ],
      primaryKey: { name: names.rolesPrimaryKey, columns: ['tenant_id', 'role_key'] },
      uniqueKeys: [],
      indexes: [],
    },
    {
      name: tables.rbac_groups,
      columns: [
        { name: 'tenant_id', type: key(lengths.tenantId) },
        { name: 'group_id', type: key(lengths.groupId) },
        { name: 'name', type: key(lengths.groupName) },
        { name: 'parent_id', type: key(lengths.groupId) },
        { name: 'path', type: key(lengths.groupPath) },
        { name: 'created_at', type: integer },
        { name: 'updated_at', type: integer },
      ],
      primaryKey: { name: names.groupsPrimaryKey, columns: ['tenant_id', 'group_id'] },
      uniqueKeys: [{ name: names.groupsSiblingNameKey, columns: ['tenant_id', 'parent_id', 'name'] }],
      indexes: [{ name: names.groupsPathIndex, columns: ['tenant_id', 'path'], mysqlPrefixLengths: { path: 700 } }],
    },
    {
      name: tables.rbac_group_members,
      columns: [
        { name: 'tenant_id', type: key(lengths.tenantId) },
        { name: 'group_id', type: key(lengths.groupId) },
        { name: 'user_id', type: key(lengths.userId) },
        { name: 'created_at', type: integer },
      ],
      primaryKey: { name: names.membersPrimaryKey, columns: ['tenant_id', 'group_id', 'user_id'] },
      uniqueKeys: [],
      indexes: [{ name: names.membersUserIndex, columns: ['tenant_id', 'user_id', 'group_id'] }],
    },
    {
      name: tables.rbac_assignments,
      columns: [
        { name: 'tenant_id', type: key(lengths.tenantId) },
        { name: 'assignment_id', type: key(lengths.assignmentId) },
        { name: 'subject_type', type: key(lengths.label) },
        { name: 'subject_id', type: key(lengths.subjectId) },
        { name: 'role_key', type: key(lengths.roleKey) },
        { name: 'status', type: label },
        { name: 'expires_at', type: integer, nullable: true },
        { name: 'granted_by', type: key(lengths.userId), nullable: true },
        { name: 'approved_by', type: key(lengths.userId), nullable: true },
        { name: 'created_at', type: integer },
        { name: 'updated_at', type: integer },
      ],
      primaryKey: { name: names.assignmentsPrimaryKey, columns: ['tenant_id', 'assignment_id'] },
      uniqueKeys: [{ name: names.assignmentsSubjectKey, columns: ['tenant_id', 'subject_type', 'subject_id', 'role_key'] }],
      indexes: [{ name: names.assignmentsRoleIndex, columns: ['tenant_id', 'role_key', 'assignment_id'] }],
    },
    {
      name: tables.rbac_policy_versions,
      columns: [
        { name: 'tenant_id', type: key(lengths.tenantId) },
        { name: 'version', type: integer },
      ],
      primaryKey: { name: names.policyVersionsPrimaryKey, columns: ['tenant_id'] },
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
      // MySQL's TEXT holds 64 KiB; a role's rules may be larger.
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

async function mysqlNoPadBinaryCollation(db: Kysely<any>): Promise<string> {
  const { rows } = await sql<{ name: unknown }>`
    select collation_name as name from information_schema.collations
    where collation_name in (${sql.join([...mysqlNoPadBinaryCollations])})
  `.execute(db);
  const available = new Set(rows.map((row) => String(row.name)));
  const collation = mysqlNoPadBinaryCollations.find((name) => available.has(name));
  if (collation === undefined) {
    throw new RbacError('CONFIGURATION_INVALID', 'The RBAC tables need a NO PAD binary collation (MariaDB 10.2+ or MySQL 8.0+)');
  }
  return collation;
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
 * Creates every RBAC table and index that does not exist yet.
 *
 * @throws RbacError `CONFIGURATION_INVALID` on a MySQL server without a NO PAD binary collation.
 *
 * @example
 * ```ts
 * await createRbacTables(db, 'postgres', 'tenantkit_');
 * ```
 */
export async function createRbacTables(db: Kysely<any>, dialect: SqlDialect, prefix: string): Promise<void> {
  // The collation name is interpolated raw, so it only ever comes from the fixed list above.
  const mysqlCollation = dialect === 'mysql' ? await mysqlNoPadBinaryCollation(db) : null;
  for (const table of tableDefinitions(prefix)) {
    for (const statement of createTableStatements(dialect, table, mysqlCollation)) await statement.execute(db);
  }
}

/**
 * Drops every RBAC table (and with them their indexes and data).
 *
 * @example
 * ```ts
 * await dropRbacTables(db, 'tenantkit_');
 * ```
 */
export async function dropRbacTables(db: Kysely<any>, prefix: string): Promise<void> {
  for (const table of [...tableDefinitions(prefix)].reverse()) {
    await sql`drop table if exists ${sql.table(table.name)}`.execute(db);
  }
}
