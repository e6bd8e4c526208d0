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
