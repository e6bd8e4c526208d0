import { createRateLimiter } from '@tenantkit/ratelimit';
import { rateLimitPlugin } from '@tenantkit/ratelimit/fastify';
import { redisRateLimitStore } from '@tenantkit/ratelimit/redis';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { benchKeyPrefix, httpLimit, redisUrl } from './fastify-ratelimit-fixture.js';
import { benchPayload } from './fixture-tenants.js';

// Ours on Redis: the same policy, counted by the Redis store (one EVALSHA per request).
// Connected before listening, so no request is counted by the insurance store instead.
const redis = new Redis(redisUrl, { lazyConnect: true });
await redis.connect();
const limiter = createRateLimiter({
  policies: [{ name: 'ip', by: ['ip'], points: httpLimit.points, duration: httpLimit.windowSeconds }],
  store: redisRateLimitStore(redis),
  keyPrefix: `${benchKeyPrefix(process.ppid)}-http-ours`,
});
const app = Fastify({ logger: false });
await app.register(rateLimitPlugin, { limiter });
app.get('/projects', async () => benchPayload);
await app.listen({ host: '127.0.0.1', port: 0 });
process.send?.({ port: (app.server.address() as { port: number }).port });
