import type { Cluster, Redis } from 'ioredis';
import { z } from 'zod';
import { TenantContextError } from '../../errors.js';
import type { UsageCounterStore, UsageIncrementResult } from '../../store.js';
import { parseOrThrow } from '../../validation.js';
import {
  assertCounterLimit,
  assertCounterValue,
  assertPositiveAmount,
  assertStoreString,
  counterOverflowError,
} from '../store-argument-guards.js';
import { runRedisCommand } from './redis-errors.js';
import { tenantRedisKey } from './tenant-key.js';
import { decrementUsageScript, incrementUsageScript, runLuaScript } from './usage-counter-scripts.js';

/**
 * Options of {@link redisUsageCounterStore}.
 *
 * @example
 * ```ts
 * const options: RedisUsageCounterStoreOptions = { keyPrefix: 'myapp:' };
 * ```
 */
export interface RedisUsageCounterStoreOptions {
  /**
   * Prepended to every key: up to 64 characters, no braces (they would move the Cluster hash
   * tag) and no whitespace. Default: `'tk:'`.
   */
  keyPrefix?: string;
}

/**
 * The default key prefix.
 *
 * @example
 * ```ts
 * `${defaultRedisKeyPrefix}{tnt_a}:usage`; // 'tk:{tnt_a}:usage'
 * ```
 */
export const defaultRedisKeyPrefix = 'tk:';

const optionsSchema = z
  .strictObject({
    keyPrefix: z
      .string()
      .max(64)
      .regex(/^[^{}\s]*$/, 'A key prefix may not contain braces or whitespace')
      .optional(),
  })
  .optional();

const clientMethods = ['evalsha', 'eval', 'hget', 'hgetall', 'hset', 'unlink'] as const;

function parseCounter(raw: string, resource: string): number {
  const value = Number(raw);
  // Only this store writes these fields, always as safe integers; anything else was written
  // by hand, and passing it on as a count would make admission decisions on garbage.
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TenantContextError('STORE_CONFLICT', 'A usage counter in Redis holds a value that is not a count', {
      details: { resource },
    });
  }
  return value;
}

function parseIncrementReply(reply: unknown): [applied: boolean, value: number] {
  if (!Array.isArray(reply) || typeof reply[0] !== 'number' || typeof reply[1] !== 'number') {
    throw new TenantContextError('STORE_UNAVAILABLE', 'Redis answered the increment script with an unexpected reply');
  }
  return [reply[0] === 1, reply[1]];
}

/**
 * A {@link UsageCounterStore} on Redis or Redis Cluster (ioredis). Each tenant's counters live in
 * one hash, `<prefix>{<tenantId>}:usage`, one field per resource: the `{tenantId}` hash tag keeps
 * a tenant in one Cluster slot, and `deleteAll` is a single UNLINK of that key.
 *
 * Increments and decrements are Lua scripts (EVALSHA, with EVAL when the script is not cached),
 * so the limit check and the write are one atomic step on the server: under any concurrency,
 * from any number of processes, a counter never passes its limit nor goes below 0.
 *
 * Counters are durable quotas, not rate windows: keys get no TTL, so run Redis with persistence
 * (AOF) and a `noeviction` policy, or reconcile with `set` after a data loss. A `keyPrefix` set on
 * the ioredis client itself is applied before this store's prefix, and must hold no brace either.
 *
 * @throws TenantContextError `CONFIGURATION_INVALID` (when called) for a missing client or bad options.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { redisUsageCounterStore } from '@tenantkit/tenant-context/redis';
 *
 * const counters = redisUsageCounterStore(new Redis(process.env.REDIS_URL!));
 * const { applied } = await counters.increment('tnt_1', 'projects', 1, 10);
 * ```
 */
export function redisUsageCounterStore(client: Redis | Cluster, options?: RedisUsageCounterStoreOptions): UsageCounterStore {
  if (
    typeof client !== 'object' ||
    client === null ||
    clientMethods.some((method) => typeof (client as unknown as Record<string, unknown>)[method] !== 'function')
  ) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'redisUsageCounterStore() needs an ioredis client or Cluster');
  }
  const parsed = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'redisUsageCounterStore() options');
  const prefix = parsed?.keyPrefix ?? defaultRedisKeyPrefix;
  const usageKey = (tenantId: string) => tenantRedisKey(prefix, tenantId, 'usage');

  return {
    async increment(tenantId, resource, amount, limit): Promise<UsageIncrementResult> {
      assertPositiveAmount(amount);
      assertCounterLimit(limit);
      assertStoreString(resource, 'resource');
      const key = usageKey(tenantId);
      // Unlimited still stops at the largest safe integer, which a JS number holds exactly.
      const ceiling = limit === -1 ? Number.MAX_SAFE_INTEGER : limit;
      const reply = await runRedisCommand(() => runLuaScript(client, incrementUsageScript, key, [resource, String(amount), String(ceiling)]));
      const [applied, value] = parseIncrementReply(reply);
      if (!applied && limit === -1) throw counterOverflowError(resource);
      return { applied, value };
    },

    async decrement(tenantId, resource, amount) {
      assertPositiveAmount(amount);
      assertStoreString(resource, 'resource');
      const key = usageKey(tenantId);
      const reply = await runRedisCommand(() => runLuaScript(client, decrementUsageScript, key, [resource, String(amount)]));
      if (typeof reply !== 'number') {
        throw new TenantContextError('STORE_UNAVAILABLE', 'Redis answered the decrement script with an unexpected reply');
      }
      return reply;
    },

    async get(tenantId, resource) {
      assertStoreString(resource, 'resource');
      const key = usageKey(tenantId);
      const raw = await runRedisCommand(() => client.hget(key, resource));
      return raw === null ? 0 : parseCounter(raw, resource);
    },

    async getAll(tenantId) {
      const key = usageKey(tenantId);
      const raw = await runRedisCommand(() => client.hgetall(key));
      // Object.fromEntries defines own properties, so a resource named `__proto__` stays a key.
      return Object.fromEntries(Object.entries(raw).map(([resource, value]) => [resource, parseCounter(value, resource)]));
    },

    async set(tenantId, resource, value) {
      assertCounterValue(value);
      assertStoreString(resource, 'resource');
      const key = usageKey(tenantId);
      await runRedisCommand(() => client.hset(key, resource, String(value)));
    },

    async deleteAll(tenantId) {
      const key = usageKey(tenantId);
      await runRedisCommand(() => client.unlink(key));
    },
  };
}
