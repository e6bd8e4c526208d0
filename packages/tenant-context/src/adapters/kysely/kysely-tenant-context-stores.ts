import type { Kysely } from 'kysely';
import type { TenantContextStores } from '../../store.js';
import { createKyselyLifecycleRunStore } from './kysely-lifecycle-run-store.js';
import { createKyselyMembershipStore } from './kysely-membership-store.js';
import { resolveKyselyStoreContext, type KyselyTenantContextOptions } from './kysely-store-context.js';
import { createKyselyTenantStore } from './kysely-tenant-store.js';
import { createKyselyUsageCounterStore } from './kysely-usage-counter-store.js';

/**
 * All four tenant-context stores on one Kysely instance and table prefix. Create the tables
 * first with `migrateTenantContextSchema(db)` (with the same options).
 *
 * @throws TenantContextError `CONFIGURATION_INVALID` for invalid options or an unrecognized dialect.
 *
 * @example
 * ```ts
 * import { Kysely, MysqlDialect } from 'kysely';
 * import { createPool } from 'mysql2';
 * import { createTenantRegistry } from '@tenantkit/tenant-context';
 * import { kyselyTenantContextStores, migrateTenantContextSchema } from '@tenantkit/tenant-context/kysely';
 *
 * const db = new Kysely<unknown>({ dialect: new MysqlDialect({ pool: createPool(process.env.DATABASE_URL ?? '') }) });
 * await migrateTenantContextSchema(db);
 * const stores = kyselyTenantContextStores(db);
 * const registry = createTenantRegistry({ store: stores.tenants });
 * ```
 */
export function kyselyTenantContextStores(db: Kysely<any>, options?: KyselyTenantContextOptions): TenantContextStores {
  const context = resolveKyselyStoreContext(db, options, 'kyselyTenantContextStores');
  return {
    tenants: createKyselyTenantStore(context),
    memberships: createKyselyMembershipStore(context),
    lifecycleRuns: createKyselyLifecycleRunStore(context),
    usageCounters: createKyselyUsageCounterStore(context),
  };
}
