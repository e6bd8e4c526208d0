// @tenantkit/rbac/redis — helpers append their exports here.
export {};
export {
  redisInvalidationChannel,
  defaultRedisInvalidationChannel,
  type RedisInvalidationChannelOptions,
  type RedisPubSubClient,
} from './redis/redis-invalidation-channel.js';
