import { AsyncLocalStorage } from 'node:async_hooks';
import {
  DefaultConnectionProvider,
  Kysely,
  PostgresIntrospector,
  PostgresQueryCompiler,
  sql,
  type Dialect,
  type Transaction,
} from 'kysely';
import { detectSqlDialect } from '../../adapters/kysely/sql-dialect.js';
import { TenantContextError } from '../../errors.js';
import { currentScope, runAsSystem } from '../../scope/tenant-scope.js';
import type { RowLevelSecurityClaim } from './row-level-security-connection.js';
import { RowLevelSecurityDriver } from './row-level-security-driver.js';
import { assertSettingName, rowLevelSecurityDefaults } from './row-level-security-names.js';

/**
 * What {@link RowLevelSecurityDatabaseOptions.bypass | bypass.onBypass} hears before a system
 * unit of work lifts tenant isolation.
 *
 * @example
 * ```ts
 * const onBypass = (event: RowLevelSecurityBypassEvent) => audit.record('rls.bypass', event);
 * ```
 */
export interface RowLevelSecurityBypassEvent {
  /** Why isolation is lifted, as passed to {@link RowLevelSecurityDatabase.systemUnitOfWork}. */
  readonly reason: string;
  /** The job or operator acting, if given. */
  readonly actor: string | undefined;
}

/**
 * Options of {@link createRowLevelSecurityDatabase}.
 *
 * @example
 * ```ts
 * const options: RowLevelSecurityDatabaseOptions = {
 *   tenantSetting: 'app.tenant_id',
 *   bypass: { onBypass: (event) => audit.record('rls.bypass', event) },
 * };
 * ```
 */
export interface RowLevelSecurityDatabaseOptions {
  /**
   * The setting the tenant policies read with `current_setting(..., true)`. Default
   * `'app.tenant_id'`; must match what `enableTenantRowLevelSecurity` was given.
   */
  tenantSetting?: string;
  /**
   * Enables {@link RowLevelSecurityDatabase.systemUnitOfWork}. Without it, the bypass cannot be
   * reached through this handle at all.
   */
  bypass?: {
    /** The setting the bypass policy reads; default `'app.tenantkit_bypass'`. */
    setting?: string;
    /**
     * The audit hook, awaited before every system unit of work starts. When it throws or
     * rejects, the unit does not run (no audit, no bypass).
     */
    onBypass: (event: RowLevelSecurityBypassEvent) => void | Promise<void>;
  };
}

/**
 * Options of one unit of work: the transaction's isolation level and access mode. A nested unit
 * runs in its parent's transaction and may only repeat the parent's values.
 *
 * @example
 * ```ts
 * await rls.unitOfWork({ isolationLevel: 'serializable' }, async (trx) => { ... });
 * ```
 */
export interface UnitOfWorkOptions {
  /** Postgres isolation level; default the server's (`read committed`). */
  isolationLevel?: 'read uncommitted' | 'read committed' | 'repeatable read' | 'serializable';
  /** `'read only'` or `'read write'` (the default). */
  accessMode?: 'read only' | 'read write';
}

/**
 * Options of {@link RowLevelSecurityDatabase.systemUnitOfWork}.
 *
 * @example
 * ```ts
 * const options: SystemUnitOfWorkOptions = { reason: 'nightly-usage-rollup', actor: 'cron' };
 * ```
 */
export interface SystemUnitOfWorkOptions extends UnitOfWorkOptions {
  /** Why isolation is lifted; required and recorded through `onBypass` and `runAsSystem`. */
  reason: string;
  /** The job or operator acting. */
  actor?: string;
}

/**
 * A Postgres database whose every query runs under row-level security for the tenant in scope.
 * See {@link createRowLevelSecurityDatabase}.
 *
 * @example
 * ```ts
 * const rows = await runWithTenant('tnt_acme', () => rls.db.selectFrom('projects').selectAll().execute());
 * ```
 */
export interface RowLevelSecurityDatabase<DB> {
  /**
   * A Kysely instance on the same pool. Each query outside a transaction runs in a short
   * transaction of its own with the tenant of the current scope set locally; `db.transaction()`
   * and `db.startTransaction()` set it once at BEGIN. Outside a tenant scope every query rejects
   * with `TENANT_SCOPE_REQUIRED` before a connection is borrowed.
   *
   * @example
   * ```ts
   * await runWithTenant('tnt_acme', () => sql`select * from projects`.execute(rls.db)); // acme's rows only
   * ```
   */
  readonly db: Kysely<DB>;
  /**
   * Runs `work` in one transaction with the tenant of the current scope set locally, commits
   * when it resolves and rolls back when it throws. Called inside another unit of work (of the
   * same tenant, found through the async scope, so services need not pass the transaction
   * around) it becomes a savepoint of that unit: when the inner `work` throws, only its part is
   * rolled back and the error propagates, and the outer unit may catch it and go on. Nested units
   * of one parent run one after another; await them inside the parent. `work` gets the unit's
   * `Transaction`; use it, not {@link RowLevelSecurityDatabase.db}, whose queries run on another
   * connection outside the unit (and can exhaust a small pool while units hold its connections;
   * on PGlite, with its single connection, they wait forever). A transaction opened with
   * `db.transaction()` is not a unit: a unit inside it opens a transaction of its own.
   *
   * @throws TenantContextError `TENANT_SCOPE_REQUIRED` outside a tenant scope (no SQL is sent);
   *   `TENANT_SCOPE_CONFLICT` inside a system unit of work; `VALIDATION_FAILED` for bad options;
   *   `TENANT_ISOLATION_VIOLATION` when a statement writes a row of another tenant.
   * @example
   * ```ts
   * await runWithTenant('tnt_acme', () =>
   *   rls.unitOfWork(async (trx) => {
   *     await trx.insertInto('projects').values({ id: 'p1', name: 'Roadmap' }).execute();
   *     await rls.unitOfWork(async (inner) => { ... }); // a savepoint of the outer unit
   *   }),
   * );
   * ```
   */
  unitOfWork<Result>(work: (trx: Transaction<DB>) => Promise<Result>): Promise<Result>;
  unitOfWork<Result>(options: UnitOfWorkOptions, work: (trx: Transaction<DB>) => Promise<Result>): Promise<Result>;
  /**
   * Runs `work` in one transaction that sees and may write the rows of every tenant: the bypass
   * setting is `'on'` locally, which the bypass policy lets through. Only available when the
   * handle was created with `bypass.onBypass`, which is awaited first (the audit); `work` then
   * runs in `runAsSystem({ reason, actor })`, so `onSystemScopeEntered` listeners hear it too and
   * tenant-scoped code inside refuses to run. Only `work`'s `Transaction` bypasses: queries on
   * {@link RowLevelSecurityDatabase.db} inside it still need a tenant scope. Nested inside
   * another system unit it becomes a savepoint; inside a tenant unit it is refused.
   *
   * @throws TenantContextError `CONFIGURATION_INVALID` when the bypass is not configured;
   *   `VALIDATION_FAILED` without a reason; `TENANT_SCOPE_CONFLICT` inside a tenant unit of work.
   * @example
   * ```ts
   * await rls.systemUnitOfWork({ reason: 'purge-expired-invites', actor: 'cron' }, (trx) =>
   *   trx.deleteFrom('invites').where('expires_at', '<', new Date()).execute(),
   * );
   * ```
   */
  systemUnitOfWork<Result>(options: SystemUnitOfWorkOptions, work: (trx: Transaction<DB>) => Promise<Result>): Promise<Result>;
}

interface ActiveUnit {
  readonly kind: 'tenant' | 'system';
  readonly tenantId: string | undefined;
  readonly trx: Transaction<any>;
  readonly options: UnitOfWorkOptions;
  /** Shared by every unit of one transaction, so savepoint names never repeat. */
  readonly savepoints: { count: number };
  open: boolean;
  /** Serializes the nested units of this unit: savepoints on one connection cannot interleave. */
  childQueue: Promise<void>;
}

/** Marks the one connection acquisition a system unit of work may claim for the bypass. */
interface BypassRequest {
  claimed: boolean;
}

const isolationLevels: ReadonlySet<string> = new Set(['read uncommitted', 'read committed', 'repeatable read', 'serializable']);
const accessModes: ReadonlySet<string> = new Set(['read only', 'read write']);
const MAX_REASON_LENGTH = 500;

/**
 * Wraps a Kysely instance connected to Postgres **as the application role** so that every query
 * runs under row-level security for the tenant in scope: each transaction begins with
 * `select set_config('app.tenant_id', <tenant>, true)`, whose value Postgres drops at COMMIT or
 * ROLLBACK (SET LOCAL semantics), so a pooled connection never carries a tenant to its next
 * borrower. The policies come from `enableTenantRowLevelSecurity` in a migration; check the role
 * at startup with `assertRowLevelSecurityEnforced`. Refused rows (`WITH CHECK`) reject with
 * `TENANT_ISOLATION_VIOLATION`; other driver errors pass through as they are.
 *
 * The wrapped instance keeps working unscoped; as the application role it sees no rows at all
 * (no setting, so the policies match nothing). Destroying the handle destroys it.
 *
 * Each statement outside a unit of work costs three extra round trips (BEGIN, the settings,
 * COMMIT); group the statements of one request in {@link RowLevelSecurityDatabase.unitOfWork}.
 *
 * Pitfalls row-level security does not cover — check each when you rely on it:
 * - **Superusers and `BYPASSRLS` roles ignore every policy**, and so does a role that can
 *   `SET ROLE` to one. The application must connect as its own role without either.
 * - **The table owner ignores policies unless the table has `FORCE ROW LEVEL SECURITY`**
 *   (`enableTenantRowLevelSecurity` sets it). An owner can also `ALTER TABLE ... DISABLE ROW LEVEL
 *   SECURITY`, so let a separate role own the tables and run migrations.
 * - **Views run with their owner's rights**: a view owned by the table owner shows every tenant's
 *   rows unless it is created `WITH (security_invoker = true)` (Postgres 15+).
 * - **`SECURITY DEFINER` functions** run as their owner and bypass the policies for the same reason;
 *   keep tenant data out of them, or make them `SECURITY INVOKER`.
 * - **`set_config(..., false)` or plain `SET`** set the value for the whole session: with a pool,
 *   and above all with PgBouncer in transaction mode, the next request on that server connection
 *   inherits it. Only ever set the tenant transaction-locally, as this handle does (it also
 *   overrides stale session values at every BEGIN, but raw pool users are not protected).
 * - **`TRUNCATE` is not subject to row-level security** and empties the table for every tenant;
 *   grant the application role no `TRUNCATE`. **Foreign-key checks and cascades** run without
 *   the policies too: a foreign key to another tenant's row is accepted, and its existence can be
 *   probed. Put `tenant_id` in every key and foreign key (`(tenant_id, id)`).
 * - **Unique constraints span tenants**: a key that is unique across the table (not per tenant)
 *   leaks the existence of another tenant's value through the unique violation.
 * - **SQL injection is not stopped**: the setting is an ordinary one any statement can change with
 *   `set_config()`, so row-level security guards against forgotten `WHERE` clauses, not against
 *   injected SQL. Keep the bypass policy `TO` a separate jobs role (`bypass: { roles }` in the
 *   migration) where that matters.
 * - **Partitions and inheritance children** queried directly use their own policies, not the
 *   parent's; enable row-level security on each.
 *
 * @throws TenantContextError `CONFIGURATION_INVALID` when `db` is not a root Kysely instance
 *   for Postgres or an option is invalid.
 * @example
 * ```ts
 * import { Kysely, PostgresDialect, sql } from 'kysely';
 * import pg from 'pg';
 * import { runWithTenant } from '@tenantkit/tenant-context';
 * import { assertRowLevelSecurityEnforced, createRowLevelSecurityDatabase } from '@tenantkit/tenant-context/kysely';
 *
 * const appDb = new Kysely<Database>({
 *   dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: 'postgres://app_user@db/app', max: 10 }) }),
 * });
 * await assertRowLevelSecurityEnforced(appDb, { tables: ['projects', 'tasks'] });
 * const rls = createRowLevelSecurityDatabase(appDb, {
 *   bypass: { onBypass: (event) => audit.record('rls.bypass', event) },
 * });
 *
 * // In a request, after the tenant was resolved:
 * await runWithTenant('tnt_acme', async () => {
 *   await sql`select * from projects`.execute(rls.db); // acme's projects only, no WHERE needed
 *   await rls.unitOfWork(async (trx) => {
 *     await trx.insertInto('projects').values({ tenant_id: 'tnt_acme', id: 'p1', name: 'Roadmap' }).execute();
 *   });
 * });
 * ```
 */
export function createRowLevelSecurityDatabase<DB>(
  db: Kysely<DB>,
  options: RowLevelSecurityDatabaseOptions = {},
): RowLevelSecurityDatabase<DB> {
  assertRootPostgresKysely(db);
  if (typeof options !== 'object' || options === null) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'createRowLevelSecurityDatabase() options must be an object');
  }
  const tenantSetting = options.tenantSetting ?? rowLevelSecurityDefaults.tenantSetting;
  assertSettingName(tenantSetting, 'tenantSetting');
  const bypass = options.bypass;
  if (bypass !== undefined && (typeof bypass !== 'object' || bypass === null || typeof bypass.onBypass !== 'function')) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'bypass needs { onBypass }: a system unit of work is always audited');
  }
  const bypassSetting = bypass?.setting ?? rowLevelSecurityDefaults.bypassSetting;
  assertSettingName(bypassSetting, 'bypass.setting');
  if (bypassSetting === tenantSetting) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'bypass.setting must differ from tenantSetting');
  }
  const onBypass = bypass?.onBypass;

  const units = new AsyncLocalStorage<ActiveUnit>();
  const bypassRequests = new AsyncLocalStorage<BypassRequest>();

  const claimScope = (): RowLevelSecurityClaim => {
    const request = bypassRequests.getStore();
    if (request !== undefined && !request.claimed) {
      request.claimed = true;
      return { kind: 'bypass' };
    }
    return { kind: 'tenant', tenantId: requireTenantInScope() };
  };

  const innerExecutor = db.getExecutor();
  const driver = new RowLevelSecurityDriver({
    connections: innerExecutor,
    claimScope,
    settings: { tenantSetting, bypassSetting },
    destroy: () => db.destroy(),
  });
  const dialect: Dialect = {
    createAdapter: () => innerExecutor.adapter,
    createDriver: () => driver,
    createQueryCompiler: () => new PostgresQueryCompiler(),
    createIntrospector: (introspected) => new PostgresIntrospector(introspected),
  };
  // The wrapped instance's executor keeps its compiler, adapter and plugins; only the connection
  // provider changes, to one that borrows through the scoping driver.
  const scopedDb = new Kysely<DB>({
    config: { dialect },
    dialect,
    driver,
    executor: innerExecutor.withConnectionProvider(new DefaultConnectionProvider(driver)),
  });

  const runTopLevel = <Result>(
    kind: ActiveUnit['kind'],
    tenantId: string | undefined,
    unitOptions: UnitOfWorkOptions,
    work: (trx: Transaction<DB>) => Promise<Result>,
  ): Promise<Result> => {
    let builder = scopedDb.transaction();
    if (unitOptions.isolationLevel !== undefined) builder = builder.setIsolationLevel(unitOptions.isolationLevel);
    if (unitOptions.accessMode !== undefined) builder = builder.setAccessMode(unitOptions.accessMode);
    return builder.execute(async (trx) => {
      const unit: ActiveUnit = {
        kind,
        tenantId,
        trx,
        options: unitOptions,
        savepoints: { count: 0 },
        open: true,
        childQueue: Promise.resolve(),
      };
      try {
        return await units.run(unit, () => work(trx));
      } finally {
        unit.open = false;
      }
    });
  };

  const runNested = <Result>(
    parent: ActiveUnit,
    unitOptions: UnitOfWorkOptions,
    work: (trx: Transaction<DB>) => Promise<Result>,
  ): Promise<Result> => {
    assertOptionsFitParent(unitOptions, parent.options);
    const runInSavepoint = async (): Promise<Result> => {
      if (!parent.open) {
        throw new TenantContextError(
          'VALIDATION_FAILED',
          'A nested unit of work started after its enclosing unit ended; await nested units inside the outer one',
        );
      }
      parent.savepoints.count += 1;
      const savepoint = sql.id(`tenantkit_unit_${parent.savepoints.count}`);
      const trx = parent.trx as Transaction<DB>;
      await sql`savepoint ${savepoint}`.execute(trx);
      const child: ActiveUnit = { ...parent, open: true, childQueue: Promise.resolve() };
      let result: Result;
      try {
        result = await units.run(child, () => work(trx));
      } catch (error) {
        child.open = false;
        try {
          await sql`rollback to savepoint ${savepoint}`.execute(trx);
          await sql`release savepoint ${savepoint}`.execute(trx);
        } catch {
          // The connection or the outer transaction is broken; the outer unit's COMMIT or
          // ROLLBACK reports that, and the inner error is the one to surface here.
        }
        throw error;
      }
      child.open = false;
      await sql`release savepoint ${savepoint}`.execute(trx);
      return result;
    };
    const run = parent.childQueue.then(runInSavepoint);
    parent.childQueue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  };

  async function unitOfWork<Result>(
    optionsOrWork: UnitOfWorkOptions | ((trx: Transaction<DB>) => Promise<Result>),
    maybeWork?: (trx: Transaction<DB>) => Promise<Result>,
  ): Promise<Result> {
    const [unitOptions, work] =
      typeof optionsOrWork === 'function' ? [{}, optionsOrWork] : [parseUnitOptions(optionsOrWork), maybeWork];
    assertWork(work, 'unitOfWork()');
    const tenantId = requireTenantInScope();
    const parent = units.getStore();
    if (parent?.open === true) {
      if (parent.kind !== 'tenant' || parent.tenantId !== tenantId) {
        throw new TenantContextError(
          'TENANT_SCOPE_CONFLICT',
          'A tenant unit of work cannot nest inside a system unit of work; run it on its own',
        );
      }
      return runNested(parent, unitOptions, work);
    }
    return runTopLevel('tenant', tenantId, unitOptions, work);
  }

  async function systemUnitOfWork<Result>(
    systemOptions: SystemUnitOfWorkOptions,
    work: (trx: Transaction<DB>) => Promise<Result>,
  ): Promise<Result> {
    if (onBypass === undefined) {
      throw new TenantContextError(
        'CONFIGURATION_INVALID',
        'systemUnitOfWork() needs the handle to be created with { bypass: { onBypass } } (and the tables migrated with the bypass policy)',
      );
    }
    const { reason, actor } = parseSystemOptions(systemOptions);
    const unitOptions = parseUnitOptions({ isolationLevel: systemOptions.isolationLevel, accessMode: systemOptions.accessMode });
    assertWork(work, 'systemUnitOfWork()');
    const parent = units.getStore();
    if (parent?.open === true && parent.kind === 'tenant') {
      throw new TenantContextError('TENANT_SCOPE_CONFLICT', 'A system unit of work cannot nest inside a tenant unit of work');
    }
    try {
      await onBypass({ reason, actor });
    } catch (error) {
      if (error instanceof Error) throw error;
      throw new TenantContextError('STORE_UNAVAILABLE', 'The bypass audit hook failed; the system unit of work did not run', {
        cause: error,
      });
    }
    return runAsSystem({ reason, ...(actor === undefined ? {} : { actor }) }, () => {
      if (parent?.open === true) return runNested(parent, unitOptions, work);
      return bypassRequests.run({ claimed: false }, () => runTopLevel('system', undefined, unitOptions, work));
    });
  }

  return Object.freeze({ db: scopedDb, unitOfWork, systemUnitOfWork });
}

function requireTenantInScope(): string {
  const scope = currentScope();
  if (scope?.kind !== 'tenant') {
    throw new TenantContextError(
      'TENANT_SCOPE_REQUIRED',
      scope?.kind === 'system'
        ? 'Row-level security queries need a tenant in scope; in the system scope use systemUnitOfWork() for cross-tenant work'
        : 'Row-level security queries need a tenant in scope (runWithTenant)',
    );
  }
  return scope.tenantId;
}

function assertRootPostgresKysely(db: unknown): asserts db is Kysely<any> {
  if (typeof db !== 'object' || db === null || typeof (db as { getExecutor?: unknown }).getExecutor !== 'function') {
    throw new TenantContextError('CONFIGURATION_INVALID', 'createRowLevelSecurityDatabase() needs a Kysely instance');
  }
  const kysely = db as Kysely<any>;
  if (kysely.isTransaction) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'createRowLevelSecurityDatabase() needs the root Kysely instance, not a transaction');
  }
  if (detectSqlDialect(kysely) !== 'postgres') {
    throw new TenantContextError('CONFIGURATION_INVALID', 'Row-level security needs PostgreSQL (or PGlite); this Kysely instance speaks another dialect');
  }
}

function assertWork<Work extends (trx: Transaction<any>) => Promise<unknown>>(work: Work | undefined, what: string): asserts work is Work {
  if (typeof work !== 'function') {
    throw new TenantContextError('VALIDATION_FAILED', `${what} needs a function to run`);
  }
}

function parseUnitOptions(options: unknown): UnitOfWorkOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TenantContextError('VALIDATION_FAILED', 'Unit of work options must be an object');
  }
  const { isolationLevel, accessMode } = options as Record<string, unknown>;
  if (isolationLevel !== undefined && (typeof isolationLevel !== 'string' || !isolationLevels.has(isolationLevel))) {
    throw new TenantContextError('VALIDATION_FAILED', `isolationLevel must be one of ${[...isolationLevels].join(', ')}`);
  }
  if (accessMode !== undefined && (typeof accessMode !== 'string' || !accessModes.has(accessMode))) {
    throw new TenantContextError('VALIDATION_FAILED', `accessMode must be one of ${[...accessModes].join(', ')}`);
  }
  return {
    ...(isolationLevel === undefined ? {} : { isolationLevel: isolationLevel as NonNullable<UnitOfWorkOptions['isolationLevel']> }),
    ...(accessMode === undefined ? {} : { accessMode: accessMode as NonNullable<UnitOfWorkOptions['accessMode']> }),
  };
}

function parseSystemOptions(options: unknown): { reason: string; actor: string | undefined } {
  if (typeof options !== 'object' || options === null) {
    throw new TenantContextError('VALIDATION_FAILED', 'systemUnitOfWork() needs options with a reason');
  }
  const { reason, actor } = options as Record<string, unknown>;
  if (typeof reason !== 'string' || reason.trim() === '' || reason.length > MAX_REASON_LENGTH) {
    throw new TenantContextError('VALIDATION_FAILED', `systemUnitOfWork() needs a non-empty reason of at most ${MAX_REASON_LENGTH} characters`);
  }
  if (actor !== undefined && (typeof actor !== 'string' || actor.trim() === '' || actor.length > MAX_REASON_LENGTH)) {
    throw new TenantContextError('VALIDATION_FAILED', `actor must be a non-empty string of at most ${MAX_REASON_LENGTH} characters`);
  }
  return { reason, actor };
}

function assertOptionsFitParent(options: UnitOfWorkOptions, parent: UnitOfWorkOptions): void {
  // A savepoint cannot change the transaction it lives in; asking for a level or mode the parent
  // did not ask for explicitly would silently not get it.
  if (options.isolationLevel !== undefined && options.isolationLevel !== parent.isolationLevel) {
    throw new TenantContextError(
      'VALIDATION_FAILED',
      `A nested unit of work runs in its parent's transaction and cannot switch to isolation level ${options.isolationLevel}`,
    );
  }
  if (options.accessMode !== undefined && options.accessMode !== parent.accessMode) {
    throw new TenantContextError(
      'VALIDATION_FAILED',
      `A nested unit of work runs in its parent's transaction and cannot switch to ${options.accessMode}`,
    );
  }
}
