import Fastify from 'fastify';
import { benchPayload } from './fixture-tenants.js';

// The peer: the same route with no tenant handling at all.
const app = Fastify({ logger: false });
app.get('/projects', async () => benchPayload);
await app.listen({ host: '127.0.0.1', port: 0 });
process.send?.({ port: (app.server.address() as { port: number }).port });
