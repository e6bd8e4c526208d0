import { createAuthenticator } from '@tenantkit/auth';
import { authPlugin } from '@tenantkit/auth/fastify';
import { createRateLimiter, memoryRateLimitStore } from '@tenantkit/ratelimit';
import { rateLimitPlugin } from '@tenantkit/ratelimit/fastify';
import { rbacPlugin } from '@tenantkit/rbac/fastify';
import { tenantContextPlugin } from '@tenantkit/tenant-context/fastify';
import Fastify from 'fastify';
import {
  benchPermission,
  benchRateLimit,
  benchSigningKey,
  createBenchAuthResolver,
  createBenchRbac,
  createBenchTokenService,
} from './fastify-auth-fixture.js';
import { benchPayload } from './fixture-tenants.js';

// Ours, the whole stack in the documented order: tenant (header by slug, cached resolver, ALS
// scope) → authenticate (Bearer, verified-token cache, memory revocation) → rate limit per
// tenant + user (memory store, preHandler, RateLimit headers) → requirePermission (memory rbac,
// compiled permissions cached) → handler.
const tokens = await createBenchTokenService(benchSigningKey().input);
const limiter = createRateLimiter({
  policies: [{ name: 'tenant-user', by: ['tenant', 'user'], points: benchRateLimit.points, duration: benchRateLimit.windowSeconds }],
  store: memoryRateLimitStore(),
});
const app = Fastify({ logger: false });
await app.register(tenantContextPlugin, { resolver: await createBenchAuthResolver() });
await app.register(authPlugin, { authenticator: createAuthenticator({ tokens }) });
await app.register(rateLimitPlugin, { limiter, subject: (request) => ({ userId: request.principal?.id }) });
await app.register(rbacPlugin, { checker: await createBenchRbac(), getPrincipal: (request) => request.principal });
app.get('/projects', { preHandler: app.requirePermission(benchPermission) }, async () => benchPayload);
await app.listen({ host: '127.0.0.1', port: 0 });
process.send?.({ port: (app.server.address() as { port: number }).port });
