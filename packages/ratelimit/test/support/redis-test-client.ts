// The Redis client of a test file: connected before its tests, its keys removed after them.
import type { Cluster, Command, Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { unlinkByPrefix } from './redis-test-keys.js';

/**
 * Registers a `beforeAll` that connects the client `connect` returns (a PING, so the tests start
 * on a ready client) and an `afterAll` that unlinks every key under `filePrefix` and quits it.
 * Call it at the top of a `describeWithService('redis', …)` / `describeWithRedisCluster` body;
 * the returned function gives the client in hooks and tests.
 *
 * @example
 * ```ts
 * const client = useRedisClient(() => new Redis(testServices.redis.url), filePrefix);
 * it('counts', async () => {
 *   expect(await client().get(`${filePrefix}:x`)).toBeNull();
 * });
 * ```
 */
export function useRedisClient<Client extends Redis | Cluster>(connect: () => Client, filePrefix: string): () => Client {
  let client: Client | undefined;
  beforeAll(async () => {
    client = connect();
    await client.ping();
  });
  afterAll(async () => {
    if (client === undefined) return;
    await unlinkByPrefix(client, filePrefix);
    await client.quit();
  });
  return () => {
    if (client === undefined) throw new Error('useRedisClient: the client is not connected yet (use it in hooks and tests)');
    return client;
  };
}

/**
 * Records the name of every command a client sends, where ioredis hands each one to a connection,
 * until `restore()`.
 *
 * @example
 * ```ts
 * const counted = countCommands(client);
 * try {
 *   await store.consumeAll(request);
 * } finally {
 *   counted.restore();
 * }
 * expect(counted.names).toEqual(['evalsha']);
 * ```
 */
export function countCommands(client: Redis | Cluster): { readonly names: string[]; restore(): void } {
  const names: string[] = [];
  // Redis and Cluster declare sendCommand with different arities; both take the command first.
  const target = client as { sendCommand: (this: unknown, command: Command, ...rest: unknown[]) => unknown };
  const original = target.sendCommand;
  target.sendCommand = function countedSendCommand(this: unknown, command, ...rest) {
    names.push(command.name);
    return original.call(this, command, ...rest);
  };
  return {
    names,
    restore() {
      target.sendCommand = original;
    },
  };
}
