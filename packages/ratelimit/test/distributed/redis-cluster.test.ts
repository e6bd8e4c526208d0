import { randomBytes } from 'node:crypto';
import { describeWithRedisCluster } from '@tenantkit/test-utils';
import { Cluster, type Redis } from 'ioredis';
import { describeExactAdmission } from './exact-admission-suite.js';

/**
 * Tenant ids whose counters land on as many different masters as possible (the key's hash tag
 * is the tenant id itself, percent-encoding leaves these ids as they are).
 */
async function tenantsOnDifferentMasters(client: Redis | Cluster, count: number, prefix: string): Promise<string[]> {
  const cluster = client as Cluster;
  const ranges = (await cluster.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
  const run = randomBytes(3).toString('hex');
  const masters = new Set(ranges.map(([, , [host, port]]) => `${host}:${port}`));
  const chosen: string[] = [];
  const mastersUsed = new Set<string>();
  for (let index = 0; chosen.length < count && index < 1000; index += 1) {
    const tenantId = `t-${prefix}-${run}-${index}`;
    const slot = await cluster.cluster('KEYSLOT', tenantId);
    const master = ranges.find(([from, to]) => slot >= from && slot <= to)?.[2];
    const id = master === undefined ? '' : `${master[0]}:${master[1]}`;
    // Distinct masters first; once every master has one, any id will do.
    if (!mastersUsed.has(id) || mastersUsed.size >= masters.size) {
      mastersUsed.add(id);
      chosen.push(tenantId);
    }
  }
  return chosen;
}

await describeWithRedisCluster('4 worker processes on a 3-master Redis Cluster admit exactly the limit', (cluster) => {
  describeExactAdmission({
    label: 'cluster',
    target: () => ({ kind: 'cluster', nodes: cluster().nodes }),
    connect: async () => {
      const client = new Cluster([...cluster().nodes]);
      await client.ping();
      return client;
    },
    tenantIds: tenantsOnDifferentMasters,
  });
});
