import { sql, type Kysely } from 'kysely';
import { TenantContextError } from '../../errors.js';
import { provisioningError } from './provisioning-errors.js';
import { assertTenantDatabaseName } from './tenant-database-name.js';
import type { TenantDatabaseProvisioner } from './tenant-database-provisioner.js';

const ROLE_OR_DATABASE_PATTERN = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;
const ENCODING_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
const POSTGRES_MAX_NAME_BYTES = 63;

/**
 * Options of {@link postgresDatabaseProvisioner}.
 *
 * @example
 * ```ts
 * const options: PostgresDatabaseProvisionerOptions = { admin, owner: 'app', template: 'template0', encoding: 'UTF8' };
 * ```
 */
export interface PostgresDatabaseProvisionerOptions {
  /**
   * A Kysely instance connected to a maintenance database (usually `postgres`) as a role with
   * `CREATEDB` (and, to drop databases it does not own, superuser or ownership). It is never
   * one of the tenant databases: a session cannot drop the database it is connected to.
   */
  admin: Kysely<any>;
  /**
   * The role that owns new databases, so the application role (not the admin) owns what it
   * creates. The admin must be a member of it (or superuser). Default: the admin role.
   */
  owner?: string;
  /** The template to copy, e.g. `template0` for a pristine database. Default: the server's (`template1`). */
  template?: string;
  /** The encoding of new databases, e.g. `UTF8` (with `template0` when it differs from the template's). */
  encoding?: string;
  /**
   * How long `dropDatabase` waits for sessions that are already closing (a pool that was just
   * destroyed) to disconnect before forcing the rest off, in milliseconds. Default 2000.
   */
  disconnectWaitMs?: number;
}

interface PostgresErrorShape {
  code?: unknown;
}

function errorCodeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as PostgresErrorShape).code : undefined;
}

function assertOptionalIdentifier(value: unknown, what: string): asserts value is string | undefined {
  if (value !== undefined && (typeof value !== 'string' || !ROLE_OR_DATABASE_PATTERN.test(value))) {
    throw new TenantContextError('CONFIGURATION_INVALID', `${what} must be 1-63 characters of A-Z, a-z, 0-9, "_" or "$", not starting with a digit`);
  }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A {@link TenantDatabaseProvisioner} for PostgreSQL: `CREATE DATABASE` and `DROP DATABASE` run
 * through an admin connection, with the name quoted as an identifier.
 *
 * - **Create** is idempotent: an existing database is reported as `{ created: false }`, and a
 *   concurrent creation of the same name (`42P04`, or the unique index on `pg_database`) counts
 *   as existing too. `CREATE DATABASE` cannot run inside a transaction, so do not pass a
 *   transaction as `admin`. A template that another session is connected to makes PostgreSQL
 *   refuse the copy (`55006`); that is retried a few times.
 * - **Drop** waits briefly for closing sessions to go, then runs `DROP DATABASE IF EXISTS ...
 *   WITH (FORCE)` on PostgreSQL 13 and later, which disconnects every remaining session (other
 *   processes' pools included). Before 13 it terminates those sessions with
 *   `pg_terminate_backend` and retries the drop.
 *
 * Database names longer than 63 bytes are refused: PostgreSQL would truncate them silently.
 *
 * @example
 * ```ts
 * const admin = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: 'postgres://admin@db/postgres', max: 2 }) }) });
 * const router = createTenantDatabaseRouter({
 *   provisioner: postgresDatabaseProvisioner({ admin, owner: 'app' }),
 *   openDatabase: (tenantId, { databaseName }) =>
 *     new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ database: databaseName, max: 5 }) }) }),
 *   connectionsPerPool: 5,
 *   maxPools: 20,
 *   maxConnections: 80,
 *   migrations: { provider: new FileMigrationProvider({ fs, path, migrationFolder }) },
 * });
 * ```
 */
export function postgresDatabaseProvisioner(options: PostgresDatabaseProvisionerOptions): TenantDatabaseProvisioner {
  if (typeof options !== 'object' || options === null) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'postgresDatabaseProvisioner() needs options with an admin Kysely instance');
  }
  const { admin, owner, template, encoding } = options;
  if (typeof admin !== 'object' || admin === null || typeof (admin as { selectFrom?: unknown }).selectFrom !== 'function') {
    throw new TenantContextError('CONFIGURATION_INVALID', 'postgresDatabaseProvisioner() needs { admin } to be a Kysely instance');
  }
  assertOptionalIdentifier(owner, 'owner');
  assertOptionalIdentifier(template, 'template');
  if (encoding !== undefined && (typeof encoding !== 'string' || !ENCODING_PATTERN.test(encoding))) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'encoding must be 1-32 characters of A-Z, a-z, 0-9, "_" or "-"');
  }
  const disconnectWaitMs = options.disconnectWaitMs ?? 2000;
  if (!Number.isInteger(disconnectWaitMs) || disconnectWaitMs < 0 || disconnectWaitMs > 60_000) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'disconnectWaitMs must be an integer from 0 to 60000');
  }

  let serverVersion: Promise<number> | undefined;
  const serverVersionNumber = (): Promise<number> => {
    serverVersion ??= sql<{ version: string }>`select current_setting('server_version_num') as version`
      .execute(admin)
      .then(({ rows }) => Number(rows[0]?.version ?? 0))
      .catch((error: unknown) => {
        serverVersion = undefined;
        throw error;
      });
    return serverVersion;
  };

  const databaseExists = async (name: string): Promise<boolean> => {
    const { rows } = await sql<{ found: number }>`select 1 as found from pg_database where datname = ${name}`.execute(admin);
    return rows.length > 0;
  };

  const otherSessions = async (name: string): Promise<number> => {
    const { rows } = await sql<{ sessions: string | number }>`
      select count(*) as sessions from pg_stat_activity where datname = ${name} and pid <> pg_backend_pid()
    `.execute(admin);
    return Number(rows[0]?.sessions ?? 0);
  };

  const createStatement = (name: string) => {
    const clauses = [sql`create database ${sql.id(name)}`];
    if (owner !== undefined) clauses.push(sql`owner ${sql.id(owner)}`);
    if (template !== undefined) clauses.push(sql`template ${sql.id(template)}`);
    if (encoding !== undefined) clauses.push(sql`encoding ${sql.lit(encoding)}`);
    return sql.join(clauses, sql` `);
  };

  return Object.freeze({
    sqlDialect: 'postgres' as const,
    maxDatabaseNameBytes: POSTGRES_MAX_NAME_BYTES,

    async databaseExists(name: string) {
      assertTenantDatabaseName(name, POSTGRES_MAX_NAME_BYTES);
      try {
        return await databaseExists(name);
      } catch (error) {
        throw provisioningError(error, 'inspect', name);
      }
    },

    async createDatabase(name: string) {
      assertTenantDatabaseName(name, POSTGRES_MAX_NAME_BYTES);
      for (let attempt = 1; ; attempt += 1) {
        try {
          if (await databaseExists(name)) return { created: false };
          await createStatement(name).execute(admin);
          return { created: true };
        } catch (error) {
          const code = errorCodeOf(error);
          // 42P04 duplicate_database; 23505 when two CREATE DATABASE race on pg_database's index.
          if (code === '42P04' || code === '23505') return { created: false };
          // 55006: the template is in use by another session (PostgreSQL copies it under a lock).
          if (code === '55006' && attempt < 5) {
            await delay(100 * attempt);
            continue;
          }
          throw provisioningError(error, 'create', name);
        }
      }
    },

    async dropDatabase(name: string) {
      assertTenantDatabaseName(name, POSTGRES_MAX_NAME_BYTES);
      try {
        if (!(await databaseExists(name))) return { dropped: false };
        // A pool destroyed a moment ago may still be closing its sockets; forcing those
        // sessions off now would make the closing clients report the termination as errors.
        for (let waited = 0; waited < disconnectWaitMs && (await otherSessions(name)) > 0; waited += 50) await delay(50);
        if ((await serverVersionNumber()) >= 130_000) {
          await sql`drop database if exists ${sql.id(name)} with (force)`.execute(admin);
          return { dropped: true };
        }
        for (let attempt = 1; ; attempt += 1) {
          await sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name} and pid <> pg_backend_pid()`.execute(admin);
          try {
            await sql`drop database if exists ${sql.id(name)}`.execute(admin);
            return { dropped: true };
          } catch (error) {
            // 55006: a session reconnected between terminate and drop.
            if (errorCodeOf(error) !== '55006' || attempt >= 5) throw error;
            await delay(100 * attempt);
          }
        }
      } catch (error) {
        throw provisioningError(error, 'drop', name);
      }
    },
  });
}
