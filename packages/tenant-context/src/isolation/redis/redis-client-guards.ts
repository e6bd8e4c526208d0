import type { Cluster, Redis } from 'ioredis';
import { TenantContextError } from '../../errors.js';
import { hasMethods } from '../../validation.js';

/**
 * The clients the Redis isolation helpers take: an ioredis `Redis` or `Cluster`.
 *
 * @example
 * ```ts
 * const client: RedisClient = new Redis(process.env.REDIS_URL!);
 * ```
 */
export type RedisClient = Redis | Cluster;

const requiredMethods = ['get', 'set', 'unlink', 'scan', 'eval', 'evalsha'] as const;

/**
 * Whether a value looks like an ioredis `Redis` or `Cluster` (checked structurally, so this
 * module loads nothing from ioredis).
 *
 * @example
 * ```ts
 * z.custom<RedisClient>(isRedisClient, 'must be an ioredis Redis or Cluster');
 * ```
 */
export function isRedisClient(value: unknown): value is RedisClient {
  return hasMethods(value, requiredMethods) && typeof (value as { isCluster?: unknown }).isCluster === 'boolean';
}

/**
 * The `keyPrefix` the ioredis client adds to every key it sends ('' when none). ioredis does
 * not add it to SCAN patterns, so scans prepend it themselves.
 *
 * @throws TenantContextError `CONFIGURATION_INVALID` for a Buffer prefix or one holding a brace
 *   (it would replace the `{tenant}` hash tag).
 * @example
 * ```ts
 * clientKeyPrefix(new Redis({ keyPrefix: 'svc:' })); // 'svc:'
 * ```
 */
export function clientKeyPrefix(client: RedisClient): string {
  const keyPrefix: unknown = (client.options as { keyPrefix?: unknown } | undefined)?.keyPrefix;
  if (keyPrefix === undefined || keyPrefix === null || keyPrefix === '') return '';
  if (typeof keyPrefix !== 'string' || /[{}]/.test(keyPrefix)) {
    throw new TenantContextError(
      'CONFIGURATION_INVALID',
      "The ioredis client's keyPrefix must be a string without braces: a brace would replace the {tenant} hash tag",
    );
  }
  return keyPrefix;
}
