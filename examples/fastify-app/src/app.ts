import { authPlugin } from '@tenantkit/auth/fastify';
import { TenantkitError } from '@tenantkit/core';
import {
  createExampleApplication,
  exampleRateLimitPolicies,
  type AuthAnswer,
  type AuthRequestFacts,
  type ExampleServices,
} from '@tenantkit/example-service-layer';
import { rateLimitPlugin } from '@tenantkit/ratelimit/fastify';
import type { CompiledPermissions, RbacPrincipal } from '@tenantkit/rbac';
import { rbacPlugin } from '@tenantkit/rbac/fastify';
import { tenantContextPlugin } from '@tenantkit/tenant-context/fastify';
import Fastify, { type FastifyInstance, type FastifyPluginCallback, type FastifyReply, type FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The per-IP policies checked on the route before tenant resolution; default `ip` alone. */
    edgeRateLimit?: readonly string[];
  }
}

// Public routes: no tenant, so none of the tenant's limits (the per-IP edge limit applies to
// every route), and no credential read. Tenant routes need one (authPlugin's default).
const PUBLIC = { tenant: false, rateLimits: false, auth: 'none' } as const;
/** Outside any tenant, for a signed-in user (a credential of any tenant, or of none). */
const SIGNED_IN = { ...PUBLIC, auth: 'required' } as const;
const SIGN_UP_POLICIES = [exampleRateLimitPolicies.ip, exampleRateLimitPolicies.signUp] as const;
const SIGN_UP = { ...SIGNED_IN, edgeRateLimit: SIGN_UP_POLICIES } as const;
const ACCOUNT_SIGN_UP = { ...PUBLIC, edgeRateLimit: SIGN_UP_POLICIES } as const;
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
const keyIdOf = (request: FastifyRequest): string => (request.params as { keyId: string }).keyId;

/** What the auth use cases read from the request. */
const factsOf = (request: FastifyRequest): AuthRequestFacts => ({
  principal: request.principal,
  cookie: header(request, 'cookie'),
  remoteAddress: request.raw.socket?.remoteAddress,
  forwardedFor: request.headers['x-forwarded-for'],
  userAgent: header(request, 'user-agent'),
});

/**
 * Sends an auth use case's answer: status, JSON body and, when the session changes, its cookies.
 * `no-store`: tokens and session cookies must never sit in a cache (RFC 6749 §5.1).
 */
function send(reply: FastifyReply, { status, body, setCookies }: AuthAnswer): FastifyReply {
  if (setCookies !== undefined) void reply.header('set-cookie', setCookies);
  return reply.status(status).header('cache-control', 'no-store').send(body);
}

/**
 * The Fastify reference app: tenant resolution and scope come from the tenant-context plugin,
 * everything else from the shared service layer. Routes are thin: parse, call, reply.
 *
 * A tenant request: per-IP limit (onRequest) → resolve tenant (onRequest) → authenticate
 * (authPlugin, onRequest: Bearer token, session cookie or x-api-key, bound to the tenant) →
 * tenant and user limits (preHandler; their subject adds a user's membership check) →
 * authorize (rbac preHandler) → handler.
 */
export async function buildFastifyApp(services: ExampleServices, options: { logger?: boolean } = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: options.logger ?? false, trustProxy: false });
  const application = createExampleApplication(services);
  const { rateLimits } = services;

  /**
   * The principal of a tenant request, once per request: the guards, the role routes and the
   * limiter's subject all ask, and get the same answer (what authPlugin authenticated, for a
   * user after the per-request membership check). Keyed by the request object, so nothing
   * outlives it.
   */
  const principals = new WeakMap<FastifyRequest, Promise<RbacPrincipal>>();
  const principalOf = (request: FastifyRequest): Promise<RbacPrincipal> => {
    let principal = principals.get(request);
    if (principal === undefined) {
      principal = application.principal(request.principal);
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
    // Every 401 with WWW-Authenticate, a throttled sign-in's 429 with Retry-After.
    const { status, headers, body } = application.errorResponse(coded);
    if (status >= 500) request.log.error(error);
    void reply.status(status).headers(headers).send(body);
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
  // After the tenant plugin (its onRequest hook resolves the tenant first): reads the one
  // credential presented, bound to the request's tenant, and sets request.principal; refusals
  // are answered 401 with WWW-Authenticate. Routes that name no `config.auth` require one.
  await app.register(authPlugin, { authenticator: services.auth.authenticator, getTenantId: (request) => request.tenant?.id });
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
  // Accounts, sign-in and sessions. Creating an account counts against the per-IP sign-up limit.
  app.post('/auth/signup', { config: ACCOUNT_SIGN_UP }, async (request, reply) => send(reply, await application.signUpAccount(request.body, factsOf(request))));
  app.post('/auth/login', { config: PUBLIC }, async (request, reply) => send(reply, await application.login(request.body, factsOf(request))));
  app.post('/auth/refresh', { config: PUBLIC }, async (request, reply) => send(reply, await application.refresh(request.body)));
  app.post('/auth/logout', { config: { ...PUBLIC, auth: 'optional' } }, async (request, reply) =>
    send(reply, await application.logout(request.body, factsOf(request))),
  );
  app.get('/auth/sessions', { config: SIGNED_IN }, async (request) => application.listSessions(request.principal));
  app.delete<{ Params: { sessionId: string } }>('/auth/sessions/:sessionId', { config: SIGNED_IN }, async (request) =>
    application.revokeSession(request.principal, request.params.sessionId),
  );
  app.post('/auth/switch-tenant', { config: SIGNED_IN }, async (request, reply) =>
    send(reply, await application.switchTenant(request.body, factsOf(request))),
  );
  app.post('/auth/password-reset', { config: PUBLIC }, async (request, reply) =>
    send(reply, await application.requestPasswordReset(request.body, factsOf(request))),
  );
  app.post('/auth/password-reset/confirm', { config: PUBLIC }, async (request, reply) =>
    send(reply, await application.confirmPasswordReset(request.body)),
  );
  app.post('/auth/verify-email', { config: PUBLIC }, async (request, reply) => send(reply, await application.verifyEmail(request.body)));

  // A signed-in user creates a tenant (and becomes its admin), or lists theirs.
  app.post('/signup', { config: SIGN_UP }, async (request, reply) => {
    reply.status(201);
    return application.signUp(request.principal, request.body);
  });
  app.get('/me/tenants', { config: SIGNED_IN }, async (request) => application.myTenants(request.principal));
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

    scoped.get('/api-keys', { config: { permission: 'api-keys:list' } }, async () => application.listApiKeys());
    scoped.post('/api-keys', { config: { permission: 'api-keys:create' } }, async (request, reply) => {
      reply.status(201);
      return application.createApiKey(request.principal, request.body);
    });
    const onKey = { permission: { permission: 'api-keys:revoke', resource: (request: FastifyRequest) => application.apiKeyResource(keyIdOf(request)) } };
    scoped.delete('/api-keys/:keyId', { config: onKey }, async (request) => application.revokeApiKey(keyIdOf(request)));

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
