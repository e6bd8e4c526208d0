import { sql, type DialectAdapter, type Kysely, type MigrationLockOptions, type RawBuilder } from 'kysely';

/*
 * Advisory-lock keys of the schema-per-tenant helper. Keys are 64-bit hashes of a namespaced
 * text, so they cannot meet the keys an application computes from its own numbers by chance
 * more often than any two hashes do; two names that hash alike only wait for each other.
 *
 * - `schema:<name>`: held while a tenant schema is migrated (session lock, by the Migrator)
 *   and while it is dropped (transaction lock), so a drop waits for a running migration and
 *   two processes never migrate the same schema at once.
 * - `tenant:<id>`: held by provision and drop of one tenant (transaction lock), so they
 *   serialize without deadlocking on the ownership row.
 * - `control:<schema>`: held while the control table is created.
 */

function lockKey(kind: 'schema' | 'tenant' | 'control', name: string): RawBuilder<unknown> {
  return sql`hashtextextended(${`tenantkit.schema-per-tenant.${kind}:${name}`}, 0)`;
}

const MIGRATION_LOCK_TIMEOUT_MS = 60 * 60 * 1000;

/** Takes a transaction-scoped advisory lock, released by the transaction's end. */
export async function lockForTransaction(trx: Kysely<any>, kind: 'schema' | 'tenant' | 'control', name: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(${lockKey(kind, name)})`.execute(trx);
}

/**
 * A dialect adapter that locks one schema's migrations instead of the whole database.
 *
 * Kysely's `PostgresAdapter` takes one fixed advisory lock for every `Migrator`, whatever its
 * `migrationTableSchema`: with it, migrations of different tenants would queue behind each
 * other (concurrency would be an illusion) and hold idle pooled connections while waiting.
 * This adapter keeps every capability of the real one and only swaps the lock for a session
 * lock on the schema's own key, taken on the connection the `Migrator` runs on; a crashed
 * process's session ends and frees it.
 */
export function schemaMigrationLockAdapter(base: DialectAdapter, schema: string): DialectAdapter {
  return {
    get supportsCreateIfNotExists() {
      return base.supportsCreateIfNotExists;
    },
    get supportsTransactionalDdl() {
      return base.supportsTransactionalDdl;
    },
    get supportsReturning() {
      return base.supportsReturning;
    },
    get supportsOutput() {
      return base.supportsOutput;
    },
    async acquireMigrationLock(db: Kysely<any>, _options: MigrationLockOptions): Promise<void> {
      // As Kysely's own adapter does: wait up to an hour for another process's migration of
      // this schema, whatever lock_timeout the role has (statement-local, so nothing lingers).
      await sql`
        with lock_wait as (select set_config('lock_timeout', ${String(MIGRATION_LOCK_TIMEOUT_MS)}, true) as setting)
        select pg_advisory_lock(${lockKey('schema', schema)}) from lock_wait`.execute(db);
    },
    async releaseMigrationLock(db: Kysely<any>, _options: MigrationLockOptions): Promise<void> {
      await sql`select pg_advisory_unlock(${lockKey('schema', schema)})`.execute(db);
    },
  };
}
