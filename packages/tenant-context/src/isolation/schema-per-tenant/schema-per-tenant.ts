import type { Kysely } from 'kysely';
import { z } from 'zod';
import { isDatabaseUnavailable, isTransactionConflict, isUniqueViolation } from '../../adapters/kysely/database-errors.js';
import { detectSqlDialect } from '../../adapters/kysely/sql-dialect.js';
import { TenantContextError } from '../../errors.js';
import { assertTenantId } from '../../identifiers.js';
import { currentScope, runWithTenant } from '../../scope/tenant-scope.js';
import { hasMethods, parseOrThrow } from '../../validation.js';
import {
  migrateTenantSchemasInParallel,
  type TenantSchemaMigrationOutcome,
  type TenantSchemaMigrationReport,
} from './migrate-tenant-schemas-in-parallel.js';
import { lockForTransaction } from './schema-advisory-locks.js';
import type { TenantSchemaMigrationProgress } from './tenant-schema-migration-progress.js';
import { assertTenantSchemaMigrations, resolveTenantSchemaMigrations, type TenantSchemaMigrations } from './tenant-schema-migrations.js';
import { isUpToDate, readAppliedMigrationNames, runTenantSchemaMigrations } from './tenant-schema-migrator.js';
import { assertTenantSchemaName, defaultTenantSchemaName, schemaNameProblem } from './tenant-schema-name.js';
import {
  countOwnerships,
  createOwnershipTable,
  deleteOwnership,
  findOwnershipBySchema,
  findOwnershipByTenant,
  insertOwnership,
  listOwnedTenantIds,
  schemaExists,
} from './tenant-schema-ownership.js';
import { tenantSchemaRoutingPlugin } from './tenant-schema-routing-plugin.js';

/**
 * Options of {@link createSchemaPerTenant}.
 *
 * @example
 * ```ts
 * const options: SchemaPerTenantOptions = { db, migrations, controlSchema: 'tenancy' };
 * ```
 */
export interface SchemaPerTenantOptions {
  /** The application's Kysely instance on PostgreSQL or PGlite; its pool and plugins are used as they are. */
  db: Kysely<any>;
  /** The migrations every tenant schema runs (see {@link TenantSchemaMigrations}). */
  migrations: TenantSchemaMigrations;
  /**
   * The schema of a tenant. Default: {@link defaultTenantSchemaName} (`t_<tenantId>`).
   * It must be deterministic and injective (two tenants never get one schema), and must not
   * change once tenants are provisioned. Its result is checked on every call: 1 to 63 bytes
   * of letters, digits, `_`, `$` and `-`, starting with a letter or `_`, not `pg_*`, `public`,
   * `information_schema` or the control schema.
   */
  schemaName?: (tenantId: string) => string;
  /**
   * The schema of the ownership table (`<controlSchema>.tenant_schemas`: which tenant owns which
   * schema), created on first use (like provisioning, that needs the CREATE privilege on the
   * database). Default `'tenantkit'`.
   */
  controlSchema?: string;
  /** Passed to Kysely's `Migrator`: allow a new migration to sort before applied ones. Default `false`. */
  allowUnorderedMigrations?: boolean;
}

/**
 * What {@link SchemaPerTenant.provision} did.
 *
 * @example
 * ```ts
 * const { schema, created, applied } = await schemas.provision('tnt_acme');
 * ```
 */
export interface TenantSchemaProvisioning {
  readonly tenantId: string;
  readonly schema: string;
  /** Whether this call created the schema (false when it was provisioned before). */
  readonly created: boolean;
  /** The migrations this call applied. */
  readonly applied: readonly string[];
}

/**
 * What {@link SchemaPerTenant.migrate} did.
 *
 * @example
 * ```ts
 * const { applied } = await schemas.migrate('tnt_acme');
 * if (applied.length === 0) console.log('already up to date');
 * ```
 */
export interface TenantSchemaMigration {
  readonly tenantId: string;
  readonly schema: string;
  /** The migrations this call applied (none when the schema was up to date). */
  readonly applied: readonly string[];
}

/**
 * Where one tenant schema stands, from {@link SchemaPerTenant.migrationStatus}.
 *
 * @example
 * ```ts
 * const status = await schemas.migrationStatus('tnt_acme');
 * if (status.pending.length > 0) console.warn('behind by', status.pending);
 * ```
 */
export interface TenantSchemaStatus {
  readonly tenantId: string;
  /** The schema the tenant owns, or the one it would get when it is not provisioned. */
  readonly schema: string;
  readonly provisioned: boolean;
  /** Applied migrations, in name order. */
  readonly applied: readonly string[];
  /** Known migrations not applied yet, in name order. */
  readonly pending: readonly string[];
  /** Applied migrations the application no longer ships (drift: the `Migrator` refuses to run until they are back). */
  readonly unknown: readonly string[];
}

/**
 * What {@link SchemaPerTenant.drop} did.
 *
 * @example
 * ```ts
 * const { dropped } = await schemas.drop('tnt_acme');
 * ```
 */
export interface TenantSchemaDrop {
  readonly tenantId: string;
  /** The schema that was dropped, or `null` when the tenant owned none. */
  readonly schema: string | null;
  readonly dropped: boolean;
}

/**
 * Options of {@link SchemaPerTenant.migrateAllTenants}.
 *
 * @example
 * ```ts
 * const options: MigrateAllTenantSchemasOptions = { concurrency: 8, onProgress: (event) => log.info(event) };
 * ```
 */
export interface MigrateAllTenantSchemasOptions {
  /**
   * The tenants to migrate, as tenant ids (an array, a set, a generator, an async generator
   * paging through your registry). Default: every tenant in the ownership table, read page by
   * page. A tenant listed twice is migrated once and reported up to date the second time.
   */
  tenants?: Iterable<string> | AsyncIterable<string>;
  /** How many tenants migrate at once, 1 to 64. Default 4. Each holds one pooled connection while it migrates. */
  concurrency?: number;
  /** Stop starting tenants after the first failure (running ones finish). Default `false`: every tenant is tried. */
  stopOnError?: boolean;
  /** Stops starting tenants once aborted; running migrations finish (each is one transaction), then the run rejects. */
  signal?: AbortSignal;
  /** Called for every tenant as it starts and ends; see {@link formatTenantSchemaMigrationProgress} for log lines. */
  onProgress?: (event: TenantSchemaMigrationProgress) => void;
}

/**
 * Schema-per-tenant isolation on PostgreSQL, made by {@link createSchemaPerTenant}.
 *
 * @example
 * ```ts
 * const schemas = createSchemaPerTenant({ db, migrations });
 * await runAsSystem({ reason: 'signup' }, () => schemas.provision(tenant.id));
 * await runWithTenant(tenant.id, () => schemas.db.selectFrom('orders').selectAll().execute());
 * ```
 */
export interface SchemaPerTenant<TenantDatabase = any> {
  /** The schema holding the ownership table. */
  readonly controlSchema: string;
  /**
   * A Kysely instance whose every query goes to the schema of the tenant in scope when it
   * runs (and fails with `TENANT_SCOPE_REQUIRED` outside a tenant scope, the system scope
   * included). Safe to keep in a module-level variable: it binds nothing until a query runs.
   * Raw `sql` is not rewritten (see {@link createSchemaPerTenant}).
   */
  readonly db: Kysely<TenantDatabase>;
  /**
   * A Kysely instance bound to one tenant's schema now (`withSchema`): the tenant in scope, or
   * `tenantId`, which needs the system scope or that tenant's own scope. Prefer {@link db} in
   * request code; this one is for jobs that work through tenants from the system scope. Do
   * not keep it beyond the work for that tenant.
   * @throws `TENANT_SCOPE_REQUIRED`, `TENANT_SCOPE_CONFLICT` (another tenant's scope),
   *   `TENANT_IDENTIFIER_INVALID`, `CONFIGURATION_INVALID` (the `schemaName` result).
   */
  forTenant(tenantId?: string): Kysely<TenantDatabase>;
  /**
   * The schema a tenant gets (pure: no database access, no scope needed).
   * @throws `TENANT_IDENTIFIER_INVALID`, `CONFIGURATION_INVALID`.
   */
  schemaNameOf(tenantId: string): string;
  /**
   * Creates the tenant's schema (recording its ownership in the same transaction) and runs the
   * migrations in it. Idempotent: calling again migrates whatever is pending. Needs the system
   * scope or the tenant's own scope (lifecycle steps run in it).
   * @throws `CONFIGURATION_INVALID` when another tenant owns the schema (a non-injective
   *   `schemaName`) or the tenant owns a different schema than `schemaName` now gives;
   *   `STORE_CONFLICT` when a schema of that name exists but no tenant owns it (never adopted:
   *   `drop` would destroy it); `TENANT_MIGRATION_FAILED` (the schema exists, the pending
   *   migrations were rolled back: call again once fixed); `STORE_UNAVAILABLE`; the scope codes.
   */
  provision(tenantId: string): Promise<TenantSchemaProvisioning>;
  /**
   * Runs the pending migrations of a provisioned tenant (none pending: nothing is locked or
   * written). Two processes migrating one tenant take turns on its advisory lock.
   * @throws `TENANT_NOT_FOUND` (no schema provisioned), `TENANT_MIGRATION_FAILED`,
   *   `CONFIGURATION_INVALID`, `STORE_UNAVAILABLE`, the scope codes.
   */
  migrate(tenantId: string): Promise<TenantSchemaMigration>;
  /**
   * Which migrations a tenant schema has and lacks; use it to find drift.
   * @throws `TENANT_IDENTIFIER_INVALID`, `CONFIGURATION_INVALID`, `STORE_UNAVAILABLE`, the scope codes.
   */
  migrationStatus(tenantId: string): Promise<TenantSchemaStatus>;
  /**
   * Drops the schema the tenant owns with everything in it (`DROP SCHEMA ... CASCADE`) and
   * forgets its ownership, in one transaction. Waits for a migration of that schema that is
   * running. Idempotent: a tenant without a schema resolves `{ dropped: false }`. Never drops a
   * schema the tenant does not own.
   * @throws `TENANT_IDENTIFIER_INVALID`, `STORE_UNAVAILABLE`, the scope codes.
   */
  drop(tenantId: string): Promise<TenantSchemaDrop>;
  /**
   * Migrates many tenants, at most `concurrency` at once, with progress events. Needs the
   * system scope (`runAsSystem`).
   *
   * Resumable by design: each tenant migrates in one transaction that also records what it
   * applied in the tenant's own migration table, so after a crash or an abort, running it
   * again skips the tenants that finished (reported `tenant-up-to-date`, without taking a lock)
   * and redoes the ones that were cut off, which the database rolled back. No second record
   * of progress exists that could disagree with the schemas themselves.
   *
   * Resolves the report when every tenant succeeded.
   * @throws `TENANT_MIGRATION_FAILED` when any tenant failed (the others were still migrated
   *   unless `stopOnError`), the run was aborted, or the tenant source failed; `details` holds
   *   the counts and the failed tenants, `cause` the tenant's error (an `AggregateError` of
   *   them when several failed). `VALIDATION_FAILED` for bad options; `TENANT_SCOPE_REQUIRED`
   *   outside the system scope.
   */
  migrateAllTenants(options?: MigrateAllTenantSchemasOptions): Promise<TenantSchemaMigrationReport>;
}

const DEFAULT_CONTROL_SCHEMA = 'tenantkit';
const MAX_CONCURRENCY = 64;

const optionsSchema = z.strictObject({
  db: z.custom<Kysely<any>>((value) => hasMethods(value, ['getExecutor', 'withSchema', 'withoutPlugins', 'withPlugin', 'transaction']), {
    message: 'must be a Kysely instance',
  }),
  migrations: z.custom<TenantSchemaMigrations>((value) => value !== undefined && value !== null, { message: 'are required' }),
  schemaName: z.custom<(tenantId: string) => string>((value) => typeof value === 'function', { message: 'must be a function' }).optional(),
  controlSchema: z.string().optional(),
  allowUnorderedMigrations: z.boolean().optional(),
});

function isIterableSource(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as { [Symbol.iterator]?: unknown; [Symbol.asyncIterator]?: unknown };
  return typeof candidate[Symbol.iterator] === 'function' || typeof candidate[Symbol.asyncIterator] === 'function';
}

const migrateAllOptionsSchema = z.strictObject({
  tenants: z
    .custom<Iterable<string> | AsyncIterable<string>>(isIterableSource, { message: 'must be an iterable or async iterable of tenant ids' })
    .optional(),
  concurrency: z.number().int().min(1).max(MAX_CONCURRENCY).optional(),
  stopOnError: z.boolean().optional(),
  signal: z.custom<AbortSignal>((value) => value instanceof AbortSignal, { message: 'must be an AbortSignal' }).optional(),
  onProgress: z
    .custom<(event: TenantSchemaMigrationProgress) => void>((value) => typeof value === 'function', { message: 'must be a function' })
    .optional(),
});

async function* asAsyncIterable(source: Iterable<string> | AsyncIterable<string>): AsyncGenerator<string> {
  yield* source;
}

function knownSize(source: Iterable<string> | AsyncIterable<string>): number | null {
  if (Array.isArray(source)) return source.length;
  if (source instanceof Set) return source.size;
  return null;
}

/** Driver failures of the helper's own queries, coded; its own coded errors pass through. */
function translateFailure(error: unknown, operation: string): Error {
  if (error instanceof TenantContextError) return error;
  if (isDatabaseUnavailable(error)) {
    return new TenantContextError('STORE_UNAVAILABLE', `The database cannot be reached (${operation})`, { cause: error, details: { operation } });
  }
  if (isTransactionConflict(error)) {
    return new TenantContextError('STORE_CONFLICT', `The database aborted ${operation} because of a concurrent change; retry`, {
      cause: error,
      details: { operation },
    });
  }
  return error instanceof Error ? error : new TenantContextError('STORE_UNAVAILABLE', `${operation} failed with a non-Error value`, { cause: error });
}

/**
 * Explicit-tenant administration (provision, migrate, drop, a bound handle for a named
 * tenant) runs in the system scope, where cross-tenant work is named and audited, or in that
 * tenant's own scope, where lifecycle steps run; never unscoped, never from another tenant.
 */
function assertMayAdministerTenant(tenantId: string, operation: string): void {
  const scope = currentScope();
  if (scope?.kind === 'system') return;
  if (scope?.kind === 'tenant') {
    if (scope.tenantId === tenantId) return;
    throw new TenantContextError('TENANT_SCOPE_CONFLICT', `${operation} for tenant "${tenantId}" cannot run in the scope of another tenant`, {
      details: { tenantId },
    });
  }
  throw new TenantContextError(
    'TENANT_SCOPE_REQUIRED',
    `${operation} names a tenant explicitly and needs runAsSystem() or that tenant's scope`,
    { details: { tenantId } },
  );
}

/**
 * Schema-per-tenant isolation on PostgreSQL (a real server through `pg`, or PGlite): each
 * tenant's tables live in a schema of its own, created and migrated when the tenant is
 * provisioned, and queries are routed to the tenant's schema by qualifying their table names
 * at compile time — never by `SET search_path`, so nothing can linger on a pooled connection
 * and reach the next request.
 *
 * - {@link SchemaPerTenant.db} routes each query to the schema of the tenant in scope;
 *   {@link SchemaPerTenant.forTenant} binds one tenant's schema for a job.
 * - {@link SchemaPerTenant.provision} / {@link SchemaPerTenant.drop} create and remove a
 *   tenant's schema; {@link provisionTenantSchemaStep} and {@link dropTenantSchemaStep} plug
 *   them into the tenant lifecycle (`provision-storage`, `delete-data`).
 * - {@link SchemaPerTenant.migrateAllTenants} rolls a release's migrations out to every
 *   tenant with bounded parallelism, progress events, per-tenant failures, and resumption
 *   after a crash (just run it again).
 * - Which tenant owns which schema is recorded in `<controlSchema>.tenant_schemas`; a
 *   `schemaName` that gives two tenants one schema is refused when the second is provisioned.
 *
 * Every tenant schema is migrated by Kysely's `Migrator` with `migrationTableSchema` set to
 * the schema, so each schema has its own `kysely_migration` table and migrates in one
 * transaction. The `Migrator` is given two adjustments, because Kysely's defaults do not fit
 * thousands of schemas: its Postgres migration lock is one lock for the whole database (so
 * tenants could never migrate in parallel), which is replaced by an advisory lock per schema;
 * and its table introspection reads the columns of every schema, which is replaced by a
 * lookup in the one schema.
 *
 * **Pitfalls — read before adopting schema-per-tenant:**
 * - **Unqualified raw SQL is not isolated.** `sql\`select * from orders\`` run on
 *   {@link SchemaPerTenant.db}, or inside a migration, is not rewritten by any plugin (not
 *   even with `sql.table('orders')`): it resolves through the connection's `search_path`,
 *   normally `public`, not the tenant's schema. Qualify it yourself — in migrations, use the
 *   factory form of `migrations` and write `sql.id(schema, 'orders')`; in queries,
 *   `sql.id(schemas.schemaNameOf(requireTenantId()), 'orders')` — or use the query builder.
 * - **Never set `search_path` yourself for tenancy.** A session-level `SET search_path` stays
 *   on the pooled connection and the next borrower queries the previous tenant's tables. This
 *   helper never sets it (the tests check `show search_path` on the pool after tenant work).
 * - **Cross-schema foreign keys.** The schema builder qualifies `references('plans.id')` with
 *   the tenant's schema too; a reference to a shared table must name its schema
 *   (`references('public.plans.id')`). A foreign key into a shared table makes `drop` of a
 *   tenant (CASCADE) and writes to the shared table touch every tenant schema; a foreign key
 *   from one tenant schema into another is a leak by design and must never exist.
 * - **Catalog bloat.** Every schema copies every table, index and sequence into Postgres's
 *   catalog: 10,000 tenants × 30 tables is 300,000 relations and several times as many
 *   catalog rows. Each backend caches the relations it touches, so pooled connections serving
 *   many tenants grow in memory; `pg_dump`, autovacuum and planning of catalog queries slow
 *   down. Keep the table count per tenant small, keep pools small, and measure beyond a few
 *   thousand tenants (row-level security over shared tables scales further).
 * - **Migration drift.** Tenants migrate one at a time, so during a rollout (or after a
 *   failed tenant) schemas run different versions: code must work with the previous and the
 *   next migration both. A failed tenant stays behind until a later run; find such tenants
 *   with {@link SchemaPerTenant.migrationStatus} or the run's failures. Never remove or rename
 *   an applied migration: the `Migrator` then refuses that schema as corrupted.
 * - **`schemaName` is forever.** Queries use the name the function gives now; changing it
 *   after tenants are provisioned points them at schemas that do not exist
 *   (`provision`/`migrate` detect the mismatch and refuse).
 * - **PGlite** has one connection: tenants migrate one after the other there whatever the
 *   `concurrency`, and a migration must not open a second connection (it would wait forever).
 *
 * MariaDB and MySQL are refused with `CONFIGURATION_INVALID`: there a schema is a database,
 * DDL is not transactional (a crashed migration cannot be rolled back, so runs could not
 * resume safely); use the database-per-tenant helper. SQLite has no schemas and is refused too.
 *
 * @throws `CONFIGURATION_INVALID` for invalid options or a database other than PostgreSQL/PGlite.
 * @example
 * ```ts
 * import { createSchemaPerTenant, provisionTenantSchemaStep, dropTenantSchemaStep } from '@tenantkit/tenant-context/kysely';
 * import { sql } from 'kysely';
 *
 * const schemas = createSchemaPerTenant({
 *   db,
 *   migrations: ({ schema }) => ({
 *     '001_orders': {
 *       up: async (db) => {
 *         await db.schema.createTable('orders').addColumn('id', 'text', (c) => c.primaryKey()).addColumn('total', 'integer').execute();
 *         // raw SQL is not qualified for you:
 *         await sql`create index orders_total on ${sql.id(schema, 'orders')} (total)`.execute(db);
 *       },
 *     },
 *   }),
 * });
 * lifecycle.useOnboardingStep('provision-storage', provisionTenantSchemaStep(schemas));
 * lifecycle.useOffboardingStep('delete-data', dropTenantSchemaStep(schemas));
 *
 * // in a request, inside the tenant's scope:
 * const orders = await schemas.db.selectFrom('orders').selectAll().execute();
 *
 * // on deploy:
 * await runAsSystem({ reason: 'deploy', actor: 'ci' }, () =>
 *   schemas.migrateAllTenants({ concurrency: 8, onProgress: (event) => console.log(formatTenantSchemaMigrationProgress(event)) }),
 * );
 * ```
 */
export function createSchemaPerTenant<TenantDatabase = any>(options: SchemaPerTenantOptions): SchemaPerTenant<TenantDatabase> {
  const parsed = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'createSchemaPerTenant options');
  const { db, migrations } = parsed;
  assertTenantSchemaMigrations(migrations);
  const controlSchema = parsed.controlSchema ?? DEFAULT_CONTROL_SCHEMA;
  const controlProblem = schemaNameProblem(controlSchema);
  if (controlProblem !== undefined) {
    throw new TenantContextError('CONFIGURATION_INVALID', `controlSchema "${controlSchema}" is unusable: ${controlProblem}`);
  }
  const dialect = detectSqlDialect(db);
  if (dialect !== 'postgres') {
    throw new TenantContextError(
      'CONFIGURATION_INVALID',
      dialect === 'mysql'
        ? 'Schema-per-tenant needs PostgreSQL: on MariaDB/MySQL a schema is a database and DDL is not transactional; use the database-per-tenant helper'
        : 'Schema-per-tenant needs PostgreSQL (or PGlite): SQLite has no schemas; use one database file per tenant',
      { details: { dialect } },
    );
  }
  const schemaName = parsed.schemaName ?? defaultTenantSchemaName;
  const allowUnorderedMigrations = parsed.allowUnorderedMigrations ?? false;
  const unplugged = db.withoutPlugins();

  function schemaNameOf(tenantId: string): string {
    assertTenantId(tenantId);
    let name: unknown;
    try {
      name = schemaName(tenantId);
    } catch (cause) {
      if (cause instanceof TenantContextError) throw cause;
      throw new TenantContextError('CONFIGURATION_INVALID', `schemaName() threw for tenant "${tenantId}"`, { cause, details: { tenantId } });
    }
    assertTenantSchemaName(name, tenantId, controlSchema);
    return name;
  }

  // Per instance, never per module: it only remembers that the table exists.
  let controlTableReady: Promise<void> | undefined;
  function ensureControlTable(): Promise<void> {
    controlTableReady ??= createOwnershipTable(db, controlSchema).catch((error: unknown) => {
      controlTableReady = undefined;
      throw translateFailure(error, 'creating the schema ownership table');
    });
    return controlTableReady;
  }

  function namingDrift(tenantId: string, owned: string, expected: string): TenantContextError {
    return new TenantContextError(
      'CONFIGURATION_INVALID',
      `Tenant "${tenantId}" owns schema "${owned}" but schemaName() now gives "${expected}"; schemaName must not change once tenants are provisioned`,
      { details: { tenantId, schema: owned, expected } },
    );
  }

  function collision(tenantId: string, schema: string, owner: string): TenantContextError {
    return new TenantContextError(
      'CONFIGURATION_INVALID',
      `schemaName() gave tenant "${tenantId}" the schema "${schema}", which tenant "${owner}" owns; schemaName must be injective`,
      { details: { tenantId, schema } },
    );
  }

  /** The schema a provisioned tenant owns; checks it against schemaName(). */
  async function ownedSchemaOf(tenantId: string): Promise<string> {
    const expected = schemaNameOf(tenantId);
    await ensureControlTable();
    let owned;
    try {
      owned = await findOwnershipByTenant(db, controlSchema, tenantId);
    } catch (error) {
      throw translateFailure(error, 'reading the schema ownership');
    }
    if (owned === undefined) {
      throw new TenantContextError('TENANT_NOT_FOUND', `Tenant "${tenantId}" has no provisioned schema; provision() it first`, {
        details: { tenantId, schema: expected, migration: null },
      });
    }
    if (owned.schema !== expected) throw namingDrift(tenantId, owned.schema, expected);
    return owned.schema;
  }

  /** Migrates an owned schema: skips without locking when nothing is pending. */
  async function migrateOwnedSchema(tenantId: string, schema: string): Promise<string[]> {
    const resolved = await resolveTenantSchemaMigrations(migrations, { schema, tenantId });
    let applied: string[];
    try {
      applied = await readAppliedMigrationNames(db, schema);
    } catch (error) {
      throw translateFailure(error, 'reading the applied migrations');
    }
    if (isUpToDate(resolved, applied)) return [];
    // Migrations run in the tenant's own scope, as lifecycle steps do, whoever started them.
    return runWithTenant(tenantId, () => runTenantSchemaMigrations({ db, tenantId, schema, migrations: resolved, allowUnorderedMigrations }));
  }

  async function migrate(tenantId: string): Promise<TenantSchemaMigration> {
    assertTenantId(tenantId);
    assertMayAdministerTenant(tenantId, 'migrate()');
    const schema = await ownedSchemaOf(tenantId);
    const applied = await migrateOwnedSchema(tenantId, schema);
    return Object.freeze({ tenantId, schema, applied: Object.freeze(applied) });
  }

  // Routes each query at compile time; the application's own plugins run after it, as they
  // do after Kysely's withSchema().
  let routed: Kysely<any> = unplugged.withPlugin(tenantSchemaRoutingPlugin(schemaNameOf));
  for (const plugin of db.getExecutor().plugins) routed = routed.withPlugin(plugin);

  return Object.freeze({
    controlSchema,
    db: routed as Kysely<TenantDatabase>,
    schemaNameOf,

    forTenant(tenantId?: string): Kysely<TenantDatabase> {
      if (tenantId === undefined) {
        const scope = currentScope();
        if (scope?.kind !== 'tenant') {
          throw new TenantContextError(
            'TENANT_SCOPE_REQUIRED',
            scope?.kind === 'system'
              ? 'forTenant() without a tenant id needs a tenant scope; in the system scope, pass the tenant id'
              : 'forTenant() needs a tenant in scope (or a tenant id inside runAsSystem)',
          );
        }
        return db.withSchema(schemaNameOf(scope.tenantId)) as Kysely<TenantDatabase>;
      }
      assertTenantId(tenantId);
      assertMayAdministerTenant(tenantId, 'forTenant()');
      return db.withSchema(schemaNameOf(tenantId)) as Kysely<TenantDatabase>;
    },

    async provision(tenantId: string): Promise<TenantSchemaProvisioning> {
      assertTenantId(tenantId);
      assertMayAdministerTenant(tenantId, 'provision()');
      const schema = schemaNameOf(tenantId);
      await ensureControlTable();
      let created = false;
      try {
        await unplugged.transaction().execute(async (trx) => {
          await lockForTransaction(trx, 'tenant', tenantId);
          const owned = await findOwnershipByTenant(trx, controlSchema, tenantId);
          if (owned !== undefined && owned.schema !== schema) throw namingDrift(tenantId, owned.schema, schema);
          if (owned === undefined) {
            const owner = await findOwnershipBySchema(trx, controlSchema, schema);
            if (owner !== undefined) throw collision(tenantId, schema, owner.tenantId);
            if (await schemaExists(trx, schema)) {
              // A tenant mapped onto the same name may have committed its claim between the two
              // reads (each statement sees what committed before it): that is a collision, not a squat.
              const ownerNow = await findOwnershipBySchema(trx, controlSchema, schema);
              if (ownerNow !== undefined) throw collision(tenantId, schema, ownerNow.tenantId);
              throw new TenantContextError(
                'STORE_CONFLICT',
                `Schema "${schema}" already exists but no tenant owns it; it is never adopted (dropping the tenant would destroy it): rename or drop it`,
                { details: { tenantId, schema } },
              );
            }
            await insertOwnership(trx, controlSchema, { tenantId, schema });
            created = true;
          }
          // Also recreates an owned schema someone dropped by hand.
          await trx.schema.createSchema(schema).ifNotExists().execute();
        });
      } catch (error) {
        if (!(error instanceof TenantContextError) && isUniqueViolation(error)) {
          // Another tenant claimed the same schema name at the same moment.
          const owner = await findOwnershipBySchema(db, controlSchema, schema).catch(() => undefined);
          throw collision(tenantId, schema, owner?.tenantId ?? 'another tenant');
        }
        throw translateFailure(error, 'provisioning a tenant schema');
      }
      const applied = await migrateOwnedSchema(tenantId, schema);
      return Object.freeze({ tenantId, schema, created, applied: Object.freeze(applied) });
    },

    migrate,

    async migrationStatus(tenantId: string): Promise<TenantSchemaStatus> {
      assertTenantId(tenantId);
      assertMayAdministerTenant(tenantId, 'migrationStatus()');
      const expected = schemaNameOf(tenantId);
      await ensureControlTable();
      try {
        const owned = await findOwnershipByTenant(db, controlSchema, tenantId);
        const schema = owned?.schema ?? expected;
        const resolved = await resolveTenantSchemaMigrations(migrations, { schema, tenantId });
        const applied = owned === undefined ? [] : await readAppliedMigrationNames(db, schema);
        const appliedSet = new Set(applied);
        const known = Object.keys(resolved).sort();
        return Object.freeze({
          tenantId,
          schema,
          provisioned: owned !== undefined,
          applied: Object.freeze(known.filter((name) => appliedSet.has(name))),
          pending: Object.freeze(known.filter((name) => !appliedSet.has(name))),
          unknown: Object.freeze(applied.filter((name) => !Object.hasOwn(resolved, name)).sort()),
        });
      } catch (error) {
        throw translateFailure(error, 'reading a tenant schema status');
      }
    },

    async drop(tenantId: string): Promise<TenantSchemaDrop> {
      assertTenantId(tenantId);
      assertMayAdministerTenant(tenantId, 'drop()');
      await ensureControlTable();
      try {
        const schema = await unplugged.transaction().execute(async (trx) => {
          await lockForTransaction(trx, 'tenant', tenantId);
          const owned = await findOwnershipByTenant(trx, controlSchema, tenantId, true);
          if (owned === undefined) return null;
          // Waits for a migration of this schema that is running in any process.
          await lockForTransaction(trx, 'schema', owned.schema);
          await trx.schema.dropSchema(owned.schema).ifExists().cascade().execute();
          await deleteOwnership(trx, controlSchema, tenantId);
          return owned.schema;
        });
        return Object.freeze({ tenantId, schema, dropped: schema !== null });
      } catch (error) {
        throw translateFailure(error, 'dropping a tenant schema');
      }
    },

    async migrateAllTenants(runOptions: MigrateAllTenantSchemasOptions = {}): Promise<TenantSchemaMigrationReport> {
      const checked = parseOrThrow(migrateAllOptionsSchema, runOptions, 'VALIDATION_FAILED', 'migrateAllTenants options');
      const scope = currentScope();
      if (scope?.kind !== 'system') {
        throw new TenantContextError(
          scope?.kind === 'tenant' ? 'TENANT_SCOPE_CONFLICT' : 'TENANT_SCOPE_REQUIRED',
          'migrateAllTenants() works across tenants and needs runAsSystem()',
        );
      }
      await ensureControlTable();
      let tenants: AsyncIterable<unknown>;
      let total: number | null;
      if (checked.tenants === undefined) {
        tenants = listOwnedTenantIds(db, controlSchema);
        try {
          total = await countOwnerships(db, controlSchema);
        } catch (error) {
          throw translateFailure(error, 'counting the provisioned tenants');
        }
      } else {
        tenants = asAsyncIterable(checked.tenants);
        total = knownSize(checked.tenants);
      }
      return migrateTenantSchemasInParallel({
        tenants,
        total,
        concurrency: checked.concurrency ?? 4,
        stopOnError: checked.stopOnError ?? false,
        signal: checked.signal,
        onProgress: checked.onProgress,
        schemaOf(tenantId) {
          try {
            return schemaNameOf(tenantId);
          } catch {
            return null;
          }
        },
        async migrateOne(tenantId): Promise<TenantSchemaMigrationOutcome> {
          const { schema, applied } = await migrate(tenantId);
          return { schema, applied };
        },
      });
    },
  });
}
