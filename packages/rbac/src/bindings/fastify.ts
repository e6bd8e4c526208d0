/**
 * Fastify 5 binding: per-route `config.permission` and explicit `requirePermission(...)`
 * preHandler guards that check the request's principal before the handler runs.
 *
 * @packageDocumentation
 * @module @tenantkit/rbac/fastify
 */
import type {
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  RouteOptions,
} from 'fastify';
import fp from 'fastify-plugin';
import type { PermissionChecker } from '../authorizer/authorizer-contract.js';
import type { CompiledPermissions } from '../compiler/compiled-permissions.js';
import { RbacError } from '../errors.js';
import {
  authorizeRequest,
  parseBindingOptions,
  parsePermissionGuard,
  type PermissionGuard,
  type PermissionGuardOptions,
  type PrincipalGetter,
  type RbacBindingOptions,
} from './permission-guard.js';

/**
 * Where the resource attributes and the request context of a check come from, for
 * `fastify.requirePermission()` and the object form of `config.permission`. Both callbacks may
 * return a promise; they run in `preHandler`, after body parsing and validation.
 *
 * @example
 * ```ts
 * const options: RequirePermissionOptions = {
 *   resource: (request) => documents.attributes((request.params as { id: string }).id),
 *   context: (request) => ({ ip: request.ip }),
 * };
 * ```
 */
export type RequirePermissionOptions = PermissionGuardOptions<FastifyRequest>;

/**
 * The object form of a route's `config.permission`.
 *
 * @example
 * ```ts
 * const setting: RoutePermission = { permission: 'docs:update', resource: (request) => loadDoc(request) };
 * ```
 */
export interface RoutePermission extends RequirePermissionOptions {
  /** A concrete permission such as `docs:update`. */
  permission: string;
}

/**
 * A preHandler guard, from `fastify.requirePermission()`.
 *
 * @example
 * ```ts
 * const guard: PermissionPreHandler = app.requirePermission('docs:read');
 * app.get('/docs', { preHandler: guard }, listDocuments);
 * ```
 */
export type PermissionPreHandler = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => void;

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The principal's compiled permissions, set once a permission guard let the request
     * through, for further checks in the handler; `null` on unguarded routes.
     */
    permissions: CompiledPermissions | null;
  }
  interface FastifyContextConfig {
    /** The permission the route requires: `'docs:read'`, or an object with loaders. */
    permission?: string | RoutePermission;
  }
  interface FastifyInstance {
    /**
     * A preHandler that lets the request through only when its principal holds `permission`
     * (checked when called). For guards that a route's `config.permission` cannot express,
     * e.g. two permissions on one route.
     *
     * @throws `PERMISSION_INVALID` for a malformed or wildcard permission.
     * @example
     * ```ts
     * app.post('/docs/:id/publish', { preHandler: app.requirePermission('docs:publish') }, publish);
     * ```
     */
    requirePermission(permission: string, options?: RequirePermissionOptions): PermissionPreHandler;
  }
}

/**
 * Options of {@link rbacPlugin}.
 *
 * @example
 * ```ts
 * await app.register(rbacPlugin, { checker: rbac, getPrincipal: (request) => request.principal ?? null });
 * ```
 */
export interface RbacPluginOptions {
  /** The checker from `createRbac()` (or any {@link PermissionChecker}). */
  checker: PermissionChecker;
  /**
   * Reads the principal of a request (what your authentication set); `null`/`undefined` when
   * nobody is signed in. May return a promise.
   */
  getPrincipal: PrincipalGetter<FastifyRequest>;
}

const WHAT_ROUTE = 'config.permission';

function routeGuard(setting: unknown, where: string): PermissionGuard<FastifyRequest> {
  if (typeof setting === 'string') return parsePermissionGuard(setting, undefined, `${where}: ${WHAT_ROUTE} options`);
  if (typeof setting !== 'object' || setting === null || Array.isArray(setting)) {
    throw new RbacError(
      'CONFIGURATION_INVALID',
      `${where}: ${WHAT_ROUTE} must be a permission string or { permission, resource?, context? }`,
    );
  }
  const { permission, ...options } = setting as RoutePermission;
  return parsePermissionGuard(permission, options, `${where}: ${WHAT_ROUTE} options`);
}

function runGuard(
  binding: RbacBindingOptions<FastifyRequest>,
  guard: PermissionGuard<FastifyRequest>,
  request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
): void {
  authorizeRequest(binding, guard, request).then(
    (outcome) => {
      if (outcome.allowed) {
        request.permissions = outcome.permissions;
        done();
        return;
      }
      // Answered here, not thrown, so an app error handler that renders errors its own way
      // cannot turn a refusal into a 500 or reveal more than the coded body.
      void reply.code(outcome.error.status).send(outcome.error.toResponseBody());
    },
    (error: unknown) => done(error instanceof Error ? error : new Error('Permission check failed', { cause: error })),
  );
}

const checkPermissionsPlugin: FastifyPluginCallback<RbacPluginOptions> = (fastify, options, done) => {
  let binding: RbacBindingOptions<FastifyRequest>;
  try {
    // Not strict: Fastify adds keys of its own (such as `prefix`) to plugin options.
    binding = parseBindingOptions<FastifyRequest>(options, 'rbac plugin options', false);
  } catch (error) {
    done(error as Error);
    return;
  }

  // A shared reference type as the default would be shared by every request; null is not.
  fastify.decorateRequest('permissions', null);

  fastify.decorate('requirePermission', function requirePermission(permission: string, guardOptions?: RequirePermissionOptions) {
    const guard = parsePermissionGuard(permission, guardOptions, 'requirePermission() options');
    const preHandler: PermissionPreHandler = (request, reply, hookDone) => runGuard(binding, guard, request, reply, hookDone);
    return preHandler;
  });

  // Route configs are parsed once. Keyed by the config object Fastify keeps per route (a
  // WeakMap in this closure, so nothing outlives the instance).
  const guards = new WeakMap<object, PermissionGuard<FastifyRequest>>();

  // Checked when the route is declared, so a typo fails at startup rather than per request.
  fastify.addHook('onRoute', (route: RouteOptions) => {
    const setting = (route.config as { permission?: unknown } | undefined)?.permission;
    if (setting !== undefined) routeGuard(setting, `Route ${route.method.toString()} ${route.url}`);
  });

  // preHandler, not onRequest: the body is parsed and validated by then, so loaders can read
  // it, and authentication hooks (usually onRequest) have run.
  fastify.addHook('preHandler', function requireRoutePermissionHook(request, reply, hookDone) {
    // Optional chaining: the 404 context of some Fastify versions has no config object.
    const config = request.routeOptions.config as { permission?: unknown } | undefined;
    const setting = config?.permission;
    if (config === undefined || setting === undefined) {
      hookDone();
      return;
    }
    let guard = guards.get(config);
    if (guard === undefined) {
      // A route declared before the plugin was registered skipped onRoute: parse it now, and
      // fail closed (an error, never an unguarded handler) when the setting is invalid.
      const where = `Route ${request.method} ${request.routeOptions.url ?? request.url}`;
      try {
        guard = routeGuard(setting, where);
      } catch (error) {
        // A server-side mistake, so a 500 rather than the 400 a bad permission string carries.
        hookDone(new RbacError('CONFIGURATION_INVALID', `${where}: invalid ${WHAT_ROUTE}`, { cause: error }));
        return;
      }
      guards.set(config, guard);
    }
    runGuard(binding, guard, request, reply, hookDone);
  });

  done();
};

/**
 * The Fastify plugin: decorates `request.permissions` and `fastify.requirePermission()`, and
 * guards every route whose config names a permission, in a `preHandler` hook:
 *
 * ```ts
 * app.get('/docs', { config: { permission: 'docs:list' } }, listDocuments);
 * app.patch('/docs/:id', { config: { permission: { permission: 'docs:update', resource: loadDoc } } }, updateDocument);
 * ```
 *
 * A request without a principal is answered with 401 `PRINCIPAL_REQUIRED`, a denied one with
 * 403 `PERMISSION_DENIED`, as the coded JSON body of `@tenantkit/core`
 * (`{ error: { code, message, details: { permission } } }`); the rule that decided is never
 * sent. An allowed request continues with `request.permissions` set. Errors thrown by
 * `getPrincipal`, the loaders or the checker go to your error handler. Invalid route settings
 * fail when the route is declared.
 *
 * Checks run in the current tenant scope: register `tenantContextPlugin` and your
 * authentication first.
 *
 * @example
 * ```ts
 * const app = Fastify();
 * await app.register(tenantContextPlugin, { resolver });
 * await app.register(rbacPlugin, { checker: rbac, getPrincipal: (request) => request.principal ?? null });
 * app.get('/docs', { config: { permission: 'docs:list' } }, async () => documents.list());
 * app.delete('/docs/:id', { preHandler: app.requirePermission('docs:delete') }, deleteDocument);
 * ```
 */
export const rbacPlugin = fp(checkPermissionsPlugin, {
  fastify: '5.x',
  name: '@tenantkit/rbac',
});

// The shared types of both bindings, so their signatures are documented where they are used.
export type { PermissionGuardOptions, PrincipalGetter } from './permission-guard.js';
