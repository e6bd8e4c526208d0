import { sql, type DatabaseIntrospector, type DatabaseMetadata, type Kysely, type SchemaMetadata, type TableMetadata } from 'kysely';

/**
 * The introspector the `Migrator` of one tenant schema sees.
 *
 * Kysely's `Migrator` asks the introspector whether its tables exist, and the Postgres
 * introspector answers by reading every column of every table of every schema: with
 * thousands of tenant schemas, migrating them all would read the catalog thousands of times
 * over (quadratic). This one lists the tables of the one schema only, without columns (the
 * `Migrator` only looks at names).
 *
 * It also reports the schema as existing without asking: creating a tenant schema is
 * `provision()`'s job, which records its owner in the same transaction. A schema that is
 * missing (dropped meanwhile) makes the migration fail instead of letting the `Migrator`
 * recreate an orphan schema nobody owns.
 */
export function schemaScopedIntrospector(db: Kysely<any>, schema: string): DatabaseIntrospector {
  const unplugged = db.withoutPlugins();
  async function getTables(): Promise<TableMetadata[]> {
    const { rows } = await sql<{ name: string; kind: string }>`
      select c.relname as name, c.relkind as kind
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = ${schema} and c.relkind in ('r', 'p', 'v')`.execute(unplugged);
    return rows.map((row) => ({ name: row.name, schema, isView: row.kind === 'v', columns: [] }));
  }
  return {
    async getSchemas(): Promise<SchemaMetadata[]> {
      return [{ name: schema }];
    },
    getTables,
    async getMetadata(): Promise<DatabaseMetadata> {
      return { tables: await getTables() };
    },
  };
}
