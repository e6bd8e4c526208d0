import { type Clock, systemClock } from '@tenantkit/core';
import type { Cluster, Redis } from 'ioredis';
import { z } from 'zod';
import { AuthError } from '../../errors.js';
import type { AuthStores } from '../../store.js';
import { createRedisAuthKeyspace } from './redis-auth-keyspace.js';
import type { RedisAuthStoreContext } from './redis-auth-store-context.js';
import { redisOneTimeTokenStore } from './redis-one-time-token-store.js';
import { redisRefreshTokenStore } from './redis-refresh-token-store.js';
import { redisRevocationStore } from './redis-revocation-store.js';
import { redisSessionStore } from './redis-session-store.js';
import { parseAuthInput as parseOrThrow } from '../../parse-auth-input.js';

/**
 * The clients {@link redisAuthStores} takes: an ioredis `Redis` or `Cluster`.
 *
 * @example
 * ```ts
 * const client: RedisAuthClient = new Redis(process.env.REDIS_URL!);
 * ```
 */
export type RedisAuthClient = Redis | Cluster;

/**
 * Options of {@link redisAuthStores}.
 *
 * @example
 * ```ts
 * const options: RedisAuthStoresOptions = { keyPrefix: 'myapp:auth:' };
 * ```
 */
export interface RedisAuthStoresOptions {
  /**
   * Prepended to every key: up to 64 characters, no braces (they would move the Cluster hash
   * tags) and no whitespace. Default {@link defaultRedisAuthKeyPrefix}. Use one per application
   * sharing a Redis.
   */
  readonly keyPrefix?: string;
  /**
   * The clock the TTL of `revokeToken` / `revokeSession` entries is measured from (those methods
   * take no `now`); pass the one your services use. Default `systemClock`.
   */
  readonly clock?: Clock;
}

/**
 * The key prefix used when none is given.
 *
 * @example
 * ```ts
 * redisAuthStores(redis, { keyPrefix: `${defaultRedisAuthKeyPrefix}staging:` });
 * ```
 */
export const defaultRedisAuthKeyPrefix = 'tk:auth:';


const optionsSchema = z
  .strictObject({
    keyPrefix: z
      .string()
      .max(64)
      .regex(/^[^{}\s]*$/, 'must not contain braces or whitespace')
      .optional(),
    clock: z.custom<Clock>((value) => typeof (value as Clock | null)?.now === 'function', 'must have now()').optional(),
  })
  .optional();

const clientMethods = ['evalsha', 'eval', 'get', 'mget', 'hgetall', 'call'] as const;

function assertRedisClient(client: unknown): asserts client is RedisAuthClient {
  const candidate = client as Record<string, unknown> | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.isCluster !== 'boolean' ||
    clientMethods.some((method) => typeof candidate[method] !== 'function')
  ) {
    throw new AuthError('CONFIGURATION_INVALID', 'redisAuthStores() needs an ioredis Redis or Cluster client');
  }
  const clientKeyPrefix: unknown = (candidate.options as { keyPrefix?: unknown } | undefined)?.keyPrefix;
  if (clientKeyPrefix !== undefined && clientKeyPrefix !== null && (typeof clientKeyPrefix !== 'string' || /[{}]/.test(clientKeyPrefix))) {
    throw new AuthError('CONFIGURATION_INVALID', "The ioredis client's keyPrefix must be a string without braces: a brace would replace the stores' hash tags");
  }
}

/**
 * The Redis stores of @tenantkit/auth — sessions, refresh-token families, revocation and
 * one-time tokens — on an ioredis `Redis` or `Cluster`, shared by every process using the same
 * Redis. Accounts and API keys are durable records: keep them in SQL or MongoDB and mix:
 * `{ ...kyselyAuthStores(db), ...redisAuthStores(redis) }`.
 *
 * - Every step the contract calls atomic is one Lua script (EVALSHA, EVAL on NOSCRIPT) whose keys
 *   share one `{hash tag}`, so it runs on one slot of a Cluster: a user's sessions, a refresh
 *   family and its tokens, the one-time tokens of a purpose and subject. Lookups by a value
 *   that is not the tag (a session id or token hash, a refresh or one-time token hash) go
 *   through a small lookup key written before the record, and the script re-checks the record
 *   in its own slot (see `redisRefreshTokenStore` for why refresh rotation stays
 *   exactly-once on a Cluster).
 * - Every key gets a PX TTL from the record's own end (the caller's `now`, or the record's
 *   creation time when the method takes none), at least one minute, so Redis forgets what can
 *   no longer matter; reads still compare the record's times with their `now`. Epochs have no
 *   TTL. Run Redis with a `noeviction` (or `volatile-ttl`) policy: an evicted key is a lost
 *   session or revocation.
 * - A driver failure rejects with `AuthError('STORE_UNAVAILABLE')`. The stores never run KEYS
 *   or FLUSHDB and never close the client.
 *
 * @throws AuthError `CONFIGURATION_INVALID` (when called) for a client that is not an ioredis
 *   client, a client `keyPrefix` with braces, or bad options.
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { redisAuthStores } from '@tenantkit/auth/redis';
 * import { kyselyAuthStores } from '@tenantkit/auth/kysely';
 *
 * const redis = new Redis(process.env.REDIS_URL!);
 * const stores = { ...kyselyAuthStores(db), ...redisAuthStores(redis, { keyPrefix: 'myapp:auth:' }) };
 * ```
 */
export function redisAuthStores(
  client: RedisAuthClient,
  options?: RedisAuthStoresOptions,
): Pick<AuthStores, 'sessions' | 'refreshTokens' | 'revocations' | 'oneTimeTokens'> {
  assertRedisClient(client);
  const parsed = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'redisAuthStores() options');
  const context: RedisAuthStoreContext = {
    client,
    keys: createRedisAuthKeyspace(parsed?.keyPrefix ?? defaultRedisAuthKeyPrefix),
    clock: parsed?.clock ?? systemClock,
  };
  return Object.freeze({
    sessions: redisSessionStore(context),
    refreshTokens: redisRefreshTokenStore(context),
    revocations: redisRevocationStore(context),
    oneTimeTokens: redisOneTimeTokenStore(context),
  });
}
