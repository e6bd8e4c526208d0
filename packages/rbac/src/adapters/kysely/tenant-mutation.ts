import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { isTransactionConflict, runStoreOperation } from './database-errors.js';
import type { KyselyRbacContext } from './kysely-rbac-store-context.js';
import type { RbacDatabase } from './schema.js';
import { withSqliteWriteLock } from './sqlite-write-lock.js';

/*
 * Every mutation of the store runs as one transaction that first locks its tenant's row in
 * the policy versions table, then checks and writes, then bumps the version if it changed
 * something:
 * - The lock serializes a tenant's RBAC writes across all processes (Postgres and MySQL:
 *   `SELECT ... FOR UPDATE` on the row, created first if missing; SQLite: `BEGIN IMMEDIATE`),
 *   so every check-then-write — duplicate and limit checks of an assignment, the cycle check
 *   of a move, sibling names, compare-and-set — holds when the write happens. RBAC writes are
 *   rare admin actions, so one lock per tenant costs nothing that matters; other tenants'
 *   writes do not wait for it (on Postgres and MySQL; SQLite has one writer per database).
 * - Every mutation takes the version row first, so two mutations never hold each other's locks
 *   (no lock-order deadlocks between them); how a missing row is created is below.
 * - Under READ COMMITTED (the Postgres default) each statement after the lock sees what the
 *   previous lock holder committed; InnoDB's REPEATABLE READ takes its snapshot at the first
 *   plain read, which comes after the locking statements.
 * - A mutation that changes nothing leaves the version alone (its row may have been created
 *   with version 0, which reads the same as no row).
 * When `db` is a caller's transaction, the mutation runs inside it and the caller's commit makes
 * it durable; conflicts are then not retried, because the database aborted the caller's whole
 * transaction.
 */

// A deadlock or serialization failure is retried as a whole this many times.
const RETRIES_ON_CONFLICT = 3;

/**
 * What a mutation body returns: its result, and whether it changed anything (so the tenant's
 * policy version moves).
 *
 * @example
 * ```ts
 * const outcome: MutationOutcome<boolean> = { changed: true, result: true };
 * ```
 */
export interface MutationOutcome<Result> {
  readonly changed: boolean;
  readonly result: Result;
}

type RbacKysely = Kysely<RbacDatabase>;

/** Thrown inside a MySQL transaction that found no version row to lock; never escapes. */
class VersionRowMissing extends Error {}

function insertVersionRow(context: KyselyRbacContext, executor: RbacKysely, tenantKey: string): Promise<unknown> {
  const insert = executor.insertInto(context.tables.rbac_policy_versions).values({ tenant_id: tenantKey, version: 0 });
  return context.dialect === 'mysql'
    ? insert.onDuplicateKeyUpdate({ tenant_id: tenantKey }).execute()
    : insert.onConflict((conflict) => conflict.column('tenant_id').doNothing()).execute();
}

function selectVersionRowForUpdate(context: KyselyRbacContext, trx: RbacKysely, tenantKey: string): Promise<unknown> {
  return trx
    .selectFrom(context.tables.rbac_policy_versions)
    .select('version')
    .where('tenant_id', '=', tenantKey)
    .forUpdate()
    .executeTakeFirst();
}

/*
 * Taking the lock, per dialect:
 * - SQLite: BEGIN IMMEDIATE already holds the database's write lock (and SQLite has no FOR
 *   UPDATE); the row only has to exist for the bump.
 * - Postgres: lock the row; a new tenant's first mutation inserts it (ON CONFLICT DO NOTHING
 *   makes concurrent creators wait for each other, no deadlock) and locks it then.
 * - MySQL in a transaction of the store's own: lock the row; when it is missing, give up the
 *   transaction at once and create the row in autocommit before running it again. Inserting it
 *   inside the transaction would follow an empty FOR UPDATE read, whose gap lock InnoDB grants
 *   to every concurrent creator, which then deadlock on their inserts (seen with 30 concurrent
 *   first mutations of a tenant).
 * - MySQL in a caller's transaction: lock, and create the row inside it if missing (a deadlock
 *   then aborts the caller's transaction with STORE_CONFLICT).
 */
async function lockPolicyVersion(context: KyselyRbacContext, trx: RbacKysely, tenantKey: string, ownTransaction: boolean): Promise<void> {
  if (context.dialect === 'sqlite') {
    await insertVersionRow(context, trx, tenantKey);
    return;
  }
  if ((await selectVersionRowForUpdate(context, trx, tenantKey)) !== undefined) return;
  if (context.dialect === 'mysql' && ownTransaction) throw new VersionRowMissing();
  await insertVersionRow(context, trx, tenantKey);
  await selectVersionRowForUpdate(context, trx, tenantKey);
}

async function inLockedTransaction<Result>(
  context: KyselyRbacContext,
  tenantKey: string,
  body: (trx: RbacKysely) => Promise<Result>,
): Promise<Result> {
  const { db, dialect } = context;
  if (db.isTransaction) {
    await lockPolicyVersion(context, db, tenantKey, false);
    return body(db);
  }
  if (dialect === 'sqlite') {
    return withSqliteWriteLock(db, async (connection) => {
      await lockPolicyVersion(context, connection as RbacKysely, tenantKey, true);
      return body(connection as RbacKysely);
    });
  }
  // Conflicts and a missing version row each run the transaction again, a bounded number of
  // times (a row deleted again and again by deleteTenantData is then created in the transaction).
  for (let conflicts = 0, missing = 0; ; ) {
    try {
      return await db.transaction().execute(async (trx) => {
        await lockPolicyVersion(context, trx, tenantKey, missing < RETRIES_ON_CONFLICT);
        return body(trx);
      });
    } catch (error) {
      if (error instanceof VersionRowMissing) {
        missing += 1;
        await insertVersionRowInAutocommit(context, tenantKey);
        continue;
      }
      if (conflicts >= RETRIES_ON_CONFLICT || !isTransactionConflict(error)) throw error;
      conflicts += 1;
    }
  }
}

async function insertVersionRowInAutocommit(context: KyselyRbacContext, tenantKey: string): Promise<void> {
  // A single-statement insert of one key can still deadlock with concurrent ones on InnoDB; the
  // database rolled only this statement back, so it is simply run again.
  for (let attempt = 0; ; attempt += 1) {
    try {
      await insertVersionRow(context, context.db, tenantKey);
      return;
    } catch (error) {
      if (attempt >= RETRIES_ON_CONFLICT || !isTransactionConflict(error)) throw error;
    }
  }
}

/**
 * Runs one mutation of a tenant's (or, under `''`, the global roles') RBAC data atomically,
 * bumping the tenant's policy version in the same transaction when the body reports a change.
 *
 * @example
 * ```ts
 * const removed = await runTenantMutation(context, 'tnt_1', 'removeGroupMember', async (trx) => {
 *   const result = await trx.deleteFrom(members).where(...).executeTakeFirst();
 *   return { changed: result.numDeletedRows > 0n, result: result.numDeletedRows > 0n };
 * });
 * ```
 */
export function runTenantMutation<Result>(
  context: KyselyRbacContext,
  tenantKey: string,
  operation: string,
  body: (trx: RbacKysely) => Promise<MutationOutcome<Result>>,
): Promise<Result> {
  const versions = context.tables.rbac_policy_versions;
  return runStoreOperation(operation, () =>
    inLockedTransaction(context, tenantKey, async (trx) => {
      const outcome = await body(trx);
      if (outcome.changed) {
        await trx
          .updateTable(versions)
          .set({ version: sql<number>`${sql.ref('version')} + 1` })
          .where('tenant_id', '=', tenantKey)
          .execute();
      }
      return outcome.result;
    }),
  );
}

/**
 * Runs a body atomically after taking the tenant's lock, without touching its version (for
 * `deleteTenantData`, which removes the version row itself).
 *
 * @example
 * ```ts
 * await runLockedTenantOperation(context, 'tnt_1', 'deleteTenantData', async (trx) => { ... });
 * ```
 */
export function runLockedTenantOperation<Result>(
  context: KyselyRbacContext,
  tenantKey: string,
  operation: string,
  body: (trx: RbacKysely) => Promise<Result>,
): Promise<Result> {
  return runStoreOperation(operation, () =>
    inLockedTransaction(context, tenantKey, body),
  );
}
