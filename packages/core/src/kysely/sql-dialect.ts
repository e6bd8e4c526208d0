/**
 * The SQL dialects the Kysely stores speak. PGlite, Neon, CockroachDB and other dialects built
 * on Kysely's `PostgresAdapter` are `'postgres'`; MariaDB, PlanetScale and other
 * `MysqlAdapter` dialects are `'mysql'`; Kysely's `SqliteDialect` (better-sqlite3) is `'sqlite'`.
 *
 * @example
 * ```ts
 * const dialect: SqlDialect = 'postgres';
 * ```
 */
export type SqlDialect = 'postgres' | 'mysql' | 'sqlite';
