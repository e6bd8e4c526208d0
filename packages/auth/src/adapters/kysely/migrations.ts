import { migrateToLatestInOwnTables, type SqlDialect } from '@tenantkit/core/kysely';
import type { Kysely, Migration, MigrationProvider, MigrationResult } from 'kysely';
import { AuthError } from '../../errors.js';
import { migrationFailure } from './database-errors.js';
import { parseSqlDialect, parseTablePrefix, resolveKyselyAuthContext, type KyselyAuthStoresOptions } from './kysely-auth-store-context.js';
import { authMigrationTableNames } from './schema.js';
import { createAuthTables, dropAuthTables } from './schema-ddl.js';
import { authSqliteWriteLock } from './sqlite-write-lock.js';

/**
 * Options of {@link authMigrations}.
 *
 * @example
 * ```ts
 * const options: AuthMigrationsOptions = { tablePrefix: 'acme_' };
 * ```
 */
export interface AuthMigrationsOptions {
  /** The prefix the stores are created with. Default `tenantkit_`. */
  tablePrefix?: string;
}

/**
 * The auth migrations, for applications that run one Kysely `Migrator` over all of their
 * migrations. Names start with `tenantkit_auth_`; Kysely runs migrations in name order, so
 * merge them with `allowUnorderedMigrations: true` if your own names sort after them and have
 * already run. Everything they create carries the table prefix. Released migrations never
 * change; the schema only moves forward through new ones.
 *
 * @throws AuthError `CONFIGURATION_INVALID` for an unknown dialect or an invalid prefix.
 *
 * @example
 * ```ts
 * import { Migrator } from 'kysely';
 * import { authMigrations } from '@tenantkit/auth/kysely';
 *
 * const migrator = new Migrator({ db, provider: { getMigrations: async () => ({ ...authMigrations('postgres'), ...mine }) } });
 * await migrator.migrateToLatest();
 * ```
 */
export function authMigrations(dialect: SqlDialect, options?: AuthMigrationsOptions): Record<string, Migration> {
  const parsedDialect = parseSqlDialect(dialect, 'authMigrations');
  if (options !== undefined && (typeof options !== 'object' || options === null || Object.keys(options).some((key) => key !== 'tablePrefix'))) {
    throw new AuthError('CONFIGURATION_INVALID', 'Invalid authMigrations() options: only tablePrefix is known');
  }
  const prefix = parseTablePrefix(options?.tablePrefix, 'authMigrations');
  return {
    tenantkit_auth_0001_initial_schema: {
      up: (db: Kysely<any>) => createAuthTables(db, parsedDialect, prefix),
      down: (db: Kysely<any>) => dropAuthTables(db, prefix),
    },
  };
}

/**
 * The auth migrations as a Kysely `MigrationProvider`, for a `Migrator` of their own.
 *
 * @throws AuthError `CONFIGURATION_INVALID` for an unknown dialect or an invalid prefix.
 *
 * @example
 * ```ts
 * import { Migrator } from 'kysely';
 * import { authMigrationProvider } from '@tenantkit/auth/kysely';
 *
 * const migrator = new Migrator({ db, provider: authMigrationProvider('mysql'), migrationTableName: 'auth_migrations' });
 * await migrator.migrateToLatest();
 * ```
 */
export function authMigrationProvider(dialect: SqlDialect, options?: AuthMigrationsOptions): MigrationProvider {
  const migrations = authMigrations(dialect, options);
  return { getMigrations: async () => migrations };
}

/**
 * Brings the auth tables up to date with Kysely's `Migrator`, recording what ran in its own
 * tables (`<prefix>auth_migrations` and `..._lock`), apart from the application's and the other
 * tenantkit packages' migrations. Safe to call on every start and from several processes at
 * once: the migrator takes a database lock (on SQLite, the database's write lock for the whole
 * migration, which then also rolls back as a whole), and a schema that is up to date runs nothing.
 *
 * @returns What ran (empty when the schema was already up to date).
 * @throws AuthError `STORE_UNAVAILABLE` when the database cannot be reached,
 *   `CONFIGURATION_INVALID` when a migration fails (the driver error is the `cause`), for
 *   invalid options, or when `db` is a transaction (the migrator manages its own).
 *
 * @example
 * ```ts
 * import { migrateAuthSchema } from '@tenantkit/auth/kysely';
 *
 * const results = await migrateAuthSchema(db, { tablePrefix: 'acme_' });
 * results.map((result) => `${result.migrationName}: ${result.status}`);
 * ```
 */
export async function migrateAuthSchema(db: Kysely<any>, options?: KyselyAuthStoresOptions): Promise<readonly MigrationResult[]> {
  const context = resolveKyselyAuthContext(db, options, 'migrateAuthSchema');
  if (db.isTransaction) {
    throw new AuthError('CONFIGURATION_INVALID', 'migrateAuthSchema() needs a Kysely instance, not a transaction');
  }
  const { migrationTable, migrationLockTable } = authMigrationTableNames(context.tablePrefix);
  return migrateToLatestInOwnTables(context.db as Kysely<any>, context.dialect, {
    provider: authMigrationProvider(context.dialect, { tablePrefix: context.tablePrefix }),
    migrationTableName: migrationTable,
    migrationLockTableName: migrationLockTable,
    migrationFailure,
    sqliteWriteLock: authSqliteWriteLock,
  });
}
