import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/*
 * Kysely's SQLite transactions start with a deferred BEGIN, which takes the write lock only at
 * the first write, and its SQLite adapter takes no migration lock (it assumes one connection
 * per database). Several processes (or worker threads) that open the same database file each
 * have their own connection, so two of them could both find a migration pending and run it, or
 * interleave a check and the write that depends on it. `BEGIN IMMEDIATE` takes SQLite's
 * database-wide write lock up front, which makes the whole body, a migration with its
 * bookkeeping or a read-check-write, one atomic step that other connections wait for.
 *
 * The driver's busy timeout (better-sqlite3: 5 s by default) already waits for the lock, but
 * synchronously and only as long as it is configured to; the async retries below add a bounded
 * wait that lets the event loop run, so connections with a short or zero timeout, and the lock
 * holder on the same thread, still get their turn.
 */

// About ten seconds in all (plus the driver's own busy timeout on each attempt).
const LOCK_ATTEMPTS = 55;
const DEFAULT_FIRST_RETRY_DELAY_MS = 10;
const LONGEST_RETRY_DELAY_MS = 200;

/**
 * Tuning of {@link withSqliteWriteLock}.
 *
 * @example
 * ```ts
 * const options: SqliteWriteLockOptions = { firstRetryDelayMs: 5 };
 * ```
 */
export interface SqliteWriteLockOptions {
  /**
   * The wait before the second attempt to take the lock, doubled on each further attempt up to
   * 200 ms. Default 10.
   */
  firstRetryDelayMs?: number;
}

function isSqliteBusy(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

async function beginImmediate(connection: Kysely<any>, firstRetryDelayMs: number): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await sql`begin immediate`.execute(connection);
      return;
    } catch (error) {
      if (attempt >= LOCK_ATTEMPTS || !isSqliteBusy(error)) throw error;
      await delay(Math.min(firstRetryDelayMs * 2 ** (attempt - 1), LONGEST_RETRY_DELAY_MS));
    }
  }
}

async function rollbackQuietly(connection: Kysely<any>): Promise<void> {
  try {
    await sql`rollback`.execute(connection);
  } catch {
    // The error that led here is the one worth reporting; SQLite may already have rolled back.
  }
}

/**
 * Runs `body` on one connection of a SQLite-backed Kysely instance, inside a transaction that
 * holds SQLite's write lock from its first statement. The transaction commits when `body`
 * resolves and `shouldCommit` agrees, and rolls back otherwise. Other queries on the same
 * Kysely instance wait until it ends.
 *
 * @throws The driver error when the lock stays taken by another connection for about ten
 *   seconds (`SQLITE_BUSY`), or when `body` or the commit fails.
 *
 * @example
 * ```ts
 * const result = await withSqliteWriteLock(db, (connection) => migrator(connection).migrateToLatest(), (r) => r.error === undefined);
 * ```
 */
export async function withSqliteWriteLock<Result>(
  db: Kysely<any>,
  body: (connection: Kysely<any>) => Promise<Result>,
  shouldCommit: (result: Result) => boolean = () => true,
  options: SqliteWriteLockOptions = {},
): Promise<Result> {
  const firstRetryDelayMs = options.firstRetryDelayMs ?? DEFAULT_FIRST_RETRY_DELAY_MS;
  return db.connection().execute(async (connection) => {
    await beginImmediate(connection, firstRetryDelayMs);
    let result: Result;
    try {
      result = await body(connection);
    } catch (error) {
      await rollbackQuietly(connection);
      throw error;
    }
    if (!shouldCommit(result)) {
      await rollbackQuietly(connection);
      return result;
    }
    try {
      await sql`commit`.execute(connection);
    } catch (error) {
      // A failed COMMIT (SQLITE_BUSY while readers finish) leaves the transaction open.
      await rollbackQuietly(connection);
      throw error;
    }
    return result;
  });
}
