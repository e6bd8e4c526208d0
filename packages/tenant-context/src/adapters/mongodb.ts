/**
 * MongoDB stores for @tenantkit/tenant-context: tenants and custom domains, memberships,
 * lifecycle runs and usage counters, plus the index definitions they rely on. Pass your own
 * mongodb `Db`; this entry never loads the driver itself (mongodb 6 or 7, MongoDB 4.2+;
 * 5.0+ when settings keys may contain `.` or start with `$`).
 *
 * @packageDocumentation
 * @module @tenantkit/tenant-context/mongodb
 */
export { mongoTenantStore } from './mongodb/mongo-tenant-store.js';
export { mongoMembershipStore } from './mongodb/mongo-membership-store.js';
export { mongoLifecycleRunStore } from './mongodb/mongo-lifecycle-run-store.js';
export { mongoUsageCounterStore } from './mongodb/mongo-usage-counter-store.js';
export { mongoTenantContextStores } from './mongodb/mongo-tenant-context-stores.js';
export {
  ensureTenantContextIndexes,
  tenantContextIndexes,
  type TenantContextIndexDefinition,
} from './mongodb/tenant-context-indexes.js';
export {
  defaultCollectionPrefix,
  type MongoTenantContextOptions,
  type TenantContextCollection,
} from './mongodb/tenant-context-collections.js';
export {
  tenantCollection,
  type TenantCollection,
  type TenantInsertDocument,
  type TenantReplacementDocument,
  type TenantBulkWriteOperation,
  type WithOptionalTenantField,
} from '../isolation/mongodb/tenant-collection.js';
export { type TenantCollectionOptions, defaultTenantField } from '../isolation/mongodb/tenant-collection-options.js';
export {
  tenantIndex,
  ensureTenantIndexes,
  type TenantIndexDirection,
  type TenantIndexOptions,
  type TenantIndexSpec,
} from '../isolation/mongodb/tenant-indexes.js';
