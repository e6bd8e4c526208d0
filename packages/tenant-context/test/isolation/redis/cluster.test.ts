import { existsSync } from 'node:fs';
import { describeWithRedisCluster, startLocalRedisCluster, unusedLocalPort } from '@tenantkit/test-utils';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenantCache } from '../../../src/isolation/redis/tenant-cache.js';
import { purgeTenantKeys } from '../../../src/isolation/redis/purge-tenant-keys.js';
import { createTenantKeyspace } from '../../../src/isolation/redis/tenant-keyspace.js';
import { runAsSystem, runWithTenant } from '../../../src/scope/tenant-scope.js';
import { code, describeRedisIsolation, forbiddenCommands, ready, scanAll, uniquePrefix } from './redis-isolation-suite.js';

await describeWithRedisCluster('Redis isolation on a local Redis Cluster', (cluster) => {
  const connect = (options?: { keyPrefix?: string }) =>
    new Cluster([...cluster().nodes], options?.keyPrefix === undefined ? {} : { keyPrefix: options.keyPrefix });

  describeRedisIsolation('cluster', () => ({ connect }));

  describe('cluster specifics', () => {
    let client: Cluster;
    const prefix = uniquePrefix();
    const keyspace = createTenantKeyspace({ prefix });

    beforeAll(async () => {
      client = (await ready(connect())) as Cluster;
    });

    afterAll(async () => {
      await client.quit();
    });

    /** Tenant ids whose keys land on `count` different masters. */
    async function tenantsOnDifferentMasters(count: number): Promise<string[]> {
      const byMaster = new Map<string, string>();
      const ranges = (await client.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
      for (let index = 0; byMaster.size < count && index < 500; index += 1) {
        const tenantId = `tnt_spread_${index}`;
        const slot = await client.cluster('KEYSLOT', runWithTenant(tenantId, () => keyspace.key('x')));
        const master = ranges.find(([from, to]) => slot >= from && slot <= to)?.[2];
        if (master !== undefined && !byMaster.has(`${master[0]}:${master[1]}`)) byMaster.set(`${master[0]}:${master[1]}`, tenantId);
      }
      return [...byMaster.values()];
    }

    it('puts every key of a tenant, hostile segments included, in one slot', async () => {
      const keys = runWithTenant('tnt_a', () =>
        ['x}:{tnt_b', '{tnt_b}', '*', 'a:b', '\n', 'plain'].map((segment) => keyspace.key('cache', segment)),
      );
      const slots = new Set(await Promise.all(keys.map((key) => client.cluster('KEYSLOT', key))));
      expect(slots.size).toBe(1);
      expect([...slots][0]).toBe(await client.cluster('KEYSLOT', 'tnt_a'));
      // A multi-key command across one tenant's keys is legal on the Cluster.
      await client.mset(keys[0]!, '1', keys[1]!, '2');
      expect(await client.unlink(...keys)).toBe(2);
    });

    it('scans every master, never sends KEYS/FLUSHDB/FLUSHALL (MONITOR on each node), and removes only the tenant', async () => {
      const tenants = await tenantsOnDifferentMasters(3);
      expect(tenants).toHaveLength(3);
      const [target, ...others] = tenants as [string, ...string[]];
      await runAsSystem({ reason: 'seed' }, async () => {
        for (const tenantId of tenants) {
          const pipeline = client.pipeline();
          for (let index = 0; index < 400; index += 1) pipeline.set(keyspace.keyFor(tenantId, 'k', index), 'v');
          await pipeline.exec();
        }
      });

      const seen = new Map<number, string[]>();
      const monitorClients = await Promise.all(
        client.nodes('master').map(async (node) => {
          const monitor = await node.monitor();
          const port = node.options.port ?? 0;
          seen.set(port, []);
          monitor.on('monitor', (_time: string, args: string[]) => seen.get(port)!.push(String(args[0]).toLowerCase()));
          return monitor;
        }),
      );
      let removed: number;
      try {
        removed = await runAsSystem({ reason: 'offboard' }, () => purgeTenantKeys(client, { keyspace, tenantId: target, count: 100 }));
        // MONITOR output is asynchronous; a PING through each monitored node marks its end.
        await Promise.all(client.nodes('master').map((node) => node.ping('monitor-end')));
        for (let waited = 0; waited < 2_000 && [...seen.values()].some((names) => !names.includes('ping')); waited += 10) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      } finally {
        await Promise.all(monitorClients.map((monitor) => monitor.disconnect()));
      }
      expect(removed).toBe(400);
      for (const names of seen.values()) {
        expect(names).toContain('scan');
        expect(names.filter((name) => forbiddenCommands.includes(name))).toEqual([]);
      }
      expect([...seen.values()].some((names) => names.includes('unlink'))).toBe(true);
      expect(await scanAll(client, `${prefix}:{${target}}:*`)).toEqual([]);
      for (const other of others) expect(await scanAll(client, `${prefix}:{${other}}:*`)).toHaveLength(400);
    });

    it('purges through a Cluster client that has not connected yet', async () => {
      await runWithTenant('tnt_lazy', () => client.set(keyspace.key('k'), '1'));
      const lazy = new Cluster([...cluster().nodes], { lazyConnect: true });
      try {
        expect(await runWithTenant('tnt_lazy', () => purgeTenantKeys(lazy, { keyspace }))).toBe(1);
      } finally {
        await lazy.quit();
      }
    });

    it('fails with STORE_UNAVAILABLE when the Cluster cannot be reached', async () => {
      const port = await unusedLocalPort();
      const offline = new Cluster([{ host: '127.0.0.1', port }], {
        lazyConnect: true,
        enableOfflineQueue: false,
        clusterRetryStrategy: () => null,
      });
      offline.on('error', () => undefined);
      try {
        await expect(runWithTenant('tnt_a', () => purgeTenantKeys(offline, { keyspace }))).rejects.toThrow(code('STORE_UNAVAILABLE'));
        const cache = createTenantCache({ redis: offline, keyspace, namespace: 'n', defaultTtlMs: 1000 });
        await expect(runWithTenant('tnt_a', () => cache.get('k'))).rejects.toThrow(code('STORE_UNAVAILABLE'));
      } finally {
        offline.disconnect();
      }
    });
  });

  describe('startLocalRedisCluster', () => {
    it('stops its servers and removes its directory; stop() is safe twice', async () => {
      const local = await startLocalRedisCluster({ masters: 3 });
      expect(local.nodes).toHaveLength(3);
      expect(new Set(local.nodes.map((node) => node.port)).size).toBe(3);
      expect(local.pids).toHaveLength(3);
      const client = new Cluster([...local.nodes]);
      try {
        expect(await client.cluster('INFO')).toContain('cluster_state:ok');
      } finally {
        await client.quit();
      }
      await Promise.all([local.stop(), local.stop()]);
      expect(local.pids).toEqual([]);
      expect(existsSync(local.directory)).toBe(false);
    }, 60_000);

    it('refuses fewer than 3 masters', async () => {
      await expect(startLocalRedisCluster({ masters: 2 })).rejects.toThrow(TypeError);
    });
  });
});
