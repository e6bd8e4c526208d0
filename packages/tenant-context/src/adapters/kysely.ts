/**
 * Kysely (SQL) adapters of the tenant-context store contracts, for PostgreSQL (and PGlite),
 * MySQL/MariaDB and SQLite, with the migrations that create their tables.
 *
 * Tested: the shared store conformance suite and the adapter's own suite run against
 * PostgreSQL 15 (pg), PGlite, MariaDB (mysql2) and SQLite 3.53 through better-sqlite3 12 with
 * Kysely's `SqliteDialect` (a WAL database file with several connections on it, including
 * concurrent increments and migrations from separate connections).
 *
 * SQLite notes: it needs SQLite 3.35.0 or later (RETURNING), which the migration checks.
 * Ids and other keys compare case-sensitively (BINARY collation). Tenant search lower-cases
 * with SQLite's `lower()`, which folds ASCII letters only, so search is case-insensitive for
 * ASCII and case-sensitive for other letters unless the ICU extension is loaded. SQLite allows
 * one writer at a time: a write that finds the lock taken past the driver's busy timeout fails
 * with `STORE_UNAVAILABLE`, and a caller transaction that read before another connection wrote
 * fails its write with `STORE_CONFLICT`. `migrateTenantContextSchema` holds the write lock for
 * the whole migration, because Kysely's `Migrator` takes no lock on SQLite; an application-run
 * `Migrator` with `tenantContextMigrations('sqlite')` must not run in several processes at once.
 *
 * @packageDocumentation
 * @module @tenantkit/tenant-context/kysely
 */
export { kyselyTenantStore } from './kysely/kysely-tenant-store.js';
export { kyselyMembershipStore } from './kysely/kysely-membership-store.js';
export { kyselyLifecycleRunStore } from './kysely/kysely-lifecycle-run-store.js';
export { kyselyUsageCounterStore } from './kysely/kysely-usage-counter-store.js';
export { kyselyTenantContextStores } from './kysely/kysely-tenant-context-stores.js';
export type { KyselyTenantContextOptions } from './kysely/kysely-store-context.js';
export {
  migrateTenantContextSchema,
  tenantContextMigrations,
  type TenantContextMigrationsOptions,
} from './kysely/migrations.js';
export { detectSqlDialect, type SqlDialect } from './kysely/sql-dialect.js';
export {
  defaultTablePrefix,
  type TenantContextDatabase,
  type TenantsTable,
  type TenantDomainsTable,
  type MembershipsTable,
  type LifecycleRunsTable,
  type UsageCountersTable,
} from './kysely/schema.js';
export {
  createSchemaPerTenant,
  type SchemaPerTenant,
  type SchemaPerTenantOptions,
  type TenantSchemaProvisioning,
  type TenantSchemaMigration,
  type TenantSchemaStatus,
  type TenantSchemaDrop,
  type MigrateAllTenantSchemasOptions,
} from '../isolation/schema-per-tenant/schema-per-tenant.js';
export { defaultTenantSchemaName } from '../isolation/schema-per-tenant/tenant-schema-name.js';
export type { TenantSchemaMigrations, TenantSchemaMigrationContext } from '../isolation/schema-per-tenant/tenant-schema-migrations.js';
export {
  formatTenantSchemaMigrationProgress,
  type TenantSchemaMigrationProgress,
  type TenantSchemaMigrationCounts,
} from '../isolation/schema-per-tenant/tenant-schema-migration-progress.js';
export type {
  TenantSchemaMigrationReport,
  TenantSchemaMigrationFailure,
} from '../isolation/schema-per-tenant/migrate-tenant-schemas-in-parallel.js';
export {
  provisionTenantSchemaStep,
  dropTenantSchemaStep,
  type TenantSchemaStepOptions,
} from '../isolation/schema-per-tenant/tenant-schema-lifecycle-steps.js';
export {
  createRowLevelSecurityDatabase,
  type RowLevelSecurityDatabase,
  type RowLevelSecurityDatabaseOptions,
  type RowLevelSecurityBypassEvent,
  type UnitOfWorkOptions,
  type SystemUnitOfWorkOptions,
} from '../isolation/postgres-rls/row-level-security-database.js';
export {
  enableTenantRowLevelSecurity,
  disableTenantRowLevelSecurity,
  type TenantRowLevelSecurityOptions,
  type DisableTenantRowLevelSecurityOptions,
  type TenantColumnType,
} from '../isolation/postgres-rls/tenant-row-level-security-migrations.js';
export {
  assertRowLevelSecurityEnforced,
  type RowLevelSecurityEnforcementOptions,
  type RowLevelSecurityEnforcementReport,
} from '../isolation/postgres-rls/row-level-security-enforcement-check.js';
export { rowLevelSecurityDefaults } from '../isolation/postgres-rls/row-level-security-names.js';
export {
  createTenantIsolationPlugin,
  type TenantIsolationPlugin,
  type TenantIsolationPluginOptions,
  type UnscopedQueryEvent,
} from '../isolation/kysely-plugin/tenant-isolation-plugin.js';
export type { TenantScopedTableSpec } from '../isolation/kysely-plugin/tenant-table-registry.js';
export { unscopedSql, type UnscopedSqlTag } from '../isolation/kysely-plugin/unscoped-sql.js';
export { withoutTenantIsolation } from '../isolation/kysely-plugin/without-tenant-isolation.js';
export {
  createTenantDatabaseRouter,
  type TenantDatabaseRouter,
  type TenantDatabaseRouterOptions,
  type OpenTenantDatabaseContext,
  type TenantDatabaseProvisionResult,
  type TenantDatabaseDeprovisionResult,
} from '../isolation/database-per-tenant/tenant-database-router.js';
export type { TenantPoolStats } from '../isolation/database-per-tenant/tenant-pool-set.js';
export type { TenantHandleDialect } from '../isolation/database-per-tenant/leased-tenant-handle.js';
export type { TenantDatabaseProvisioner } from '../isolation/database-per-tenant/tenant-database-provisioner.js';
export {
  postgresDatabaseProvisioner,
  type PostgresDatabaseProvisionerOptions,
} from '../isolation/database-per-tenant/postgres-database-provisioner.js';
export { mysqlDatabaseProvisioner, type MysqlDatabaseProvisionerOptions } from '../isolation/database-per-tenant/mysql-database-provisioner.js';
export {
  sqliteDatabaseProvisioner,
  type SqliteDatabaseProvisioner,
  type SqliteDatabaseProvisionerOptions,
} from '../isolation/database-per-tenant/sqlite-database-provisioner.js';
export {
  tenantDatabaseName,
  defaultTenantDatabasePrefix,
  type TenantDatabaseNameOptions,
} from '../isolation/database-per-tenant/tenant-database-name.js';
export type {
  TenantDatabaseMigrationOptions,
  TenantDatabaseMigrationResult,
} from '../isolation/database-per-tenant/tenant-database-migrations.js';
export {
  tenantDatabaseOnboardingStep,
  tenantDatabaseOffboardingStep,
  type TenantDatabaseOnboardingStepOptions,
  type TenantDatabaseOffboardingStepOptions,
} from '../isolation/database-per-tenant/tenant-database-lifecycle-steps.js';
export {
  createTenantIsolationRouter,
  type TenantIsolationRouter,
  type TenantIsolationRouterOptions,
  type TenantIsolationStrategy,
  type TenantHandleSource,
} from '../isolation/tenant-isolation-router.js';
