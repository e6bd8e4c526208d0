import { toErrorResponse, TenantkitError } from '@tenantkit/core';
import { createExampleApplication, exampleRateLimitPolicies, type ExampleServices } from '@tenantkit/example-service-layer';
import { rateLimitMiddleware } from '@tenantkit/ratelimit/express';
import type { CompiledPermissions, RbacPrincipal } from '@tenantkit/rbac';
import { createRbacMiddleware } from '@tenantkit/rbac/express';
import { tenantErrorHandler, tenantMiddleware } from '@tenantkit/tenant-context/express';
import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler, type Response } from 'express';

const header = (request: Request, name: string): string | undefined => request.get(name);

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
 * A tenant request: per-IP limit → resolve tenant → authenticate → tenant and user limits →
 * authorize (rbac guard) → handler.
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

  /**
   * Authentication, once per request: the guards, the role routes and the limiter's subject
   * all ask, and get the same principal (until @tenantkit/auth exists, the x-user-id of an
   * active member). Keyed by the request object, so nothing outlives it.
   */
  const principals = new WeakMap<Request, Promise<RbacPrincipal>>();
  const principalOf = (request: Request): Promise<RbacPrincipal> => {
    let principal = principals.get(request);
    if (principal === undefined) {
      principal = application.principal(header(request, 'x-user-id'));
      principals.set(request, principal);
    }
    return principal;
  };

  app.get('/health', reply(200, () => application.health()));
  app.post(
    '/signup',
    rateLimitMiddleware({ limiter: rateLimits.edge, policies: [exampleRateLimitPolicies.signUp], ...bindingOptions }),
    reply(201, (request) => application.signUp(header(request, 'x-user-id'), request.body)),
  );
  app.get('/me/tenants', reply(200, (request) => application.myTenants(header(request, 'x-user-id'))));
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
  const tenantStack = [resolveTenant, weightedRoutes, limitTenantRequests, tenantRoutes];
  app.use('/t/:tenantSlug', ...tenantStack);
  app.use(...tenantStack);

  app.use(tenantErrorHandler());
  const codedErrors: ErrorRequestHandler = (error, _request, response, _next) => {
    // express.json() errors (bad JSON, too large) carry a 4xx status: answer them as coded validation errors.
    const status = (error as { status?: number }).status;
    const coded =
      !(error instanceof TenantkitError) && status !== undefined && status >= 400 && status < 500
        ? new TenantkitError('VALIDATION_FAILED', (error as Error).message)
        : error;
    const result = toErrorResponse(coded);
    if (result.status >= 500) console.error(error);
    response.status(result.status).json(result.body);
  };
  app.use(codedErrors);
  return app;
}
