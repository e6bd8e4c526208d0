import { sql, type Kysely } from 'kysely';
import { lockForTransaction } from './schema-advisory-locks.js';

/** The control table, in the control schema: which tenant owns which schema. */
export const TENANT_SCHEMAS_TABLE = 'tenant_schemas';

/** One row of the ownership table. */
export interface TenantSchemaOwnership {
  readonly tenantId: string;
  readonly schema: string;
}

interface OwnershipRow {
  tenant_id: string;
  schema_name: string;
}

function ownershipOf(row: OwnershipRow): TenantSchemaOwnership {
  return { tenantId: String(row.tenant_id), schema: String(row.schema_name) };
}

/**
 * Creates the control schema and its ownership table if missing. Serialized with an advisory
 * lock, because concurrent `create ... if not exists` can still fail on Postgres's catalog
 * unique indexes. `tenant_id` and `schema_name` are both unique: one schema per tenant, one
 * tenant per schema, which is what refuses a non-injective `schemaName` function.
 */
export async function createOwnershipTable(db: Kysely<any>, controlSchema: string): Promise<void> {
  await db
    .withoutPlugins()
    .transaction()
    .execute(async (trx) => {
      await lockForTransaction(trx, 'control', controlSchema);
      await trx.schema.createSchema(controlSchema).ifNotExists().execute();
      await trx.schema
        .withSchema(controlSchema)
        .createTable(TENANT_SCHEMAS_TABLE)
        .ifNotExists()
        .addColumn('tenant_id', 'varchar(64)', (column) => column.primaryKey())
        .addColumn('schema_name', 'varchar(63)', (column) => column.notNull().unique())
        .addColumn('created_at', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
        .execute();
    });
}

/** The schema a tenant owns, if any; `forUpdate` locks the row until the transaction ends. */
export async function findOwnershipByTenant(
  db: Kysely<any>,
  controlSchema: string,
  tenantId: string,
  forUpdate = false,
): Promise<TenantSchemaOwnership | undefined> {
  let query = db
    .withoutPlugins()
    .withSchema(controlSchema)
    .selectFrom(TENANT_SCHEMAS_TABLE)
    .select(['tenant_id', 'schema_name'])
    .where('tenant_id', '=', tenantId);
  if (forUpdate) query = query.forUpdate();
  const row = (await query.executeTakeFirst()) as OwnershipRow | undefined;
  return row === undefined ? undefined : ownershipOf(row);
}

/** The tenant that owns a schema, if any. */
export async function findOwnershipBySchema(db: Kysely<any>, controlSchema: string, schema: string): Promise<TenantSchemaOwnership | undefined> {
  const row = (await db
    .withoutPlugins()
    .withSchema(controlSchema)
    .selectFrom(TENANT_SCHEMAS_TABLE)
    .select(['tenant_id', 'schema_name'])
    .where('schema_name', '=', schema)
    .executeTakeFirst()) as OwnershipRow | undefined;
  return row === undefined ? undefined : ownershipOf(row);
}

/** Records that `tenantId` owns `schema`. */
export async function insertOwnership(db: Kysely<any>, controlSchema: string, ownership: TenantSchemaOwnership): Promise<void> {
  await db
    .withoutPlugins()
    .withSchema(controlSchema)
    .insertInto(TENANT_SCHEMAS_TABLE)
    .values({ tenant_id: ownership.tenantId, schema_name: ownership.schema })
    .execute();
}

/** Forgets a tenant's schema. */
export async function deleteOwnership(db: Kysely<any>, controlSchema: string, tenantId: string): Promise<void> {
  await db.withoutPlugins().withSchema(controlSchema).deleteFrom(TENANT_SCHEMAS_TABLE).where('tenant_id', '=', tenantId).execute();
}

/** How many tenants own a schema. */
export async function countOwnerships(db: Kysely<any>, controlSchema: string): Promise<number> {
  const row = await db
    .withoutPlugins()
    .withSchema(controlSchema)
    .selectFrom(TENANT_SCHEMAS_TABLE)
    .select((eb) => eb.fn.countAll<string | number | bigint>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/**
 * Every tenant that owns a schema, in tenant-id order, read page by page (keyset), so a run
 * over many tenants neither loads them all at once nor holds a cursor open.
 */
export async function* listOwnedTenantIds(db: Kysely<any>, controlSchema: string, pageSize = 500): AsyncGenerator<string> {
  let after: string | undefined;
  for (;;) {
    let query = db
      .withoutPlugins()
      .withSchema(controlSchema)
      .selectFrom(TENANT_SCHEMAS_TABLE)
      .select('tenant_id')
      // Order and comparison share the column's collation, so the keyset is exact and both use
      // the primary-key index.
      .orderBy('tenant_id')
      .limit(pageSize);
    if (after !== undefined) query = query.where('tenant_id', '>', after);
    const rows = (await query.execute()) as Array<{ tenant_id: string }>;
    for (const row of rows) yield String(row.tenant_id);
    const last = rows.at(-1);
    if (last === undefined || rows.length < pageSize) return;
    after = String(last.tenant_id);
  }
}

/** Whether a schema exists in the database. */
export async function schemaExists(db: Kysely<any>, schema: string): Promise<boolean> {
  const { rows } = await sql<{ found: number }>`select 1 as found from pg_catalog.pg_namespace where nspname = ${schema}`.execute(db.withoutPlugins());
  return rows.length > 0;
}
