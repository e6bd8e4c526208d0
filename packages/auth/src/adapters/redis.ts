// Entry of @tenantkit/auth/redis. Explicit named exports only.
export {
  redisRevocationChannel,
  type RedisRevocationChannelOptions,
  type RedisRevocationPublisher,
  type RedisRevocationSubscriber,
} from './redis/redis-revocation-channel.js';
export {
  redisAuthStores,
  defaultRedisAuthKeyPrefix,
  type RedisAuthClient,
  type RedisAuthStoresOptions,
} from './redis/redis-auth-stores.js';
