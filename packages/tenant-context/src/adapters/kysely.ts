/**
 * Kysely (SQL) adapters of the tenant-context store contracts, for PostgreSQL (and PGlite) and
 * MySQL/MariaDB, with the migrations that create their tables. The `'sqlite'` dialect uses the
 * same SQL as Postgres where the two agree, but is not yet covered by the conformance suite.
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
