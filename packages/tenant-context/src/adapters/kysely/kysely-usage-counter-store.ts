import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { UsageCounterStore, UsageIncrementResult } from '../../store.js';
import { assertCounterLimit, assertCounterValue, assertPositiveAmount, counterOverflowError } from '../store-argument-guards.js';
import { readSafeInteger, readText } from './column-values.js';
import { runStoreOperation } from './database-errors.js';
import { resolveKyselyStoreContext, type KyselyStoreContext, type KyselyTenantContextOptions } from './kysely-store-context.js';
import { assertStorableCounterKey } from './record-schemas.js';
import { runAtomically } from './run-atomically.js';
import type { TenantContextDatabase } from './schema.js';

/*
 * Admission is one atomic step on every dialect, so concurrent increments from any number of
 * processes never push a counter past its limit and each admitted call learns the exact value
 * it produced:
 * - Postgres and SQLite: a single upsert whose insert and update branches both carry the limit
 *   check, with RETURNING. The row lock taken by ON CONFLICT DO UPDATE makes concurrent calls
 *   re-check against the latest value.
 * - MySQL has no RETURNING on UPDATE: a transaction makes sure the row exists (which also
 *   locks it), applies the conditional UPDATE and reads the value back under that lock.
 * A limit of -1 (unlimited) becomes a ceiling of 2^53 - 1, so no counter ever leaves the
 * range a JavaScript number holds exactly.
 */

// A deadlock between the ensure-row insert and the update is retried as a whole.
const MYSQL_RETRIES_ON_CONFLICT = 3;

type CounterDatabase = Kysely<TenantContextDatabase>;

/**
 * The {@link UsageCounterStore} over an already resolved context.
 *
 * @example
 * ```ts
 * const counters = createKyselyUsageCounterStore(resolveKyselyStoreContext(db, undefined, 'kyselyUsageCounterStore'));
 * ```
 */
export function createKyselyUsageCounterStore(context: KyselyStoreContext): UsageCounterStore {
  const { db, dialect, tables } = context;
  const counters = tables.usage_counters;

  async function readValue(executor: CounterDatabase, tenantId: string, resource: string, lockRow: boolean): Promise<number> {
    let select = executor.selectFrom(counters).select('value').where('tenant_id', '=', tenantId).where('resource', '=', resource);
    // A locking read sees the latest committed value even inside an older snapshot.
    if (lockRow) select = select.forUpdate();
    const row = await select.executeTakeFirst();
    return row === undefined ? 0 : readSafeInteger(row.value, 'value');
  }

  async function incrementWithUpsert(tenantId: string, resource: string, amount: number, ceiling: number): Promise<number | null> {
    const value = sql.ref('value');
    const currentValue = sql.ref(`${counters}.value`);
    const { rows } = await sql<{ value: unknown }>`
      insert into ${sql.table(counters)} (${sql.ref('tenant_id')}, ${sql.ref('resource')}, ${value})
      select ${tenantId}, ${resource}, cast(${amount} as bigint)
      where cast(${amount} as bigint) <= cast(${ceiling} as bigint)
      on conflict (${sql.ref('tenant_id')}, ${sql.ref('resource')})
      do update set ${value} = ${currentValue} + excluded.${value}
      where ${currentValue} + excluded.${value} <= cast(${ceiling} as bigint)
      returning ${value}
    `.execute(db);
    const row = rows[0];
    return row === undefined ? null : readSafeInteger(row.value, 'value');
  }

  async function incrementInTransaction(tenantId: string, resource: string, amount: number, ceiling: number): Promise<UsageIncrementResult> {
    return runAtomically(
      db,
      async (trx) => {
        await trx
          .insertInto(counters)
          .values({ tenant_id: tenantId, resource, value: 0 })
          .onDuplicateKeyUpdate({ tenant_id: tenantId })
          .execute();
        const updated = await trx
          .updateTable(counters)
          .set({ value: sql<number>`${sql.ref('value')} + ${amount}` })
          .where('tenant_id', '=', tenantId)
          .where('resource', '=', resource)
          .where((eb) => eb(eb('value', '+', amount), '<=', ceiling))
          .executeTakeFirst();
        // `amount` is at least 1, so a matched row is always a changed row and the
        // affected-row count is right whichever way the client counts.
        return { applied: updated.numUpdatedRows > 0n, value: await readValue(trx, tenantId, resource, true) };
      },
      { retriesOnConflict: MYSQL_RETRIES_ON_CONFLICT },
    );
  }

  return {
    async increment(tenantId, resource, amount, limit): Promise<UsageIncrementResult> {
      assertPositiveAmount(amount);
      assertCounterLimit(limit);
      assertStorableCounterKey(tenantId, resource);
      const ceiling = limit === -1 ? Number.MAX_SAFE_INTEGER : limit;
      const result = await runStoreOperation('increment', async (): Promise<UsageIncrementResult> => {
        if (dialect === 'mysql') return incrementInTransaction(tenantId, resource, amount, ceiling);
        const value = await incrementWithUpsert(tenantId, resource, amount, ceiling);
        return value === null ? { applied: false, value: await readValue(db, tenantId, resource, false) } : { applied: true, value };
      });
      if (!result.applied && limit === -1) throw counterOverflowError(resource);
      return result;
    },

    async decrement(tenantId, resource, amount) {
      assertPositiveAmount(amount);
      return runStoreOperation('decrement', async () => {
        const decrementedValue = sql<number>`case when ${sql.ref('value')} > ${amount} then ${sql.ref('value')} - ${amount} else 0 end`;
        if (dialect === 'mysql') {
          return runAtomically(
            db,
            async (trx) => {
              await trx
                .updateTable(counters)
                .set({ value: decrementedValue })
                .where('tenant_id', '=', tenantId)
                .where('resource', '=', resource)
                .execute();
              // The update locked the row (if there is one) until commit, so this reads the
              // value it produced; a counter that was never set reads as 0.
              return readValue(trx, tenantId, resource, true);
            },
            { retriesOnConflict: MYSQL_RETRIES_ON_CONFLICT },
          );
        }
        const row = await db
          .updateTable(counters)
          .set({ value: decrementedValue })
          .where('tenant_id', '=', tenantId)
          .where('resource', '=', resource)
          .returning('value')
          .executeTakeFirst();
        return row === undefined ? 0 : readSafeInteger(row.value, 'value');
      });
    },

    async get(tenantId, resource) {
      return runStoreOperation('get', () => readValue(db, tenantId, resource, false));
    },

    async getAll(tenantId) {
      const rows = await runStoreOperation('getAll', () =>
        db.selectFrom(counters).select(['resource', 'value']).where('tenant_id', '=', tenantId).execute(),
      );
      // fromEntries defines own properties, so a resource named `__proto__` stays a plain key.
      return Object.fromEntries(rows.map((row) => [readText(row.resource, 'resource'), readSafeInteger(row.value, 'value')]));
    },

    async set(tenantId, resource, value) {
      assertCounterValue(value);
      assertStorableCounterKey(tenantId, resource);
      await runStoreOperation('set', () => {
        const insert = db.insertInto(counters).values({ tenant_id: tenantId, resource, value });
        return dialect === 'mysql'
          ? insert.onDuplicateKeyUpdate({ value }).execute()
          : insert.onConflict((conflict) => conflict.columns(['tenant_id', 'resource']).doUpdateSet({ value })).execute();
      });
    },

    async deleteAll(tenantId) {
      await runStoreOperation('deleteAll', () => db.deleteFrom(counters).where('tenant_id', '=', tenantId).execute());
    },
  };
}

/**
 * A {@link UsageCounterStore} on a Kysely instance: one row per (tenant, resource) with a
 * `bigint` value. `increment` is a single atomic admission check (see above), so the quota
 * holds across any number of application processes. Create the tables first with
 * `migrateTenantContextSchema(db)`; see `kyselyTenantStore` for how `db` is used.
 *
 * @throws TenantContextError `CONFIGURATION_INVALID` for invalid options or an unrecognized dialect.
 *
 * @example
 * ```ts
 * import { kyselyUsageCounterStore } from '@tenantkit/tenant-context/kysely';
 *
 * const counters = kyselyUsageCounterStore(db);
 * const { applied } = await counters.increment('tnt_1', 'projects', 1, 10);
 * ```
 */
export function kyselyUsageCounterStore(db: Kysely<any>, options?: KyselyTenantContextOptions): UsageCounterStore {
  return createKyselyUsageCounterStore(resolveKyselyStoreContext(db, options, 'kyselyUsageCounterStore'));
}
