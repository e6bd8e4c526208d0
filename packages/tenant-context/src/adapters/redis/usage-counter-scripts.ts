import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { isNoScriptError } from './redis-errors.js';

/**
 * A Lua script with its SHA-1, for EVALSHA.
 *
 * @example
 * ```ts
 * const script: LuaScript = defineLuaScript('return 1');
 * ```
 */
export interface LuaScript {
  readonly source: string;
  readonly sha1: string;
}

/**
 * A script ready for {@link runLuaScript}.
 *
 * @example
 * ```ts
 * const ping = defineLuaScript("return redis.call('PING')");
 * ```
 */
export function defineLuaScript(source: string): LuaScript {
  return Object.freeze({ source, sha1: createHash('sha1').update(source).digest('hex') });
}

/*
 * Both scripts keep every number below 2^53, where Lua's doubles are exact, and never hand a
 * computed number to redis.call: Redis would format it as a float (1e+15). Amounts reach HINCRBY
 * as the decimal strings the caller sent.
 */

/**
 * Conditional increment. KEYS[1]: the tenant's usage hash. ARGV: resource, amount, ceiling
 * (the limit, or 2^53 - 1 when unlimited). Adds `amount` only when `current <= ceiling - amount`
 * and answers `{applied (1|0), value}`: the check and the write run as one atomic step.
 *
 * @example
 * ```ts
 * await runLuaScript(client, incrementUsageScript, key, ['users', '1', '10']); // [1, 4]
 * ```
 */
export const incrementUsageScript: LuaScript = defineLuaScript(`
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if current > tonumber(ARGV[3]) - tonumber(ARGV[2]) then
  return {0, current}
end
return {1, redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])}
`);

/**
 * Decrement floored at 0. KEYS[1]: the tenant's usage hash. ARGV: resource, amount. A counter
 * that was never set stays unset (it reads as 0). Answers the new value.
 *
 * @example
 * ```ts
 * await runLuaScript(client, decrementUsageScript, key, ['users', '2']); // 2
 * ```
 */
export const decrementUsageScript: LuaScript = defineLuaScript(`
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]))
if current == nil then
  return 0
end
if current <= tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], ARGV[1], '0')
  return 0
end
return redis.call('HINCRBY', KEYS[1], ARGV[1], '-' .. ARGV[2])
`);

/**
 * Runs a script on one key (or several keys, which on a Cluster must share a slot, e.g. through
 * one `{tenant}` hash tag): EVALSHA first (only the hash travels), and EVAL when the node does
 * not have the script cached (after a restart, a failover, SCRIPT FLUSH, or on a Cluster node
 * seen for the first time); EVAL also caches it for the next call. Nothing is registered on the
 * caller's client.
 *
 * @example
 * ```ts
 * const reply = await runLuaScript(client, incrementUsageScript, 'tk:{tnt_a}:usage', ['users', '1', '10']);
 * ```
 */
export async function runLuaScript(
  client: Redis | Cluster,
  script: LuaScript,
  key: string | readonly string[],
  args: readonly string[],
): Promise<unknown> {
  const keys = typeof key === 'string' ? [key] : key;
  try {
    return await client.evalsha(script.sha1, keys.length, ...keys, ...args);
  } catch (error) {
    if (!isNoScriptError(error)) throw error;
    return client.eval(script.source, keys.length, ...keys, ...args);
  }
}
