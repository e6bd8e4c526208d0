// Key prefixes and cleanup of the auth tests that run on a real Redis (single node or Cluster).
import { randomBytes } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/**
 * A key prefix of one test file, ending in ':'; every key the file writes is under it, so
 * parallel test files never collide and each cleans up only its own keys.
 *
 * @example
 * ```ts
 * const filePrefix = authTestKeyPrefix('redis'); // 'tk:auth-test:redis:<pid>:<random>:'
 * ```
 */
export function authTestKeyPrefix(area: string): string {
  return `tk:auth-test:${area}:${process.pid}:${randomBytes(4).toString('hex')}:`;
}

/** Every key under `prefix` (on every master of a Cluster), by SCAN; never KEYS. */
export async function scanKeys(client: Redis | Cluster, prefix: string): Promise<string[]> {
  const nodes: Redis[] = client.isCluster ? (client as Cluster).nodes('master') : [client as Redis];
  const found = new Set<string>();
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 500);
      cursor = next;
      for (const key of keys) found.add(key);
    } while (cursor !== '0');
  }
  return [...found];
}

/**
 * SCAN + UNLINK of the keys under `prefix`; never KEYS or FLUSHDB, which would touch other
 * files' keys.
 *
 * @example
 * ```ts
 * afterAll(() => unlinkByPrefix(client, filePrefix));
 * ```
 */
export async function unlinkByPrefix(client: Redis | Cluster, prefix: string): Promise<void> {
  // One UNLINK per key: on a Cluster the keys of one page span many slots.
  for (const key of await scanKeys(client, prefix)) await client.unlink(key);
}
