import type { Db } from 'mongodb';
import { RbacError } from '../../errors.js';

/**
 * Options of {@link mongoRbacStore} and {@link ensureRbacIndexes}. Pass the same options to both.
 *
 * @example
 * ```ts
 * const options: MongoRbacStoreOptions = { collectionPrefix: 'myapp_' };
 * const store = mongoRbacStore(db, options);
 * await ensureRbacIndexes(db, options);
 * ```
 */
export interface MongoRbacStoreOptions {
  /**
   * Prepended to every collection name: 0 to 48 characters of `A-Z a-z 0-9 _ - .`, not
   * starting with `system.`. Default: `'tenantkit_'`.
   */
  readonly collectionPrefix?: string;
}

/**
 * The collections of the MongoDB RBAC store, by role.
 *
 * @example
 * ```ts
 * const collection: RbacCollection = 'assignments';
 * ```
 */
export type RbacCollection = 'roles' | 'groups' | 'groupMembers' | 'assignments' | 'policyVersions';

/**
 * The full collection name of each role, prefix included.
 *
 * @example
 * ```ts
 * resolveRbacCollectionNames('tenantkit_').groupMembers; // 'tenantkit_rbac_group_members'
 * ```
 */
export type RbacCollectionNames = Readonly<Record<RbacCollection, string>>;

/**
 * The default collection prefix (the same as the tenant-context stores').
 *
 * @example
 * ```ts
 * `${defaultRbacCollectionPrefix}rbac_roles`; // 'tenantkit_rbac_roles'
 * ```
 */
export const defaultRbacCollectionPrefix = 'tenantkit_';

const prefixPattern = /^[A-Za-z0-9_.-]{0,48}$/;

/**
 * The full collection names for a prefix.
 *
 * @example
 * ```ts
 * resolveRbacCollectionNames('app_').roles; // 'app_rbac_roles'
 * ```
 */
export function resolveRbacCollectionNames(prefix: string): RbacCollectionNames {
  return Object.freeze({
    roles: `${prefix}rbac_roles`,
    groups: `${prefix}rbac_groups`,
    groupMembers: `${prefix}rbac_group_members`,
    assignments: `${prefix}rbac_assignments`,
    policyVersions: `${prefix}rbac_policy_versions`,
  });
}

/**
 * Validates what a factory was given (a `Db` and the options) and returns the collection
 * names, so a misconfiguration fails when the store is created, not on the first request.
 *
 * @throws RbacError `CONFIGURATION_INVALID` for a missing `Db` or bad options.
 *
 * @example
 * ```ts
 * const names = resolveRbacCollections(db, options, 'mongoRbacStore');
 * ```
 */
export function resolveRbacCollections(db: Db, options: MongoRbacStoreOptions | undefined, factory: string): RbacCollectionNames {
  if (typeof db !== 'object' || db === null || typeof (db as { collection?: unknown }).collection !== 'function') {
    throw new RbacError('CONFIGURATION_INVALID', `${factory}() needs a mongodb Db (client.db(name))`);
  }
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new RbacError('CONFIGURATION_INVALID', `${factory}() options must be an object`);
  }
  const unknownKeys = Object.keys(options ?? {}).filter((key) => key !== 'collectionPrefix');
  if (unknownKeys.length > 0) {
    throw new RbacError('CONFIGURATION_INVALID', `${factory}() does not know the option ${unknownKeys[0]}`);
  }
  const prefix = options?.collectionPrefix ?? defaultRbacCollectionPrefix;
  // Collection names may not hold `$` or NUL, and `system.` names belong to the server.
  if (typeof prefix !== 'string' || !prefixPattern.test(prefix) || prefix.startsWith('system.')) {
    throw new RbacError('CONFIGURATION_INVALID', `${factory}() collectionPrefix must be 0-48 characters of A-Z a-z 0-9 _ - . and not start with "system."`);
  }
  return resolveRbacCollectionNames(prefix);
}
