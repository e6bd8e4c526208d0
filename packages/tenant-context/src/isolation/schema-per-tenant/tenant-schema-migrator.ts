import { DEFAULT_MIGRATION_TABLE, Migrator, type Kysely, type Migration } from 'kysely';
import { TenantContextError } from '../../errors.js';
import { schemaBoundMigrationDatabase } from './schema-bound-migration-database.js';

function sqlStateOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

/**
 * The names of the migrations recorded in a schema's Kysely migration table (empty when the
 * table does not exist yet). Reads committed rows only, so a migration another process is
 * running right now does not count until it commits.
 */
export async function readAppliedMigrationNames(db: Kysely<any>, schema: string): Promise<string[]> {
  try {
    const rows = await db.withoutPlugins().withSchema(schema).selectFrom(DEFAULT_MIGRATION_TABLE).select('name').execute();
    return rows.map((row) => String((row as { name: unknown }).name));
  } catch (error) {
    // 42P01 undefined_table, 3F000 invalid_schema_name: never migrated (or not provisioned).
    if (sqlStateOf(error) === '42P01' || sqlStateOf(error) === '3F000') return [];
    throw error;
  }
}

/** Whether every migration has been applied and nothing unknown has (which the `Migrator` would call corruption). */
export function isUpToDate(migrations: Readonly<Record<string, Migration>>, applied: readonly string[]): boolean {
  const names = Object.keys(migrations);
  const appliedSet = new Set(applied);
  return names.length === appliedSet.size && names.every((name) => appliedSet.has(name));
}

/** What {@link runTenantSchemaMigrations} needs. */
export interface TenantSchemaMigratorInput {
  readonly db: Kysely<any>;
  readonly tenantId: string;
  readonly schema: string;
  readonly migrations: Readonly<Record<string, Migration>>;
  readonly allowUnorderedMigrations: boolean;
}

/**
 * Migrates one tenant schema to the latest migration with Kysely's `Migrator`: its migration
 * table lives in the schema (`migrationTableSchema`), its lock is the schema's own, and all
 * pending migrations run in one transaction (Postgres DDL is transactional), so the schema
 * ends either fully migrated or unchanged, also when the process dies midway.
 *
 * Resolves the names of the migrations it applied (none when another process got there first).
 * @throws `TENANT_MIGRATION_FAILED` with the failing migration's error as `cause`.
 */
export async function runTenantSchemaMigrations(input: TenantSchemaMigratorInput): Promise<string[]> {
  const { db, tenantId, schema, migrations, allowUnorderedMigrations } = input;
  const migrator = new Migrator({
    db: schemaBoundMigrationDatabase(db, schema),
    provider: { getMigrations: async () => ({ ...migrations }) },
    migrationTableSchema: schema,
    allowUnorderedMigrations,
  });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error === undefined) {
    return results.filter((result) => result.status === 'Success').map((result) => result.migrationName);
  }
  const failed = results.find((result) => result.status === 'Error')?.migrationName ?? null;
  // The driver's message stays in `cause`: it may quote SQL or data, and messages travel further.
  throw new TenantContextError(
    'TENANT_MIGRATION_FAILED',
    failed === null
      ? `Migrating schema "${schema}" of tenant "${tenantId}" failed before any migration ran`
      : `Migration "${failed}" failed in schema "${schema}" of tenant "${tenantId}"; the schema's pending migrations were rolled back`,
    { cause: error, details: { tenantId, schema, migration: failed } },
  );
}
