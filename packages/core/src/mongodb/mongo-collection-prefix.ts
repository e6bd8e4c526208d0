import type { CodedErrorFactory, SharedErrorCode } from '../coded-error-factory.js';

// Collection names may not hold `$` or NUL, and `system.` names belong to the server.
const collectionPrefixPattern = /^[A-Za-z0-9_.-]{0,48}$/;

/**
 * How {@link resolveMongoCollectionPrefix} checks one package's factory arguments.
 *
 * @example
 * ```ts
 * const settings: MongoCollectionPrefixSettings = { errors: codedErrorFactory(AuthError), defaultPrefix: 'tenantkit_' };
 * ```
 */
export interface MongoCollectionPrefixSettings {
  /** Makes the package's `CONFIGURATION_INVALID`. */
  errors: CodedErrorFactory<Error, SharedErrorCode>;
  /** The prefix when the options name none. */
  defaultPrefix: string;
}

/**
 * Validates what a MongoDB store factory was given, a `Db` and options whose only key is
 * `collectionPrefix`, and returns the prefix of its collection names, so a misconfiguration
 * fails when the store is created, not on the first request. The `Db` is checked by shape
 * (a `collection` method), so this loads no driver.
 *
 * @throws The package's `CONFIGURATION_INVALID` for a missing `Db`, options that are not an
 *   object or hold another key, or a prefix that is not 0-48 characters of `A-Z a-z 0-9 _ - .`
 *   or starts with `system.`.
 *
 * @example
 * ```ts
 * const prefix = resolveMongoCollectionPrefix(db, options, 'mongoAuthStores', { errors: codedErrorFactory(AuthError), defaultPrefix: 'tenantkit_' });
 * ```
 */
export function resolveMongoCollectionPrefix(db: unknown, options: unknown, factory: string, settings: MongoCollectionPrefixSettings): string {
  const { errors } = settings;
  if (typeof db !== 'object' || db === null || typeof (db as { collection?: unknown }).collection !== 'function') {
    throw errors.create('CONFIGURATION_INVALID', `${factory}() needs a mongodb Db (client.db(name))`);
  }
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw errors.create('CONFIGURATION_INVALID', `${factory}() options must be an object`);
  }
  const unknownKeys = Object.keys(options ?? {}).filter((key) => key !== 'collectionPrefix');
  if (unknownKeys.length > 0) {
    throw errors.create('CONFIGURATION_INVALID', `${factory}() does not know the option ${unknownKeys[0]}`);
  }
  const prefix = (options as { collectionPrefix?: unknown } | undefined)?.collectionPrefix ?? settings.defaultPrefix;
  if (typeof prefix !== 'string' || !collectionPrefixPattern.test(prefix) || prefix.startsWith('system.')) {
    throw errors.create(
      'CONFIGURATION_INVALID',
      `${factory}() collectionPrefix must be 0-48 characters of A-Z a-z 0-9 _ - . and not start with "system."`,
    );
  }
  return prefix;
}
