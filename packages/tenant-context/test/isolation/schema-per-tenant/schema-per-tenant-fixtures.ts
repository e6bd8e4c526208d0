import { runAsSystem } from '@tenantkit/tenant-context';
import type { SchemaPerTenant } from '@tenantkit/tenant-context/kysely';
import type { LeakKitRecord, LeakKitTarget } from '@tenantkit/test-utils';
import { sql, type Kysely, type Migration } from 'kysely';

/** The table the leak kit drives: no tenant column at all, the schema is what isolates. */
export const leakRecordsMigrations: Readonly<Record<string, Migration>> = Object.freeze({
  '001_leak_records': {
    up: async (db: Kysely<any>) => {
      await db.schema
        .createTable('leak_records')
        .addColumn('id', 'text', (column) => column.primaryKey())
        .addColumn('value', 'text', (column) => column.notNull())
        .execute();
    },
  },
});

/** Runs `fn` in the system scope, as operators and deploy jobs do. */
export function asSystem<Result>(fn: () => Result): Result {
  return runAsSystem({ reason: 'schema-per-tenant test', actor: 'vitest' }, fn);
}

/** Schemas whose name starts with `prefix`, sorted. */
export async function schemasStartingWith(db: Kysely<any>, prefix: string): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    select nspname as name from pg_catalog.pg_namespace where starts_with(nspname, ${prefix}) order by nspname`.execute(db);
  return rows.map((row) => row.name);
}

/** Tables of one schema, sorted. */
export async function tablesOf(db: Kysely<any>, schema: string): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`
    select tablename as name from pg_catalog.pg_tables where schemaname = ${schema} order by tablename`.execute(db);
  return rows.map((row) => row.name);
}

/** Waits until `condition` holds, polling; throws after `timeoutMs` (a failure, never a pass). */
export async function waitFor(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A promise with its resolver, to hold a migration at a known point. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/**
 * The leak kit's target over `leak_records` in each tenant's schema. Every scoped operation goes
 * through the scope-routed `schemas.db` and carries no tenant filter of its own.
 */
export function schemaPerTenantLeakTarget(schemas: SchemaPerTenant, tenants: readonly string[]): LeakKitTarget {
  const db = schemas.db;
  return {
    reset: () =>
      asSystem(async () => {
        for (const tenant of tenants) await schemas.forTenant(tenant).deleteFrom('leak_records').execute();
      }),
    async insert(record: LeakKitRecord) {
      await db.insertInto('leak_records').values({ id: record.id, value: record.value }).execute();
    },
    async get(id: string) {
      const row = await db.selectFrom('leak_records').select(['id', 'value']).where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : { id: String(row.id), value: String(row.value) };
    },
    async list() {
      const rows = await db.selectFrom('leak_records').select(['id', 'value']).execute();
      return rows.map((row) => ({ id: String(row.id), value: String(row.value) }));
    },
    async update(id: string, value: string) {
      const result = await db.updateTable('leak_records').set({ value }).where('id', '=', id).executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    async remove(id: string) {
      const result = await db.deleteFrom('leak_records').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async count() {
      const row = await db
        .selectFrom('leak_records')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },
  };
}
