import type { Redis } from 'ioredis';

/** The limit both HTTP peers enforce per client IP: one no run reaches, so every request is a 200. */
export const httpLimit = Object.freeze({ points: 1_000_000_000, windowSeconds: 3600 });

export const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Every Redis key of one bench run starts with `${benchKeyPrefix(pid)}-`; the servers, forked by
 * the bench process, derive it from `process.ppid`, so the suite can clean up after them.
 */
export function benchKeyPrefix(benchPid: number): string {
  return `tkbench-rl-${benchPid}`;
}

/** SCAN + UNLINK of every key under `${prefix}-` (never KEYS or FLUSHDB: Redis is shared). */
export async function deleteKeysWithPrefix(client: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [nextCursor, found] = await client.scan(cursor, 'MATCH', `${prefix}-*`, 'COUNT', 1000);
    cursor = nextCursor;
    if (found.length > 0) deleted += await client.unlink(...found);
  } while (cursor !== '0');
  return deleted;
}
