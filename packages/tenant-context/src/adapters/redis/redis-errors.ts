import { TenantContextError } from '../../errors.js';

/*
 * ioredis rejects a command with a `ReplyError` when the server answered with an error, and
 * with other errors ("Connection is closed.", "Stream isn't writeable...",
 * MaxRetriesPerRequestError, ClusterAllFailedError) when it could not get an answer at all.
 * Errors are told apart by `name`, so this module loads nothing from ioredis.
 */

/**
 * Server error prefixes of a node that cannot serve right now but may a moment later: loading
 * its dataset, busy with a script, a replica or a cluster without a master, out of memory or
 * unable to persist.
 */
const unavailableReplyPrefixes: readonly string[] = [
  'LOADING',
  'BUSY',
  'MASTERDOWN',
  'CLUSTERDOWN',
  'TRYAGAIN',
  'READONLY',
  'NOREPLICAS',
  'MISCONF',
  'OOM',
];

function isReplyError(error: Error): boolean {
  return error.name === 'ReplyError';
}

/**
 * Whether a Redis command failed because of the script cache (EVALSHA of a script the node
 * does not hold), which EVAL fixes.
 *
 * @example
 * ```ts
 * isNoScriptError(err); // true for "NOSCRIPT No matching script"
 * ```
 */
export function isNoScriptError(error: unknown): boolean {
  return error instanceof Error && isReplyError(error) && error.message.startsWith('NOSCRIPT');
}

/**
 * Whether a Redis command failed because Redis could not be reached or cannot serve right now.
 *
 * @example
 * ```ts
 * isRedisUnavailableError(new Error('Connection is closed.')); // true
 * ```
 */
export function isRedisUnavailableError(error: unknown): boolean {
  if (!(error instanceof Error)) return true;
  if (!isReplyError(error)) return true;
  return unavailableReplyPrefixes.some((prefix) => error.message.startsWith(`${prefix} `) || error.message === prefix);
}

/**
 * Runs Redis commands and turns a connection failure into `STORE_UNAVAILABLE` (the driver error
 * kept as `cause`). Other server errors (`WRONGTYPE`, `NOPERM`, a script error) are bugs or
 * misconfiguration, not outages, and are rethrown unchanged.
 *
 * @example
 * ```ts
 * const raw = await runRedisCommand(() => client.hget(key, resource));
 * ```
 */
export async function runRedisCommand<T>(command: () => Promise<T>): Promise<T> {
  try {
    return await command();
  } catch (error) {
    if (error instanceof TenantContextError) throw error;
    if (isRedisUnavailableError(error)) {
      throw new TenantContextError('STORE_UNAVAILABLE', 'Redis is unavailable', { cause: error });
    }
    throw error;
  }
}
