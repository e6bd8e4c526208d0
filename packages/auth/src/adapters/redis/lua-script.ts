import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/**
 * A Lua script of the Redis auth stores with its SHA-1, so it runs by EVALSHA and is sent whole
 * (EVAL) only when a node does not hold it yet.
 *
 * @example
 * ```ts
 * const script: AuthLuaScript = defineAuthLuaScript("return redis.call('GET', KEYS[1])");
 * ```
 */
export interface AuthLuaScript {
  readonly source: string;
  readonly sha1: string;
}

/**
 * Wraps Lua source as an {@link AuthLuaScript}.
 *
 * @example
 * ```ts
 * const getScript = defineAuthLuaScript("return redis.call('GET', KEYS[1])");
 * ```
 */
export function defineAuthLuaScript(source: string): AuthLuaScript {
  return Object.freeze({ source, sha1: createHash('sha1').update(source).digest('hex') });
}

function isNoScriptError(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError' && error.message.startsWith('NOSCRIPT');
}

/**
 * Runs a script on the node owning `keys` (on a Cluster they must share one hash tag): EVALSHA
 * first, EVAL when the node answers NOSCRIPT (a restarted node, a failover, SCRIPT FLUSH), which
 * also caches it there again. Every argument is a string, so numbers cross as the decimal text
 * JavaScript wrote and Lua never formats a number itself.
 *
 * @example
 * ```ts
 * const reply = await runAuthLuaScript(client, getScript, [key], []);
 * ```
 */
export async function runAuthLuaScript(
  client: Redis | Cluster,
  script: AuthLuaScript,
  keys: readonly string[],
  args: readonly string[],
): Promise<unknown> {
  try {
    return await client.evalsha(script.sha1, keys.length, ...keys, ...args);
  } catch (error) {
    if (!isNoScriptError(error)) throw error;
    return client.eval(script.source, keys.length, ...keys, ...args);
  }
}
