import rateLimit from '@fastify/rate-limit';
import Fastify from 'fastify';
import { httpLimit } from './fastify-ratelimit-fixture.js';
import { benchPayload } from './fixture-tenants.js';

// The peer: @fastify/rate-limit with its defaults (keyed by client IP, in-process LRU store,
// X-RateLimit-* headers) and the same limit as ours.
const app = Fastify({ logger: false });
await app.register(rateLimit, { max: httpLimit.points, timeWindow: httpLimit.windowSeconds * 1000 });
app.get('/projects', async () => benchPayload);
await app.listen({ host: '127.0.0.1', port: 0 });
process.send?.({ port: (app.server.address() as { port: number }).port });
