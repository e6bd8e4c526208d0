import { toErrorResponse, TenantkitError } from '@tenantkit/core';
import { createExampleApplication, exampleRateLimitPolicies, type ExampleServices } from '@tenantkit/example-service-layer';
import { rateLimitPlugin } from '@tenantkit/ratelimit/fastify';
import type { CompiledPermissions, RbacPrincipal } from '@tenantkit/rbac';
import { rbacPlugin } from '@tenantkit/rbac/fastify';
import { tenantContextPlugin } from '@tenantkit/tenant-context/fastify';
import Fastify, { type FastifyInstance, type FastifyPluginCallback, type FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The per-IP policies checked on the route before tenant resolution; default `ip` alone. */
    edgeRateLimit?: readonly string[];
  }
}

// Public routes: no tenant, so none of the tenant's limits (the per-IP edge limit applies to every route).
const PUBLIC = { tenant: false, rateLimits: false } as const;
const SIGN_UP = { ...PUBLIC, edgeRateLimit: [exampleRateLimitPolicies.ip, exampleRateLimitPolicies.signUp] } as const;
const EDGE_DEFAULT = [exampleRateLimitPolicies.ip] as const;

const header = (request: FastifyRequest, name: string): string | undefined => {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** The caller's checked permissions, set by the route's permission guard. */
const checked = (request: FastifyRequest): CompiledPermissions => {
  // A route that reads them without a guard is a wiring mistake: fail closed.
  if (request.permissions === null) throw new TenantkitError('CONFIGURATION_INVALID', 'This route has no permission guard');
  return request.permissions;
};

const projectIdOf = (request: FastifyRequest): string => (request.params as { projectId: string }).projectId;

/**
 * The Fastify reference app: tenant resolution and scope come from the tenant-context plugin,
 * everything else from the shared service layer. Routes are thin: parse, call, reply.
 *
 * A tenant request: per-IP limit (onRequest) → resolve tenant (onRequest) → authenticate →
 * tenant and user limits (preHandler) → authorize (rbac preHandler) → handler.
 */
export async function buildFastifyApp(services: ExampleServices, options: { logger?: boolean } = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: options.logger ?? false, trustProxy: false });
  const application = createExampleApplication(services);
  const { rateLimits } = services;

  /**
   * Authentication, once per request: the guards, the role routes and the limiter's subject
   * all ask, and get the same principal (until @tenantkit/auth exists, the x-user-id of an
   * active member). Keyed by the request object, so nothing outlives it.
   */
  const principals = new WeakMap<FastifyRequest, Promise<RbacPrincipal>>();
  const principalOf = (request: FastifyRequest): Promise<RbacPrincipal> => {
    let principal = principals.get(request);
    if (principal === undefined) {
      principal = application.principal(header(request, 'x-user-id'));
      principals.set(request, principal);
    }
    return principal;
  };

  app.setErrorHandler((error, request, reply) => {
    // Fastify's own client errors (bad JSON, too large a body) become coded validation errors.
    const statusCode = (error as { statusCode?: number }).statusCode;
    const coded =
      !(error instanceof TenantkitError) && statusCode !== undefined && statusCode >= 400 && statusCode < 500
        ? new TenantkitError('VALIDATION_FAILED', (error as Error).message)
        : error;
    const { status, body } = toErrorResponse(coded);
    if (status >= 500) request.log.error(error);
    void reply.status(status).send(body);
  });

  // Per IP on every request, added before the tenant plugin so it runs first: a flood of
  // made-up tenants stops here, before it costs registry reads. A hook of the app's own
  // (the service layer's limitAtEdge), since rateLimitPlugin can be registered once per app
  // and runs the tenant stage below.
  app.addHook('onRequest', async (request, reply) => {
    const policies = request.routeOptions.config?.edgeRateLimit ?? EDGE_DEFAULT;
    const { headers, refusal } = await rateLimits.limitAtEdge(
      { remoteAddress: request.raw.socket?.remoteAddress, forwardedFor: request.headers['x-forwarded-for'] },
      policies,
    );
    if (refusal === undefined) {
      void reply.headers(headers);
      return;
    }
    return reply.code(refusal.status).headers(refusal.headers).send(refusal.body);
  });

  await app.register(tenantContextPlugin, { resolver: services.resolver });
  // The tenant's plan budget and the user's, in preHandler: after tenant resolution and
  // authentication (the subject callback authenticates, so a stranger is refused before
  // counting against the tenant), registered before rbac so a request it refuses still costs.
  await app.register(rateLimitPlugin, {
    limiter: rateLimits.tenant,
    subject: async (request) => ({ userId: (await principalOf(request)).id }),
    // Trusted proxies (X-Forwarded-For is read from them only) and the headers' partition-key secret.
    ...rateLimits.bindingOptions,
  });
  // After the tenant plugin: guards run in the tenant's scope.
  await app.register(rbacPlugin, { checker: services.rbac, getPrincipal: principalOf });
  /** `config.permission` on a project route: checked on that project (for "own projects only" rules). */
  const onProject = (permission: string) => ({
    permission: { permission, resource: (request: FastifyRequest) => application.projectResource(projectIdOf(request)) },
  });

  app.get('/health', { config: PUBLIC }, async () => application.health());
  app.post('/signup', { config: SIGN_UP }, async (request, reply) => {
    reply.status(201);
    return application.signUp(header(request, 'x-user-id'), request.body);
  });
  app.get('/me/tenants', { config: PUBLIC }, async (request) => application.myTenants(header(request, 'x-user-id')));
  // Operator metrics (Prometheus text), behind their own bearer token.
  app.get('/metrics', { config: PUBLIC }, async (request, reply) => {
    const text = application.metrics(header(request, 'authorization'));
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(text);
  });

  app.post<{ Params: { tenantId: string } }>('/admin/tenants/:tenantId/suspend', { config: PUBLIC }, async (request) =>
    application.suspendTenant(header(request, 'x-admin-token'), request.params.tenantId, request.body),
  );
  app.post<{ Params: { tenantId: string } }>('/admin/tenants/:tenantId/reactivate', { config: PUBLIC }, async (request) =>
    application.reactivateTenant(header(request, 'x-admin-token'), request.params.tenantId, request.body),
  );
  app.post<{ Params: { tenantId: string } }>('/admin/tenants/:tenantId/plan', { config: PUBLIC }, async (request) =>
    application.changePlan(header(request, 'x-admin-token'), request.params.tenantId, request.body),
  );
  app.post<{ Params: { tenantId: string } }>('/admin/tenants/:tenantId/offboard', { config: PUBLIC }, async (request) =>
    application.offboardTenant(header(request, 'x-admin-token'), request.params.tenantId, request.body),
  );

  // Tenant-scoped routes, reachable by header / subdomain / custom domain at the root, and by
  // path at /t/<slug>/... (the resolver's path-prefix source reads the slug).
  const tenantRoutes: FastifyPluginCallback = (scoped, _options, done) => {
    scoped.get('/tenant', { config: { permission: 'tenant:read' } }, async () => application.tenantOverview());
    scoped.get('/projects', { config: { permission: 'projects:list' } }, async (request) => application.listProjects(checked(request)));
    scoped.post('/projects', { config: { permission: 'projects:create' } }, async (request, reply) => {
      reply.status(201);
      return application.createProject(checked(request), request.body);
    });
    // A bulk import costs one point per project, as many single creations would.
    const importCost = { cost: (request: FastifyRequest) => application.projectImportCost(request.body) };
    scoped.post('/projects/import', { config: { permission: 'projects:create', rateLimits: importCost } }, async (request, reply) => {
      reply.status(201);
      return application.importProjects(checked(request), request.body);
    });
    scoped.get('/projects/:projectId', { config: onProject('projects:read') }, async (request) => application.getProject(projectIdOf(request)));
    scoped.patch('/projects/:projectId', { config: onProject('projects:update') }, async (request) =>
      application.renameProject(projectIdOf(request), request.body),
    );
    scoped.delete('/projects/:projectId', { config: onProject('projects:delete') }, async (request) =>
      application.deleteProject(projectIdOf(request)),
    );
    scoped.get('/domains', { config: { permission: 'domains:list' } }, async () => application.listDomains());
    scoped.post('/domains', { config: { permission: 'domains:create' } }, async (request, reply) => {
      reply.status(201);
      return application.addDomain(request.body);
    });
    scoped.post<{ Params: { hostname: string } }>('/domains/:hostname/verify', { config: { permission: 'domains:verify' } }, async (request) =>
      application.verifyDomain(request.params.hostname),
    );

    scoped.get('/members', { config: { permission: 'members:list' } }, async () => application.listMembers());
    scoped.post('/members', { config: { permission: 'members:invite' } }, async (request, reply) => {
      reply.status(201);
      return application.addMember(checked(request), request.body);
    });
    scoped.delete<{ Params: { userId: string } }>('/members/:userId', { config: { permission: 'members:remove' } }, async (request) =>
      application.removeMember(request.params.userId),
    );

    // Roles and assignments: rbac's services check the caller themselves (roles:read,
    // roles:manage, roles:assign, roles:approve, and the assignment policy), so these routes
    // only establish who is asking.
    const actor = principalOf;
    scoped.get('/roles', async (request) => application.listRoles(await actor(request)));
    scoped.post('/roles', async (request, reply) => {
      const role = await application.createRole(await actor(request), request.body);
      reply.status(201);
      return role;
    });
    scoped.put<{ Params: { key: string } }>('/roles/:key', async (request) =>
      application.updateRole(await actor(request), request.params.key, request.body),
    );
    scoped.delete<{ Params: { key: string } }>('/roles/:key', async (request) => application.deleteRole(await actor(request), request.params.key));
    scoped.get<{ Params: { userId: string } }>('/members/:userId/roles', async (request) =>
      application.memberRoles(await actor(request), request.params.userId),
    );
    scoped.post<{ Params: { userId: string } }>('/members/:userId/roles', async (request, reply) => {
      const assignment = await application.assignRole(await actor(request), request.params.userId, request.body);
      reply.status(201);
      return assignment;
    });
    scoped.delete<{ Params: { assignmentId: string } }>('/assignments/:assignmentId', async (request) =>
      application.revokeAssignment(await actor(request), request.params.assignmentId, request.body),
    );
    scoped.post<{ Params: { assignmentId: string } }>('/assignments/:assignmentId/approve', async (request) =>
      application.approveAssignment(await actor(request), request.params.assignmentId),
    );
    scoped.get('/me/permissions', async (request) => application.myPermissions(await actor(request), request.query));
    done();
  };
  await app.register(tenantRoutes);
  await app.register(tenantRoutes, { prefix: '/t/:tenantSlug' });

  return app;
}
