/**
 * The Redis (and Redis Cluster) usage-counter store for @tenantkit/tenant-context. Pass your own
 * ioredis client or Cluster; this entry never loads the driver itself.
 *
 * @packageDocumentation
 * @module @tenantkit/tenant-context/redis
 */
export {
  redisUsageCounterStore,
  defaultRedisKeyPrefix,
  type RedisUsageCounterStoreOptions,
} from './redis/redis-usage-counter-store.js';
export type { RedisKeySegment, ParsedTenantRedisKey } from './redis/tenant-key.js';
export { createTenantKeyspace, type TenantKeyspace, type TenantKeyspaceOptions } from '../isolation/redis/tenant-keyspace.js';
export type { KeyspaceSelection } from '../isolation/redis/keyspace-option.js';
export type { RedisClient } from '../isolation/redis/redis-client-guards.js';
export {
  createTenantCache,
  type TenantCache,
  type TenantCacheKey,
  type TenantCacheOptions,
  type TenantCacheWriteOptions,
} from '../isolation/redis/tenant-cache.js';
export {
  purgeTenantKeys,
  scanTenantKeys,
  type PurgeTenantKeysOptions,
  type ScanTenantKeysOptions,
} from '../isolation/redis/purge-tenant-keys.js';
export { createTenantKeysPurgeStep, type TenantKeysPurgeStepOptions } from '../isolation/redis/tenant-keys-purge-step.js';
