import { TenantkitError } from '@tenantkit/core';
import type { CompiledPermissions, EffectivePermission, RbacPrincipal, RoleChanges, RoleDefinition } from '@tenantkit/rbac';
import { kyselyPermissionFilter } from '@tenantkit/rbac/kysely';
import { currentTenant, requireTenantId, runAsSystem, userIdSchema } from '@tenantkit/tenant-context';
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import {
  MAX_PROJECTS_PER_IMPORT,
  newProjectSchema,
  projectFilterColumns,
  projectImportSchema,
  renameProjectSchema,
  type Project,
} from './projects.js';
import type { ExampleServices } from './services.js';

/**
 * The example's use cases, framework-neutral: each takes plain inputs (the principal, a parsed
 * body) and returns plain data or throws a coded TenantkitError, so Express and Fastify only
 * translate HTTP. Tenant-scoped use cases run inside the scope the binding opened.
 *
 * Authorization: every tenant route either sits behind a permission guard of
 * `@tenantkit/rbac/express` / `/fastify` (whose principal getter is {@link principal}) or calls
 * {@link principal} itself and leaves the checks to rbac's services (roles, assignments).
 * Use cases behind a guard that need the caller take the caller's checked, compiled permissions.
 */
export function createExampleApplication(services: ExampleServices) {
  const { registry, memberships, domains, quotas, flags, projects, lifecycle, rbac, plans, rateLimits } = services;

  function parseBody<Schema extends z.ZodType>(schema: Schema, body: unknown, what = 'request body'): z.output<Schema> {
    const result = schema.safeParse(body);
    if (result.success) return result.data;
    throw new TenantkitError('VALIDATION_FAILED', `Invalid ${what}`, {
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

  /**
   * The principal of a tenant request: the x-user-id of an active member of the tenant in
   * scope (a membership says who belongs; rbac's grants say what they may do).
   * @throws `TENANT_UNAUTHENTICATED` without a user id, `MEMBERSHIP_NOT_FOUND` / `MEMBERSHIP_INACTIVE`
   */
  async function principal(userId: unknown): Promise<RbacPrincipal> {
    const id = parseUserId(userId);
    await memberships.selectActiveTenant(id, requireTenantId());
    return { kind: 'user', id };
  }

  /** A member of the tenant in scope (any status), or MEMBERSHIP_NOT_FOUND: roles go to members only. */
  async function requireMembership(userId: string): Promise<void> {
    if ((await memberships.getMembership(requireTenantId(), userId)) === null) {
      throw new TenantkitError('MEMBERSHIP_NOT_FOUND', 'No membership for this user in this tenant', { details: { userId } });
    }
  }

  function parseMemberId(value: unknown): string {
    const result = userIdSchema.safeParse(value);
    if (!result.success) throw new TenantkitError('VALIDATION_FAILED', 'Invalid user id', { details: { userId: String(value) } });
    return result.data;
  }

  /** How /me/permissions shows one rule: its provenance without the grant's internals. */
  function describePermission(entry: EffectivePermission) {
    return {
      effect: entry.effect,
      permission: entry.permission,
      ...(entry.condition === undefined ? {} : { condition: entry.condition }),
      roleChain: entry.roleChain,
      assignmentId: entry.grant.assignmentId,
      via: entry.grant.via.type,
      expiresAt: entry.grant.expiresAt,
    };
  }

  /** Whether a secret given with a request is the configured one (constant time). */
  function sameSecret(given: unknown, secret: string): boolean {
    const expected = Buffer.from(secret);
    const actual = Buffer.from(typeof given === 'string' ? given : '');
    return actual.length === expected.length && timingSafeEqual(actual, expected);
  }

  function requireAdmin(token: unknown): void {
    if (!sameSecret(token, services.config.adminToken)) {
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
  // The registry refuses a plan the catalog does not have (PLAN_NOT_FOUND).
  const planChangeSchema = z.strictObject({ plan: z.string().min(1).max(64), reason: z.string().min(1).max(500) });
  const addMemberSchema = z.strictObject({ userId: z.string() });
  // Role bodies are validated by rbac's role service (ROLE_INVALID, PERMISSION_INVALID,
  // CONDITION_INVALID); the route only takes the compare-and-set version out of an update.
  const roleUpdateSchema = z.looseObject({ expectedVersion: z.int().min(1).optional() });
  const assignSchema = z.strictObject({
    roleKey: z.string(),
    expiresAt: z.int().nullable().optional(),
    reason: z.string().min(1).max(500).optional(),
  });
  const revokeSchema = z.strictObject({ reason: z.string().min(1).max(500).optional() }).optional();
  const permissionsQuerySchema = z.looseObject({
    check: z.string().max(200).optional(),
    projectId: z.string().max(64).optional(),
  });

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

    /** The principal getter of the permission guards, and of the routes rbac's services check themselves. */
    principal,

    /**
     * The attributes of a project for a permission check (`resource.createdBy` is its
     * creator), or `undefined` when the tenant in scope has no such project: a rule with a
     * condition on the project then does not apply (fail closed), an unconditional one does and
     * the use case answers "no such project".
     */
    async projectResource(projectId: string): Promise<Project | undefined> {
      return projects.get(projectId);
    },

    // Guard: tenant:read
    async tenantOverview() {
      const tenant = currentTenant() ?? (await registry.getTenantOrThrow(requireTenantId()));
      return {
        tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name, plan: tenant.plan, settings: tenant.settings },
        usage: await quotas.usageReport(),
        flags: flags.evaluateAll({ tenant }),
      };
    },

    /**
     * Guard: projects:list. Lists the projects the caller may read: with `projects:read` on
     * every project, the (cached) list; with conditions only, the rows that meet them, as a
     * where-clause; with none, nothing.
     */
    async listProjects(permissions: CompiledPermissions) {
      const readable = permissions.queryConditions('projects:read');
      if (readable.kind === 'all') return projects.list();
      if (readable.kind === 'none') return [];
      return projects.listWhere(kyselyPermissionFilter(readable, { columns: projectFilterColumns }));
    },

    // Guard: projects:create
    async createProject(permissions: CompiledPermissions, body: unknown) {
      const { name } = parseBody(newProjectSchema, body);
      await quotas.consume('projects'); // QUOTA_EXCEEDED at the plan's limit, atomically
      try {
        return await projects.create(name, permissions.principal.id, Date.now());
      } catch (error) {
        await quotas.release('projects');
        throw error;
      }
    },

    /**
     * What an import costs in rate-limit points: one per project, as if each were created on
     * its own. Read before the body is validated, so it never throws; a body that is not an
     * import costs 1 (validation refuses it), an oversized one the most an import may cost.
     */
    projectImportCost(body: unknown): number {
      const names = (body as { names?: unknown } | null | undefined)?.names;
      return Array.isArray(names) ? Math.min(Math.max(names.length, 1), MAX_PROJECTS_PER_IMPORT) : 1;
    },

    /** Guard: projects:create. Creates every named project or none (quota and insert are all-or-nothing). */
    async importProjects(permissions: CompiledPermissions, body: unknown) {
      const { names } = parseBody(projectImportSchema, body);
      await quotas.consume('projects', names.length);
      try {
        return await projects.createMany(names, permissions.principal.id, Date.now());
      } catch (error) {
        await quotas.release('projects', names.length);
        throw error;
      }
    },

    // Guards: projects:read / projects:update / projects:delete, each on the project (projectResource).
    // By id: the repository only ever sees the tenant in scope, so another tenant's project id
    // answers exactly like an id that exists nowhere.
    async getProject(projectId: string) {
      return (await projects.get(projectId)) ?? noSuchProject(projectId);
    },

    async renameProject(projectId: string, body: unknown) {
      const { name } = parseBody(renameProjectSchema, body);
      return (await projects.rename(projectId, name)) ?? noSuchProject(projectId);
    },

    async deleteProject(projectId: string) {
      if (!(await projects.remove(projectId))) noSuchProject(projectId);
      await quotas.release('projects');
      return { deleted: projectId };
    },

    // Guard: domains:create
    async addDomain(body: unknown) {
      const tenant = await registry.getTenantOrThrow(requireTenantId());
      if (!plans.hasFeature(tenant, 'custom-domains')) {
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

    // Guard: domains:verify
    async verifyDomain(hostname: string) {
      return domains.verifyDomain(requireTenantId(), hostname);
    },

    // Guard: domains:list
    async listDomains() {
      return domains.listDomains(requireTenantId());
    },

    // Guard: members:list
    async listMembers() {
      const page = await memberships.listMembers(requireTenantId(), { limit: 500 });
      return page.items.map(({ userId, status, invitedBy, createdAt }) => ({ userId, status, invitedBy, createdAt }));
    },

    /** Guard: members:invite. Adds an active member, with no role until one is assigned (deny by default). */
    async addMember(permissions: CompiledPermissions, body: unknown) {
      const { userId } = parseBody(addMemberSchema, body);
      const membership = await memberships.addMember(requireTenantId(), parseMemberId(userId), {
        status: 'active',
        invitedBy: permissions.principal.id,
      });
      return { userId: membership.userId, status: membership.status, invitedBy: membership.invitedBy, createdAt: membership.createdAt };
    },

    /**
     * Guard: members:remove. The membership goes at once (the user is refused on their next
     * request) and their grants before the response: rbac's `membership.removed` listener runs
     * in the background, so the route awaits the same cleanup itself (running it twice is harmless).
     */
    async removeMember(userId: string) {
      const id = parseMemberId(userId);
      const tenantId = requireTenantId();
      if (!(await memberships.removeMember(tenantId, id))) {
        throw new TenantkitError('MEMBERSHIP_NOT_FOUND', 'No membership for this user in this tenant', { details: { userId: id } });
      }
      await rbac.removeUserGrants(tenantId, id);
      return { removed: id };
    },

    // Role management: rbac's services check the actor (roles:read, roles:manage, roles:assign,
    // roles:approve) and the assignment policy (nobody grants what they lack).
    async listRoles(actor: RbacPrincipal) {
      return rbac.roles.list(actor);
    },

    async createRole(actor: RbacPrincipal, body: unknown) {
      // Unchecked cast: the role service parses the definition strictly before anything else.
      return rbac.roles.create(actor, body as RoleDefinition);
    },

    /** Changes the fields the body names; `expectedVersion` makes it a compare-and-set (STORE_CONFLICT). */
    async updateRole(actor: RbacPrincipal, key: string, body: unknown) {
      const { expectedVersion, ...changes } = parseBody(roleUpdateSchema, body);
      return rbac.roles.update(actor, key, changes as RoleChanges, expectedVersion === undefined ? {} : { expectedVersion });
    },

    async deleteRole(actor: RbacPrincipal, key: string) {
      return rbac.roles.delete(actor, key);
    },

    /** A member's direct role assignments, active and pending. */
    async memberRoles(actor: RbacPrincipal, userId: string) {
      const page = await rbac.assignments.list(actor, { subject: { type: 'user', id: parseMemberId(userId) }, limit: 500 });
      return page.items;
    },

    /** Assigns a role to a member: `status` is `pending` when the role requires approval. */
    async assignRole(actor: RbacPrincipal, userId: string, body: unknown) {
      const id = parseMemberId(userId);
      const { roleKey, expiresAt, reason } = parseBody(assignSchema, body);
      // The service checks this too; first, so that a caller who may not assign learns nothing about who belongs.
      await rbac.require(actor, 'roles:assign');
      await requireMembership(id);
      return rbac.assignments.assign(actor, {
        subject: { type: 'user', id },
        roleKey,
        ...(expiresAt === undefined ? {} : { expiresAt }),
        ...(reason === undefined ? {} : { reason }),
      });
    },

    async revokeAssignment(actor: RbacPrincipal, assignmentId: string, body: unknown) {
      const reason = parseBody(revokeSchema, body)?.reason;
      return rbac.assignments.revoke(actor, assignmentId, reason === undefined ? {} : { reason });
    },

    async approveAssignment(actor: RbacPrincipal, assignmentId: string) {
      return rbac.assignments.approve(actor, assignmentId);
    },

    /**
     * What the caller may do here: every rule they hold with where it came from, or, with
     * `check`, the decision on one permission and the rule that made it (`projectId` checks it
     * on that project, for conditions such as "own projects only").
     */
    async myPermissions(actor: RbacPrincipal, query: unknown) {
      const { check, projectId } = parseBody(permissionsQuerySchema, query ?? {}, 'query string');
      const compiled = await rbac.forPrincipal(actor);
      if (check === undefined) return { userId: actor.id, permissions: compiled.permissions().map(describePermission) };
      const resource = projectId === undefined ? undefined : ((await projects.get(projectId)) ?? noSuchProject(projectId));
      return { userId: actor.id, decision: compiled.explain(check, resource) };
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

    /**
     * Admin: moves a tenant to another plan (what a billing webhook would do). Its quotas,
     * features and request budget follow without a restart: the limiter reads the plan on
     * every check and keeps the counter, so an upgrade lifts a limit the tenant had hit and
     * resets nothing. This process sees the new plan on the next request (the registry's
     * event drops the resolver's cached tenant); other processes once their resolver cache
     * entry expires (30 s).
     */
    async changePlan(adminToken: unknown, tenantId: string, body: unknown) {
      requireAdmin(adminToken);
      const { plan, reason } = parseBody(planChangeSchema, body);
      return runAsSystem({ reason: `admin plan change to ${plan}: ${reason}`, actor: 'admin' }, () => registry.updateTenant(tenantId, { plan }));
    },

    /**
     * Operator: the rate-limit metrics in Prometheus text (`Authorization: Bearer <METRICS_TOKEN>`).
     * Not a tenant route: the counters name every tenant, so no tenant admin may read them,
     * and its own token, so the scraper's credential opens nothing else.
     */
    metrics(authorization: unknown): string {
      // The scheme is case-insensitive (RFC 9110 §11.1).
      const token = typeof authorization === 'string' && /^bearer /i.test(authorization) ? authorization.slice('bearer '.length) : undefined;
      if (!sameSecret(token, services.config.metricsToken)) {
        throw new TenantkitError('TENANT_UNAUTHENTICATED', 'The metrics need an Authorization: Bearer <METRICS_TOKEN> header');
      }
      return rateLimits.prometheusText();
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
