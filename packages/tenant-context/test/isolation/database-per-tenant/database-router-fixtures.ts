import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LeakKitRecord, LeakKitTarget } from '@tenantkit/test-utils';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql, type Migration, type MigrationProvider } from 'kysely';
import { runAsSystem } from '../../../src/scope/tenant-scope.js';
import type { TenantDatabaseRouter } from '../../../src/isolation/database-per-tenant/tenant-database-router.js';

/** The one table every tenant database holds: no tenant column, the database is the boundary. */
export interface LeakDatabase {
  leak_records: { id: string; value: string };
}

/** Migrations with a table the leak kit uses and a second one, so "applied" lists are meaningful. */
export function tenantMigrations(extra: Record<string, Migration> = {}): MigrationProvider {
  return {
    async getMigrations() {
      return {
        '2026_01_01_leak_records': {
          async up(db: Kysely<any>) {
            await db.schema
              .createTable('leak_records')
              .addColumn('id', 'varchar(64)', (column) => column.primaryKey())
              .addColumn('value', 'text', (column) => column.notNull())
              .execute();
          },
        },
        '2026_01_02_notes': {
          async up(db: Kysely<any>) {
            await db.schema
              .createTable('notes')
              .addColumn('id', 'integer', (column) => column.primaryKey())
              .addColumn('body', 'text')
              .execute();
          },
        },
        ...extra,
      };
    },
  };
}

/** A migration that always fails, after creating something (to check nothing half-made stays). */
export const failingMigration: Record<string, Migration> = {
  '2026_01_03_broken': {
    async up(db: Kysely<any>) {
      await sql`select * from table_that_does_not_exist`.execute(db);
    },
  },
};

/**
 * A leak kit target over `leak_records(id, value)` in each tenant's own database, every call
 * going through `router.db()` for the tenant in scope (no tenant filter anywhere).
 */
export function databaseRouterLeakTarget(router: TenantDatabaseRouter<LeakDatabase>, tenants: readonly string[]): LeakKitTarget {
  return {
    async reset() {
      await runAsSystem({ reason: 'leak-kit reset', actor: 'test' }, async () => {
        for (const tenantId of tenants) await router.forTenant(tenantId).deleteFrom('leak_records').execute();
      });
    },
    async insert(record: LeakKitRecord) {
      await router.db().insertInto('leak_records').values({ id: record.id, value: record.value }).execute();
    },
    get(id: string) {
      return router.db().selectFrom('leak_records').select(['id', 'value']).where('id', '=', id).executeTakeFirst();
    },
    list() {
      return router.db().selectFrom('leak_records').select(['id', 'value']).execute();
    },
    async update(id: string, value: string) {
      const result = await router.db().updateTable('leak_records').set({ value }).where('id', '=', id).executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    async remove(id: string) {
      const result = await router.db().deleteFrom('leak_records').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async count() {
      const row = await router
        .db()
        .selectFrom('leak_records')
        .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}

/** A temporary directory for SQLite tenant files, removed by `remove()`. */
export function temporarySqliteDirectory(): { readonly path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), 'tenantkit-db-per-tenant-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * Opens a tenant's SQLite file the way the docs recommend: must exist, WAL. Durability is off
 * (`synchronous = OFF`): closing a WAL database checkpoints it, and the fsync of every evicted
 * pool would dominate the leak kit's run time on a busy test machine without testing anything.
 */
export function openSqliteTenantDatabase<DB>(file: string): Kysely<DB> {
  const database = new Database(file, { fileMustExist: true });
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = OFF');
  return new Kysely<DB>({ dialect: new SqliteDialect({ database }) });
}

/** A promise with its resolve function outside, to hold a lease open in a test. */
export function deferred(): { readonly promise: Promise<void>; resolve(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

/** The rejection of `promise` (fails the test if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<{ code?: unknown; details?: Record<string, unknown>; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: unknown; details?: Record<string, unknown>; message: string };
  }
  throw new Error('expected the promise to reject');
}

/** Waits until `condition` holds, polling the event loop (no wall-clock assertion). */
export async function eventually(condition: () => boolean, what: string): Promise<void> {
  for (let attempt = 0; attempt < 500; attempt += 1) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`timed out waiting for: ${what}`);
}
