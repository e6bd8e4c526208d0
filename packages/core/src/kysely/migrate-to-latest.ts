import type { Kysely, MigrationProvider, MigrationResult, MigrationResultSet } from 'kysely';
import { Migrator } from 'kysely';
import type { SqlDialect } from './sql-dialect.js';
import { withSqliteWriteLock, type SqliteWriteLockOptions } from './sqlite-write-lock.js';

/**
 * What {@link migrateToLatestInOwnTables} runs and how it reports a failure.
 *
 * @example
 * ```ts
 * const options: MigrateToLatestOptions = {
 *   provider: rbacMigrationProvider('sqlite'),
 *   migrationTableName: 'tenantkit_rbac_migrations',
 *   migrationLockTableName: 'tenantkit_rbac_migrations_lock',
 *   migrationFailure: (error, results) => new RbacError('CONFIGURATION_INVALID', 'Migration failed', { cause: error }),
 * };
 * ```
 */
export interface MigrateToLatestOptions {
  /** The package's migrations. */
  provider: MigrationProvider;
  /** Where Kysely records what ran, apart from the application's own migrations. */
  migrationTableName: string;
  /** Kysely's lock table for these migrations. */
  migrationLockTableName: string;
  /**
   * The error to throw for what failed: the migrator's error with its results, or (results
   * `undefined`) a failure to take the SQLite lock or to commit.
   */
  migrationFailure: (error: unknown, results: readonly MigrationResult[] | undefined) => Error;
  /** How the SQLite write lock is retried (see `withSqliteWriteLock`). */
  sqliteWriteLock?: SqliteWriteLockOptions;
}

/**
 * Brings a package's tables up to date with Kysely's `Migrator`, recording what ran in the
 * package's own tables. Safe from several processes at once: the migrator takes a database
 * lock, and on SQLite, where Kysely takes none (it assumes a single connection), the whole
 * migration runs under the database's write lock, which then also rolls back as a whole.
 *
 * @returns What ran (empty when the schema was already up to date).
 * @throws What `migrationFailure` makes of a failure.
 *
 * @example
 * ```ts
 * const results = await migrateToLatestInOwnTables(context.db, context.dialect, options);
 * ```
 */
export async function migrateToLatestInOwnTables(
  db: Kysely<any>,
  dialect: SqlDialect,
  options: MigrateToLatestOptions,
): Promise<readonly MigrationResult[]> {
  const { provider, migrationTableName, migrationLockTableName, migrationFailure, sqliteWriteLock } = options;
  const migrateToLatest = (migrationDb: Kysely<any>) =>
    new Migrator({ db: migrationDb, provider, migrationTableName, migrationLockTableName }).migrateToLatest();
  let resultSet: MigrationResultSet;
  try {
    // Kysely takes no migration lock on SQLite (it assumes a single connection); the write
    // lock makes concurrent starts of several processes on one database file migrate once.
    resultSet =
      dialect === 'sqlite'
        ? await withSqliteWriteLock(db, migrateToLatest, (result) => result.error === undefined, sqliteWriteLock)
        : await migrateToLatest(db);
  } catch (error) {
    // migrateToLatest() reports failures in its result; this catches taking the SQLite lock
    // and committing, and guards against a change of Kysely.
    throw migrationFailure(error, undefined);
  }
  if (resultSet.error !== undefined) throw migrationFailure(resultSet.error, resultSet.results);
  return resultSet.results ?? [];
}
