import { fileURLToPath } from 'node:url';
import { requireTenantId, runWithTenant } from '@tenantkit/tenant-context';
import { benchResult, type BenchSuite } from '../bench-result.js';
import { compareHttp } from '../measure-http.js';
import { compareOps } from '../measure-ops.js';
import { createBenchResolver } from '../servers/fixture-tenants.js';

const server = (name: string) => fileURLToPath(new URL(`../servers/${name}.ts`, import.meta.url));
const quick = process.env.BENCH_QUICK === '1';
const httpOptions = quick ? { rounds: 1, durationSeconds: 1 } : { rounds: 5, durationSeconds: 3 };
const opsOptions = quick ? { rounds: 2, roundMs: 100 } : { rounds: 7, roundMs: 300 };
const tenantHeader = { 'x-tenant-id': 'tenant-7' };

export const tenantContextSuite: BenchSuite = {
  name: 'tenant-context',
  description: 'per-request cost of tenant resolution + scope, against the same app without it',
  async run() {
    const results = [];

    const fastifyTenant = { serverModule: server('fastify-tenant'), path: '/projects', headers: tenantHeader };
    const expressTenant = { serverModule: server('express-tenant'), path: '/projects', headers: tenantHeader };
    const httpCases = [
      ['fastify route: resolve (header, cached) + scope', fastifyTenant, 'fastify-bare', 'bare fastify route'],
      ['fastify route: resolve (header, cached) + scope', fastifyTenant, 'fastify-request-context', 'fastify + @fastify/request-context (ALS, no lookup)'],
      ['express route: resolve (header, cached) + scope', expressTenant, 'express-bare', 'bare express route'],
    ] as const;
    for (const [caseName, ours, peerServer, peerName] of httpCases) {
      const measured = await compareHttp(ours, { serverModule: server(peerServer), path: '/projects', headers: tenantHeader }, httpOptions);
      results.push(
        benchResult({ suite: 'tenant-context', case: caseName, unit: 'req/s', value: measured.ours, peer: peerName, peerValue: measured.peer }),
      );
    }

    // In-process: what one resolution + scope costs next to a plain Map lookup + call.
    const resolver = await createBenchResolver();
    const request = { headers: tenantHeader, url: '/projects', remoteAddress: '127.0.0.1' };
    const plainTenants = new Map([['tenant-7', { id: 't7' }]]);
    const handler = () => 1;
    const ops = await compareOps(
      () => {
        const tenant = resolver.resolveMaybeSync(request);
        if (tenant instanceof Promise) return tenant.then((value) => runWithTenant(value!, requireTenantId));
        return runWithTenant(tenant!, requireTenantId);
      },
      () => {
        const tenant = plainTenants.get(request.headers['x-tenant-id']);
        return tenant === undefined ? undefined : handler();
      },
      opsOptions,
    );
    results.push(
      benchResult({
        suite: 'tenant-context',
        case: 'resolveMaybeSync (cache hit) + runWithTenant',
        unit: 'ops/s',
        value: ops.ours,
        peer: 'Map.get + plain call (no validation, no scope)',
        peerValue: ops.peer,
      }),
    );
    resolver.dispose();
    return results;
  },
};
