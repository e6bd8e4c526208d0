import type { Kysely } from 'kysely';
import { isTransactionConflict } from './database-errors.js';

/**
 * Options of {@link runAtomically}.
 *
 * @example
 * ```ts
 * const options: RunAtomicallyOptions = { retriesOnConflict: 2 };
 * ```
 */
export interface RunAtomicallyOptions {
  /**
   * How often to run the whole transaction again after a deadlock or serialization failure,
   * which rolled everything back. Only for bodies that are safe to repeat.
   */
  retriesOnConflict?: number;
}

/**
 * Runs `body` in a transaction. When `db` already is a transaction (the caller passed one to
 * the store), `body` runs in it: Kysely cannot nest transactions, and the caller's one already
 * makes the body atomic. A conflict is then not retried, because the database aborted the
 * caller's whole transaction, not just this body.
 *
 * @example
 * ```ts
 * const removed = await runAtomically(db, async (trx) => { ... });
 * ```
 */
export async function runAtomically<Database, Result>(
  db: Kysely<Database>,
  body: (trx: Kysely<Database>) => Promise<Result>,
  options: RunAtomicallyOptions = {},
): Promise<Result> {
  if (db.isTransaction) return body(db);
  const retries = options.retriesOnConflict ?? 0;
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await db.transaction().execute(body);
    } catch (error) {
      if (attempt >= retries || !isTransactionConflict(error)) throw error;
    }
  }
}
