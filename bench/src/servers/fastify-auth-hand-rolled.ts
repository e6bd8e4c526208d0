import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { importJWK, jwtVerify } from 'jose';
import { benchAudience, benchIssuer, benchPermission, benchRateLimit, benchSigningKey, benchTenants, benchUserId } from './fastify-auth-fixture.js';
import { benchPayload } from './fixture-tenants.js';

// The peer: what an app writes by hand for the same route. A header tenant lookup (Map by
// slug), jose jwtVerify with the pre-imported key in an onRequest hook (issuer, audience,
// algorithms pinned, tid must be the tenant), @fastify/rate-limit per tenant + user in
// preHandler, and a naive permission check (user → roles → permission Set).
declare module 'fastify' {
  interface FastifyRequest {
    handRolledAuth: { readonly tenantId: string; readonly userId: string } | null;
  }
}

const key = await importJWK(benchSigningKey().publicJwk as Parameters<typeof importJWK>[0], 'EdDSA');
const verifyOptions = { issuer: benchIssuer, audience: benchAudience, algorithms: ['EdDSA'] };
const tenantsBySlug = new Map(benchTenants.map((tenant) => [tenant.slug, { id: tenant.id, status: 'active' }]));
const rolePermissions = new Map([['member', new Set([benchPermission, 'projects:read'])]]);
const userRoles = new Map(benchTenants.map((tenant) => [`${tenant.id}:${benchUserId}`, ['member']]));

const app = Fastify({ logger: false });
app.decorateRequest('handRolledAuth', null);
app.addHook('onRequest', async (request, reply) => {
  const slug = request.headers['x-tenant-id'];
  const tenant = typeof slug === 'string' ? tenantsBySlug.get(slug) : undefined;
  if (tenant === undefined || tenant.status !== 'active') return reply.code(404).send({ error: 'unknown tenant' });
  const authorization = request.headers.authorization;
  if (authorization === undefined || !authorization.startsWith('Bearer ')) return reply.code(401).send({ error: 'unauthenticated' });
  try {
    const { payload } = await jwtVerify(authorization.slice(7), key, verifyOptions);
    if (payload.tid !== tenant.id || typeof payload.sub !== 'string') return reply.code(401).send({ error: 'unauthenticated' });
    request.handRolledAuth = { tenantId: tenant.id, userId: payload.sub };
  } catch {
    return reply.code(401).send({ error: 'unauthenticated' });
  }
});
await app.register(rateLimit, {
  max: benchRateLimit.points,
  timeWindow: benchRateLimit.windowSeconds * 1000,
  hook: 'preHandler',
  keyGenerator: (request) => `${request.handRolledAuth!.tenantId}:${request.handRolledAuth!.userId}`,
});
const requirePermission = (permission: string) => async (request: FastifyRequest, reply: FastifyReply) => {
  const auth = request.handRolledAuth!;
  const roles = userRoles.get(`${auth.tenantId}:${auth.userId}`) ?? [];
  if (!roles.some((role) => rolePermissions.get(role)?.has(permission) === true)) return reply.code(403).send({ error: 'forbidden' });
};
app.get('/projects', { preHandler: requirePermission(benchPermission) }, async () => benchPayload);
await app.listen({ host: '127.0.0.1', port: 0 });
process.send?.({ port: (app.server.address() as { port: number }).port });
