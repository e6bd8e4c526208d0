/**
 * The Kysely (SQL) adapter of the @tenantkit/auth store contracts, for PostgreSQL (and PGlite),
 * MySQL/MariaDB and SQLite (better-sqlite3), with the migrations that create its tables.
 *
 * Tested: the shared auth store conformance suite and the adapter's own suite run against
 * PostgreSQL 15 (pg), PGlite, MariaDB 10.11 (mysql2) and SQLite through better-sqlite3 (a WAL
 * database file with several connections on it), including concurrent refresh rotations and
 * one-time-token consumes from two separate connection pools.
 *
 * SQLite notes: it needs SQLite 3.35.0 or later (RETURNING), which the migration checks. Every
 * write waits for SQLite's one write lock asynchronously (about ten seconds at most, then
 * `STORE_UNAVAILABLE`). `migrateAuthSchema` holds the write lock for the whole migration,
 * because Kysely's `Migrator` takes no lock on SQLite; an application-run `Migrator` with
 * `authMigrations('sqlite')` must not run in several processes at once.
 *
 * @packageDocumentation
 * @module @tenantkit/auth/kysely
 */
export { kyselyAuthStores } from './kysely/kysely-auth-stores.js';
export type { KyselyAuthStoresOptions } from './kysely/kysely-auth-store-context.js';
export { migrateAuthSchema, authMigrations, authMigrationProvider, type AuthMigrationsOptions } from './kysely/migrations.js';
export {
  defaultAuthTablePrefix,
  noTenantKey,
  type AuthDatabase,
  type AuthAccountsTable,
  type AuthSessionsTable,
  type AuthRefreshFamiliesTable,
  type AuthRefreshTokensTable,
  type AuthRevocationsTable,
  type AuthRevocationEpochsTable,
  type AuthOneTimeTokensTable,
  type AuthApiKeysTable,
} from './kysely/schema.js';
