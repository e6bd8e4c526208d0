import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/*
 * Kysely's SQLite transactions start with a deferred BEGIN, which takes the write lock only at
 * the first write; a transaction that reads first then fails its write with
 * SQLITE_BUSY_SNAPSHOT when another connection (another process on the same file) wrote in
 * between. `BEGIN IMMEDIATE` takes SQLite's database-wide write lock up front, so a check and
 * the write that depends on it are one step no other connection can interleave (SQLite's
 * counterpart of the row lock the store takes on Postgres and MySQL).
 *
 * The driver's busy timeout (better-sqlite3: 5 s by default) waits for the lock synchronously,
 * and only as long as configured; the bounded asynchronous retries below let the event loop
 * run, so connections with a short or zero timeout, and a lock holder on the same thread, still
 * get their turn. The same approach as tenant-context's SQLite migrations.
 */

// About ten seconds in all (plus the driver's own busy timeout on each attempt).
const LOCK_ATTEMPTS = 55;
const FIRST_RETRY_DELAY_MS = 5;
const LONGEST_RETRY_DELAY_MS = 200;

function isSqliteBusy(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

function delay(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

async function beginImmediate(connection: Kysely<any>): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await sql`begin immediate`.execute(connection);
      return;
    } catch (error) {
      if (attempt >= LOCK_ATTEMPTS || !isSqliteBusy(error)) throw error;
      await delay(Math.min(FIRST_RETRY_DELAY_MS * 2 ** (attempt - 1), LONGEST_RETRY_DELAY_MS));
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
 * holds SQLite's write lock from its first statement. Commits when `body` resolves and
 * `shouldCommit` agrees, rolls back otherwise. Other queries on the same Kysely instance wait
 * until it ends.
 *
 * @throws The driver error when the lock stays taken by another connection for about ten
 *   seconds (`SQLITE_BUSY`), or when `body` or the commit fails.
 *
 * @example
 * ```ts
 * const moved = await withSqliteWriteLock(db, (connection) => moveSubtree(connection));
 * ```
 */
export async function withSqliteWriteLock<Result>(
  db: Kysely<any>,
  body: (connection: Kysely<any>) => Promise<Result>,
  shouldCommit: (result: Result) => boolean = () => true,
): Promise<Result> {
  return db.connection().execute(async (connection) => {
    await beginImmediate(connection);
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
