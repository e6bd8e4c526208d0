import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { KyselyAuthContext } from './kysely-auth-store-context.js';

/*
 * A lock on a name rather than a row, for a step whose rows may not exist yet: two reissues of
 * a subject's first one-time token find nothing to lock, so each would delete nothing, and the
 * unique key would turn the second insert into a retry, one winner per round. Taking the
 * subject's lock first makes such steps queue instead:
 * - Postgres: a transaction-level advisory lock in a key space of its own (the two-int form,
 *   under a fixed class id), released by the transaction's end.
 * - MySQL/MariaDB: a named lock of the session (`GET_LOCK`), released when the step is done.
 *   Releasing it before the commit is safe: the next holder's locking delete then meets the
 *   uncommitted row and waits for the commit.
 * - SQLite: the step already holds the database's write lock.
 * A lock that cannot be had in time is not an error: the unique key still keeps the data
 * right, and the step retries on a lost race.
 */

/** 'tkot' as a 32-bit integer: the advisory-lock class id of tenantkit's one-time tokens. */
const POSTGRES_LOCK_CLASS = 0x746b6f74;
const MYSQL_LOCK_TIMEOUT_SECONDS = 10;

/**
 * Takes the named lock of `subject` for the rest of the step (see above).
 *
 * @returns what releases it (a no-op where the transaction's end does).
 *
 * @example
 * ```ts
 * const release = await lockSubject(context, trx, JSON.stringify([purpose, subject, tenantId]));
 * try { ... } finally { await release(); }
 * ```
 */
export async function lockSubject(context: KyselyAuthContext, trx: Kysely<any>, subject: string): Promise<() => Promise<void>> {
  if (context.dialect === 'postgres') {
    await sql`select pg_advisory_xact_lock(${sql.lit(POSTGRES_LOCK_CLASS)}, hashtext(${subject}))`.execute(trx);
    return async () => undefined;
  }
  if (context.dialect === 'mysql') {
    // Lock names are at most 64 characters; the prefix keeps them apart from the application's.
    const name = `${context.tablePrefix}auth_${createHash('sha256').update(subject).digest('hex').slice(0, 32)}`;
    const { rows } = await sql<{ acquired: unknown }>`select get_lock(${name}, ${MYSQL_LOCK_TIMEOUT_SECONDS}) as acquired`.execute(trx);
    if (Number(rows[0]?.acquired) !== 1) return async () => undefined;
    return async () => {
      try {
        await sql`select release_lock(${name})`.execute(trx);
      } catch {
        // The session is gone, and its named locks with it; the error that ended it is reported.
      }
    };
  }
  return async () => undefined;
}
