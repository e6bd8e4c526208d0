import { systemClock, type Clock } from '@tenantkit/core';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { detectSqlDialect, sqlDialects, type SqlDialect } from '../../adapters/kysely/sql-dialect.js';
import { TenantContextError } from '../../errors.js';
import { assertTenantId } from '../../identifiers.js';
import { currentScope, requireTenantId } from '../../scope/tenant-scope.js';
import { hasMethods, parseOrThrow } from '../../validation.js';
import { createLeasedTenantHandle, handleDialectOf, type TenantHandleDialect } from './leased-tenant-handle.js';
import { migrateTenantDatabase, type TenantDatabaseMigrationOptions, type TenantDatabaseMigrationResult } from './tenant-database-migrations.js';
import { assertTenantDatabaseName, tenantDatabaseName } from './tenant-database-name.js';
import type { TenantDatabaseProvisioner } from './tenant-database-provisioner.js';
import { TenantPoolSet, type TenantPoolLease, type TenantPoolStats } from './tenant-pool-set.js';

/**
 * What `openDatabase` is told besides the tenant id.
 *
 * @example
 * ```ts
 * const open = (tenantId: string, { databaseName }: OpenTenantDatabaseContext) => connect(databaseName);
 * ```
 */
export interface OpenTenantDatabaseContext {
  /** The tenant's database name (derived and validated by the router). */
  readonly databaseName: string;
}

/**
 * Options of {@link createTenantDatabaseRouter}.
 *
 * @example
 * ```ts
 * const options: TenantDatabaseRouterOptions<Database> = {
 *   openDatabase: (tenantId, { databaseName }) => new Kysely<Database>({ dialect: postgresDialectFor(databaseName) }),
 *   connectionsPerPool: 5,
 *   maxPools: 20,
 *   maxConnections: 80,
 *   sqlDialect: 'postgres',
 * };
 * ```
 */
export interface TenantDatabaseRouterOptions<DB> {
  /**
   * Opens a pool to the tenant's database with the application's own driver and settings,
   * without plugins (add plugins to the handles instead: `router.db().withPlugin(...)`). It may
   * be async. The pool it returns must hold at most `connectionsPerPool` connections: the router
   * trusts that number for its overall bound. The router owns the instance and destroys it when
   * it evicts the pool, so never return a shared one. With pg, attach `pool.on('error', ...)`:
   * a deprovisioning elsewhere terminates idle sessions, which pg reports on the pool.
   */
  openDatabase(tenantId: string, context: OpenTenantDatabaseContext): Kysely<DB> | Promise<Kysely<DB>>;
  /** Connections each pool may open (the pool's own `max`), or a function of the tenant (a bigger pool for enterprise tenants). */
  connectionsPerPool: number | ((tenantId: string) => number);
  /** Pools open at once, counting pools still opening or closing; 1 to 100,000. */
  maxPools: number;
  /**
   * Connections all pools together may hold (the sum of their `connectionsPerPool`), below the
   * server's `max_connections` divided by the number of application processes; 1 to 1,000,000.
   */
  maxConnections: number;
  /** A pool unused this long (milliseconds, by `clock`) is closed. Default 60,000; at least 1. */
  idleTimeoutMs?: number;
  /**
   * How long an acquisition waits for room before `TENANT_POOL_EXHAUSTED`, in milliseconds of
   * real time (not `clock`). Default 10,000; 0 fails at once when nothing is free.
   */
  acquireTimeoutMs?: number;
  /**
   * How often idle pools are looked for, in milliseconds (an unref'd timer), or `false` for no
   * timer (call {@link TenantDatabaseRouter.evictIdlePools} yourself). Default: `idleTimeoutMs`
   * halved, between 1 and 60 seconds.
   */
  evictionIntervalMs?: number | false;
  /** The clock idle times are measured with. Default: the system clock. */
  clock?: Clock;
  /** Creates and drops tenant databases; needed by `provision` and `deprovision`. */
  provisioner?: TenantDatabaseProvisioner;
  /**
   * The SQL the handles compile: `'postgres'`, `'mysql'`, `'sqlite'` or a Kysely `Dialect`
   * (only its adapter, compiler and introspector are used). Default: the provisioner's.
   * With a name, every pool `openDatabase` returns is checked to speak it.
   */
  sqlDialect?: SqlDialect | TenantHandleDialect;
  /**
   * Derives a tenant's database name; default {@link tenantDatabaseName} with
   * `databaseNamePrefix` and the provisioner's name limit. A custom function must be
   * deterministic and injective; its names are validated like the default's, and two tenants
   * whose pools are open with the same name fail with `CONFIGURATION_INVALID`.
   */
  databaseName?: (tenantId: string) => string;
  /** The prefix of default database names. Default `'tenant_'`. */
  databaseNamePrefix?: string;
  /** The migrations `provision` and `migrate` run in each tenant database. */
  migrations?: TenantDatabaseMigrationOptions;
  /** Told when closing a pool failed (it is forgotten either way), e.g. to log it. */
  onPoolError?: (error: unknown, event: { readonly tenantId: string; readonly operation: 'destroy' }) => void;
}

/**
 * What {@link TenantDatabaseRouter.provision} did.
 *
 * @example
 * ```ts
 * const { created, applied } = await runAsSystem({ reason: 'onboarding' }, () => router.provision('acme'));
 * ```
 */
export interface TenantDatabaseProvisionResult extends TenantDatabaseMigrationResult {
  /** False when the database existed already (a retried provisioning). */
  readonly created: boolean;
}

/**
 * What {@link TenantDatabaseRouter.deprovision} did.
 *
 * @example
 * ```ts
 * const { dropped } = await runAsSystem({ reason: 'offboarding' }, () => router.deprovision('acme'));
 * ```
 */
export interface TenantDatabaseDeprovisionResult {
  readonly tenantId: string;
  readonly databaseName: string;
  /** Whether this process had a pool open to it (it was closed first). */
  readonly closedPool: boolean;
  /** False when the database did not exist (a retried deprovisioning). */
  readonly dropped: boolean;
}

/**
 * Routes each tenant to its own database through a bounded set of pools. Created by
 * {@link createTenantDatabaseRouter}.
 *
 * @example
 * ```ts
 * app.get('/projects', async (req, res) => {
 *   res.json(await router.db().selectFrom('projects').selectAll().execute()); // the tenant in scope
 * });
 * ```
 */
export interface TenantDatabaseRouter<DB> {
  /**
   * A Kysely handle on the database of the tenant in scope. Every connection it checks out
   * borrows the tenant's pool (opening it, or waiting for room) and gives it back afterwards,
   * so the pool is never evicted mid-query or mid-transaction. Handles are cheap and cached;
   * they only run in their tenant's scope (or the system scope) and do not stream (use
   * {@link TenantDatabaseRouter.withDatabase} for `.stream()`). A handle owns no connection:
   * its `destroy()` does nothing, the router closes the pools.
   *
   * @throws `TENANT_SCOPE_REQUIRED` outside a tenant scope (the system scope included).
   *
   * @example
   * ```ts
   * await runWithTenant('acme', () => router.db().insertInto('projects').values({ id, name }).execute());
   * ```
   */
  db(): Kysely<DB>;
  /**
   * The handle of a named tenant, for cross-tenant work (reports, maintenance jobs).
   *
   * @throws `TENANT_SCOPE_REQUIRED` outside `runAsSystem`; `TENANT_SCOPE_CONFLICT` in another
   *   tenant's scope (its own tenant's scope is fine); `TENANT_IDENTIFIER_INVALID`.
   *
   * @example
   * ```ts
   * await runAsSystem({ reason: 'usage-report' }, async () => {
   *   for (const tenantId of tenantIds) totals.set(tenantId, await router.forTenant(tenantId).selectFrom('projects').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow());
   * });
   * ```
   */
  forTenant(tenantId: string): Kysely<DB>;
  /**
   * Runs `fn` with the tenant-in-scope's pool itself, leased for the whole call: for
   * streaming, `sql` helpers that need the raw instance, or a batch of queries that should not
   * re-lease each time.
   *
   * @throws `TENANT_SCOPE_REQUIRED` outside a tenant scope; `TENANT_POOL_EXHAUSTED`.
   *
   * @example
   * ```ts
   * await router.withDatabase(async (db) => {
   *   for await (const row of db.selectFrom('events').selectAll().stream()) exporter.write(row);
   * });
   * ```
   */
  withDatabase<R>(fn: (db: Kysely<DB>) => Promise<R> | R): Promise<R>;
  /**
   * {@link TenantDatabaseRouter.withDatabase} for a named tenant, inside `runAsSystem` only.
   *
   * @example
   * ```ts
   * await runAsSystem({ reason: 'backup' }, () => router.withTenantDatabase('acme', (db) => dump(db)));
   * ```
   */
  withTenantDatabase<R>(tenantId: string, fn: (db: Kysely<DB>) => Promise<R> | R): Promise<R>;
  /**
   * The tenant's database name.
   *
   * @example
   * ```ts
   * router.databaseNameOf('acme'); // 'tenant_acme'
   * ```
   */
  databaseNameOf(tenantId: string): string;
  /**
   * Creates the tenant's database (unless it exists) and runs the migrations in it; inside
   * `runAsSystem`. Idempotent, so a retried onboarding step is safe. When this call created the
   * database and the migrations fail, the database is dropped again before the error is thrown.
   * Calls for one tenant in this process run one after the other.
   *
   * @throws `TENANT_SCOPE_REQUIRED` outside the system scope; `CONFIGURATION_INVALID` without a
   *   provisioner; `TENANT_MIGRATION_FAILED`; provisioner errors (`STORE_UNAVAILABLE`).
   *
   * @example
   * ```ts
   * await runAsSystem({ reason: 'onboarding', actor: 'signup' }, () => router.provision(tenant.id));
   * ```
   */
  provision(tenantId: string): Promise<TenantDatabaseProvisionResult>;
  /**
   * Runs pending migrations in an existing tenant database; inside `runAsSystem`. Run it for
   * every tenant on deploy (see the drift note on {@link createTenantDatabaseRouter}).
   *
   * @throws `TENANT_SCOPE_REQUIRED`, `CONFIGURATION_INVALID` without migrations, `TENANT_MIGRATION_FAILED`.
   *
   * @example
   * ```ts
   * for (const tenantId of tenantIds) await runAsSystem({ reason: 'deploy' }, () => router.migrate(tenantId));
   * ```
   */
  migrate(tenantId: string): Promise<TenantDatabaseMigrationResult>;
  /**
   * Closes the tenant's pool in this process (new requests for the tenant get
   * `TENANT_NOT_READY` meanwhile; leases in use are waited for) and then drops its database;
   * inside `runAsSystem`. Idempotent. Other processes' pools are disconnected by the engine
   * where it can (PostgreSQL `WITH (FORCE)`, MySQL `KILL`); stop routing requests to the tenant
   * (suspend or offboard it in the registry) first.
   *
   * @throws `TENANT_SCOPE_REQUIRED`, `CONFIGURATION_INVALID` without a provisioner, provisioner errors.
   *
   * @example
   * ```ts
   * await runAsSystem({ reason: 'offboarding' }, () => router.deprovision('acme'));
   * ```
   */
  deprovision(tenantId: string): Promise<TenantDatabaseDeprovisionResult>;
  /**
   * Closes the tenant's pool in this process now, after its leases end (e.g. before restoring
   * the tenant's database from a backup); the next request opens a new one. Inside `runAsSystem`.
   * Resolves whether a pool was open.
   *
   * @example
   * ```ts
   * await runAsSystem({ reason: 'restore' }, () => router.closeTenant('acme'));
   * ```
   */
  closeTenant(tenantId: string): Promise<boolean>;
  /**
   * Closes every pool idle for `idleTimeoutMs` now; resolves how many. The eviction timer
   * calls it.
   *
   * @example
   * ```ts
   * clock.advance(60_000);
   * await router.evictIdlePools(); // 3
   * ```
   */
  evictIdlePools(): Promise<number>;
  /**
   * How many pools, connections, leases and waiting requests there are.
   *
   * @example
   * ```ts
   * metrics.gauge('tenant_db_connections', router.stats().connections);
   * ```
   */
  stats(): TenantPoolStats;
  /**
   * Stops the eviction timer, refuses new work, waits for the leases in use and destroys every
   * pool. The provisioner's admin connection is the application's to close.
   *
   * @example
   * ```ts
   * process.once('SIGTERM', () => void router.close());
   * ```
   */
  close(): Promise<void>;
}

const functionSchema = z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', 'must be a function');

const optionsSchema = z.strictObject({
  openDatabase: functionSchema,
  connectionsPerPool: z.union([z.number().int().min(1).max(100_000), functionSchema]),
  maxPools: z.number().int().min(1).max(100_000),
  maxConnections: z.number().int().min(1).max(1_000_000),
  idleTimeoutMs: z.number().int().min(1).max(7 * 24 * 60 * 60 * 1000).optional(),
  acquireTimeoutMs: z.number().int().min(0).max(10 * 60 * 1000).optional(),
  evictionIntervalMs: z.union([z.number().int().min(1).max(24 * 60 * 60 * 1000), z.literal(false)]).optional(),
  clock: z.custom<Clock>((value) => hasMethods(value, ['now']), 'must have now()').optional(),
  provisioner: z
    .custom<TenantDatabaseProvisioner>(
      (value) =>
        hasMethods(value, ['createDatabase', 'dropDatabase', 'databaseExists']) &&
        sqlDialects.includes((value as TenantDatabaseProvisioner).sqlDialect) &&
        Number.isInteger((value as TenantDatabaseProvisioner).maxDatabaseNameBytes),
      'must be a TenantDatabaseProvisioner',
    )
    .optional(),
  sqlDialect: z
    .union([
      z.enum(['postgres', 'mysql', 'sqlite']),
      z.custom<TenantHandleDialect>(
        (value) => hasMethods(value, ['createAdapter', 'createQueryCompiler', 'createIntrospector']),
        'must be a dialect name or have createAdapter(), createQueryCompiler() and createIntrospector()',
      ),
    ])
    .optional(),
  databaseName: functionSchema.optional(),
  databaseNamePrefix: z.string().optional(),
  migrations: z
    .custom<TenantDatabaseMigrationOptions>(
      (value) => hasMethods((value as { provider?: unknown } | null)?.provider, ['getMigrations']),
      'must be Migrator options with a provider',
    )
    .optional(),
  onPoolError: functionSchema.optional(),
});

function isKyselyLike(value: unknown): value is Kysely<any> {
  return hasMethods(value, ['selectFrom', 'connection', 'withoutPlugins', 'destroy', 'startTransaction']);
}

/**
 * Creates a {@link TenantDatabaseRouter}: **database per tenant**, the strongest isolation of
 * the three strategies (a tenant's queries physically cannot reach another tenant's rows), for
 * the tenants that need it — typically enterprise tenants, with everyone else in a shared
 * schema (see `createTenantIsolationRouter`). Options are validated now.
 *
 * The router keeps a bounded set of pools — at most `maxPools`, and at most `maxConnections`
 * connections counted with each pool's declared `connectionsPerPool` — opening a tenant's pool
 * on its first query, closing pools idle for `idleTimeoutMs`, and closing the least recently
 * used idle pool when a new one needs room. Pools in use are never closed: handles lease the
 * pool per connection checkout, `withDatabase` for its whole callback. When every pool is busy
 * a request waits up to `acquireTimeoutMs`, then fails with `TENANT_POOL_EXHAUSTED` (503).
 * Concurrent first requests for one tenant open one pool; a failed open is not cached.
 *
 * Pitfalls of database per tenant, and what to do about them:
 * - **Connection count explosion.** Every open pool holds its own connections, so `N` tenants
 *   with pools of `p` would need `N × p` server connections per process. Size
 *   `maxConnections` to the server's `max_connections` divided by your process count, minus
 *   headroom for admin and migration sessions; keep `connectionsPerPool` small (2-5); put
 *   PgBouncer (transaction pooling) in front of PostgreSQL when tenants outnumber what the
 *   server can hold. Watch {@link TenantDatabaseRouter.stats} and `TENANT_POOL_EXHAUSTED`.
 *   Pool churn (tenants evicting each other) costs a connection setup per request: raise
 *   `maxPools` or lower `connectionsPerPool` before that happens.
 * - **Migration drift.** Each database migrates on its own, so a deploy is only done when
 *   every tenant database ran {@link TenantDatabaseRouter.migrate}, and some will fail or lag.
 *   Make schema changes expand/contract (the code must work with version N and N-1), migrate
 *   all tenants before the code needs the new schema, record per-tenant failures
 *   (`TENANT_MIGRATION_FAILED` carries the failing migration) and retry them; on MySQL/MariaDB a
 *   failed migration is not rolled back, so write each migration to be re-runnable.
 * - **Backups per database.** Every tenant database is its own backup and restore unit
 *   (`pg_dump`/`mysqldump` per database, or the cluster's PITR, which restores all tenants at
 *   once). That makes restoring one tenant easy and backing up thousands of databases a job to
 *   schedule and monitor; new tenants must join the backup set on provisioning. Call
 *   {@link TenantDatabaseRouter.closeTenant} before restoring a tenant in place.
 * - **Cross-tenant reporting.** There are no joins across databases (PostgreSQL cannot, and on
 *   MySQL it would bypass the isolation you chose this for). Reports iterate tenants inside
 *   `runAsSystem` with {@link TenantDatabaseRouter.forTenant} — which churns pools, so run them
 *   off-peak or with a router of their own — or feed a warehouse from each database.
 * - Also: databases are created through an admin connection that the application role should
 *   not have; name derivation must stay stable forever (changing `databaseNamePrefix` orphans
 *   every database); SQLite pools must be opened with `fileMustExist: true`.
 *
 * @example
 * ```ts
 * const provisioner = postgresDatabaseProvisioner({ admin, owner: 'app' });
 * const router = createTenantDatabaseRouter<Database>({
 *   provisioner,
 *   openDatabase: (tenantId, { databaseName }) =>
 *     new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ host, user: 'app', database: databaseName, max: 4 }) }) }),
 *   connectionsPerPool: 4,
 *   maxPools: 20,
 *   maxConnections: 80,
 *   idleTimeoutMs: 5 * 60_000,
 *   migrations: { provider: new FileMigrationProvider({ fs, path, migrationFolder }) },
 * });
 * lifecycle.useOnboardingStep('provision-storage', tenantDatabaseOnboardingStep(router));
 * lifecycle.useOffboardingStep('delete-data', tenantDatabaseOffboardingStep(router));
 *
 * // in a request, inside the tenant scope:
 * const projects = await router.db().selectFrom('projects').selectAll().execute();
 * ```
 */
export function createTenantDatabaseRouter<DB>(options: TenantDatabaseRouterOptions<DB>): TenantDatabaseRouter<DB> {
  const parsed = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'tenant database router options');
  const { provisioner, migrations } = options;
  const clock = options.clock ?? systemClock;
  const idleTimeoutMs = parsed.idleTimeoutMs ?? 60_000;
  const acquireTimeoutMs = parsed.acquireTimeoutMs ?? 10_000;
  if (typeof parsed.connectionsPerPool === 'number' && parsed.connectionsPerPool > parsed.maxConnections) {
    throw new TenantContextError(
      'CONFIGURATION_INVALID',
      `connectionsPerPool (${parsed.connectionsPerPool}) exceeds maxConnections (${parsed.maxConnections}): not even one pool would fit`,
    );
  }
  const sqlDialect = options.sqlDialect ?? provisioner?.sqlDialect;
  if (sqlDialect === undefined) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'createTenantDatabaseRouter() needs sqlDialect (or a provisioner, which knows it)');
  }
  if (provisioner !== undefined && typeof sqlDialect === 'string' && sqlDialect !== provisioner.sqlDialect) {
    throw new TenantContextError(
      'CONFIGURATION_INVALID',
      `sqlDialect '${sqlDialect}' does not match the provisioner's '${provisioner.sqlDialect}'`,
    );
  }
  const handleDialect = handleDialectOf(sqlDialect);
  const maxNameBytes = provisioner?.maxDatabaseNameBytes ?? 63;
  const prefix = options.databaseNamePrefix;
  // Fails now on a bad prefix rather than on the first request.
  if (prefix !== undefined) tenantDatabaseName('a', { prefix, maxBytes: 255 });
  const customName = options.databaseName;
  const databaseNameOf = (tenantId: string): string => {
    assertTenantId(tenantId);
    if (customName === undefined) return tenantDatabaseName(tenantId, { prefix, maxBytes: maxNameBytes });
    const name = customName(tenantId);
    assertTenantDatabaseName(name, maxNameBytes);
    return name;
  };
  const connectionsFor =
    typeof options.connectionsPerPool === 'number'
      ? (() => {
          const connections = options.connectionsPerPool;
          return () => connections;
        })()
      : options.connectionsPerPool;

  /** Database names with an open (or opening, or closing) pool, to catch a non-injective custom `databaseName`. */
  const liveNames = new Map<string, { tenantId: string; pools: number }>();
  const forgetName = (databaseName: string) => {
    const live = liveNames.get(databaseName);
    if (live === undefined) return;
    if (live.pools <= 1) liveNames.delete(databaseName);
    else live.pools -= 1;
  };
  const databaseNameOfPool = new WeakMap<object, string>();

  const pools = new TenantPoolSet<Kysely<DB>>({
    maxPools: parsed.maxPools,
    maxConnections: parsed.maxConnections,
    idleTimeoutMs,
    acquireTimeoutMs,
    clock,
    connectionsFor,
    async open(tenantId) {
      const databaseName = databaseNameOf(tenantId);
      const live = liveNames.get(databaseName);
      if (live !== undefined && live.tenantId !== tenantId) {
        throw new TenantContextError(
          'CONFIGURATION_INVALID',
          `databaseName() maps tenants ${live.tenantId} and ${tenantId} to the same database "${databaseName}"; it must be injective`,
          { details: { databaseName } },
        );
      }
      liveNames.set(databaseName, { tenantId, pools: (live?.pools ?? 0) + 1 });
      let db: Kysely<DB>;
      try {
        db = await options.openDatabase(tenantId, Object.freeze({ databaseName }));
      } catch (error) {
        forgetName(databaseName);
        throw error;
      }
      if (!isKyselyLike(db)) {
        forgetName(databaseName);
        throw new TenantContextError('CONFIGURATION_INVALID', `openDatabase() did not return a Kysely instance for tenant ${tenantId}`);
      }
      if (typeof sqlDialect === 'string') {
        let spoken: SqlDialect | undefined;
        try {
          spoken = detectSqlDialect(db);
        } catch {
          spoken = undefined; // An unrecognisable adapter: trust the configuration.
        }
        if (spoken !== undefined && spoken !== sqlDialect) {
          forgetName(databaseName);
          await db.destroy().catch(() => undefined);
          throw new TenantContextError(
            'CONFIGURATION_INVALID',
            `openDatabase() returned a '${spoken}' Kysely instance for tenant ${tenantId}; the router compiles '${sqlDialect}'`,
          );
        }
      }
      databaseNameOfPool.set(db, databaseName);
      return db;
    },
    async destroy(db) {
      const databaseName = databaseNameOfPool.get(db);
      try {
        await db.destroy();
      } finally {
        if (databaseName !== undefined) forgetName(databaseName);
      }
    },
    onDestroyError(error, tenantId) {
      options.onPoolError?.(error, { tenantId, operation: 'destroy' });
    },
  });

  const acquire = (tenantId: string) => pools.acquire(tenantId) as Promise<TenantPoolLease<Kysely<any>>>;
  // Handles hold no connection, only the tenant id; a bounded cache keeps db() allocation-free
  // on the hot path without growing with every tenant ever seen.
  const handleCacheLimit = Math.min(Math.max(parsed.maxPools * 2, 64), 10_000);
  const handles = new Map<string, Kysely<DB>>();
  const handleOf = (tenantId: string): Kysely<DB> => {
    let handle = handles.get(tenantId);
    if (handle === undefined) {
      handle = createLeasedTenantHandle<DB>(tenantId, acquire, handleDialect);
      if (handles.size >= handleCacheLimit) handles.delete(handles.keys().next().value as string);
      handles.set(tenantId, handle);
    }
    return handle;
  };

  const requireSystemScope = (operation: string): void => {
    if (currentScope()?.kind !== 'system') {
      throw new TenantContextError('TENANT_SCOPE_REQUIRED', `router.${operation}() works across tenants and needs runAsSystem()`);
    }
  };
  const requireProvisioner = (operation: string): TenantDatabaseProvisioner => {
    if (provisioner === undefined) {
      throw new TenantContextError('CONFIGURATION_INVALID', `router.${operation}() needs the router to have a provisioner`);
    }
    return provisioner;
  };

  const withLease = async <R>(tenantId: string, fn: (db: Kysely<DB>) => Promise<R> | R): Promise<R> => {
    if (typeof fn !== 'function') throw new TenantContextError('VALIDATION_FAILED', 'withDatabase() needs a function');
    const lease = await pools.acquire(tenantId);
    try {
      return await fn(lease.pool);
    } finally {
      lease.release();
    }
  };

  // provision / migrate / deprovision of one tenant run one after the other in this process.
  const adminQueue = new Map<string, Promise<unknown>>();
  const exclusively = <R>(tenantId: string, operation: () => Promise<R>): Promise<R> => {
    const previous = adminQueue.get(tenantId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(operation);
    const settled = next.catch(() => undefined);
    adminQueue.set(tenantId, settled);
    void settled.then(() => {
      if (adminQueue.get(tenantId) === settled) adminQueue.delete(tenantId);
    });
    return next;
  };

  const migrateNow = (tenantId: string, databaseName: string): Promise<TenantDatabaseMigrationResult> => {
    if (migrations === undefined) return Promise.resolve({ tenantId, databaseName, applied: [] });
    return withLease(tenantId, (db) => migrateTenantDatabase(db as Kysely<any>, migrations, { tenantId, databaseName }));
  };

  let evictionTimer: ReturnType<typeof setInterval> | undefined;
  const evictionIntervalMs =
    parsed.evictionIntervalMs === undefined ? Math.min(Math.max(Math.floor(idleTimeoutMs / 2), 1000), 60_000) : parsed.evictionIntervalMs;
  if (evictionIntervalMs !== false) {
    evictionTimer = setInterval(() => {
      pools.evictIdle().catch(() => undefined);
    }, evictionIntervalMs);
    // The timer must never keep a process alive that is otherwise done.
    evictionTimer.unref?.();
  }

  return Object.freeze({
    db() {
      return handleOf(requireTenantId());
    },

    forTenant(tenantId: string) {
      assertTenantId(tenantId);
      const scope = currentScope();
      if (scope === undefined) {
        throw new TenantContextError('TENANT_SCOPE_REQUIRED', 'router.forTenant() works across tenants and needs runAsSystem()');
      }
      if (scope.kind === 'tenant' && scope.tenantId !== tenantId) {
        throw new TenantContextError(
          'TENANT_SCOPE_CONFLICT',
          `router.forTenant(${tenantId}) was called in the scope of tenant ${scope.tenantId}; cross-tenant work needs runAsSystem()`,
        );
      }
      return handleOf(tenantId);
    },

    withDatabase<R>(fn: (db: Kysely<DB>) => Promise<R> | R) {
      let tenantId: string;
      try {
        tenantId = requireTenantId();
      } catch (error) {
        return Promise.reject(error);
      }
      return withLease(tenantId, fn);
    },

    async withTenantDatabase<R>(tenantId: string, fn: (db: Kysely<DB>) => Promise<R> | R) {
      assertTenantId(tenantId);
      requireSystemScope('withTenantDatabase');
      return withLease(tenantId, fn);
    },

    databaseNameOf,

    async provision(tenantId: string) {
      assertTenantId(tenantId);
      requireSystemScope('provision');
      const engine = requireProvisioner('provision');
      const databaseName = databaseNameOf(tenantId);
      return exclusively(tenantId, async () => {
        const { created } = await engine.createDatabase(databaseName);
        try {
          const migrated = await migrateNow(tenantId, databaseName);
          return { ...migrated, created };
        } catch (error) {
          // Nothing half-made stays behind: a database this call created goes again.
          if (created) {
            let dropped = false;
            try {
              await pools.withTenantClosed(tenantId, () => engine.dropDatabase(databaseName));
              dropped = true;
            } catch {
              // Reported below; a later deprovision (the step's compensation) removes it.
            }
            if (error instanceof TenantContextError && error.code === 'TENANT_MIGRATION_FAILED') {
              throw new TenantContextError('TENANT_MIGRATION_FAILED', error.message, {
                cause: error.cause,
                details: { ...error.details, databaseDropped: dropped },
              });
            }
          }
          throw error;
        }
      });
    },

    async migrate(tenantId: string) {
      assertTenantId(tenantId);
      requireSystemScope('migrate');
      if (migrations === undefined) {
        throw new TenantContextError('CONFIGURATION_INVALID', 'router.migrate() needs the router to have migrations');
      }
      const databaseName = databaseNameOf(tenantId);
      return exclusively(tenantId, () => migrateNow(tenantId, databaseName));
    },

    async deprovision(tenantId: string) {
      assertTenantId(tenantId);
      requireSystemScope('deprovision');
      const engine = requireProvisioner('deprovision');
      const databaseName = databaseNameOf(tenantId);
      return exclusively(tenantId, () =>
        pools.withTenantClosed(tenantId, async (closedPool) => {
          const { dropped } = await engine.dropDatabase(databaseName);
          return { tenantId, databaseName, closedPool, dropped };
        }),
      );
    },

    async closeTenant(tenantId: string) {
      assertTenantId(tenantId);
      requireSystemScope('closeTenant');
      return pools.withTenantClosed(tenantId, async (closedPool) => closedPool);
    },

    evictIdlePools() {
      return pools.evictIdle();
    },

    stats() {
      return pools.stats();
    },

    close() {
      if (evictionTimer !== undefined) clearInterval(evictionTimer);
      evictionTimer = undefined;
      handles.clear();
      return pools.close();
    },
  });
}
