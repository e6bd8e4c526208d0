import { sql, type Kysely } from 'kysely';
import { TenantContextError } from '../../errors.js';
import { provisioningError } from './provisioning-errors.js';
import { assertTenantDatabaseName } from './tenant-database-name.js';
import type { TenantDatabaseProvisioner } from './tenant-database-provisioner.js';

const CHARSET_PATTERN = /^[a-z0-9_]{1,64}$/;
const MYSQL_MAX_NAME_BYTES = 64;

/**
 * Options of {@link mysqlDatabaseProvisioner}.
 *
 * @example
 * ```ts
 * const options: MysqlDatabaseProvisionerOptions = { admin, characterSet: 'utf8mb4', collation: 'utf8mb4_unicode_ci' };
 * ```
 */
export interface MysqlDatabaseProvisionerOptions {
  /** A Kysely instance (mysql2) connected as a user with `CREATE` and `DROP` on the tenant databases. */
  admin: Kysely<any>;
  /** The default character set of new databases. Default `utf8mb4` (full Unicode; `utf8` is 3-byte only). */
  characterSet?: string;
  /** The default collation, e.g. `utf8mb4_unicode_ci`. Default: the character set's default. */
  collation?: string;
  /**
   * Whether `dropDatabase` first kills the sessions using the database (other processes' pools),
   * whose open transactions would otherwise hold metadata locks that make `DROP DATABASE` wait.
   * Needs the `PROCESS` privilege to see them and `CONNECTION_ADMIN`/`SUPER` to kill other
   * users' sessions. Default true.
   */
  killSessions?: boolean;
}

/**
 * A {@link TenantDatabaseProvisioner} for MySQL and MariaDB: `CREATE DATABASE ... CHARACTER SET
 * utf8mb4` and `DROP DATABASE`, the name quoted with backticks.
 *
 * Both are idempotent (`IF NOT EXISTS` / `IF EXISTS`); MySQL's DDL is not transactional, so a
 * database is either created whole or not at all, and migrations inside it must be written to
 * be re-runnable. Names longer than 64 bytes are refused (the server would reject them).
 *
 * @example
 * ```ts
 * const admin = new Kysely<any>({ dialect: new MysqlDialect({ pool: createPool({ uri: 'mysql://admin@db', connectionLimit: 2 }) }) });
 * const router = createTenantDatabaseRouter({
 *   provisioner: mysqlDatabaseProvisioner({ admin }),
 *   openDatabase: (tenantId, { databaseName }) =>
 *     new Kysely({ dialect: new MysqlDialect({ pool: createPool({ uri: `mysql://app@db/${databaseName}`, connectionLimit: 4 }) }) }),
 *   connectionsPerPool: 4,
 *   maxPools: 25,
 *   maxConnections: 100,
 * });
 * ```
 */
export function mysqlDatabaseProvisioner(options: MysqlDatabaseProvisionerOptions): TenantDatabaseProvisioner {
  if (typeof options !== 'object' || options === null) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'mysqlDatabaseProvisioner() needs options with an admin Kysely instance');
  }
  const { admin, collation } = options;
  if (typeof admin !== 'object' || admin === null || typeof (admin as { selectFrom?: unknown }).selectFrom !== 'function') {
    throw new TenantContextError('CONFIGURATION_INVALID', 'mysqlDatabaseProvisioner() needs { admin } to be a Kysely instance');
  }
  const characterSet = options.characterSet ?? 'utf8mb4';
  if (typeof characterSet !== 'string' || !CHARSET_PATTERN.test(characterSet)) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'characterSet must be 1-64 characters of a-z, 0-9 and "_"');
  }
  if (collation !== undefined && (typeof collation !== 'string' || !CHARSET_PATTERN.test(collation))) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'collation must be 1-64 characters of a-z, 0-9 and "_"');
  }
  if (options.killSessions !== undefined && typeof options.killSessions !== 'boolean') {
    throw new TenantContextError('CONFIGURATION_INVALID', 'killSessions must be a boolean');
  }
  const killSessions = options.killSessions ?? true;

  const databaseExists = async (name: string): Promise<boolean> => {
    const { rows } = await sql<{ found: number }>`
      select 1 as found from information_schema.schemata where schema_name = ${name}
    `.execute(admin);
    return rows.length > 0;
  };

  return Object.freeze({
    sqlDialect: 'mysql' as const,
    maxDatabaseNameBytes: MYSQL_MAX_NAME_BYTES,

    async databaseExists(name: string) {
      assertTenantDatabaseName(name, MYSQL_MAX_NAME_BYTES);
      try {
        return await databaseExists(name);
      } catch (error) {
        throw provisioningError(error, 'inspect', name);
      }
    },

    async createDatabase(name: string) {
      assertTenantDatabaseName(name, MYSQL_MAX_NAME_BYTES);
      try {
        const collate = collation === undefined ? sql`` : sql` collate ${sql.raw(collation)}`;
        // The server answers 1 affected row when it created the database, 0 (with a warning)
        // when it existed, which also settles two processes creating it at once.
        const result = await sql`
          create database if not exists ${sql.id(name)} character set ${sql.raw(characterSet)}${collate}
        `.execute(admin);
        return { created: Number(result.numAffectedRows ?? 0n) > 0 };
      } catch (error) {
        throw provisioningError(error, 'create', name);
      }
    },

    async dropDatabase(name: string) {
      assertTenantDatabaseName(name, MYSQL_MAX_NAME_BYTES);
      try {
        if (!(await databaseExists(name))) return { dropped: false };
        if (killSessions) {
          const { rows } = await sql<{ id: number | string }>`
            select id from information_schema.processlist where db = ${name} and id <> connection_id()
          `.execute(admin);
          for (const { id } of rows) {
            // The session may have ended on its own since it was listed.
            await sql`kill ${sql.raw(String(Number(id)))}`.execute(admin).catch(() => undefined);
          }
        }
        await sql`drop database if exists ${sql.id(name)}`.execute(admin);
        return { dropped: true };
      } catch (error) {
        throw provisioningError(error, 'drop', name);
      }
    },
  });
}
