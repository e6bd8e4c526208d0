import { requireTenantId } from '@tenantkit/tenant-context';
import { tenantContextPlugin } from '@tenantkit/tenant-context/fastify';
import Fastify from 'fastify';
import { benchPayload, createBenchResolver } from './fixture-tenants.js';

// Ours: tenant resolution from a header (cached), validation, and the AsyncLocalStorage scope,
// with the handler reading the tenant from the scope.
const app = Fastify({ logger: false });
await app.register(tenantContextPlugin, { resolver: await createBenchResolver() });
app.get('/projects', async () => {
  requireTenantId();
  return benchPayload;
});
await app.listen({ host: '127.0.0.1', port: 0 });
process.send?.({ port: (app.server.address() as { port: number }).port });
