import { codedErrorFactory } from '@tenantkit/core';
import { resolveMongoCollectionPrefix } from '@tenantkit/core/mongodb';
import type { Db } from 'mongodb';
import { AuthError } from '../../errors.js';

/**
 * Options of {@link mongoAuthStores} and {@link ensureAuthIndexes}. Pass the same options to both.
 *
 * @example
 * ```ts
 * const options: MongoAuthStoresOptions = { collectionPrefix: 'myapp_' };
 * const stores = mongoAuthStores(db, options);
 * await ensureAuthIndexes(db, options);
 * ```
 */
export interface MongoAuthStoresOptions {
  /**
   * Prepended to every collection name: 0 to 48 characters of `A-Z a-z 0-9 _ - .`, not
   * starting with `system.`. Default {@link defaultAuthCollectionPrefix}.
   */
  readonly collectionPrefix?: string;
}

/**
 * The collections of the MongoDB auth stores, by role.
 *
 * @example
 * ```ts
 * const collection: AuthCollection = 'sessions';
 * ```
 */
export type AuthCollection =
  | 'accounts'
  | 'sessions'
  | 'refreshFamilies'
  | 'refreshTokens'
  | 'revocations'
  | 'oneTimeTokens'
  | 'oneTimeTokenOwners'
  | 'apiKeys';

/**
 * The full collection name of each role, prefix included.
 *
 * @example
 * ```ts
 * resolveAuthCollectionNames('tenantkit_').refreshFamilies; // 'tenantkit_auth_refresh_families'
 * ```
 */
export type AuthCollectionNames = Readonly<Record<AuthCollection, string>>;

/**
 * The default collection prefix (the same as the other tenantkit MongoDB stores').
 *
 * @example
 * ```ts
 * `${defaultAuthCollectionPrefix}auth_sessions`; // 'tenantkit_auth_sessions'
 * ```
 */
export const defaultAuthCollectionPrefix = 'tenantkit_';

/**
 * The full collection names for a prefix.
 *
 * @example
 * ```ts
 * resolveAuthCollectionNames('app_').accounts; // 'app_auth_accounts'
 * ```
 */
export function resolveAuthCollectionNames(prefix: string): AuthCollectionNames {
  return Object.freeze({
    accounts: `${prefix}auth_accounts`,
    sessions: `${prefix}auth_sessions`,
    refreshFamilies: `${prefix}auth_refresh_families`,
    refreshTokens: `${prefix}auth_refresh_tokens`,
    revocations: `${prefix}auth_revocations`,
    oneTimeTokens: `${prefix}auth_one_time_tokens`,
    oneTimeTokenOwners: `${prefix}auth_one_time_token_owners`,
    apiKeys: `${prefix}auth_api_keys`,
  });
}

/**
 * Validates what a factory was given (a `Db` and the options) and returns the collection
 * names, so a misconfiguration fails when the stores are created, not on the first request.
 *
 * @throws AuthError `CONFIGURATION_INVALID` for a missing `Db` or bad options.
 * @example
 * ```ts
 * const names = resolveAuthCollections(db, options, 'mongoAuthStores');
 * ```
 */
export function resolveAuthCollections(db: Db, options: MongoAuthStoresOptions | undefined, factory: string): AuthCollectionNames {
  const prefix = resolveMongoCollectionPrefix(db, options, factory, {
    errors: codedErrorFactory(AuthError),
    defaultPrefix: defaultAuthCollectionPrefix,
  });
  return resolveAuthCollectionNames(prefix);
}
