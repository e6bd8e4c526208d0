import type { Migration, MigrationProvider } from 'kysely';
import { TenantContextError } from '../../errors.js';

/**
 * What a tenant schema's migration factory is given.
 *
 * @example
 * ```ts
 * const migrations = ({ schema }: TenantSchemaMigrationContext) => ({
 *   '001_orders': { up: (db) => sql`create index orders_placed on ${sql.id(schema, 'orders')} (placed_at)`.execute(db) },
 * });
 * ```
 */
export interface TenantSchemaMigrationContext {
  /** The schema being migrated; qualify raw SQL with it (`sql.id(schema, 'orders')`). */
  readonly schema: string;
  /** The tenant that owns the schema. */
  readonly tenantId: string;
}

/**
 * The migrations every tenant schema runs, in one of three shapes:
 * - a record of Kysely `Migration`s keyed by name (run in name order, as Kysely's `Migrator` does);
 * - a Kysely `MigrationProvider` (for example `FileMigrationProvider`);
 * - a factory `(context) => record`, called for each schema, for migrations that need the
 *   schema's name (raw SQL, which no plugin qualifies).
 *
 * Each migration's `up(db)` receives a `db` already bound to the tenant's schema (Kysely's
 * `withSchema`): query-builder and schema-builder calls (`db.schema.createTable('orders')`)
 * land in the tenant schema, raw `sql` does not.
 *
 * @example
 * ```ts
 * const migrations: TenantSchemaMigrations = {
 *   '001_orders': {
 *     up: (db) => db.schema.createTable('orders').addColumn('id', 'text', (c) => c.primaryKey()).execute(),
 *   },
 * };
 * ```
 */
export type TenantSchemaMigrations =
  | MigrationProvider
  | Readonly<Record<string, Migration>>
  | ((context: TenantSchemaMigrationContext) => Readonly<Record<string, Migration>> | Promise<Readonly<Record<string, Migration>>>);

/** Kysely's migration table stores names in a varchar(255). */
const MAX_MIGRATION_NAME_LENGTH = 255;

function isMigrationProvider(value: unknown): value is MigrationProvider {
  return typeof value === 'object' && value !== null && typeof (value as { getMigrations?: unknown }).getMigrations === 'function';
}

function migrationsProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'they are not a record of migrations';
  for (const [name, migration] of Object.entries(value)) {
    if (name.length === 0 || name.length > MAX_MIGRATION_NAME_LENGTH) {
      return `the migration name "${name.slice(0, 40)}" must be 1 to ${MAX_MIGRATION_NAME_LENGTH} characters`;
    }
    if (typeof migration !== 'object' || migration === null || typeof (migration as Migration).up !== 'function') {
      return `migration "${name}" has no up() function`;
    }
    const down: unknown = (migration as Migration).down;
    if (down !== undefined && typeof down !== 'function') return `migration "${name}" has a down that is not a function`;
  }
  return undefined;
}

/**
 * Checks the `migrations` option when the factory is called: a record is checked in full, a
 * provider or a factory is checked each time it produces migrations.
 * @throws `CONFIGURATION_INVALID`.
 */
export function assertTenantSchemaMigrations(value: unknown): asserts value is TenantSchemaMigrations {
  if (typeof value === 'function' || isMigrationProvider(value)) return;
  const problem = migrationsProblem(value);
  if (problem !== undefined) {
    throw new TenantContextError('CONFIGURATION_INVALID', `Invalid schema-per-tenant migrations: ${problem}`);
  }
}

/**
 * The migrations of one tenant schema, checked and frozen, so the `Migrator` and the
 * up-to-date check see exactly the same set.
 * @throws `CONFIGURATION_INVALID` when the provider or factory fails or returns something malformed.
 */
export async function resolveTenantSchemaMigrations(
  source: TenantSchemaMigrations,
  context: TenantSchemaMigrationContext,
): Promise<Readonly<Record<string, Migration>>> {
  let resolved: unknown;
  try {
    if (typeof source === 'function') resolved = await source(Object.freeze({ ...context }));
    else if (isMigrationProvider(source)) resolved = await source.getMigrations();
    else resolved = source;
  } catch (cause) {
    throw new TenantContextError('CONFIGURATION_INVALID', `The schema-per-tenant migrations could not be loaded for schema "${context.schema}"`, {
      cause,
      details: { tenantId: context.tenantId, schema: context.schema },
    });
  }
  const problem = migrationsProblem(resolved);
  if (problem !== undefined) {
    throw new TenantContextError('CONFIGURATION_INVALID', `Invalid schema-per-tenant migrations for schema "${context.schema}": ${problem}`, {
      details: { tenantId: context.tenantId, schema: context.schema },
    });
  }
  return Object.freeze({ ...(resolved as Record<string, Migration>) });
}
