import type { SqlDialect } from '@tenantkit/tenant-context/kysely';
import { migrateToLatestInOwnTables } from '@tenantkit/core/kysely';
import type { Kysely, Migration, MigrationProvider, MigrationResult } from 'kysely';
import { RbacError } from '../../errors.js';
import { migrationFailure } from './database-errors.js';
import {
  parseSqlDialect,
  parseTablePrefix,
  resolveKyselyRbacContext,
  type KyselyRbacStoreOptions,
} from './kysely-rbac-store-context.js';
import { rbacMigrationTableNames } from './schema.js';
import { createRbacTables, dropRbacTables } from './schema-ddl.js';

/**
 * Options of {@link rbacMigrations}.
 *
 * @example
 * ```ts
 * const options: RbacMigrationsOptions = { tablePrefix: 'acme_' };
 * ```
 */
export interface RbacMigrationsOptions {
  /** The prefix the store is created with. Default `tenantkit_`. */
  tablePrefix?: string;
}

/**
 * The RBAC migrations, for applications that run one Kysely `Migrator` over all of their
 * migrations. Names start with `tenantkit_rbac_`; Kysely runs migrations in name order, so
 * merge them with `allowUnorderedMigrations: true` if your own names sort after them and have
 * already run. Everything they create carries the table prefix. Released migrations never
 * change; the schema only moves forward through new ones.
 *
 * @throws RbacError `CONFIGURATION_INVALID` for an unknown dialect or an invalid prefix.
 *
 * @example
 * ```ts
 * import { Migrator } from 'kysely';
 * import { rbacMigrations } from '@tenantkit/rbac/kysely';
 *
 * const migrator = new Migrator({ db, provider: { getMigrations: async () => ({ ...rbacMigrations('postgres'), ...mine }) } });
 * await migrator.migrateToLatest();
 * ```
 */
export function rbacMigrations(dialect: SqlDialect, options?: RbacMigrationsOptions): Record<string, Migration> {
  const parsedDialect = parseSqlDialect(dialect, 'rbacMigrations');
  if (options !== undefined && (typeof options !== 'object' || options === null || Object.keys(options).some((key) => key !== 'tablePrefix'))) {
    throw new RbacError('CONFIGURATION_INVALID', 'Invalid rbacMigrations() options: only tablePrefix is known');
  }
  const prefix = parseTablePrefix(options?.tablePrefix, 'rbacMigrations');
  return {
    tenantkit_rbac_0001_initial_schema: {
      up: (db: Kysely<any>) => createRbacTables(db, parsedDialect, prefix),
      down: (db: Kysely<any>) => dropRbacTables(db, prefix),
    },
  };
}

/**
 * The RBAC migrations as a Kysely `MigrationProvider`, for a `Migrator` of their own.
 *
 * @throws RbacError `CONFIGURATION_INVALID` for an unknown dialect or an invalid prefix.
 *
 * @example
 * ```ts
 * import { Migrator } from 'kysely';
 * import { rbacMigrationProvider } from '@tenantkit/rbac/kysely';
 *
 * const migrator = new Migrator({ db, provider: rbacMigrationProvider('mysql'), migrationTableName: 'rbac_migrations' });
 * await migrator.migrateToLatest();
 * ```
 */
export function rbacMigrationProvider(dialect: SqlDialect, options?: RbacMigrationsOptions): MigrationProvider {
  const migrations = rbacMigrations(dialect, options);
  return { getMigrations: async () => migrations };
}

/**
 * Brings the RBAC tables up to date with Kysely's `Migrator`, recording what ran in its own
 * tables (`<prefix>rbac_migrations` and `..._lock`), apart from the application's and
 * tenant-context's migrations. Safe to call on every start and from several processes at once:
 * the migrator takes a database lock (on SQLite, the database's write lock for the whole
 * migration, which then also rolls back as a whole), and a schema that is up to date runs nothing.
 *
 * @returns What ran (empty when the schema was already up to date).
 * @throws RbacError `STORE_UNAVAILABLE` when the database cannot be reached,
 *   `CONFIGURATION_INVALID` when a migration fails (the driver error is the `cause`), for
 *   invalid options, or when `db` is a transaction (the migrator manages its own).
 *
 * @example
 * ```ts
 * import { migrateRbacSchema } from '@tenantkit/rbac/kysely';
 *
 * const results = await migrateRbacSchema(db, { tablePrefix: 'acme_' });
 * results.map((result) => `${result.migrationName}: ${result.status}`);
 * ```
 */
export async function migrateRbacSchema(db: Kysely<any>, options?: KyselyRbacStoreOptions): Promise<readonly MigrationResult[]> {
  const context = resolveKyselyRbacContext(db, options, 'migrateRbacSchema');
  if (db.isTransaction) {
    throw new RbacError('CONFIGURATION_INVALID', 'migrateRbacSchema() needs a Kysely instance, not a transaction');
  }
  const { migrationTable, migrationLockTable } = rbacMigrationTableNames(context.tablePrefix);
  return migrateToLatestInOwnTables(context.db as Kysely<any>, context.dialect, {
    provider: rbacMigrationProvider(context.dialect, { tablePrefix: context.tablePrefix }),
    migrationTableName: migrationTable,
    migrationLockTableName: migrationLockTable,
    migrationFailure,
    // The store's own SQLite steps retry the lock from 5 ms; migrations share that pace.
    sqliteWriteLock: { firstRetryDelayMs: 5 },
  });
}
