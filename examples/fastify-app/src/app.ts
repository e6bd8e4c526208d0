import { toErrorResponse, TenantkitError } from '@tenantkit/core';
import { createExampleApplication, type ExampleServices } from '@tenantkit/example-service-layer';
import { tenantContextPlugin } from '@tenantkit/tenant-context/fastify';
import Fastify, { type FastifyInstance, type FastifyPluginCallback, type FastifyRequest } from 'fastify';

const PUBLIC = { tenant: false } as const;

const header = (request: FastifyRequest, name: string): string | undefined => {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/**
 * The Fastify reference app: tenant resolution and scope come from the tenant-context plugin,
 * everything else from the shared service layer. Routes are thin: parse, call, reply.
 */
export async function buildFastifyApp(services: ExampleServices, options: { logger?: boolean } = {}): Promise<FastifyInstance> {
  const app = Fastify({ logger: options.logger ?? false, trustProxy: false });
  const application = createExampleApplication(services);

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

  await app.register(tenantContextPlugin, { resolver: services.resolver });

  app.get('/health', { config: PUBLIC }, async () => application.health());
  app.post('/signup', { config: PUBLIC }, async (request, reply) => {
    reply.status(201);
    return application.signUp(header(request, 'x-user-id'), request.body);
  });
  app.get('/me/tenants', { config: PUBLIC }, async (request) => application.myTenants(header(request, 'x-user-id')));

  app.post<{ Params: { tenantId: string } }>('/admin/tenants/:tenantId/suspend', { config: PUBLIC }, async (request) =>
    application.suspendTenant(header(request, 'x-admin-token'), request.params.tenantId, request.body),
  );
  app.post<{ Params: { tenantId: string } }>('/admin/tenants/:tenantId/reactivate', { config: PUBLIC }, async (request) =>
    application.reactivateTenant(header(request, 'x-admin-token'), request.params.tenantId, request.body),
  );
  app.post<{ Params: { tenantId: string } }>('/admin/tenants/:tenantId/offboard', { config: PUBLIC }, async (request) =>
    application.offboardTenant(header(request, 'x-admin-token'), request.params.tenantId, request.body),
  );

  // Tenant-scoped routes, reachable by header / subdomain / custom domain at the root, and by
  // path at /t/<slug>/... (the resolver's path-prefix source reads the slug).
  const tenantRoutes: FastifyPluginCallback = (scoped, _options, done) => {
    scoped.get('/tenant', async (request) => application.tenantOverview(header(request, 'x-user-id')));
    scoped.get('/projects', async (request) => application.listProjects(header(request, 'x-user-id')));
    scoped.post('/projects', async (request, reply) => {
      reply.status(201);
      return application.createProject(header(request, 'x-user-id'), request.body);
    });
    scoped.get<{ Params: { projectId: string } }>('/projects/:projectId', async (request) =>
      application.getProject(header(request, 'x-user-id'), request.params.projectId),
    );
    scoped.patch<{ Params: { projectId: string } }>('/projects/:projectId', async (request) =>
      application.renameProject(header(request, 'x-user-id'), request.params.projectId, request.body),
    );
    scoped.delete<{ Params: { projectId: string } }>('/projects/:projectId', async (request) =>
      application.deleteProject(header(request, 'x-user-id'), request.params.projectId),
    );
    scoped.get('/domains', async (request) => application.listDomains(header(request, 'x-user-id')));
    scoped.post('/domains', async (request, reply) => {
      reply.status(201);
      return application.addDomain(header(request, 'x-user-id'), request.body);
    });
    scoped.post<{ Params: { hostname: string } }>('/domains/:hostname/verify', async (request) =>
      application.verifyDomain(header(request, 'x-user-id'), request.params.hostname),
    );
    done();
  };
  await app.register(tenantRoutes);
  await app.register(tenantRoutes, { prefix: '/t/:tenantSlug' });

  return app;
}
