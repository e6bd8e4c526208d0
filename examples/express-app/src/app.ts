import { createAuthMiddleware } from '@tenantkit/auth/express';
import { TenantkitError } from '@tenantkit/core';
import {
  createExampleApplication,
  exampleRateLimitPolicies,
  type AuthAnswer,
  type AuthRequestFacts,
  type ExampleServices,
} from '@tenantkit/example-service-layer';
import { rateLimitMiddleware } from '@tenantkit/ratelimit/express';
import type { CompiledPermissions, RbacPrincipal } from '@tenantkit/rbac';
import { createRbacMiddleware } from '@tenantkit/rbac/express';
import { tenantMiddleware } from '@tenantkit/tenant-context/express';
import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler, type Response } from 'express';

const header = (request: Request, name: string): string | undefined => request.get(name);

/** What the auth use cases read from the request. */
const factsOf = (request: Request): AuthRequestFacts => ({
  principal: request.principal,
  cookie: request.headers.cookie,
  remoteAddress: request.socket.remoteAddress,
  forwardedFor: request.headers['x-forwarded-for'],
  userAgent: header(request, 'user-agent'),
});

/**
 * Sends an auth use case's answer: status, JSON body and, when the session changes, its cookies.
 * `no-store`: tokens and session cookies must never sit in a cache (RFC 6749 §5.1).
 */
const answer =
  (handler: (request: Request) => Promise<AuthAnswer>): RequestHandler =>
  (request, response, next) => {
    Promise.resolve()
      .then(() => handler(request))
      .then(({ status, body, setCookies }) => {
        if (setCookies !== undefined) response.setHeader('set-cookie', setCookies);
        response.status(status).set('cache-control', 'no-store').json(body);
      })
      .catch(next);
  };

/** Wraps an async use case: its result is the JSON body, its thrown error goes to the error handlers. */
const reply =
  (status: number, handler: (request: Request, response: Response) => Promise<unknown> | unknown): RequestHandler =>
  (request, response, next) => {
    Promise.resolve()
      .then(() => handler(request, response))
      .then((body) => response.status(status).json(body))
      .catch(next);
  };

/** The caller's checked permissions, set by the route's permission guard. */
const checked = (request: Request): CompiledPermissions => {
  // A route that reads them without a guard is a wiring mistake: fail closed.
  if (request.permissions === undefined) throw new TenantkitError('CONFIGURATION_INVALID', 'This route has no permission guard');
  return request.permissions;
};

/**
 * The Express reference app: the same routes and service layer as the Fastify app. Public
 * routes are mounted before the tenant middleware; tenant routes after it, at the root and
 * under /t/<slug>.
 *
 * A tenant request: per-IP limit → resolve tenant → authenticate (Bearer token, session cookie
 * or x-api-key, bound to the tenant; an active membership for users) → tenant and user limits →
 * authorize (rbac guard) → handler. The /auth routes and the other public routes run outside
 * any tenant; those that need a user authenticate without one.
 */
export function buildExpressApp(services: ExampleServices): Express {
  const app = express();
  app.disable('x-powered-by');
  const application = createExampleApplication(services);
  const { rateLimits } = services;
  // Trusted proxies (X-Forwarded-For is read from them only) and the headers' partition-key secret.
  const { bindingOptions } = rateLimits;

  // Per IP on every request, before the body is read and the tenant resolved: a flood of
  // made-up tenants stops here, before it costs registry reads.
  app.use(rateLimitMiddleware({ limiter: rateLimits.edge, policies: [exampleRateLimitPolicies.ip], ...bindingOptions }));
  app.use(express.json({ limit: '100kb' }));

  // Reads the one credential presented, verifies it against the request's tenant (none on the
  // public routes) and sets req.principal; refusals are answered 401 with WWW-Authenticate.
  const authentication = createAuthMiddleware({ authenticator: services.auth.authenticator, getTenantId: (request) => request.tenant?.id });
  const authenticate = authentication.authenticate();
  const authenticateIfPresented = authentication.authenticate({ optional: true });

  /**
   * The principal of a tenant request, once per request: the guards, the role routes and the
   * limiter's subject all ask, and get the same answer (the authenticated principal, for a
   * user after the per-request membership check). Keyed by the request object, so nothing
   * outlives it.
   */
  const principals = new WeakMap<Request, Promise<RbacPrincipal>>();
  const principalOf = (request: Request): Promise<RbacPrincipal> => {
    let principal = principals.get(request);
    if (principal === undefined) {
      principal = application.principal(request.principal);
      principals.set(request, principal);
    }
    return principal;
  };
  const signUpLimit = rateLimitMiddleware({ limiter: rateLimits.edge, policies: [exampleRateLimitPolicies.signUp], ...bindingOptions });

  app.get('/health', reply(200, () => application.health()));
  // Accounts, sign-in and sessions. Creating an account counts against the per-IP sign-up limit.
  app.post('/auth/signup', signUpLimit, answer((request) => application.signUpAccount(request.body, factsOf(request))));
  app.post('/auth/login', answer((request) => application.login(request.body, factsOf(request))));
  app.post('/auth/refresh', answer((request) => application.refresh(request.body)));
  app.post('/auth/logout', authenticateIfPresented, answer((request) => application.logout(request.body, factsOf(request))));
  app.get('/auth/sessions', authenticate, reply(200, (request) => application.listSessions(request.principal)));
  app.delete('/auth/sessions/:sessionId', authenticate, reply(200, (request) =>
    application.revokeSession(request.principal, String(request.params.sessionId))));
  app.post('/auth/switch-tenant', authenticate, answer((request) => application.switchTenant(request.body, factsOf(request))));
  app.post('/auth/password-reset', answer((request) => application.requestPasswordReset(request.body, factsOf(request))));
  app.post('/auth/password-reset/confirm', answer((request) => application.confirmPasswordReset(request.body)));
  app.post('/auth/verify-email', answer((request) => application.verifyEmail(request.body)));

  // A signed-in user creates a tenant (and becomes its admin), or lists theirs.
  app.post('/signup', signUpLimit, authenticate, reply(201, (request) => application.signUp(request.principal, request.body)));
  app.get('/me/tenants', authenticate, reply(200, (request) => application.myTenants(request.principal)));
  // Operator metrics (Prometheus text), behind their own bearer token.
  app.get('/metrics', (request, response, next) => {
    try {
      const text = application.metrics(header(request, 'authorization'));
      response.status(200).type('text/plain; version=0.0.4; charset=utf-8').send(text);
    } catch (error) {
      next(error);
    }
  });
  app.post('/admin/tenants/:tenantId/suspend', reply(200, (request) =>
    application.suspendTenant(header(request, 'x-admin-token'), String(request.params.tenantId), request.body)));
  app.post('/admin/tenants/:tenantId/reactivate', reply(200, (request) =>
    application.reactivateTenant(header(request, 'x-admin-token'), String(request.params.tenantId), request.body)));
  app.post('/admin/tenants/:tenantId/plan', reply(200, (request) =>
    application.changePlan(header(request, 'x-admin-token'), String(request.params.tenantId), request.body)));
  app.post('/admin/tenants/:tenantId/offboard', reply(200, (request) =>
    application.offboardTenant(header(request, 'x-admin-token'), String(request.params.tenantId), request.body)));

  // Guards run after tenantMiddleware (below), in the tenant's scope.
  const { requirePermission } = createRbacMiddleware({ checker: services.rbac, getPrincipal: principalOf });

  // The tenant's plan budget and the user's, after authentication (the subject callback
  // authenticates: a stranger is refused before counting against the tenant) and before the
  // guards (a request rbac refuses still costs). The tenant and its plan come from the scope.
  const subject = async (request: Request) => ({ userId: (await principalOf(request)).id });
  const limitTenantRequests = rateLimitMiddleware({ limiter: rateLimits.tenant, subject, ...bindingOptions });
  // A bulk import costs one point per project, as many single creations would.
  const limitImports = rateLimitMiddleware({
    limiter: rateLimits.tenant,
    subject,
    ...bindingOptions,
    cost: (request) => application.projectImportCost(request.body),
  });
  /** A guard checked on the project of the route (for "own projects only" rules). */
  const onProject = (permission: string) =>
    requirePermission(permission, { resource: (request) => application.projectResource(String(request.params.projectId)) });
  const projectId = (request: Request) => String(request.params.projectId);

  // Routes with a cost of their own, mounted ahead of the 1-point middleware so they are charged once.
  const weightedRoutes = express.Router({ mergeParams: true });
  weightedRoutes.post('/projects/import', limitImports, requirePermission('projects:create'), reply(201, (request) =>
    application.importProjects(checked(request), request.body)));

  const tenantRoutes = express.Router({ mergeParams: true });
  tenantRoutes.get('/tenant', requirePermission('tenant:read'), reply(200, () => application.tenantOverview()));
  tenantRoutes.get('/projects', requirePermission('projects:list'), reply(200, (request) => application.listProjects(checked(request))));
  tenantRoutes.post('/projects', requirePermission('projects:create'), reply(201, (request) =>
    application.createProject(checked(request), request.body)));
  tenantRoutes.get('/projects/:projectId', onProject('projects:read'), reply(200, (request) => application.getProject(projectId(request))));
  tenantRoutes.patch('/projects/:projectId', onProject('projects:update'), reply(200, (request) =>
    application.renameProject(projectId(request), request.body)));
  tenantRoutes.delete('/projects/:projectId', onProject('projects:delete'), reply(200, (request) => application.deleteProject(projectId(request))));
  tenantRoutes.get('/domains', requirePermission('domains:list'), reply(200, () => application.listDomains()));
  tenantRoutes.post('/domains', requirePermission('domains:create'), reply(201, (request) => application.addDomain(request.body)));
  tenantRoutes.post('/domains/:hostname/verify', requirePermission('domains:verify'), reply(200, (request) =>
    application.verifyDomain(String(request.params.hostname))));

  tenantRoutes.get('/api-keys', requirePermission('api-keys:list'), reply(200, () => application.listApiKeys()));
  tenantRoutes.post('/api-keys', requirePermission('api-keys:create'), reply(201, (request) =>
    application.createApiKey(request.principal, request.body)));
  tenantRoutes.delete(
    '/api-keys/:keyId',
    requirePermission('api-keys:revoke', { resource: (request) => application.apiKeyResource(String(request.params.keyId)) }),
    reply(200, (request) => application.revokeApiKey(String(request.params.keyId))),
  );

  tenantRoutes.get('/members', requirePermission('members:list'), reply(200, () => application.listMembers()));
  tenantRoutes.post('/members', requirePermission('members:invite'), reply(201, (request) => application.addMember(checked(request), request.body)));
  tenantRoutes.delete('/members/:userId', requirePermission('members:remove'), reply(200, (request) =>
    application.removeMember(String(request.params.userId))));

  // Roles and assignments: rbac's services check the caller themselves (roles:read,
  // roles:manage, roles:assign, roles:approve, and the assignment policy), so these routes only
  // establish who is asking.
  const actor = principalOf;
  tenantRoutes.get('/roles', reply(200, async (request) => application.listRoles(await actor(request))));
  tenantRoutes.post('/roles', reply(201, async (request) => application.createRole(await actor(request), request.body)));
  tenantRoutes.put('/roles/:key', reply(200, async (request) =>
    application.updateRole(await actor(request), String(request.params.key), request.body)));
  tenantRoutes.delete('/roles/:key', reply(200, async (request) => application.deleteRole(await actor(request), String(request.params.key))));
  tenantRoutes.get('/members/:userId/roles', reply(200, async (request) =>
    application.memberRoles(await actor(request), String(request.params.userId))));
  tenantRoutes.post('/members/:userId/roles', reply(201, async (request) =>
    application.assignRole(await actor(request), String(request.params.userId), request.body)));
  tenantRoutes.delete('/assignments/:assignmentId', reply(200, async (request) =>
    application.revokeAssignment(await actor(request), String(request.params.assignmentId), request.body)));
  tenantRoutes.post('/assignments/:assignmentId/approve', reply(200, async (request) =>
    application.approveAssignment(await actor(request), String(request.params.assignmentId))));
  tenantRoutes.get('/me/permissions', reply(200, async (request) => application.myPermissions(await actor(request), request.query)));

  const resolveTenant = tenantMiddleware({ resolver: services.resolver });
  const tenantStack = [resolveTenant, authenticate, weightedRoutes, limitTenantRequests, tenantRoutes];
  app.use('/t/:tenantSlug', ...tenantStack);
  app.use(...tenantStack);

  // One error handler for every coded error (in place of tenant-context's tenantErrorHandler),
  // so each 401 carries WWW-Authenticate and a throttled sign-in its Retry-After.
  const codedErrors: ErrorRequestHandler = (error, _request, response, _next) => {
    // express.json() errors (bad JSON, too large) carry a 4xx status: answer them as coded validation errors.
    const status = (error as { status?: number }).status;
    const coded =
      !(error instanceof TenantkitError) && status !== undefined && status >= 400 && status < 500
        ? new TenantkitError('VALIDATION_FAILED', (error as Error).message)
        : error;
    const result = application.errorResponse(coded);
    if (result.status >= 500) console.error(error);
    response.status(result.status).set(result.headers).json(result.body);
  };
  app.use(codedErrors);
  return app;
}
