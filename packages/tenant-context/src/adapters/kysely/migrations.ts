import { migrateToLatestInOwnTables, tablePrefixPattern, tablePrefixRequirement } from '@tenantkit/core/kysely';
import type { Kysely, Migration, MigrationResult } from 'kysely';
import { z } from 'zod';
import { TenantContextError } from '../../errors.js';
import { parseOrThrow } from '../../validation.js';
import { migrationFailure } from './database-errors.js';
import { resolveKyselyStoreContext, type KyselyTenantContextOptions } from './kysely-store-context.js';
import { addLifecycleRunArtifactsColumn, dropLifecycleRunArtifactsColumn } from './lifecycle-run-artifacts-column.js';
import { createTenantContextTables, dropTenantContextTables } from './schema-ddl.js';
import { defaultTablePrefix, tenantContextMigrationTableNames } from './schema.js';
import { sqlDialects, type SqlDialect } from './sql-dialect.js';

/**
 * Options of {@link tenantContextMigrations}.
 *
 * @example
 * ```ts
 * const options: TenantContextMigrationsOptions = { tablePrefix: 'acme_' };
 * ```
 */
export interface TenantContextMigrationsOptions {
  /** The prefix the stores are created with. Default `tenantkit_`. */
  tablePrefix?: string;
}

const migrationArgumentsSchema = z.object({
  dialect: z.enum(sqlDialects as [SqlDialect, ...SqlDialect[]]),
  options: z
    .strictObject({
      tablePrefix: z.string().regex(tablePrefixPattern, tablePrefixRequirement).optional(),
    })
    .optional(),
});

/**
 * The tenant-context migrations, for applications that run one Kysely `Migrator` over all of
 * their migrations. Names start with `tenantkit_tenant_context_`; Kysely runs migrations in
 * name order, so merge them with `allowUnorderedMigrations: true` if your own names sort
 * after them and have already run. Everything they create carries the table prefix.
 *
 * @throws TenantContextError `CONFIGURATION_INVALID` for an unknown dialect or an invalid prefix.
 *
 * @example
 * ```ts
 * import { Migrator } from 'kysely';
 * import { tenantContextMigrations } from '@tenantkit/tenant-context/kysely';
 *
 * const migrator = new Migrator({
 *   db,
 *   provider: { getMigrations: async () => ({ ...tenantContextMigrations('postgres'), ...myMigrations }) },
 * });
 * await migrator.migrateToLatest();
 * ```
 */
export function tenantContextMigrations(dialect: SqlDialect, options?: TenantContextMigrationsOptions): Record<string, Migration> {
  const parsed = parseOrThrow(migrationArgumentsSchema, { dialect, options }, 'CONFIGURATION_INVALID', 'tenantContextMigrations() arguments');
  const prefix = parsed.options?.tablePrefix ?? defaultTablePrefix;
  return {
    tenantkit_tenant_context_0001_initial_schema: {
      up: (db: Kysely<any>) => createTenantContextTables(db, parsed.dialect, prefix),
      down: (db: Kysely<any>) => dropTenantContextTables(db, prefix),
    },
    // Released migrations never change (databases that ran them keep what they made); the
    // schema only moves forward through new ones.
    tenantkit_tenant_context_0002_lifecycle_run_artifacts: {
      up: (db: Kysely<any>) => addLifecycleRunArtifactsColumn(db, parsed.dialect, prefix),
      down: (db: Kysely<any>) => dropLifecycleRunArtifactsColumn(db, parsed.dialect, prefix),
    },
  };
}

/**
 * Brings the tenant-context tables up to date with Kysely's `Migrator`, recording what ran in
 * its own tables (`<prefix>tenant_context_migrations` and `..._lock`), apart from the
 * application's migrations. Safe to call on every start and from several processes at once:
 * the migrator takes a database lock (on SQLite, the database's write lock for the whole
 * migration, which then also rolls back as a whole), and a schema that is up to date runs nothing.
 *
 * @returns What ran (empty when the schema was already up to date).
 * @throws TenantContextError `STORE_UNAVAILABLE` when the database cannot be reached,
 *   `CONFIGURATION_INVALID` when a migration fails (the driver error is the `cause`), for
 *   invalid options, or when `db` is a transaction (the migrator manages its own).
 *
 * @example
 * ```ts
 * import { migrateTenantContextSchema } from '@tenantkit/tenant-context/kysely';
 *
 * const results = await migrateTenantContextSchema(db, { tablePrefix: 'acme_' });
 * results.map((result) => `${result.migrationName}: ${result.status}`);
 * ```
 */
export async function migrateTenantContextSchema(
  db: Kysely<any>,
  options?: KyselyTenantContextOptions,
): Promise<readonly MigrationResult[]> {
  const context = resolveKyselyStoreContext(db, options, 'migrateTenantContextSchema');
  if (db.isTransaction) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'migrateTenantContextSchema() needs a Kysely instance, not a transaction');
  }
  const { migrationTable, migrationLockTable } = tenantContextMigrationTableNames(context.tablePrefix);
  return migrateToLatestInOwnTables(context.db as Kysely<any>, context.dialect, {
    provider: { getMigrations: async () => tenantContextMigrations(context.dialect, { tablePrefix: context.tablePrefix }) },
    migrationTableName: migrationTable,
    migrationLockTableName: migrationLockTable,
    migrationFailure,
  });
}
