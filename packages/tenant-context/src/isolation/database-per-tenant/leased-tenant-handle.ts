import {
  Kysely,
  MysqlAdapter,
  MysqlIntrospector,
  MysqlQueryCompiler,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type CompiledQuery,
  type ControlledTransaction,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type DialectAdapter,
  type Driver,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import type { SqlDialect } from '../../adapters/kysely/sql-dialect.js';
import { TenantContextError } from '../../errors.js';
import { currentScope } from '../../scope/tenant-scope.js';
import type { TenantPoolLease } from './tenant-pool-set.js';

/**
 * The parts of a Kysely `Dialect` a router handle compiles and introspects with; its driver is
 * never created, since queries run on the tenant pools. Any Kysely `Dialect` instance fits.
 *
 * @example
 * ```ts
 * const parts: TenantHandleDialect = {
 *   createAdapter: () => new PostgresAdapter(),
 *   createQueryCompiler: () => new PostgresQueryCompiler(),
 *   createIntrospector: (db) => new PostgresIntrospector(db),
 * };
 * ```
 */
export interface TenantHandleDialect {
  createAdapter(): DialectAdapter;
  createQueryCompiler(): QueryCompiler;
  createIntrospector(db: Kysely<any>): DatabaseIntrospector;
}

const builtInDialects: Readonly<Record<SqlDialect, TenantHandleDialect>> = Object.freeze({
  postgres: {
    createAdapter: () => new PostgresAdapter(),
    createQueryCompiler: () => new PostgresQueryCompiler(),
    createIntrospector: (db: Kysely<any>) => new PostgresIntrospector(db),
  },
  mysql: {
    createAdapter: () => new MysqlAdapter(),
    createQueryCompiler: () => new MysqlQueryCompiler(),
    createIntrospector: (db: Kysely<any>) => new MysqlIntrospector(db),
  },
  sqlite: {
    createAdapter: () => new SqliteAdapter(),
    createQueryCompiler: () => new SqliteQueryCompiler(),
    createIntrospector: (db: Kysely<any>) => new SqliteIntrospector(db),
  },
});

/**
 * The handle dialect for a SQL dialect name, or the custom one as it is.
 *
 * @example
 * ```ts
 * const parts = handleDialectOf('postgres');
 * ```
 */
export function handleDialectOf(dialect: SqlDialect | TenantHandleDialect): TenantHandleDialect {
  return typeof dialect === 'string' ? builtInDialects[dialect] : dialect;
}

type AnyControlledTransaction = ControlledTransaction<any, string[]>;

/**
 * One connection of a tenant pool, held (with the pool's lease) from Kysely's
 * `acquireConnection` to its `releaseConnection`. Transactions and savepoints go through the
 * pool's own driver (Kysely's controlled transactions), so isolation levels and driver quirks
 * behave exactly as on the pool itself.
 */
class LeasedConnection implements DatabaseConnection {
  readonly #connection: Kysely<any>;
  readonly #finish: () => Promise<void>;
  #transaction: AnyControlledTransaction | undefined;

  constructor(connection: Kysely<any>, finish: () => Promise<void>) {
    this.#connection = connection;
    this.#finish = finish;
  }

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    return (this.#transaction ?? this.#connection).executeQuery<R>(compiledQuery as CompiledQuery<R>);
  }

  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new TenantContextError(
      'CONFIGURATION_INVALID',
      'Streaming is not available on router handles; stream inside router.withDatabase((db) => db.selectFrom(...).stream())',
    );
  }

  async begin(settings: TransactionSettings): Promise<void> {
    let builder = this.#connection.startTransaction();
    if (settings.isolationLevel !== undefined) builder = builder.setIsolationLevel(settings.isolationLevel);
    if (settings.accessMode !== undefined) builder = builder.setAccessMode(settings.accessMode);
    this.#transaction = await builder.execute();
  }

  async commit(): Promise<void> {
    const transaction = this.#requireTransaction();
    this.#transaction = undefined;
    await transaction.commit().execute();
  }

  async rollback(): Promise<void> {
    const transaction = this.#requireTransaction();
    this.#transaction = undefined;
    await transaction.rollback().execute();
  }

  async savepoint(name: string): Promise<void> {
    this.#transaction = await this.#requireTransaction().savepoint(name).execute();
  }

  async rollbackToSavepoint(name: string): Promise<void> {
    this.#transaction = await this.#requireTransaction().rollbackToSavepoint(name).execute();
  }

  async releaseSavepoint(name: string): Promise<void> {
    this.#transaction = await this.#requireTransaction().releaseSavepoint(name).execute();
  }

  release(): Promise<void> {
    return this.#finish();
  }

  #requireTransaction(): AnyControlledTransaction {
    if (this.#transaction === undefined) {
      throw new TenantContextError('CONFIGURATION_INVALID', 'No transaction is open on this router connection');
    }
    return this.#transaction;
  }
}

/** Takes one connection of the leased pool and keeps it until the returned connection is released. */
function holdConnection(lease: TenantPoolLease<Kysely<any>>): Promise<LeasedConnection> {
  return new Promise<LeasedConnection>((resolve, reject) => {
    let handedOut = false;
    let letGo!: () => void;
    const released = new Promise<void>((resolveReleased) => {
      letGo = resolveReleased;
    });
    // The pool's plugins are left out: queries arrive compiled by the handle, with its plugins.
    const held: Promise<void> = lease.pool
      .withoutPlugins()
      .connection()
      .execute(async (connection) => {
        handedOut = true;
        resolve(
          new LeasedConnection(connection, async () => {
            letGo();
            try {
              await held;
            } finally {
              lease.release();
            }
          }),
        );
        await released;
      });
    held.catch((error: unknown) => {
      // Before the hand-out this is the checkout failing; afterwards release() reports it.
      if (!handedOut) reject(error);
    });
  });
}

/** Fails closed: a handle only runs in its own tenant's scope or in the system scope. */
function assertScopeAllows(tenantId: string): void {
  const scope = currentScope();
  if (scope?.kind === 'system') return;
  if (scope === undefined) {
    throw new TenantContextError('TENANT_SCOPE_REQUIRED', `The database handle of tenant ${tenantId} was used outside any tenant scope`);
  }
  if (scope.tenantId !== tenantId) {
    throw new TenantContextError(
      'TENANT_ISOLATION_VIOLATION',
      `The database handle of tenant ${tenantId} was used in the scope of tenant ${scope.tenantId}`,
      { details: { handleTenantId: tenantId, scopeTenantId: scope.tenantId } },
    );
  }
}

class LeasingDriver implements Driver {
  readonly #tenantId: string;
  readonly #acquire: (tenantId: string) => Promise<TenantPoolLease<Kysely<any>>>;

  constructor(tenantId: string, acquire: (tenantId: string) => Promise<TenantPoolLease<Kysely<any>>>) {
    this.#tenantId = tenantId;
    this.#acquire = acquire;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    assertScopeAllows(this.#tenantId);
    const lease = await this.#acquire(this.#tenantId);
    try {
      return await holdConnection(lease);
    } catch (error) {
      lease.release();
      throw error;
    }
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return (connection as LeasedConnection).begin(settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return (connection as LeasedConnection).commit();
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return (connection as LeasedConnection).rollback();
  }

  savepoint(connection: DatabaseConnection, savepointName: string): Promise<void> {
    return (connection as LeasedConnection).savepoint(savepointName);
  }

  rollbackToSavepoint(connection: DatabaseConnection, savepointName: string): Promise<void> {
    return (connection as LeasedConnection).rollbackToSavepoint(savepointName);
  }

  releaseSavepoint(connection: DatabaseConnection, savepointName: string): Promise<void> {
    return (connection as LeasedConnection).releaseSavepoint(savepointName);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return (connection as LeasedConnection).release();
  }

  // The handle owns no pool: the router closes pools (router.close(), eviction, deprovision).
  async destroy(): Promise<void> {}
}

/**
 * A Kysely instance bound to one tenant whose every connection checkout borrows the tenant's
 * pool from the router (a lease) and gives it back on release, so the pool cannot be evicted
 * while a query or transaction runs on it, and may be evicted between queries. It refuses to
 * run outside its tenant's scope (`TENANT_SCOPE_REQUIRED`) or in another tenant's
 * (`TENANT_ISOLATION_VIOLATION`); the system scope may use it.
 *
 * @example
 * ```ts
 * const handle = createLeasedTenantHandle<Database>('acme', (tenantId) => pools.acquire(tenantId), handleDialectOf('postgres'));
 * await runWithTenant('acme', () => handle.selectFrom('projects').selectAll().execute());
 * ```
 */
export function createLeasedTenantHandle<DB>(
  tenantId: string,
  acquire: (tenantId: string) => Promise<TenantPoolLease<Kysely<any>>>,
  dialect: TenantHandleDialect,
): Kysely<DB> {
  return new Kysely<DB>({
    dialect: {
      createAdapter: () => dialect.createAdapter(),
      createQueryCompiler: () => dialect.createQueryCompiler(),
      createIntrospector: (db) => dialect.createIntrospector(db),
      createDriver: () => new LeasingDriver(tenantId, acquire),
    },
  });
}
