import {
  AuthError,
  readSessionCookie,
  type ApiKeyRecord,
  type AuthPrincipal,
  type AuthUser,
  type ClientInfo,
  type IssuedSession,
  type TokenPair,
} from '@tenantkit/auth';
import { isTenantkitError, toErrorResponse, TenantkitError, type ErrorResponseBody } from '@tenantkit/core';
import type { CompiledPermissions, EffectivePermission, RbacPrincipal, RoleChanges, RoleDefinition } from '@tenantkit/rbac';
import { kyselyPermissionFilter } from '@tenantkit/rbac/kysely';
import { currentTenant, requireTenantId, runAsSystem, userIdSchema, type Tenant } from '@tenantkit/tenant-context';
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
import { clearedSessionCookieHeader, sessionCookieHeader } from './session-cookie.js';

/**
 * What the auth use cases read from a request, as both apps extract it.
 *
 * @example
 * ```ts
 * const facts: AuthRequestFacts = { principal: req.principal, cookie: req.headers.cookie, remoteAddress: req.socket.remoteAddress, forwardedFor: req.headers['x-forwarded-for'], userAgent: req.get('user-agent') };
 * ```
 */
export interface AuthRequestFacts {
  /** Who the authenticate middleware found; `null`/`undefined` when the route reads no credential or none was presented. */
  principal: AuthPrincipal | null | undefined;
  /** The raw `Cookie` header (the session cookie is read from it). */
  cookie: string | undefined;
  /** The socket's peer address and X-Forwarded-For, for the client IP by the trusted-proxy rules. */
  remoteAddress: string | undefined;
  forwardedFor: string | string[] | undefined;
  userAgent: string | undefined;
}

/**
 * An answer of an auth use case: status, JSON body, and the `Set-Cookie` values when the
 * session (or device) cookie changes.
 *
 * @example
 * ```ts
 * const { status, body, setCookies } = await application.login(req.body, facts);
 * ```
 */
export interface AuthAnswer {
  status: number;
  body: unknown;
  setCookies?: string[];
}

/**
 * An error as both apps answer it: the status and coded body of `@tenantkit/core`, plus the
 * headers some codes need — `WWW-Authenticate` on every 401, `Retry-After` on a 429 that says
 * when to retry.
 *
 * @example
 * ```ts
 * const { status, headers, body } = application.errorResponse(error);
 * ```
 */
export interface ExampleErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: ErrorResponseBody;
}

/** An API key as the routes show it: never the secret, nor its hash. */
function describeApiKey(record: ApiKeyRecord) {
  const { id, name, scopes, createdBy, createdAt, expiresAt, revokedAt, lastUsedAt } = record;
  return { id, name, scopes, createdBy, createdAt, expiresAt, revokedAt, lastUsedAt };
}

function describeTokens(pair: TokenPair) {
  return {
    tokenType: 'Bearer',
    accessToken: pair.accessToken.token,
    accessTokenExpiresAt: pair.accessToken.expiresAt,
    refreshToken: pair.refreshToken,
    refreshTokenExpiresAt: pair.refreshExpiresAt,
  };
}

/**
 * The example's use cases, framework-neutral: each takes plain inputs (the principal, a parsed
 * body) and returns plain data or throws a coded TenantkitError, so Express and Fastify only
 * translate HTTP. Tenant-scoped use cases run inside the scope the binding opened.
 *
 * Authentication: @tenantkit/auth's middleware (`createAuthMiddleware` / `authPlugin`) reads a
 * Bearer access token, the session cookie or an `x-api-key` header, bound to the request's
 * tenant, and sets the request's principal; {@link principal} adds the per-request membership
 * check of a user on a tenant route.
 *
 * Authorization: every tenant route either sits behind a permission guard of
 * `@tenantkit/rbac/express` / `/fastify` (whose principal getter is {@link principal}) or calls
 * {@link principal} itself and leaves the checks to rbac's services (roles, assignments).
 * Use cases behind a guard that need the caller take the caller's checked, compiled permissions.
 */
export function createExampleApplication(services: ExampleServices) {
  const { registry, memberships, domains, quotas, flags, projects, lifecycle, rbac, plans, rateLimits, auth } = services;
  const { authenticator } = auth;
  const secureCookies = services.config.auth.secureCookies;
  const accessTokenTtlMs = services.config.auth.accessTokenTtlSeconds * 1000;
  const { deviceCookie } = services;

  function parseBody<Schema extends z.ZodType>(schema: Schema, body: unknown, what = 'request body'): z.output<Schema> {
    const result = schema.safeParse(body);
    if (result.success) return result.data;
    throw new TenantkitError('VALIDATION_FAILED', `Invalid ${what}`, {
      details: { issues: result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })) },
    });
  }

  /** The signed-in user of a route outside any tenant (sign-up, my tenants, my sessions); API keys act in their tenant only. */
  function requireUser(authenticated: AuthPrincipal | null | undefined): AuthPrincipal {
    if (authenticated === null || authenticated === undefined) throw new AuthError('AUTHENTICATION_REQUIRED', 'Authentication required');
    if (authenticated.kind !== 'user') {
      throw new TenantkitError('PERMISSION_DENIED', 'This route needs a signed-in user, not an API key', { details: { principal: authenticated.kind } });
    }
    return authenticated;
  }

  /**
   * The principal of a tenant request: who the authenticate middleware found (a credential
   * bound to the tenant in scope), and for a user, an active member of that tenant.
   *
   * The membership is checked on every request, not only at sign-in: a member removed from the
   * tenant must be refused at once, while their access token (bound to the tenant, valid for
   * minutes more) or session still verifies. Revoking on removal would be the other way, but
   * auth's revocations go by token, session, user or tenant: the user epoch would also end
   * their sessions in every other tenant, the tenant epoch everyone's. One indexed read per
   * request is the honest price. API keys are owned by their tenant: no membership; a key that
   * acts with its creator's grants loses them when the creator is removed (rbac drops them).
   *
   * @throws `AUTHENTICATION_REQUIRED`, `MEMBERSHIP_NOT_FOUND` / `MEMBERSHIP_INACTIVE`
   */
  async function principal(authenticated: AuthPrincipal | null | undefined): Promise<RbacPrincipal> {
    if (authenticated === null || authenticated === undefined) throw new AuthError('AUTHENTICATION_REQUIRED', 'Authentication required');
    if (authenticated.kind === 'user') await memberships.selectActiveTenant(authenticated.id, requireTenantId());
    return authenticated;
  }

  /** The client as the sign-in throttle and the session's device list see it: the IP by the trusted-proxy rules, never raw X-Forwarded-For. */
  function clientOf(facts: AuthRequestFacts): ClientInfo {
    return {
      ip: rateLimits.clientIp({ remoteAddress: facts.remoteAddress, forwardedFor: facts.forwardedFor }),
      userAgent: facts.userAgent === undefined ? null : facts.userAgent.slice(0, 512),
    };
  }

  /** The value of one cookie of the request (a cookie sent twice counts as none). */
  function cookieValueOf(facts: AuthRequestFacts, name: string): string | undefined {
    if (facts.cookie === undefined) return undefined;
    const read = readSessionCookie(facts.cookie, name);
    return read.kind === 'present' ? read.value : undefined;
  }
  /** The session secret of the request's session cookie, if it carries one. */
  const sessionSecretOf = (facts: AuthRequestFacts) => cookieValueOf(facts, authenticator.sessionCookieName);

  async function tenantBySlug(slug: string): Promise<Tenant> {
    const tenant = await registry.getTenantBySlug(slug);
    if (tenant === null) throw new TenantkitError('TENANT_NOT_FOUND', 'No such tenant', { details: { tenant: slug } });
    return tenant;
  }

  /**
   * A completed sign-in (login, tenant switch): the tokens in the body, the session secret in
   * the HttpOnly cookie only; after a password sign-in also the device token, in a cookie of
   * its own that outlives the session (it marks the device as one that signed in before).
   */
  function signedIn(user: AuthUser, issued: IssuedSession, pair: TokenPair, tenant: Tenant | null, deviceToken?: string): AuthAnswer {
    const { session } = issued;
    return {
      status: 200,
      body: {
        status: 'authenticated',
        user,
        tenant: tenant === null ? null : { id: tenant.id, slug: tenant.slug, name: tenant.name },
        session: { id: session.id, expiresAt: session.expiresAt, absoluteExpiresAt: session.absoluteExpiresAt },
        ...describeTokens(pair),
      },
      setCookies: [
        sessionCookieHeader({
          name: authenticator.sessionCookieName,
          value: issued.token,
          maxAgeSeconds: (session.absoluteExpiresAt - Date.now()) / 1000,
          secure: secureCookies,
        }),
        ...(deviceToken === undefined
          ? []
          : [sessionCookieHeader({ name: deviceCookie.name, value: deviceToken, maxAgeSeconds: deviceCookie.maxAgeSeconds, secure: secureCookies })]),
      ],
    };
  }

  /**
   * Ends one of the user's own sessions: the session (and so, by `sid`, its access tokens) and
   * the refresh families opened from it. `userId` is the verified caller, so nobody ends
   * another user's session by naming its id.
   * @returns whether the session was still there.
   */
  async function endOwnSession(userId: string, sessionId: string, reason: string): Promise<boolean> {
    const existed = await auth.sessions.revoke(userId, sessionId);
    await auth.refreshTokens.revokeUser(userId, reason, { sessionId });
    return existed;
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
  // The flows check emails, passwords and tokens themselves (VALIDATION_FAILED, the policy);
  // these schemas only refuse what is not the route's body at all.
  const accountSchema = z.strictObject({ email: z.string().max(320), password: z.string() });
  const loginSchema = z.strictObject({ email: z.string().max(320), password: z.string(), tenant: z.string().min(1).max(64).optional() });
  const refreshSchema = z.strictObject({ refreshToken: z.string().min(1).max(1024) });
  const logoutSchema = z.strictObject({ refreshToken: z.string().min(1).max(1024).optional() }).optional();
  const switchTenantSchema = z.strictObject({ tenant: z.string().min(1).max(64) });
  const resetRequestSchema = z.strictObject({ email: z.string().max(320) });
  const resetConfirmSchema = z.strictObject({ token: z.string().min(1).max(1024), password: z.string() });
  const verifyEmailSchema = z.strictObject({ token: z.string().min(1).max(1024) });
  const newApiKeySchema = z.strictObject({
    name: z.string().trim().min(1).max(100),
    scopes: z.array(z.string().max(200)).min(1).max(50),
    expiresAt: z.int().nullable().optional(),
    scopesOnly: z.boolean().optional(),
  });
  const permissionsQuerySchema = z.looseObject({
    check: z.string().max(200).optional(),
    projectId: z.string().max(64).optional(),
  });

  return {
    health() {
      return { status: 'ok' };
    },

    /**
     * Every error as the apps answer it: coded body, `WWW-Authenticate` on every 401 (RFC 9110
     * §11.6.1: a 401 names the scheme to retry with), `Retry-After` on a 429 that knows when.
     */
    errorResponse(error: unknown): ExampleErrorResponse {
      const { status, body } = toErrorResponse(error);
      const headers: Record<string, string> = {};
      if (status === 401) headers['www-authenticate'] = authenticator.challenge(body.error.code);
      const retryAfter = isTenantkitError(error) ? error.details?.retryAfterSeconds : undefined;
      if (status === 429 && typeof retryAfter === 'number' && Number.isFinite(retryAfter) && retryAfter >= 0) {
        headers['retry-after'] = String(Math.ceil(retryAfter));
      }
      return { status, headers, body };
    },

    // ---- Accounts, sign-in and sessions (no tenant in scope) ----

    /** Creates an account (password policy checked; throttled per email and IP); the verification link goes to the outbox. */
    async signUpAccount(body: unknown, facts: AuthRequestFacts): Promise<AuthAnswer> {
      const { email, password } = parseBody(accountSchema, body);
      const { user } = await auth.signUp({ email, password }, clientOf(facts));
      return { status: 201, body: { user } };
    },

    /**
     * Password sign-in, throttled per account and per client IP (429 with Retry-After). With
     * `tenant` (a slug), the membership is checked and the tokens and session are bound to that
     * tenant: they work on its routes only. Unknown email and wrong password answer alike. A
     * session cookie presented is ended: the session id changes on every sign-in. The device
     * cookie of an earlier sign-in exempts this device from the account-wide lockout.
     */
    async login(body: unknown, facts: AuthRequestFacts): Promise<AuthAnswer> {
      const { email, password, tenant: slug } = parseBody(loginSchema, body);
      const tenant = slug === undefined ? null : await tenantBySlug(slug);
      const currentSessionToken = sessionSecretOf(facts);
      const deviceToken = cookieValueOf(facts, deviceCookie.name);
      const result = await auth.login(
        {
          email,
          password,
          tenantId: tenant?.id ?? null,
          ...(currentSessionToken === undefined ? {} : { currentSessionToken }),
          ...(deviceToken === undefined ? {} : { deviceToken }),
        },
        clientOf(facts),
      );
      if (result.status === 'second-factor-required') {
        // The slot multi-factor sign-in fills (a later release); the example configures no second factor.
        return { status: 200, body: { status: result.status, methods: result.methods, pendingToken: result.pendingToken } };
      }
      return signedIn(result.user, result.session, result.tokens, tenant, result.deviceToken);
    },

    /** A new token pair for a refresh token (rotated on every use; a reused one revokes its family and session). */
    async refresh(body: unknown): Promise<AuthAnswer> {
      const { refreshToken } = parseBody(refreshSchema, body);
      return { status: 200, body: describeTokens(await auth.refresh(refreshToken)) };
    },

    /**
     * Ends the caller's session — the one of the session cookie, or of the Bearer token's
     * `sid` — with its access tokens and refresh families, and a refresh token given in the
     * body. Idempotent; always clears the cookie.
     */
    async logout(body: unknown, facts: AuthRequestFacts): Promise<AuthAnswer> {
      const refreshToken = parseBody(logoutSchema, body ?? undefined)?.refreshToken;
      const sessionToken = sessionSecretOf(facts);
      await auth.logout({ ...(sessionToken === undefined ? {} : { sessionToken }), ...(refreshToken === undefined ? {} : { refreshToken }) });
      const caller = facts.principal;
      if (caller?.kind === 'user' && caller.method === 'access-token' && caller.sessionId !== undefined) {
        const existed = await endOwnSession(caller.id, caller.sessionId, 'logout');
        // Gone already (expired): its tokens may still be live, so their `sid` is revoked for as long as one can be.
        if (!existed) await auth.revocation.revokeSession(caller.sessionId, Date.now() + accessTokenTtlMs);
      }
      return {
        status: 200,
        body: { status: 'signed-out' },
        // The device cookie stays: it is no credential, only the memory of an earlier sign-in.
        setCookies: [clearedSessionCookieHeader({ name: authenticator.sessionCookieName, secure: secureCookies })],
      };
    },

    /** The caller's live sessions, newest first, with the device each was opened from. */
    async listSessions(caller: AuthPrincipal | null | undefined) {
      const user = requireUser(caller);
      const sessions = await auth.sessions.list(user.id);
      return sessions.map((session) => ({
        id: session.id,
        current: session.id === user.sessionId,
        tenantId: session.tenantId,
        device: session.device,
        amr: session.amr,
        createdAt: session.createdAt,
        lastSeenAt: session.lastSeenAt,
        expiresAt: session.expiresAt,
      }));
    },

    /** Ends one of the caller's sessions (another user's session id answers like one that does not exist). */
    async revokeSession(caller: AuthPrincipal | null | undefined, sessionId: string) {
      const user = requireUser(caller);
      if (!/^[A-Za-z0-9_-]{1,128}$/.test(sessionId) || !(await endOwnSession(user.id, sessionId, 'revoked-by-user'))) {
        throw new TenantkitError('VALIDATION_FAILED', 'No such session', { details: { sessionId } });
      }
      return { revoked: sessionId };
    },

    /**
     * Moves the session of the session cookie to another tenant (checked against the caller's
     * memberships): a new session id and cookie, tokens bound to the new tenant; the old session
     * and its tokens are revoked.
     */
    async switchTenant(body: unknown, facts: AuthRequestFacts): Promise<AuthAnswer> {
      requireUser(facts.principal);
      const { tenant: slug } = parseBody(switchTenantSchema, body);
      const sessionToken = sessionSecretOf(facts);
      if (sessionToken === undefined) {
        throw new AuthError('AUTHENTICATION_REQUIRED', 'Switching tenants needs the session cookie: sign in with POST /auth/login');
      }
      const tenant = await tenantBySlug(slug);
      const switched = await auth.switchTenant(sessionToken, tenant.id);
      const user = await auth.getUser(switched.session.session.userId);
      if (user === null) throw new AuthError('SESSION_INVALID', 'Invalid session');
      return signedIn(user, switched.session, switched.tokens, tenant);
    },

    /**
     * Starts a password reset. Always 202 with the same body, whether or not the account exists
     * (throttled per email and IP alike); the link goes to the outbox, built from the
     * configured public URL.
     */
    async requestPasswordReset(body: unknown, facts: AuthRequestFacts): Promise<AuthAnswer> {
      const { email } = parseBody(resetRequestSchema, body);
      await auth.requestPasswordReset({ email }, clientOf(facts));
      return { status: 202, body: { status: 'accepted', message: 'If an account exists for this email, a reset link is on its way.' } };
    },

    /** Sets a new password with a reset token; every session, refresh family and access token of the user is revoked. */
    async confirmPasswordReset(body: unknown): Promise<AuthAnswer> {
      const { token, password } = parseBody(resetConfirmSchema, body);
      await auth.resetPassword({ token, newPassword: password });
      return { status: 200, body: { status: 'password-changed' } };
    },

    /** Marks the email of the link's account verified. */
    async verifyEmail(body: unknown): Promise<AuthAnswer> {
      const { token } = parseBody(verifyEmailSchema, body);
      return { status: 200, body: { user: await auth.verifyEmail(token) } };
    },

    /** Public sign-up of a tenant: onboards it with the signed-in caller as its admin. */
    async signUp(caller: AuthPrincipal | null | undefined, body: unknown) {
      const adminUserId = requireUser(caller).id;
      const input = parseBody(signUpSchema, body);
      const { tenant, run } = await lifecycle.startOnboarding({ ...input, adminUserId });
      return { tenant, onboarding: { runId: run.id, state: run.state, steps: run.completedSteps } };
    },

    /** The tenants the caller belongs to (sign in to one, or switch to it with POST /auth/switch-tenant). */
    async myTenants(caller: AuthPrincipal | null | undefined) {
      const rows = await memberships.listUserTenants(requireUser(caller).id);
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

    // Guard: api-keys:list
    async listApiKeys() {
      return (await auth.apiKeys.list(requireTenantId())).map(describeApiKey);
    },

    /**
     * Guard: api-keys:create. A key of the tenant in scope, its scopes a subset of the caller's
     * permissions here (`API_KEY_SCOPE_FORBIDDEN` otherwise); the key is in this answer only.
     */
    async createApiKey(caller: AuthPrincipal | null | undefined, body: unknown) {
      const creator = requireUser(caller);
      const { name, scopes, expiresAt, scopesOnly } = parseBody(newApiKeySchema, body);
      const created = await auth.apiKeys.create({
        tenantId: requireTenantId(),
        name,
        scopes,
        creator,
        ...(expiresAt === undefined ? {} : { expiresAt }),
        ...(scopesOnly === undefined ? {} : { scopesOnly }),
      });
      return { key: created.key, apiKey: describeApiKey(created.record) };
    },

    /**
     * The attributes of an API key for a permission check (`resource.createdBy`, for "own keys
     * only" rules), or `undefined` when the tenant in scope has no such key (fail closed).
     */
    async apiKeyResource(keyId: string): Promise<{ createdBy: string | null } | undefined> {
      if (!/^[A-Za-z0-9_-]{1,128}$/.test(keyId)) return undefined;
      const record = await services.authStores.apiKeys.findById(keyId);
      return record === null || record.tenantId !== requireTenantId() ? undefined : { createdBy: record.createdBy };
    },

    // Guard: api-keys:revoke (on the key). Effective at once, in every process.
    async revokeApiKey(keyId: string) {
      await auth.apiKeys.revoke(requireTenantId(), keyId);
      return { revoked: keyId };
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
