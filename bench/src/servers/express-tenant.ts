import { requireTenantId } from '@tenantkit/tenant-context';
import { tenantMiddleware } from '@tenantkit/tenant-context/express';
import express from 'express';
import { benchPayload, createBenchResolver } from './fixture-tenants.js';

const app = express();
app.use(tenantMiddleware({ resolver: await createBenchResolver() }));
app.get('/projects', (_request, response) => {
  requireTenantId();
  response.json(benchPayload);
});
const server = app.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as { port: number }).port }));
