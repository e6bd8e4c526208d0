// @tenantkit/ratelimit/redis — the Redis (single node and Cluster) rate-limit store.
export {
  redisRateLimitStore,
  type RedisRateLimitClient,
  type RedisRateLimitStoreOptions,
} from './redis/redis-rate-limit-store.js';
