import { createRateLimiter, memoryRateLimitStore } from '@tenantkit/ratelimit';
import { rateLimitPlugin } from '@tenantkit/ratelimit/fastify';
import Fastify from 'fastify';
import { httpLimit } from './fastify-ratelimit-fixture.js';
import { benchPayload } from './fixture-tenants.js';

// Ours: one policy keyed by client IP, in-process store, the plugin's defaults (preHandler
// hook, IETF RateLimit-Policy / RateLimit headers with a hashed partition key).
const limiter = createRateLimiter({
  policies: [{ name: 'ip', by: ['ip'], points: httpLimit.points, duration: httpLimit.windowSeconds }],
  store: memoryRateLimitStore(),
});
const app = Fastify({ logger: false });
await app.register(rateLimitPlugin, { limiter });
app.get('/projects', async () => benchPayload);
await app.listen({ host: '127.0.0.1', port: 0 });
process.send?.({ port: (app.server.address() as { port: number }).port });
