import { fastifyRequestContext, requestContext } from '@fastify/request-context';
import Fastify from 'fastify';
import { benchPayload } from './fixture-tenants.js';

// The ecosystem's AsyncLocalStorage plugin with a tenant id copied from the header: request
// scope only, no lookup, no validation. It isolates what AsyncLocalStorage itself costs.
declare module '@fastify/request-context' {
  interface RequestContextData {
    tenantId: string;
  }
}

const app = Fastify({ logger: false });
await app.register(fastifyRequestContext);
app.addHook('onRequest', (request, _reply, done) => {
  request.requestContext.set('tenantId', String(request.headers['x-tenant-id']));
  done();
});
app.get('/projects', async () => {
  requestContext.get('tenantId');
  return benchPayload;
});
await app.listen({ host: '127.0.0.1', port: 0 });
process.send?.({ port: (app.server.address() as { port: number }).port });
