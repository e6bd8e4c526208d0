import { Migrator, type Kysely, type MigrationResultSet, type MigratorProps } from 'kysely';
import { detectSqlDialect } from '../../adapters/kysely/sql-dialect.js';
import { withSqliteWriteLock } from '../../adapters/kysely/sqlite-write-lock.js';
import { TenantContextError } from '../../errors.js';

/**
 * How the router migrates each tenant database: Kysely `Migrator` options without `db` (the
 * router passes the tenant's pool). The same provider runs in every tenant database.
 *
 * @example
 * ```ts
 * const migrations: TenantDatabaseMigrationOptions = {
 *   provider: new FileMigrationProvider({ fs, path, migrationFolder: path.join(import.meta.dirname, 'tenant-migrations') }),
 * };
 * ```
 */
export type TenantDatabaseMigrationOptions = Omit<MigratorProps, 'db'>;

/**
 * What migrating one tenant database did.
 *
 * @example
 * ```ts
 * const { applied } = await runAsSystem({ reason: 'deploy' }, () => router.migrate('acme'));
 * console.log(applied); // ['2026_01_add_projects']
 * ```
 */
export interface TenantDatabaseMigrationResult {
  readonly tenantId: string;
  readonly databaseName: string;
  /** The migrations this call applied, in order (empty when the database was up to date). */
  readonly applied: readonly string[];
}

/**
 * Runs the tenant migrations to the latest version in one tenant database.
 *
 * Kysely's `Migrator` locks and runs the pending migrations of one call in a transaction on
 * PostgreSQL, so they apply all or none and concurrent processes migrate once. On SQLite it takes
 * no lock, so the whole call runs under SQLite's write lock (`BEGIN IMMEDIATE`), which gives the
 * same guarantees for connections to one file. On MySQL/MariaDB it locks, but each DDL statement
 * commits on its own: a failed migration leaves what ran before it.
 *
 * @throws `TENANT_MIGRATION_FAILED` with the Migrator's error as `cause` and the failing
 *   migration in `details.failedMigration`.
 *
 * @example
 * ```ts
 * await migrateTenantDatabase(db, { provider }, { tenantId: 'acme', databaseName: 'tenant_acme' });
 * ```
 */
export async function migrateTenantDatabase(
  db: Kysely<any>,
  options: TenantDatabaseMigrationOptions,
  target: { readonly tenantId: string; readonly databaseName: string },
): Promise<TenantDatabaseMigrationResult> {
  let dialect: string | undefined;
  try {
    dialect = detectSqlDialect(db);
  } catch {
    dialect = undefined; // A custom dialect: Kysely's Migrator alone.
  }
  const migrateToLatest = (migrationDb: Kysely<any>) => new Migrator({ ...options, db: migrationDb }).migrateToLatest();
  let outcome: MigrationResultSet;
  try {
    outcome =
      dialect === 'sqlite'
        ? await withSqliteWriteLock(db, migrateToLatest, (result) => result.error === undefined)
        : await migrateToLatest(db);
  } catch (error) {
    // Taking the SQLite lock or committing failed (the Migrator reports its own failures).
    outcome = { error };
  }
  const results = outcome.results ?? [];
  if (outcome.error !== undefined) {
    const failed = results.find((result) => result.status === 'Error')?.migrationName;
    throw new TenantContextError(
      'TENANT_MIGRATION_FAILED',
      `Migrating the database of tenant ${target.tenantId} failed${failed === undefined ? '' : ` at "${failed}"`}`,
      {
        cause: outcome.error,
        details: {
          tenantId: target.tenantId,
          databaseName: target.databaseName,
          failedMigration: failed ?? null,
          applied: results.filter((result) => result.status === 'Success').map((result) => result.migrationName),
        },
      },
    );
  }
  return {
    tenantId: target.tenantId,
    databaseName: target.databaseName,
    applied: results.filter((result) => result.status === 'Success').map((result) => result.migrationName),
  };
}
