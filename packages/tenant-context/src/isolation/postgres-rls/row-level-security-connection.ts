import { CompiledQuery, type DatabaseConnection, type QueryResult, type TransactionSettings } from 'kysely';
import { TenantContextError } from '../../errors.js';
import { quoteIdentifier } from './row-level-security-names.js';
import { translateRowLevelSecurityError } from './row-level-security-violation.js';

/**
 * What a connection was acquired for, decided once from the scope of whoever acquired it: one
 * tenant, or an audited system unit of work.
 */
export type RowLevelSecurityClaim = { readonly kind: 'tenant'; readonly tenantId: string } | { readonly kind: 'bypass' };

/** The two settings every transaction on a wrapped connection starts by setting locally. */
export interface RowLevelSecuritySettingNames {
  readonly tenantSetting: string;
  readonly bypassSetting: string;
}

/** A pooled connection lent by the wrapped Kysely instance, and how to give it back. */
export interface ConnectionLease {
  readonly connection: DatabaseConnection;
  release(): Promise<void>;
}

const COMMIT = CompiledQuery.raw('commit');
const ROLLBACK = CompiledQuery.raw('rollback');

// Statements that would end or open a transaction behind the wrapper's back. Outside a
// transaction each statement runs in its own one, so a raw BEGIN would be committed at once and
// the caller would believe in an atomicity it does not have; inside one, a raw COMMIT would let
// the rest of the unit run without the tenant setting. Savepoint commands are fine inside a
// transaction (nested units use them). This only catches honest mistakes: it is no defence
// against SQL injection, which can call set_config() itself.
const TRANSACTION_CONTROL = /^\s*(?:begin|start\s+transaction|commit|end|rollback|abort|savepoint|release|prepare\s+transaction)\b/i;
const ALLOWED_IN_TRANSACTION = /^\s*(?:savepoint|release|rollback\s+to)\b/i;

function transactionControlRefused(): TenantContextError {
  return new TenantContextError(
    'VALIDATION_FAILED',
    'Transaction control statements cannot run through the row-level security handle: use unitOfWork() (nested units become savepoints) or db.transaction()',
  );
}

/**
 * A connection of the row-level security handle. Every transaction on it starts with
 * `set_config(<tenant setting>, <tenant id>, true)` and `set_config(<bypass setting>, '' or 'on', true)`:
 * transaction-local values that Postgres drops at COMMIT or ROLLBACK, so the next borrower of the
 * pooled connection inherits nothing. Setting both every time also overrides any session-level
 * value someone left on the connection (`set_config(..., false)`, `SET app.tenant_id`).
 *
 * A statement that arrives outside an explicit transaction runs in a transaction of its own:
 * BEGIN with the settings (one round trip on node-postgres), the statement, COMMIT (ROLLBACK when
 * it fails).
 */
export class RowLevelSecurityConnection implements DatabaseConnection {
  readonly #lease: ConnectionLease;
  readonly #applyScope: CompiledQuery;
  /** `select set_config(...)` with literal values, when they can be sent in one string with BEGIN. */
  readonly #applyScopeText: string | undefined;
  #transactionOpen = false;

  constructor(lease: ConnectionLease, claim: RowLevelSecurityClaim, settings: RowLevelSecuritySettingNames) {
    this.#lease = lease;
    const tenantValue = claim.kind === 'tenant' ? claim.tenantId : '';
    const bypassValue = claim.kind === 'bypass' ? 'on' : '';
    const values = [settings.tenantSetting, tenantValue, settings.bypassSetting, bypassValue] as const;
    this.#applyScope = CompiledQuery.raw('select set_config($1, $2, true), set_config($3, $4, true)', [...values]);
    this.#applyScopeText =
      sendsSimpleQueries(lease.connection) && values.every((value) => SAFE_LITERAL.test(value))
        ? `select set_config('${values[0]}', '${values[1]}', true), set_config('${values[2]}', '${values[3]}', true)`
        : undefined;
  }

  /**
   * Opens the transaction and applies the scope. With node-postgres both go in one simple-query
   * string (`begin; select set_config(...)`): one round trip instead of two on every statement
   * outside a unit of work. Other drivers (PGlite) take one statement per call.
   */
  async #beginWithScope(begin: string): Promise<void> {
    const inner = this.#lease.connection;
    if (this.#applyScopeText !== undefined) {
      this.#transactionOpen = true;
      await inner.executeQuery(CompiledQuery.raw(`${begin}; ${this.#applyScopeText}`));
      return;
    }
    await inner.executeQuery(CompiledQuery.raw(begin));
    this.#transactionOpen = true;
    await inner.executeQuery(this.#applyScope);
  }

  /** Gives the connection back to the pool of the wrapped Kysely instance. */
  release(): Promise<void> {
    return this.#lease.release();
  }

  async beginTransaction(settings: TransactionSettings): Promise<void> {
    try {
      await this.#beginWithScope(beginStatement(settings));
    } catch (error) {
      // Kysely only rolls back transactions whose begin succeeded; this one must not go back
      // to the pool open.
      if (this.#transactionOpen) await this.#rollbackQuietly();
      throw translateRowLevelSecurityError(error);
    }
  }

  async commitTransaction(): Promise<void> {
    try {
      await this.#lease.connection.executeQuery(COMMIT);
    } catch (error) {
      // A failed COMMIT (a deferred constraint, a serialization failure) has ended the
      // transaction already; the ROLLBACK only makes sure of it.
      await this.#rollbackQuietly();
      throw translateRowLevelSecurityError(error);
    } finally {
      this.#transactionOpen = false;
    }
  }

  async rollbackTransaction(): Promise<void> {
    try {
      await this.#lease.connection.executeQuery(ROLLBACK);
    } finally {
      this.#transactionOpen = false;
    }
  }

  async savepoint(name: string): Promise<void> {
    await this.#runInTransaction(CompiledQuery.raw(`savepoint ${quoteIdentifier(name)}`));
  }

  async rollbackToSavepoint(name: string): Promise<void> {
    await this.#runInTransaction(CompiledQuery.raw(`rollback to savepoint ${quoteIdentifier(name)}`));
  }

  async releaseSavepoint(name: string): Promise<void> {
    await this.#runInTransaction(CompiledQuery.raw(`release savepoint ${quoteIdentifier(name)}`));
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    this.#refuseTransactionControl(compiledQuery);
    const inner = this.#lease.connection;
    if (this.#transactionOpen) {
      try {
        return await inner.executeQuery<R>(compiledQuery);
      } catch (error) {
        throw translateRowLevelSecurityError(error);
      }
    }
    try {
      await this.#beginWithScope('begin');
      const result = await inner.executeQuery<R>(compiledQuery);
      await inner.executeQuery(COMMIT);
      this.#transactionOpen = false;
      return result;
    } catch (error) {
      if (this.#transactionOpen) await this.#rollbackQuietly();
      throw translateRowLevelSecurityError(error);
    }
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    this.#refuseTransactionControl(compiledQuery);
    const inner = this.#lease.connection;
    if (this.#transactionOpen) {
      try {
        yield* inner.streamQuery<R>(compiledQuery, chunkSize);
      } catch (error) {
        throw translateRowLevelSecurityError(error);
      }
      return;
    }
    let ended = false;
    try {
      await this.#beginWithScope('begin');
      yield* inner.streamQuery<R>(compiledQuery, chunkSize);
      ended = true;
      await inner.executeQuery(COMMIT);
      this.#transactionOpen = false;
    } catch (error) {
      ended = true;
      await this.#rollbackQuietly();
      throw translateRowLevelSecurityError(error);
    } finally {
      // The consumer stopped early (break, return): the inner stream has closed its cursor,
      // and the transaction it ran in must not outlive it.
      if (!ended) await this.#rollbackQuietly();
    }
  }

  async #runInTransaction(query: CompiledQuery): Promise<void> {
    if (!this.#transactionOpen) {
      throw new TenantContextError('VALIDATION_FAILED', 'Savepoints need an open transaction');
    }
    try {
      await this.#lease.connection.executeQuery(query);
    } catch (error) {
      throw translateRowLevelSecurityError(error);
    }
  }

  #refuseTransactionControl(compiledQuery: CompiledQuery): void {
    const text = compiledQuery.sql;
    if (!TRANSACTION_CONTROL.test(text)) return;
    if (this.#transactionOpen && ALLOWED_IN_TRANSACTION.test(text)) return;
    throw transactionControlRefused();
  }

  async #rollbackQuietly(): Promise<void> {
    try {
      await this.#lease.connection.executeQuery(ROLLBACK);
    } catch {
      // The connection is broken or the transaction already ended; the original error is the
      // one worth reporting, and no tenant setting outlives a transaction either way.
    } finally {
      this.#transactionOpen = false;
    }
  }
}

// Setting names are validated lower-case identifiers and tenant ids are [A-Za-z0-9_-]; anything
// else takes the parameterised path, so no value is ever quoted by hand beyond this set.
const SAFE_LITERAL = /^[A-Za-z0-9_.-]*$/;

/**
 * Whether the connection is node-postgres's (through Kysely's PostgresDialect), which sends a
 * statement without parameters as a simple query and so accepts `begin; select ...` in one string.
 */
function sendsSimpleQueries(connection: DatabaseConnection): boolean {
  return connection.constructor.name === 'PostgresConnection';
}

function beginStatement(settings: TransactionSettings): string {
  // The same statements as Kysely's PostgresDriver; Kysely validated both values against its
  // fixed lists before they reach a driver.
  if (settings.isolationLevel === undefined && settings.accessMode === undefined) return 'begin';
  let statement = 'start transaction';
  if (settings.isolationLevel !== undefined) statement += ` isolation level ${settings.isolationLevel}`;
  if (settings.accessMode !== undefined) statement += ` ${settings.accessMode}`;
  return statement;
}
