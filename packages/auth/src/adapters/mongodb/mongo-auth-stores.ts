import type { Db } from 'mongodb';
import type { AuthStores } from '../../store.js';
import { type MongoAuthStoresOptions, resolveAuthCollections } from './auth-collections.js';
import { mongoAccountStore } from './mongo-account-store.js';
import { mongoApiKeyStore } from './mongo-api-key-store.js';
import type { MongoAuthStoreContext } from './mongo-auth-store-context.js';
import { mongoOneTimeTokenStore } from './mongo-one-time-token-store.js';
import { mongoRefreshTokenStore } from './mongo-refresh-token-store.js';
import { mongoRevocationStore } from './mongo-revocation-store.js';
import { mongoSessionStore } from './mongo-session-store.js';

/**
 * Every store of @tenantkit/auth on MongoDB (driver 6 or 7, server 4.2+ for the
 * aggregation-pipeline updates of `setPassword` and `touch`). Collections
 * `<prefix>auth_accounts`, `_sessions`, `_refresh_families`, `_refresh_tokens`, `_revocations`,
 * `_one_time_tokens`, `_one_time_token_owners` and `_api_keys`; run {@link ensureAuthIndexes}
 * first (email and session token uniqueness rest on its indexes).
 *
 * - Records keep their natural key as `_id`: account, session, family and API key ids; refresh
 *   and one-time token hashes. A TTL index on an `expireAt` Date lets the server delete
 *   sessions, families, tokens and revocation entries once they cannot matter (it follows the
 *   wall clock; reads still compare the record's own times with their `now`).
 * - Every atomic step of the contract is a single-document operation, no transaction, so the
 *   stores also run on a standalone server: `create`s are inserts against unique indexes,
 *   `setPassword` / `touch` are pipeline `findOneAndUpdate`s, refresh rotation marks the token
 *   with `rotatedAt: null` in its filter, `consume` is `findOneAndDelete`, `raiseEpoch` an upsert
 *   with `$max`, `recordUsage` a `bulkWrite` of `$max`. Where a change spans two documents
 *   (session and refresh rotation, reissue voiding) the order of the steps and a compensation
 *   keep every reader's view valid; see the store functions for each.
 * - Caller ids are checked to be strings before they reach a filter (no operator injection);
 *   records are checked on the way in (`VALIDATION_FAILED`) and documents on the way out
 *   (`STORE_CONFLICT`). An unreachable server rejects with `STORE_UNAVAILABLE`.
 *
 * @throws AuthError `CONFIGURATION_INVALID` (when called) for a missing `Db` or bad options.
 * @example
 * ```ts
 * import { MongoClient } from 'mongodb';
 * import { ensureAuthIndexes, mongoAuthStores } from '@tenantkit/auth/mongodb';
 *
 * const client = await new MongoClient(process.env.MONGODB_URL!).connect();
 * const db = client.db('app');
 * await ensureAuthIndexes(db);
 * const stores = mongoAuthStores(db);
 * ```
 */
export function mongoAuthStores(db: Db, options?: MongoAuthStoresOptions): AuthStores {
  const context: MongoAuthStoreContext = { db, names: resolveAuthCollections(db, options, 'mongoAuthStores') };
  return Object.freeze({
    accounts: mongoAccountStore(context),
    sessions: mongoSessionStore(context),
    refreshTokens: mongoRefreshTokenStore(context),
    revocations: mongoRevocationStore(context),
    oneTimeTokens: mongoOneTimeTokenStore(context),
    apiKeys: mongoApiKeyStore(context),
  });
}
