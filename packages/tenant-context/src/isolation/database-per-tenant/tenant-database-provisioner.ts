import type { SqlDialect } from '../../adapters/kysely/sql-dialect.js';

/**
 * Creates and drops whole tenant databases on one server (or, for SQLite, files in one
 * directory). The router calls it with names it has derived and validated already; every
 * implementation still quotes them.
 *
 * Both operations are **idempotent**: creating a database that exists, or dropping one that is
 * gone, succeeds and says so in its result. That is what lets a lifecycle step be retried after
 * a crash.
 *
 * @example
 * ```ts
 * const provisioner: TenantDatabaseProvisioner = postgresDatabaseProvisioner({ admin });
 * await provisioner.createDatabase('tenant_acme'); // { created: true }
 * await provisioner.createDatabase('tenant_acme'); // { created: false }
 * ```
 */
export interface TenantDatabaseProvisioner {
  /**
   * The SQL dialect of the databases it creates, which the router's handles compile for.
   *
   * @example
   * ```ts
   * provisioner.sqlDialect; // 'postgres'
   * ```
   */
  readonly sqlDialect: SqlDialect;
  /**
   * The longest database name the engine keeps intact, in bytes (63 for PostgreSQL, 64 for
   * MySQL/MariaDB).
   *
   * @example
   * ```ts
   * tenantDatabaseName(tenantId, { maxBytes: provisioner.maxDatabaseNameBytes });
   * ```
   */
  readonly maxDatabaseNameBytes: number;
  /**
   * Whether the database exists.
   *
   * @example
   * ```ts
   * if (!(await provisioner.databaseExists('tenant_acme'))) console.warn('acme has no database');
   * ```
   */
  databaseExists(name: string): Promise<boolean>;
  /**
   * Creates the (empty) database unless it exists; `created` is false when it did.
   *
   * @example
   * ```ts
   * const { created } = await provisioner.createDatabase('tenant_acme');
   * ```
   */
  createDatabase(name: string): Promise<{ readonly created: boolean }>;
  /**
   * Drops the database and everything in it, closing what still uses it where the engine
   * allows; `dropped` is false when it did not exist.
   *
   * @example
   * ```ts
   * const { dropped } = await provisioner.dropDatabase('tenant_acme');
   * ```
   */
  dropDatabase(name: string): Promise<{ readonly dropped: boolean }>;
}
