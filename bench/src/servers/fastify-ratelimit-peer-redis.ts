import rateLimit from '@fastify/rate-limit';
import Fastify from 'fastify';
import { Redis } from 'ioredis';
import { benchKeyPrefix, httpLimit, redisUrl } from './fastify-ratelimit-fixture.js';
import { benchPayload } from './fixture-tenants.js';

// The peer on Redis: @fastify/rate-limit's Redis store (one Lua call per request), same limit.
const redis = new Redis(redisUrl, { lazyConnect: true });
await redis.connect();
const app = Fastify({ logger: false });
await app.register(rateLimit, {
  max: httpLimit.points,
  timeWindow: httpLimit.windowSeconds * 1000,
  redis,
  nameSpace: `${benchKeyPrefix(process.ppid)}-http-peer-`,
});
app.get('/projects', async () => benchPayload);
await app.listen({ host: '127.0.0.1', port: 0 });
process.send?.({ port: (app.server.address() as { port: number }).port });
