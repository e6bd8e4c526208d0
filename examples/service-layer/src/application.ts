import { TenantkitError } from '@tenantkit/core';
import { currentTenant, requireTenantId, runAsSystem, userIdSchema } from '@tenantkit/tenant-context';
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { examplePlans } from './plans.js';
import { newProjectSchema, renameProjectSchema } from './projects.js';
import type { ExampleServices } from './services.js';

/**
 * The example's use cases, framework-neutral: each takes plain inputs (the principal, a parsed
 * body) and returns plain data or throws a coded TenantkitError, so Express and Fastify only
 * translate HTTP. Tenant-scoped use cases run inside the scope the binding opened.
 */
export function createExampleApplication(services: ExampleServices) {
  const { registry, memberships, domains, quotas, flags, projects, lifecycle } = services;

  function parseBody<Schema extends z.ZodType>(schema: Schema, body: unknown): z.output<Schema> {
    const result = schema.safeParse(body);
    if (result.success) return result.data;
    throw new TenantkitError('VALIDATION_FAILED', 'Invalid request body', {
      details: { issues: result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })) },
    });
  }

  /**
   * The caller, until @tenantkit/auth exists: the `x-user-id` header. It is checked against the
   * tenant's memberships, so a user only acts in tenants they belong to.
   */
  function parseUserId(value: unknown): string {
    const result = userIdSchema.safeParse(value);
    if (!result.success) throw new TenantkitError('TENANT_UNAUTHENTICATED', 'Send your user id in the x-user-id header');
    return result.data;
  }

  async function requireMember(userId: unknown): Promise<string> {
    const id = parseUserId(userId);
    await memberships.selectActiveTenant(id, requireTenantId());
    return id;
  }

  function requireAdmin(token: unknown): void {
    const expected = Buffer.from(services.config.adminToken);
    const given = Buffer.from(typeof token === 'string' ? token : '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new TenantkitError('TENANT_UNAUTHENTICATED', 'Admin routes need the x-admin-token header');
    }
  }

  function noSuchProject(projectId: string): never {
    throw new TenantkitError('VALIDATION_FAILED', 'No such project in this tenant', { details: { projectId } });
  }

  const signUpSchema = z.strictObject({
    slug: z.string(),
    name: z.string(),
    plan: z.enum(['free', 'pro', 'enterprise']).optional(),
  });
  const domainSchema = z.strictObject({ hostname: z.string().max(255) });
  const reasonSchema = z.strictObject({ reason: z.string().min(1).max(500) });

  return {
    health() {
      return { status: 'ok' };
    },

    /** Public sign-up: onboards a tenant with the caller as its admin. */
    async signUp(userId: unknown, body: unknown) {
      const adminUserId = parseUserId(userId);
      const input = parseBody(signUpSchema, body);
      const { tenant, run } = await lifecycle.startOnboarding({ ...input, adminUserId });
      return { tenant, onboarding: { runId: run.id, state: run.state, steps: run.completedSteps } };
    },

    /** The tenants the caller may switch between (no re-login needed). */
    async myTenants(userId: unknown) {
      const rows = await memberships.listUserTenants(parseUserId(userId));
      return rows.map(({ tenant, membership }) => ({ id: tenant.id, slug: tenant.slug, name: tenant.name, status: membership.status }));
    },

    async tenantOverview(userId: unknown) {
      await requireMember(userId);
      const tenant = currentTenant() ?? (await registry.getTenantOrThrow(requireTenantId()));
      return {
        tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name, plan: tenant.plan, settings: tenant.settings },
        usage: await quotas.usageReport(),
        flags: flags.evaluateAll({ tenant }),
      };
    },

    async listProjects(userId: unknown) {
      await requireMember(userId);
      return projects.list();
    },

    async createProject(userId: unknown, body: unknown) {
      const member = await requireMember(userId);
      const { name } = parseBody(newProjectSchema, body);
      await quotas.consume('projects'); // QUOTA_EXCEEDED at the plan's limit, atomically
      try {
        return await projects.create(name, member, Date.now());
      } catch (error) {
        await quotas.release('projects');
        throw error;
      }
    },

    // By id: the repository only ever sees the tenant in scope, so another tenant's project id
    // answers exactly like an id that exists nowhere.
    async getProject(userId: unknown, projectId: string) {
      await requireMember(userId);
      return (await projects.get(projectId)) ?? noSuchProject(projectId);
    },

    async renameProject(userId: unknown, projectId: string, body: unknown) {
      await requireMember(userId);
      const { name } = parseBody(renameProjectSchema, body);
      return (await projects.rename(projectId, name)) ?? noSuchProject(projectId);
    },

    async deleteProject(userId: unknown, projectId: string) {
      await requireMember(userId);
      if (!(await projects.remove(projectId))) noSuchProject(projectId);
      await quotas.release('projects');
      return { deleted: projectId };
    },

    async addDomain(userId: unknown, body: unknown) {
      await requireMember(userId);
      const tenant = await registry.getTenantOrThrow(requireTenantId());
      if (!examplePlans.hasFeature(tenant, 'custom-domains')) {
        throw new TenantkitError('QUOTA_EXCEEDED', 'Custom domains need the pro or enterprise plan');
      }
      const { hostname } = parseBody(domainSchema, body);
      await quotas.consume('domains');
      try {
        return await domains.addDomain(tenant.id, hostname);
      } catch (error) {
        await quotas.release('domains');
        throw error;
      }
    },

    async verifyDomain(userId: unknown, hostname: string) {
      await requireMember(userId);
      return domains.verifyDomain(requireTenantId(), hostname);
    },

    async listDomains(userId: unknown) {
      await requireMember(userId);
      return domains.listDomains(requireTenantId());
    },

    /** Admin: suspend a tenant (cross-tenant, so it runs in the named system scope). */
    async suspendTenant(adminToken: unknown, tenantId: string, body: unknown) {
      requireAdmin(adminToken);
      const { reason } = parseBody(reasonSchema, body);
      return runAsSystem({ reason: `admin suspend: ${reason}`, actor: 'admin' }, () => registry.suspendTenant(tenantId, reason));
    },

    async reactivateTenant(adminToken: unknown, tenantId: string, body: unknown) {
      requireAdmin(adminToken);
      const { reason } = parseBody(reasonSchema, body);
      return runAsSystem({ reason: `admin reactivate: ${reason}`, actor: 'admin' }, () => registry.reactivateTenant(tenantId, reason));
    },

    async offboardTenant(adminToken: unknown, tenantId: string, body: unknown) {
      requireAdmin(adminToken);
      const { reason } = parseBody(reasonSchema, body);
      const { run, tenant } = await runAsSystem({ reason: `admin offboard: ${reason}`, actor: 'admin' }, () =>
        lifecycle.startOffboarding(tenantId, { reason, requestedBy: 'admin' }),
      );
      return { tenant, offboarding: { runId: run.id, state: run.state, steps: run.completedSteps } };
    },
  };
}

export type ExampleApplication = ReturnType<typeof createExampleApplication>;
