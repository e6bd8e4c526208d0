/**
 * Express (4 and 5) binding: `requirePermission(...)` guards that check the request's principal
 * before the route handler runs.
 *
 * @packageDocumentation
 * @module @tenantkit/rbac/express
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { CompiledPermissions } from '../compiler/compiled-permissions.js';
import type { RbacError } from '../errors.js';
import {
  authorizeRequest,
  parseBindingOptions,
  parsePermissionGuard,
  type PermissionGuardOptions,
  type PrincipalGetter,
} from './permission-guard.js';
import type { PermissionChecker } from '../authorizer/authorizer-contract.js';

declare global {
  // Express's own request type is declared in this namespace; merging into it is the
  // documented way to add properties.
  namespace Express {
    interface Request {
      /**
       * The principal's compiled permissions, set by a `requirePermission()` guard that let
       * the request through, for further checks in the handler (`req.permissions.can(...)`,
       * `req.permissions.queryConditions(...)`). `undefined` on unguarded routes.
       */
      permissions?: CompiledPermissions | undefined;
    }
  }
}

/**
 * Options of {@link createRbacMiddleware}.
 *
 * @example
 * ```ts
 * const options: RbacMiddlewareOptions = {
 *   checker: rbac,
 *   getPrincipal: (req) => (req.user ? { kind: 'user', id: req.user.id } : null),
 * };
 * ```
 */
export interface RbacMiddlewareOptions {
  /** The checker from `createRbac()` (or any {@link PermissionChecker}). */
  checker: PermissionChecker;
  /**
   * Reads the principal of a request (what your authentication set); `null`/`undefined` when
   * nobody is signed in. May return a promise.
   */
  getPrincipal: PrincipalGetter<Request>;
}

/**
 * Options of {@link RbacMiddleware.requirePermission}: where the resource attributes and the
 * request context of the check come from. Both callbacks may return a promise.
 *
 * @example
 * ```ts
 * const options: RequirePermissionOptions = {
 *   resource: (req) => documents.attributes(String(req.params.id)),
 *   context: (req) => ({ ip: req.ip }),
 * };
 * ```
 */
export type RequirePermissionOptions = PermissionGuardOptions<Request>;

/**
 * The guards of one checker, from {@link createRbacMiddleware}.
 *
 * @example
 * ```ts
 * const { requirePermission } = createRbacMiddleware({ checker: rbac, getPrincipal });
 * app.delete('/docs/:id', requirePermission('docs:delete'), deleteDocument);
 * ```
 */
export interface RbacMiddleware {
  /**
   * A middleware that lets the request through only when its principal holds `permission`
   * (a concrete permission such as `docs:read`; checked when called).
   *
   * @throws `PERMISSION_INVALID` for a malformed or wildcard permission, `CONFIGURATION_INVALID`
   *   for bad options.
   * @example
   * ```ts
   * app.patch('/docs/:id', requirePermission('docs:update', { resource: (req) => loadDoc(req.params.id) }), updateDocument);
   * ```
   */
  requirePermission(permission: string, options?: RequirePermissionOptions): RequestHandler;
}

/**
 * Builds `requirePermission(...)` guards for Express around one checker and one way of reading
 * the principal, so routes name only the permission.
 *
 * A guard answers a request without a principal with 401 `PRINCIPAL_REQUIRED` and a denied one
 * with 403 `PERMISSION_DENIED`, as the coded JSON body of `@tenantkit/core`
 * (`{ error: { code, message, details: { permission } } }`); the rule that decided is never
 * sent. An allowed request continues with `req.permissions` set. Errors thrown by
 * `getPrincipal`, the loaders or the checker (a store down, no tenant in scope) go to
 * `next(error)`, for your error handlers (`tenantErrorHandler()` renders tenantkit ones).
 *
 * Checks run in the current tenant scope, so mount the guards after `tenantMiddleware()`.
 *
 * @throws `CONFIGURATION_INVALID` for invalid options (when called).
 * @example
 * ```ts
 * const app = express();
 * app.use(tenantMiddleware({ resolver }));
 * app.use(authenticate);
 * const { requirePermission } = createRbacMiddleware({ checker: rbac, getPrincipal: (req) => req.principal ?? null });
 * app.get('/docs', requirePermission('docs:list'), listDocuments);
 * app.patch(
 *   '/docs/:id',
 *   requirePermission('docs:update', { resource: (req) => documents.attributes(String(req.params.id)) }),
 *   updateDocument,
 * );
 * app.use(tenantErrorHandler());
 * ```
 */
export function createRbacMiddleware(options: RbacMiddlewareOptions): RbacMiddleware {
  const binding = parseBindingOptions<Request>(options, 'createRbacMiddleware() options', true);

  return Object.freeze({
    requirePermission(permission: string, guardOptions?: RequirePermissionOptions): RequestHandler {
      const guard = parsePermissionGuard(permission, guardOptions, 'requirePermission() options');
      return function requirePermissionMiddleware(req: Request, res: Response, next: NextFunction): void {
        authorizeRequest(binding, guard, req).then((outcome) => {
          if (outcome.allowed) {
            req.permissions = outcome.permissions;
            next();
          } else {
            refuse(res, next, outcome.error);
          }
        }, next);
      };
    },
  });
}

function refuse(res: Response, next: NextFunction, error: RbacError): void {
  // A response already under way cannot carry the refusal; the error handlers decide.
  if (res.headersSent) {
    next(error);
    return;
  }
  res.status(error.status).json(error.toResponseBody());
}

// The shared types of both bindings, so their signatures are documented where they are used.
export type { PermissionGuardOptions, PrincipalGetter } from './permission-guard.js';
