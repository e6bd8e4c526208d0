import type { Cluster, Redis } from 'ioredis';
import { escapeRedisGlob, tenantRedisKey, type RedisKeySegment } from '../../adapters/redis/tenant-key.js';
import { TenantContextError } from '../../errors.js';
import { clientKeyPrefix, type RedisClient } from './redis-client-guards.js';
import { runIsolationCommand } from './redis-command-errors.js';

/**
 * What a tenant scan looks for: keys starting with `literal` (as the application names them,
 * without the client's `keyPrefix`), matched on the server by `pattern`.
 *
 * @example
 * ```ts
 * const target = tenantScanTarget('app:', 'tnt_a', ['cache']); // literal 'app:{tnt_a}:cache:'
 * ```
 */
export interface TenantScanTarget {
  readonly literal: string;
  readonly pattern: string;
}

/**
 * The scan target of one tenant's keys below `segments` in a keyspace (`keyPrefix` with its
 * trailing separator, e.g. `'app:'`).
 *
 * @example
 * ```ts
 * tenantScanTarget('app:', 'tnt_a', []).pattern; // 'app:{tnt_a}:*'
 * ```
 */
export function tenantScanTarget(keyPrefix: string, tenantId: string, segments: readonly RedisKeySegment[]): TenantScanTarget {
  // tenantRedisKey with no segment ends right after the tag's ':', which is what the tenant's
  // keys all start with; with segments, their keys continue with one more ':'.
  const literal = segments.length === 0 ? tenantRedisKey(keyPrefix, tenantId) : `${tenantRedisKey(keyPrefix, tenantId, ...segments)}:`;
  return { literal, pattern: `${escapeRedisGlob(literal)}*` };
}

function isCluster(client: RedisClient): client is Cluster {
  return client.isCluster;
}

/**
 * The connections to SCAN: the client itself, or every master of a Cluster. Thanks to the hash
 * tag a tenant's keys sit in one slot, but while a slot migrates its keys are split between
 * two masters, so every master is scanned.
 */
async function scanSources(client: RedisClient): Promise<readonly Redis[]> {
  if (!isCluster(client)) return [client];
  // A Cluster that has not connected yet (lazyConnect, or just created) knows no nodes; any
  // command makes it connect and load the slot map.
  if (client.status !== 'ready') await runIsolationCommand(() => client.ping());
  const masters = client.nodes('master');
  if (masters.length === 0) {
    throw new TenantContextError('STORE_UNAVAILABLE', 'The Redis Cluster client knows no master node to scan');
  }
  return masters;
}

/**
 * Yields, batch by batch, the keys matching `target` (SCAN with MATCH and COUNT; never KEYS),
 * without the client's `keyPrefix`. SCAN may return a key more than once, and keys written
 * while the scan runs may or may not be seen; keys present for the whole scan always are.
 *
 * @example
 * ```ts
 * for await (const batch of scanTargetKeys(redis, tenantScanTarget('app:', 'tnt_a', []), 500)) console.log(batch);
 * ```
 */
export async function* scanTargetKeys(client: RedisClient, target: TenantScanTarget, count: number): AsyncGenerator<string[], void, undefined> {
  const keyPrefix = clientKeyPrefix(client);
  const match = `${escapeRedisGlob(keyPrefix)}${target.pattern}`;
  const expected = `${keyPrefix}${target.literal}`;
  for (const source of await scanSources(client)) {
    let cursor = '0';
    do {
      const [next, keys] = await runIsolationCommand(() => source.scan(cursor, 'MATCH', match, 'COUNT', count));
      cursor = next;
      // The server matched already; the check keeps a pattern bug from ever deleting a key
      // outside the target.
      const own = keys.filter((key) => key.startsWith(expected)).map((key) => key.slice(keyPrefix.length));
      if (own.length > 0) yield own;
    } while (cursor !== '0');
  }
}

/**
 * UNLINKs every key matching `target`, `count` keys per command, and resolves how many were
 * removed (keys that expired or were deleted meanwhile are not counted).
 *
 * @example
 * ```ts
 * const removed = await unlinkTargetKeys(redis, tenantScanTarget('app:', 'tnt_a', []), 500);
 * ```
 */
export async function unlinkTargetKeys(client: RedisClient, target: TenantScanTarget, count: number): Promise<number> {
  let removed = 0;
  for await (const keys of scanTargetKeys(client, target, count)) {
    for (let start = 0; start < keys.length; start += count) {
      const batch = keys.slice(start, start + count);
      // One tenant's keys share a slot, so a batch is a legal multi-key command on a Cluster.
      removed += await runIsolationCommand(() => client.unlink(...batch));
    }
  }
  return removed;
}
