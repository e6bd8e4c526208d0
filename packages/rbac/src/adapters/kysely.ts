// @tenantkit/rbac/kysely — helpers append their exports here.
export {};
/*
 * The Kysely (SQL) RBAC store, for PostgreSQL (and PGlite), MySQL/MariaDB and SQLite
 * (better-sqlite3), with the migrations that create its tables.
 */
export { kyselyRbacStore } from './kysely/kysely-rbac-store.js';
export type { KyselyRbacStoreOptions } from './kysely/kysely-rbac-store-context.js';
export { migrateRbacSchema, rbacMigrations, rbacMigrationProvider, type RbacMigrationsOptions } from './kysely/migrations.js';
export {
  defaultRbacTablePrefix,
  globalRolesTenantKey,
  type RbacDatabase,
  type RbacRolesTable,
  type RbacGroupsTable,
  type RbacGroupMembersTable,
  type RbacAssignmentsTable,
  type RbacPolicyVersionsTable,
} from './kysely/schema.js';
export {
  kyselyPermissionFilter,
  type KyselyPermissionFilterOptions,
  type KyselyFilterColumn,
  type KyselyArrayColumnKind,
  type KyselyWhereFilter,
} from '../filters/kysely-permission-filter.js';
