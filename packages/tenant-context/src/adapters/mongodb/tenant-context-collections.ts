import type { Db } from 'mongodb';
import { z } from 'zod';
import { TenantContextError } from '../../errors.js';
import { parseOrThrow } from '../../validation.js';

/**
 * Options of every MongoDB tenant-context store factory and of
 * {@link ensureTenantContextIndexes}. Pass the same options to both.
 *
 * @example
 * ```ts
 * const options: MongoTenantContextOptions = { collectionPrefix: 'myapp_' };
 * const stores = mongoTenantContextStores(db, options);
 * await ensureTenantContextIndexes(db, options);
 * ```
 */
export interface MongoTenantContextOptions {
  /**
   * Prepended to every collection name: 0 to 48 characters of `A-Z a-z 0-9 _ - .`, not
   * starting with `system.`. Default: `'tenantkit_'`.
   */
  collectionPrefix?: string;
}

/**
 * The collections the MongoDB stores use, by role.
 *
 * @example
 * ```ts
 * const role: TenantContextCollection = 'usageCounters';
 * ```
 */
export type TenantContextCollection = 'tenants' | 'tenantDomains' | 'memberships' | 'lifecycleRuns' | 'usageCounters';

/**
 * The full collection name of each role, prefix included.
 *
 * @example
 * ```ts
 * resolveCollectionNames('tenantkit_').tenantDomains; // 'tenantkit_tenant_domains'
 * ```
 */
export type TenantContextCollectionNames = Readonly<Record<TenantContextCollection, string>>;

/**
 * The default collection prefix.
 *
 * @example
 * ```ts
 * `${defaultCollectionPrefix}tenants`; // 'tenantkit_tenants'
 * ```
 */
export const defaultCollectionPrefix = 'tenantkit_';

const collectionSuffixes: TenantContextCollectionNames = Object.freeze({
  tenants: 'tenants',
  tenantDomains: 'tenant_domains',
  memberships: 'memberships',
  lifecycleRuns: 'lifecycle_runs',
  usageCounters: 'usage_counters',
});

const optionsSchema = z
  .strictObject({
    collectionPrefix: z
      .string()
      .max(48)
      // Collection names may not hold `$` or NUL, and `system.` names belong to the server.
      .regex(/^[A-Za-z0-9_.-]*$/, 'Use only A-Z, a-z, 0-9, "_", "-" and "."')
      .refine((prefix) => !prefix.startsWith('system.'), 'A prefix may not start with "system."')
      .optional(),
  })
  .optional();

/**
 * The full collection names for a prefix.
 *
 * @example
 * ```ts
 * resolveCollectionNames('app_').tenants; // 'app_tenants'
 * ```
 */
export function resolveCollectionNames(prefix: string): TenantContextCollectionNames {
  return Object.freeze({
    tenants: `${prefix}${collectionSuffixes.tenants}`,
    tenantDomains: `${prefix}${collectionSuffixes.tenantDomains}`,
    memberships: `${prefix}${collectionSuffixes.memberships}`,
    lifecycleRuns: `${prefix}${collectionSuffixes.lifecycleRuns}`,
    usageCounters: `${prefix}${collectionSuffixes.usageCounters}`,
  });
}

/**
 * Validates what a factory was given (a `Db`-like handle and the options) and returns the
 * collection names, so a misconfiguration fails when the store is created, not on the first
 * request.
 *
 * @throws TenantContextError `CONFIGURATION_INVALID` for a missing handle or bad options.
 *
 * @example
 * ```ts
 * const names = resolveTenantContextCollections(db, options, 'mongoTenantStore');
 * ```
 */
export function resolveTenantContextCollections(
  db: Db,
  options: MongoTenantContextOptions | undefined,
  factory: string,
): TenantContextCollectionNames {
  if (typeof db !== 'object' || db === null || typeof (db as { collection?: unknown }).collection !== 'function') {
    throw new TenantContextError('CONFIGURATION_INVALID', `${factory}() needs a mongodb Db (client.db(name))`);
  }
  const parsed = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', `${factory}() options`);
  return resolveCollectionNames(parsed?.collectionPrefix ?? defaultCollectionPrefix);
}
