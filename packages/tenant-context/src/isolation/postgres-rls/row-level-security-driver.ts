import type { ConnectionProvider, DatabaseConnection, Driver, TransactionSettings } from 'kysely';
import { TenantContextError } from '../../errors.js';
import {
  RowLevelSecurityConnection,
  type ConnectionLease,
  type RowLevelSecurityClaim,
  type RowLevelSecuritySettingNames,
} from './row-level-security-connection.js';

/** What the driver needs from the handle that owns it. */
export interface RowLevelSecurityDriverOptions {
  /** Lends connections of the wrapped Kysely instance (its executor). */
  readonly connections: ConnectionProvider;
  /** Decides the scope of a connection about to be acquired; throws to refuse before any SQL. */
  readonly claimScope: () => RowLevelSecurityClaim;
  readonly settings: RowLevelSecuritySettingNames;
  /** Destroys the wrapped Kysely instance (and so its pool). */
  readonly destroy: () => Promise<void>;
}

/**
 * The Kysely `Driver` behind the row-level security handle. It borrows connections from the
 * wrapped Kysely instance — so that instance's pool, logging and dialect stay in charge — and
 * hands Kysely {@link RowLevelSecurityConnection}s that set the tenant inside every transaction.
 */
export class RowLevelSecurityDriver implements Driver {
  readonly #options: RowLevelSecurityDriverOptions;

  constructor(options: RowLevelSecurityDriverOptions) {
    this.#options = options;
  }

  async init(): Promise<void> {
    // The wrapped instance initializes its own driver on first use.
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    // Before a connection is even borrowed: without a tenant in scope no SQL is sent at all.
    const claim = this.#options.claimScope();
    const lease = await leaseConnection(this.#options.connections);
    return new RowLevelSecurityConnection(lease, claim, this.#options.settings);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await ownConnection(connection).beginTransaction(settings);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await ownConnection(connection).commitTransaction();
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await ownConnection(connection).rollbackTransaction();
  }

  async savepoint(connection: DatabaseConnection, savepointName: string): Promise<void> {
    await ownConnection(connection).savepoint(savepointName);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, savepointName: string): Promise<void> {
    await ownConnection(connection).rollbackToSavepoint(savepointName);
  }

  async releaseSavepoint(connection: DatabaseConnection, savepointName: string): Promise<void> {
    await ownConnection(connection).releaseSavepoint(savepointName);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    await ownConnection(connection).release();
  }

  async destroy(): Promise<void> {
    await this.#options.destroy();
  }
}

function ownConnection(connection: DatabaseConnection): RowLevelSecurityConnection {
  if (!(connection instanceof RowLevelSecurityConnection)) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'The row-level security driver was handed a connection it did not lend');
  }
  return connection;
}

/**
 * Borrows one connection from a Kysely connection provider and keeps it until `release()`:
 * providers only lend for the duration of a callback, so the callback waits for the release.
 */
async function leaseConnection(provider: ConnectionProvider): Promise<ConnectionLease> {
  let giveBack!: () => void;
  const released = new Promise<void>((resolve) => {
    giveBack = resolve;
  });
  let lent!: Promise<void>;
  const connection = await new Promise<DatabaseConnection>((resolve, reject) => {
    lent = provider.provideConnection(async (borrowed) => {
      resolve(borrowed);
      await released;
    });
    // Rejects before the connection was lent (pool closed, server down): the acquire fails.
    // After that, the same rejection surfaces from release().
    lent.catch(reject);
  });
  return {
    connection,
    async release() {
      giveBack();
      await lent;
    },
  };
}
