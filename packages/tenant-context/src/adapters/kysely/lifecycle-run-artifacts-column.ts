import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { tenantContextTableNames } from './schema.js';
import type { SqlDialect } from './sql-dialect.js';

/*
 * Migration 0002: the `artifacts` column of the lifecycle runs table, nullable JSON text (what
 * offboarding hooks reported, such as export locations). Existing rows get `null`, which reads
 * back as a run without artifacts.
 *
 * Like the initial schema, both directions can simply run again after failing half-way: MySQL
 * has no transactional DDL, so a crash between the ALTER and the migrator's bookkeeping would
 * otherwise leave a migration that fails forever with "duplicate column". Postgres says
 * `if [not] exists` itself; MySQL 8 has no such clause for columns and SQLite none at all, so
 * both ask the catalog first.
 */

const artifactsColumn = 'artifacts';

async function hasArtifactsColumn(db: Kysely<any>, dialect: 'mysql' | 'sqlite', table: string): Promise<boolean> {
  const { rows } =
    dialect === 'mysql'
      ? await sql<{ name: unknown }>`
          select column_name as name from information_schema.columns
          where table_schema = database() and table_name = ${table} and column_name = ${artifactsColumn}
        `.execute(db)
      : await sql<{ name: unknown }>`select name from pragma_table_info(${table}) where name = ${artifactsColumn}`.execute(db);
  return rows.length > 0;
}

/**
 * Adds the nullable `artifacts` column (JSON text; `longtext` on MySQL, whose `text` holds only
 * 64 KiB) to the lifecycle runs table, unless it is there already.
 *
 * @example
 * ```ts
 * await addLifecycleRunArtifactsColumn(db, 'postgres', 'tenantkit_');
 * ```
 */
export async function addLifecycleRunArtifactsColumn(db: Kysely<any>, dialect: SqlDialect, prefix: string): Promise<void> {
  const table = tenantContextTableNames(prefix).lifecycle_runs;
  if (dialect === 'postgres') {
    await sql`alter table ${sql.table(table)} add column if not exists ${sql.ref(artifactsColumn)} text null`.execute(db);
    return;
  }
  if (await hasArtifactsColumn(db, dialect, table)) return;
  const type = sql.raw(dialect === 'mysql' ? 'longtext' : 'text');
  await sql`alter table ${sql.table(table)} add column ${sql.ref(artifactsColumn)} ${type} null`.execute(db);
}

/**
 * Drops the `artifacts` column again (migrating down), losing the artifacts it holds.
 *
 * @example
 * ```ts
 * await dropLifecycleRunArtifactsColumn(db, 'sqlite', 'tenantkit_');
 * ```
 */
export async function dropLifecycleRunArtifactsColumn(db: Kysely<any>, dialect: SqlDialect, prefix: string): Promise<void> {
  const table = tenantContextTableNames(prefix).lifecycle_runs;
  if (dialect === 'postgres') {
    await sql`alter table ${sql.table(table)} drop column if exists ${sql.ref(artifactsColumn)}`.execute(db);
    return;
  }
  // SQLite drops columns since 3.35.0, which the stores require anyway.
  if (!(await hasArtifactsColumn(db, dialect, table))) return;
  await sql`alter table ${sql.table(table)} drop column ${sql.ref(artifactsColumn)}`.execute(db);
}
