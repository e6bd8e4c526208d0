import type { Db } from 'mongodb';
import type { TenantContextStores } from '../../store.js';
import { mongoLifecycleRunStore } from './mongo-lifecycle-run-store.js';
import { mongoMembershipStore } from './mongo-membership-store.js';
import { mongoTenantStore } from './mongo-tenant-store.js';
import { mongoUsageCounterStore } from './mongo-usage-counter-store.js';
import type { MongoTenantContextOptions } from './tenant-context-collections.js';

/**
 * All four tenant-context stores on one MongoDB database, with the same collection prefix.
 * Run {@link ensureTenantContextIndexes} with the same options once before use.
 *
 * @throws TenantContextError `CONFIGURATION_INVALID` (when called) for a missing `Db` or bad options.
 *
 * @example
 * ```ts
 * import { MongoClient } from 'mongodb';
 * import { createTenantRegistry } from '@tenantkit/tenant-context';
 * import { ensureTenantContextIndexes, mongoTenantContextStores } from '@tenantkit/tenant-context/mongodb';
 *
 * const db = new MongoClient(process.env.MONGODB_URL!).db('app');
 * await ensureTenantContextIndexes(db);
 * const stores = mongoTenantContextStores(db);
 * const registry = createTenantRegistry({ store: stores.tenants });
 * ```
 */
export function mongoTenantContextStores(db: Db, options?: MongoTenantContextOptions): TenantContextStores {
  return {
    tenants: mongoTenantStore(db, options),
    memberships: mongoMembershipStore(db, options),
    lifecycleRuns: mongoLifecycleRunStore(db, options),
    usageCounters: mongoUsageCounterStore(db, options),
  };
}
