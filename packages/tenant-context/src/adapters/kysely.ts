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
