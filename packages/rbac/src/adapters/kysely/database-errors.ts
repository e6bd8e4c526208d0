import { RbacError } from '../../errors.js';

/*
 * Driver errors are recognized by their documented codes, never by instanceof, so any driver
 * (pg, PGlite, mysql2, better-sqlite3) and any copy of it works:
 * - pg and PGlite: `code` is the SQLSTATE ('23505');
 * - mysql2: `code` is the symbolic name ('ER_DUP_ENTRY'), `errno` the number (1062), and
 *   `fatal` is true when the connection itself failed;
 * - SQLite drivers: `code` 'SQLITE_CONSTRAINT_UNIQUE' (better-sqlite3) or `errcode` 2067.
 * The same classification as tenant-context's Kysely adapters (which keep theirs internal),
 * raising RbacError instead.
 */

interface DriverErrorShape {
  code?: unknown;
  errno?: unknown;
  errcode?: unknown;
  fatal?: unknown;
  message?: unknown;
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

/** SQLSTATEs beyond classes 08 and 53 (matched by prefix) that mean "not now". */
const postgresUnavailableStates: ReadonlySet<string> = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '57014', // query_canceled (statement_timeout)
  '55P03', // lock_not_available (lock_timeout)
]);

/** Client-side failures that carry no code (pg-pool, Kysely, PGlite, better-sqlite3). */
const unavailableMessages: readonly RegExp[] = [
  /^Connection terminated/,
  /timeout exceeded when trying to connect/,
  /Client has encountered a connection error and is not queryable/,
  /Cannot use a pool after calling end on the pool/,
  /^driver has already been destroyed$/,
  /^PGlite is closed$/,
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
 * if (isUniqueViolation(error)) return false;
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
 * Whether a driver error means the database cannot be reached or cannot serve the request now
 * (refused or lost connection, shutdown, too many connections, time-outs, SQLite's write lock
 * held past the busy timeout).
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
    // SQLITE_BUSY_SNAPSHOT is a conflict (see isTransactionConflict), every other BUSY a lock wait that ran out.
    if (code.startsWith('SQLITE_BUSY') && code !== 'SQLITE_BUSY_SNAPSHOT') return true;
    if (code === 'SQLITE_CANTOPEN') return true;
  }
  if (fatal === true) return true;
  if (typeof message === 'string' && unavailableMessages.some((pattern) => pattern.test(message))) return true;
  // Node reports a failed connect to every address of a host as an AggregateError.
  if (Array.isArray(errors)) return errors.some((inner) => isDatabaseUnavailable(inner, depth + 1));
  return false;
}

function isMissingSchema(error: unknown): boolean {
  const { code, message } = shapeOf(error);
  if (code === '42P01' || code === '42703' || code === 'ER_NO_SUCH_TABLE' || code === 'ER_BAD_FIELD_ERROR') return true;
  return typeof message === 'string' && (/^no such (table|column): /.test(message) || /^table \S+ has no column named /.test(message));
}

/**
 * Whether a driver error is a deadlock or serialization failure: the transaction was rolled
 * back and may be run again as a whole.
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
 * Turns a failure of a store query into what the store throws:
 * - an `RbacError` (the store's own validation) passes through;
 * - an unreachable or overloaded database becomes `STORE_UNAVAILABLE`;
 * - missing tables or columns become `CONFIGURATION_INVALID` (the schema is not migrated);
 * - a deadlock or serialization failure that retries did not resolve becomes `STORE_CONFLICT`;
 * - any other `Error` passes through unchanged (a bug), and a non-`Error` becomes
 *   `STORE_UNAVAILABLE`, so callers always get an Error.
 *
 * The driver error is kept as `cause`.
 *
 * @example
 * ```ts
 * try { await query.execute(); } catch (error) { throw translateDatabaseError(error, 'getRole'); }
 * ```
 */
export function translateDatabaseError(error: unknown, operation: string): Error {
  if (error instanceof RbacError) return error;
  if (isDatabaseUnavailable(error)) {
    return new RbacError('STORE_UNAVAILABLE', 'The RBAC database cannot be reached', { cause: error, details: { operation } });
  }
  if (isMissingSchema(error)) {
    return new RbacError(
      'CONFIGURATION_INVALID',
      'The RBAC tables are missing or outdated; run migrateRbacSchema() with the same tablePrefix',
      { cause: error, details: { operation } },
    );
  }
  if (isTransactionConflict(error)) {
    return new RbacError('STORE_CONFLICT', 'The database aborted the write because of a concurrent one; retry', {
      cause: error,
      details: { operation },
    });
  }
  if (error instanceof Error) return error;
  return new RbacError('STORE_UNAVAILABLE', 'The RBAC database failed with a non-Error value', { cause: error, details: { operation } });
}

/**
 * Runs one store operation and translates what it throws (see {@link translateDatabaseError}).
 *
 * @example
 * ```ts
 * const row = await runStoreOperation('getRole', () => query.executeTakeFirst());
 * ```
 */
export async function runStoreOperation<Result>(operation: string, body: () => Promise<Result>): Promise<Result> {
  try {
    return await body();
  } catch (error) {
    throw translateDatabaseError(error, operation);
  }
}
