import type { CodedErrorFactory, SharedErrorCode } from '../coded-error-factory.js';

/*
 * Driver errors are recognized by their documented codes, never by instanceof, so any driver
 * (pg, PGlite, mysql2, better-sqlite3, node:sqlite) and any copy of it works:
 * - pg and PGlite: `code` is the SQLSTATE ('23505');
 * - mysql2: `code` is the symbolic name ('ER_DUP_ENTRY'), `errno` the number (1062), and
 *   `fatal` is true when the connection itself failed;
 * - SQLite drivers: `code` 'SQLITE_CONSTRAINT_UNIQUE' (better-sqlite3) or `errcode` 2067.
 */

interface DriverErrorShape {
  code?: unknown;
  errno?: unknown;
  errcode?: unknown;
  fatal?: unknown;
  message?: unknown;
  constraint?: unknown;
  errors?: unknown;
}

/** Node socket errors that mean the server cannot be reached. */
const networkErrorCodes: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EADDRNOTAVAIL',
]);

/** mysql2 client codes and server errors that mean the server cannot serve us now. */
const mysqlUnavailableCodes: ReadonlySet<string> = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_SERVER_SHUTDOWN',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_QUERY_TIMEOUT',
  'ER_STATEMENT_TIMEOUT',
  'ER_QUERY_INTERRUPTED',
]);

/**
 * SQLSTATEs that mean the server cannot serve us now: class 08 (connection exception) and
 * class 53 (insufficient resources) are matched by prefix below.
 */
const postgresUnavailableStates: ReadonlySet<string> = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '57014', // query_canceled (statement_timeout)
  '55P03', // lock_not_available (lock_timeout)
]);

/** Messages of client-side failures that carry no code (pg-pool, Kysely, PGlite). */
const unavailableMessages: readonly RegExp[] = [
  /^Connection terminated/,
  /timeout exceeded when trying to connect/,
  /Client has encountered a connection error and is not queryable/,
  /Cannot use a pool after calling end on the pool/,
  /^driver has already been destroyed$/,
  /^PGlite is closed$/,
  // better-sqlite3, after the Database was closed underneath Kysely.
  /^The database connection is not open$/,
];

function shapeOf(error: unknown): DriverErrorShape {
  return typeof error === 'object' && error !== null ? (error as DriverErrorShape) : {};
}

/**
 * Whether a driver error is a unique-key violation.
 *
 * @example
 * ```ts
 * if (isUniqueViolation(error)) throw errors.create('STORE_CONFLICT', 'Taken');
 * ```
 */
export function isUniqueViolation(error: unknown): boolean {
  const { code, errno, errcode } = shapeOf(error);
  return (
    code === '23505' ||
    code === 'ER_DUP_ENTRY' ||
    errno === 1062 ||
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    errcode === 2067 ||
    errcode === 1555
  );
}

/**
 * What a unique violation names, to tell which key was taken: the constraint name on
 * Postgres, the key name on MySQL (`PRIMARY` for the primary key), `table.column` on SQLite.
 * Empty when the driver does not say.
 *
 * @example
 * ```ts
 * uniqueViolationTarget(error); // 'tenantkit_tenants_slug_key'
 * ```
 */
export function uniqueViolationTarget(error: unknown): string {
  const { constraint, message } = shapeOf(error);
  if (typeof constraint === 'string') return constraint;
  if (typeof message !== 'string') return '';
  // MySQL 8 says "for key 'table.key'", MariaDB and MySQL 5.7 "for key 'key'".
  const mysqlKey = /for key '(?:[^'.]+\.)?([^']+)'$/.exec(message);
  if (mysqlKey?.[1] !== undefined) return mysqlKey[1];
  const sqliteColumns = /^UNIQUE constraint failed: (.+)$/.exec(message);
  return sqliteColumns?.[1] ?? '';
}

/**
 * Whether a driver error means the database cannot be reached or cannot serve the request
 * right now (refused or lost connection, server shutting down, too many connections, time-outs).
 *
 * @example
 * ```ts
 * isDatabaseUnavailable(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })); // true
 * ```
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (depth > 3) return false;
  const { code, fatal, message, errors } = shapeOf(error);
  if (typeof code === 'string') {
    if (networkErrorCodes.has(code) || mysqlUnavailableCodes.has(code) || postgresUnavailableStates.has(code)) return true;
    if (/^(08|53)[0-9A-Z]{3}$/.test(code)) return true;
    // SQLite's write lock stayed taken past the busy timeout (SQLITE_BUSY and its extended
    // codes such as SQLITE_BUSY_TIMEOUT); SQLITE_BUSY_SNAPSHOT is a conflict instead.
    if (code.startsWith('SQLITE_BUSY') && code !== 'SQLITE_BUSY_SNAPSHOT') return true;
    if (code === 'SQLITE_CANTOPEN') return true;
  }
  // mysql2 flags errors after which the connection is unusable.
  if (fatal === true) return true;
  if (typeof message === 'string' && unavailableMessages.some((pattern) => pattern.test(message))) return true;
  // Node reports a failed connect to every address of a host as an AggregateError.
  if (Array.isArray(errors)) return errors.some((inner) => isDatabaseUnavailable(inner, depth + 1));
  return false;
}

/**
 * Whether a driver error means the store's tables or columns do not exist (the schema is not
 * migrated, or was migrated with another table prefix).
 *
 * @example
 * ```ts
 * isMissingSchema(Object.assign(new Error('relation does not exist'), { code: '42P01' })); // true
 * ```
 */
export function isMissingSchema(error: unknown): boolean {
  const { code, message } = shapeOf(error);
  if (code === '42P01' || code === '42703' || code === 'ER_NO_SUCH_TABLE' || code === 'ER_BAD_FIELD_ERROR') return true;
  // SQLite names a missing column "no such column" in a query, "has no column named" in an insert.
  return typeof message === 'string' && (/^no such (table|column): /.test(message) || /^table \S+ has no column named /.test(message));
}

/**
 * Whether a driver error is a deadlock or serialization failure: the transaction was rolled
 * back and may be retried as a whole.
 *
 * @example
 * ```ts
 * if (isTransactionConflict(error) && attempt < 3) continue;
 * ```
 */
export function isTransactionConflict(error: unknown): boolean {
  const { code } = shapeOf(error);
  // SQLITE_BUSY_SNAPSHOT: a WAL transaction that read first cannot write after another
  // connection wrote; only running the whole transaction again sees the new data.
  return code === '40001' || code === '40P01' || code === 'ER_LOCK_DEADLOCK' || code === 'SQLITE_BUSY_SNAPSHOT';
}

/**
 * What {@link createDatabaseErrorTranslator} says on a package's behalf.
 *
 * @example
 * ```ts
 * const options: DatabaseErrorTranslatorOptions<RbacError> = {
 *   errors: codedErrorFactory(RbacError),
 *   subject: 'RBAC',
 *   migrateFunction: 'migrateRbacSchema',
 * };
 * ```
 */
export interface DatabaseErrorTranslatorOptions<CodedError extends Error> {
  /** Makes and recognises the package's coded errors. */
  errors: CodedErrorFactory<CodedError, SharedErrorCode>;
  /** What the messages call the store's data: `'tenant-context'`, `'RBAC'`. */
  subject: string;
  /** The function that migrates the store's tables, named in the missing-schema message. */
  migrateFunction: string;
}

/**
 * One package's translation of driver errors into its own coded errors (see
 * {@link createDatabaseErrorTranslator}).
 *
 * @example
 * ```ts
 * const { runStoreOperation } = createDatabaseErrorTranslator(options);
 * await runStoreOperation('getRole', () => query.executeTakeFirst());
 * ```
 */
export interface DatabaseErrorTranslator<CodedError extends Error> {
  /**
   * Turns a failure of a store query into what the store throws:
   * - the package's own error (the store's own validation) passes through;
   * - an unreachable or overloaded database becomes `STORE_UNAVAILABLE`;
   * - missing tables or columns become `CONFIGURATION_INVALID` (the schema is not migrated);
   * - a deadlock or serialization failure becomes `STORE_CONFLICT`;
   * - any other `Error` passes through unchanged (a bug; the bindings answer 500 without
   *   revealing it), and a non-`Error` becomes `STORE_UNAVAILABLE`, so callers always get an Error.
   *
   * The driver error is kept as `cause`, the operation's name in `details.operation`.
   *
   * @example
   * ```ts
   * try { await query.execute(); } catch (error) { throw translateDatabaseError(error, 'getTenantById'); }
   * ```
   */
  translateDatabaseError(error: unknown, operation: string): Error;
  /**
   * Runs one store operation and translates what it throws (see `translateDatabaseError`).
   * `onUniqueViolation` turns a unique-key violation into the operation's own coded error.
   *
   * `conflictRetries` runs the body again after a deadlock or serialization failure, that many
   * times at most. Only for a body that is one statement in autocommit mode: the database rolled
   * the statement back whole, so running it again is safe (InnoDB, for one, deadlocks concurrent
   * inserts of one duplicate key; the retry then reports the duplicate). Inside a caller's
   * transaction the whole transaction was aborted, so pass 0 there.
   *
   * @example
   * ```ts
   * await runStoreOperation('insertDomain', () => query.execute(), () => new TenantContextError('DOMAIN_TAKEN', '...'));
   * ```
   */
  runStoreOperation<Result>(
    operation: string,
    body: () => Promise<Result>,
    onUniqueViolation?: (error: unknown) => CodedError,
    conflictRetries?: number,
  ): Promise<Result>;
  /**
   * What a failed migration throws: the package's own error passes through, an unreachable
   * database becomes `STORE_UNAVAILABLE`, anything else `CONFIGURATION_INVALID`, naming the
   * migration that failed (from Kysely's results) in the message and `details.migrationName`.
   *
   * @example
   * ```ts
   * if (resultSet.error !== undefined) throw migrationFailure(resultSet.error, resultSet.results);
   * ```
   */
  migrationFailure(error: unknown, results: readonly { readonly migrationName: string; readonly status: string }[] | undefined): CodedError;
}

/**
 * Binds the driver-error classification above to one package's coded errors and wording, so
 * every Kysely store translates failures the same way while throwing its own class.
 *
 * @example
 * ```ts
 * export const { translateDatabaseError, runStoreOperation, migrationFailure } = createDatabaseErrorTranslator({
 *   errors: codedErrorFactory(TenantContextError),
 *   subject: 'tenant-context',
 *   migrateFunction: 'migrateTenantContextSchema',
 * });
 * ```
 */
export function createDatabaseErrorTranslator<CodedError extends Error>(
  options: DatabaseErrorTranslatorOptions<CodedError>,
): DatabaseErrorTranslator<CodedError> {
  const { errors, subject, migrateFunction } = options;
  const capitalizedSubject = subject.charAt(0).toUpperCase() + subject.slice(1);

  function translateDatabaseError(error: unknown, operation: string): Error {
    if (errors.isOwn(error)) return error;
    if (isDatabaseUnavailable(error)) {
      return errors.create('STORE_UNAVAILABLE', `The ${subject} database cannot be reached`, { cause: error, details: { operation } });
    }
    if (isMissingSchema(error)) {
      return errors.create(
        'CONFIGURATION_INVALID',
        `The ${subject} tables are missing or outdated; run ${migrateFunction}() with the same tablePrefix`,
        { cause: error, details: { operation } },
      );
    }
    if (isTransactionConflict(error)) {
      return errors.create('STORE_CONFLICT', 'The database aborted the write because of a concurrent one; retry', {
        cause: error,
        details: { operation },
      });
    }
    if (error instanceof Error) return error;
    return errors.create('STORE_UNAVAILABLE', `The ${subject} database failed with a non-Error value`, {
      cause: error,
      details: { operation },
    });
  }

  async function runStoreOperation<Result>(
    operation: string,
    body: () => Promise<Result>,
    onUniqueViolation?: (error: unknown) => CodedError,
    conflictRetries = 0,
  ): Promise<Result> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await body();
      } catch (error) {
        if (onUniqueViolation !== undefined && !errors.isOwn(error) && isUniqueViolation(error)) {
          throw onUniqueViolation(error);
        }
        if (attempt < conflictRetries && isTransactionConflict(error)) continue;
        throw translateDatabaseError(error, operation);
      }
    }
  }

  function migrationFailure(
    error: unknown,
    results: readonly { readonly migrationName: string; readonly status: string }[] | undefined,
  ): CodedError {
    if (errors.isOwn(error)) return error;
    const migrationName = results?.find((result) => result.status === 'Error')?.migrationName ?? null;
    if (isDatabaseUnavailable(error)) {
      return errors.create('STORE_UNAVAILABLE', `The ${subject} database cannot be reached to migrate it`, {
        cause: error,
        details: { migrationName },
      });
    }
    return errors.create(
      'CONFIGURATION_INVALID',
      migrationName === null ? `Migrating the ${subject} schema failed` : `${capitalizedSubject} migration ${migrationName} failed`,
      { cause: error, details: { migrationName } },
    );
  }

  return Object.freeze({ translateDatabaseError, runStoreOperation, migrationFailure });
}

/**
 * How often a single-row insert of a store may be run again after a deadlock (see
 * `runStoreOperation` of {@link DatabaseErrorTranslator}): twice on its own connection, never
 * inside a caller's transaction.
 *
 * @example
 * ```ts
 * await runStoreOperation('insertTenant', insert, tenantTaken(tenant), insertConflictRetries(db));
 * ```
 */
export function insertConflictRetries(db: { readonly isTransaction: boolean }): number {
  return db.isTransaction ? 0 : 2;
}
