import { withSqliteWriteLock } from '@tenantkit/core/kysely';
import { sql, type Kysely } from 'kysely';
import { AuthError } from '../../errors.js';
import { insertConflictRetries, isTransactionConflict, isUniqueViolation, runStoreOperation, uniqueViolationTarget } from './database-errors.js';
import type { KyselyAuthContext } from './kysely-auth-store-context.js';
import type { AuthDatabase } from './schema.js';
import { authSqliteWriteLock } from './sqlite-write-lock.js';

/*
 * How the stores make a read-check-write one step across processes:
 * - Postgres and MySQL/MariaDB: a transaction of the store's own whose reads lock the rows they
 *   decide on (`SELECT ... FOR UPDATE`, see `lockedRead`). Under READ COMMITTED (the Postgres
 *   default) a statement after the lock sees what the previous holder committed; InnoDB's
 *   locking reads are current reads under any isolation level, and the decisions only use them.
 * - SQLite: `BEGIN IMMEDIATE`, the database's write lock, taken before the first read (SQLite
 *   has one writer and no row locks). PGlite is one connection and speaks Postgres.
 * - A caller's transaction (`db` is a Kysely transaction): the step runs inside it and the
 *   caller's commit makes it durable. Conflicts are then not retried, because the database
 *   aborted the caller's whole transaction.
 * Inserts that may hit a unique key run under a savepoint inside a transaction, so a taken key
 * undoes only the insert (Postgres would otherwise abort the whole transaction).
 */

// A deadlock, serialization failure or lost insert race reruns the transaction this many times.
const RETRIES_ON_CONFLICT = 4;

type AuthKysely = Kysely<AuthDatabase>;

/** Runs `body` on one connection holding SQLite's write lock (`BEGIN IMMEDIATE`). */
function underSqliteWriteLock<Result>(db: AuthKysely, body: (connection: AuthKysely) => Promise<Result>): Promise<Result> {
  return withSqliteWriteLock(db, (connection) => body(connection as AuthKysely), undefined, authSqliteWriteLock);
}

/**
 * Thrown by a step that found its check overtaken by a concurrent insert (two reissues of one
 * one-time token, say): its own transaction runs again. It escapes as `STORE_CONFLICT` when the
 * step runs in a caller's transaction or the retries ran out.
 *
 * @example
 * ```ts
 * if (taken !== null) throw new ConcurrentWriteDetected('issueOneTimeToken');
 * ```
 */
export class ConcurrentWriteDetected extends AuthError {
  constructor(operation: string) {
    super('STORE_CONFLICT', 'A concurrent write changed the data this write depends on; retry', { details: { operation } });
  }
}

async function inAtomicStep<Result>(context: KyselyAuthContext, body: (trx: AuthKysely) => Promise<Result>): Promise<Result> {
  const { db, dialect } = context;
  if (db.isTransaction) return body(db);
  if (dialect === 'sqlite') return underSqliteWriteLock(db, body);
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await db.transaction().execute(body);
    } catch (error) {
      const retriable = error instanceof ConcurrentWriteDetected || isTransactionConflict(error);
      if (attempt >= RETRIES_ON_CONFLICT || !retriable) throw error;
    }
  }
}

/**
 * Runs `body` as one atomic step (see above) and translates driver failures into
 * {@link AuthError} (`STORE_UNAVAILABLE`, `STORE_CONFLICT`, `CONFIGURATION_INVALID`).
 *
 * @example
 * ```ts
 * const account = await runAtomicWrite(context, 'setPassword', async (trx) => {
 *   const row = await lockedRead(context, trx.selectFrom(tables.auth_accounts).selectAll().where('id', '=', id)).executeTakeFirst();
 *   // ...decide, then update
 * });
 * ```
 */
export function runAtomicWrite<Result>(
  context: KyselyAuthContext,
  operation: string,
  body: (trx: AuthKysely) => Promise<Result>,
): Promise<Result> {
  return runStoreOperation(operation, () => inAtomicStep(context, body));
}

/**
 * Runs one write statement. On SQLite (outside a caller's transaction) it waits for the write
 * lock asynchronously first, so that a busy database delays the write rather than failing it;
 * elsewhere a single statement is atomic on its own, and one rolled back by a deadlock (InnoDB
 * deadlocks concurrent inserts and upserts of one key) runs again.
 *
 * @example
 * ```ts
 * const removed = await runWriteStatement(context, 'deleteAccount', (executor) => executor.deleteFrom(accounts).where('id', '=', id).executeTakeFirst());
 * ```
 */
export function runWriteStatement<Result>(
  context: KyselyAuthContext,
  operation: string,
  body: (executor: AuthKysely) => Promise<Result>,
): Promise<Result> {
  const { db, dialect } = context;
  if (dialect === 'sqlite' && !db.isTransaction) {
    return runStoreOperation(operation, () => underSqliteWriteLock(db, body));
  }
  return runStoreOperation(operation, () => body(db), undefined, insertConflictRetries(db));
}

/**
 * Inside a transaction: runs `insert` under a savepoint and reports a unique-key violation
 * instead of throwing it, with the name of the violated key (see `uniqueViolationTarget` of
 * `@tenantkit/core/kysely`). Everything `insert` wrote is undone then; the transaction goes on.
 *
 * @returns `null` when inserted, otherwise what names the violated key (may be `''`).
 *
 * @example
 * ```ts
 * const taken = await insertUnlessDuplicate(trx, (executor) => executor.insertInto(tables.auth_sessions).values(row).execute());
 * if (taken !== null) return 'id-taken';
 * ```
 */
export async function insertUnlessDuplicate(trx: AuthKysely, insert: (executor: AuthKysely) => Promise<unknown>): Promise<string | null> {
  await sql`savepoint tenantkit_auth_insert`.execute(trx);
  try {
    await insert(trx);
  } catch (error) {
    // Anything else (a deadlock, a lost connection) ends the transaction, savepoint included
    // (InnoDB rolls a deadlocked transaction back whole): there is nothing to roll back to.
    if (!isUniqueViolation(error)) throw error;
    await sql`rollback to savepoint tenantkit_auth_insert`.execute(trx);
    await sql`release savepoint tenantkit_auth_insert`.execute(trx);
    return uniqueViolationTarget(error);
  }
  await sql`release savepoint tenantkit_auth_insert`.execute(trx);
  return null;
}

/**
 * Inserts one row, reporting a unique-key violation instead of throwing it: a plain insert in
 * autocommit mode (run again after a deadlock), under SQLite's write lock on SQLite, under a
 * savepoint inside a caller's transaction (which then goes on).
 *
 * @returns `null` when inserted, otherwise what names the violated key (may be `''`).
 *
 * @example
 * ```ts
 * const taken = await insertRowUnlessDuplicate(context, 'createApiKey', (executor) => executor.insertInto(tables.auth_api_keys).values(row).execute());
 * ```
 */
export function insertRowUnlessDuplicate(
  context: KyselyAuthContext,
  operation: string,
  insert: (executor: AuthKysely) => Promise<unknown>,
): Promise<string | null> {
  const { db, dialect } = context;
  if (db.isTransaction) return runStoreOperation(operation, () => insertUnlessDuplicate(db, insert));
  const attempt = async (executor: AuthKysely): Promise<string | null> => {
    try {
      await insert(executor);
      return null;
    } catch (error) {
      // SQLite rolls back only the failed statement; the write lock's transaction goes on.
      if (isUniqueViolation(error)) return uniqueViolationTarget(error);
      throw error;
    }
  };
  if (dialect === 'sqlite') {
    return runStoreOperation(operation, () => underSqliteWriteLock(db, attempt));
  }
  return runStoreOperation(operation, () => attempt(db), undefined, insertConflictRetries(db));
}

/**
 * A select that locks the rows it reads until the step's transaction ends (`FOR UPDATE`), on
 * the dialects that have row locks; on SQLite the step already holds the database's write lock.
 *
 * @example
 * ```ts
 * const row = await lockedRead(context, trx.selectFrom(tables.auth_refresh_tokens).selectAll().where('token_hash', '=', hash)).executeTakeFirst();
 * ```
 */
export function lockedRead<Query extends { forUpdate(): Query }>(context: KyselyAuthContext, query: Query): Query {
  return context.dialect === 'sqlite' ? query : query.forUpdate();
}
