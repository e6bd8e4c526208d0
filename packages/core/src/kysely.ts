/**
 * The driver-agnostic plumbing of tenantkit's Kysely store adapters, shared by the packages that
 * ship one (`@tenantkit/tenant-context/kysely`, `@tenantkit/rbac/kysely`): driver error
 * classification and translation, SQLite's write lock, strict column conversions, table DDL per
 * dialect and the migration runner. Each helper throws the calling package's own coded error
 * (see `CodedErrorFactory` in `@tenantkit/core`). Needs `kysely` (an optional peer dependency); the main entry
 * of `@tenantkit/core` never loads it.
 *
 * @packageDocumentation
 * @module @tenantkit/core/kysely
 */
export {
  isUniqueViolation,
  uniqueViolationTarget,
  isDatabaseUnavailable,
  isMissingSchema,
  isTransactionConflict,
  createDatabaseErrorTranslator,
  insertConflictRetries,
  type DatabaseErrorTranslator,
  type DatabaseErrorTranslatorOptions,
} from './kysely/database-errors.js';
export { withSqliteWriteLock, type SqliteWriteLockOptions } from './kysely/sqlite-write-lock.js';
export { createColumnValues, type ColumnValues } from './kysely/column-values.js';
export type { SqlDialect } from './kysely/sql-dialect.js';
export { migrateToLatestInOwnTables, type MigrateToLatestOptions } from './kysely/migrate-to-latest.js';
export {
  isKysely,
  resolveKyselyStoreTarget,
  tablePrefixPattern,
  tablePrefixRequirement,
  type KyselyStoreTarget,
  type KyselyStoreTargetSettings,
} from './kysely/kysely-store-target.js';
export {
  createTables,
  dropTables,
  sqliteVersionSupportsStores,
  keyColumn,
  labelColumn,
  textColumn,
  integerColumn,
  flagColumn,
  type ColumnKind,
  type ColumnDefinition,
  type KeyDefinition,
  type TableDefinition,
  type CreateTablesOptions,
} from './kysely/table-ddl.js';
