// Key prefixes and cleanup of the tests that run on a real Redis (single node or Cluster).
import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { LimiterSpec } from '../../src/stores/rate-limit-store.js';

/**
 * A key prefix of one test file: every key the file writes is under it, so parallel test files
 * (and runs) never collide, and the file can clean up its own keys only.
 *
 * @example
 * ```ts
 * const filePrefix = testKeyPrefix('redis-store'); // 'tk:rl-test:redis-store:<pid>:<random>'
 * ```
 */
export function testKeyPrefix(area: string): string {
  return `tk:rl-test:${area}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/**
 * SCAN + UNLINK of the keys under `prefix:` (on every master of a Cluster); never KEYS or FLUSHDB,
 * which would touch other files' keys.
 *
 * @example
 * ```ts
 * afterAll(() => unlinkByPrefix(client, filePrefix));
 * ```
 */
export async function unlinkByPrefix(client: Redis | Cluster, prefix: string): Promise<void> {
  const nodes: Redis[] = client.isCluster ? (client as Cluster).nodes('master') : [client as Redis];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      if (client.isCluster) {
        // One UNLINK per key: on a cluster node the keys of one page span many slots.
        for (const key of keys) await node.unlink(key);
      } else if (keys.length > 0) {
        await node.unlink(...keys);
      }
    } while (cursor !== '0');
  }
}

/**
 * Builds limiter specs under `filePrefix`, each under a random prefix of its own so that tests
 * never share a counter.
 *
 * @example
 * ```ts
 * const spec = specsUnder(filePrefix);
 * const api = spec('layout', { points: 5, duration: 60, blockDuration: 0 });
 * ```
 */
export function specsUnder(filePrefix: string): (name: string, limit: Omit<LimiterSpec, 'keyPrefix'>) => LimiterSpec {
  return (name, limit) => ({ keyPrefix: `${filePrefix}:${name}:${randomBytes(4).toString('hex')}`, ...limit });
}
