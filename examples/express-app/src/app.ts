import { toErrorResponse, TenantkitError } from '@tenantkit/core';
import { createExampleApplication, type ExampleServices } from '@tenantkit/example-service-layer';
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

/**
 * The Express reference app: the same routes and service layer as the Fastify app. Public
 * routes are mounted before the tenant middleware; tenant routes after it, at the root and
 * under /t/<slug>.
 */
export function buildExpressApp(services: ExampleServices): Express {
  const app = express();
  app.disable('x-powered-by');
  const application = createExampleApplication(services);
  app.use(express.json({ limit: '100kb' }));

  app.get('/health', reply(200, () => application.health()));
  app.post('/signup', reply(201, (request) => application.signUp(header(request, 'x-user-id'), request.body)));
  app.get('/me/tenants', reply(200, (request) => application.myTenants(header(request, 'x-user-id'))));
  app.post('/admin/tenants/:tenantId/suspend', reply(200, (request) =>
    application.suspendTenant(header(request, 'x-admin-token'), String(request.params.tenantId), request.body)));
  app.post('/admin/tenants/:tenantId/reactivate', reply(200, (request) =>
    application.reactivateTenant(header(request, 'x-admin-token'), String(request.params.tenantId), request.body)));
  app.post('/admin/tenants/:tenantId/offboard', reply(200, (request) =>
    application.offboardTenant(header(request, 'x-admin-token'), String(request.params.tenantId), request.body)));

  const tenantRoutes = express.Router({ mergeParams: true });
  tenantRoutes.get('/tenant', reply(200, (request) => application.tenantOverview(header(request, 'x-user-id'))));
  tenantRoutes.get('/projects', reply(200, (request) => application.listProjects(header(request, 'x-user-id'))));
  tenantRoutes.post('/projects', reply(201, (request) => application.createProject(header(request, 'x-user-id'), request.body)));
  tenantRoutes.get('/projects/:projectId', reply(200, (request) =>
    application.getProject(header(request, 'x-user-id'), String(request.params.projectId))));
  tenantRoutes.patch('/projects/:projectId', reply(200, (request) =>
    application.renameProject(header(request, 'x-user-id'), String(request.params.projectId), request.body)));
  tenantRoutes.delete('/projects/:projectId', reply(200, (request) =>
    application.deleteProject(header(request, 'x-user-id'), String(request.params.projectId))));
  tenantRoutes.get('/domains', reply(200, (request) => application.listDomains(header(request, 'x-user-id'))));
  tenantRoutes.post('/domains', reply(201, (request) => application.addDomain(header(request, 'x-user-id'), request.body)));
  tenantRoutes.post('/domains/:hostname/verify', reply(200, (request) =>
    application.verifyDomain(header(request, 'x-user-id'), String(request.params.hostname))));

  const resolveTenant = tenantMiddleware({ resolver: services.resolver });
  app.use('/t/:tenantSlug', resolveTenant, tenantRoutes);
  app.use(resolveTenant, tenantRoutes);

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
