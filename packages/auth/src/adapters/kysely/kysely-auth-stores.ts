import type { Kysely } from 'kysely';
import type { AuthStores } from '../../store.js';
import { createKyselyAccountStore } from './kysely-account-store.js';
import { createKyselyApiKeyStore } from './kysely-api-key-store.js';
import { resolveKyselyAuthContext, type KyselyAuthStoresOptions } from './kysely-auth-store-context.js';
import { createKyselyOneTimeTokenStore } from './kysely-one-time-token-store.js';
import { createKyselyRefreshTokenStore } from './kysely-refresh-token-store.js';
import { createKyselyRevocationStore } from './kysely-revocation-store.js';
import { createKyselySessionStore } from './kysely-session-store.js';

/**
 * Every {@link AuthStores} store on a Kysely instance: accounts, sessions, refresh-token
 * families, revocations, one-time tokens and API keys in SQL tables (PostgreSQL, PGlite,
 * MySQL/MariaDB, SQLite through better-sqlite3). Create the tables first with
 * `migrateAuthSchema(db)` (or run `authMigrations(dialect)` with your own Kysely `Migrator`).
 *
 * The atomic steps of the contract hold across any number of processes on one database: a
 * refresh rotation and every other read-check-write is one transaction that locks the rows it
 * decides on (`SELECT ... FOR UPDATE`; on SQLite the database's write lock, `BEGIN IMMEDIATE`);
 * a one-time token is taken with one `DELETE ... RETURNING` (a locked read and delete on
 * MySQL); account emails, session token hashes and one live one-time token per subject are
 * unique keys; epochs, revocations and API-key usage are forward-only upserts and conditional
 * updates. Driver failures reject with `AuthError` `STORE_UNAVAILABLE` (unreachable),
 * `CONFIGURATION_INVALID` (tables missing) or `STORE_CONFLICT` (a deadlock that outlived its
 * retries). Queries run without the plugins of `db`; use `tablePrefix` (or the connection's
 * `search_path`) to place the tables. Pass a Kysely transaction to make the stores' writes part
 * of it (create an account and its first membership together, say).
 *
 * Take only the stores you want in SQL and the rest from another adapter:
 * `{ ...kyselyAuthStores(db), ...redisAuthStores(redis) }`.
 *
 * @throws AuthError `CONFIGURATION_INVALID` for invalid options or an unrecognized dialect.
 *
 * @example
 * ```ts
 * import { Kysely, PostgresDialect } from 'kysely';
 * import pg from 'pg';
 * import { kyselyAuthStores, migrateAuthSchema } from '@tenantkit/auth/kysely';
 *
 * const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString }) }) });
 * await migrateAuthSchema(db);
 * const stores = kyselyAuthStores(db);
 * await stores.accounts.findByEmail('alice@example.com'); // null
 * ```
 */
export function kyselyAuthStores(db: Kysely<any>, options?: KyselyAuthStoresOptions): AuthStores {
  const context = resolveKyselyAuthContext(db, options, 'kyselyAuthStores');
  return Object.freeze({
    accounts: createKyselyAccountStore(context),
    sessions: createKyselySessionStore(context),
    refreshTokens: createKyselyRefreshTokenStore(context),
    revocations: createKyselyRevocationStore(context),
    oneTimeTokens: createKyselyOneTimeTokenStore(context),
    apiKeys: createKyselyApiKeyStore(context),
  });
}
