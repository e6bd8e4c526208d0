/**
 * Express (4 and 5) binding: resolves the tenant of each request and runs the rest of the
 * request inside its scope.
 *
 * @packageDocumentation
 * @module @tenantkit/tenant-context/express
 */
import type { EventEmitter } from 'node:events';
import { isTenantkitError, toErrorResponse } from '@tenantkit/core';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import type { TenantResolver } from '../resolution/tenant-resolver.js';
import type { TenantRequest } from '../resolution/request-info.js';
import { bindTenantScope, runWithTenant } from '../scope/tenant-scope.js';
import type { Tenant } from '../tenant.js';
import { parseOrThrow } from '../validation.js';
import { resolveRequestTenant, tenantResolverOptionSchema } from './resolve-request-tenant.js';

declare global {
  // Express's own request type is declared in this namespace; merging into it is the
  // documented way to add properties.
  namespace Express {
    interface Request {
      /** The tenant resolved by `tenantMiddleware()`, or `undefined` before it or when none was required. */
      tenant?: Tenant | undefined;
    }
  }
}

/**
 * Options of {@link tenantMiddleware}.
 *
 * @example
 * ```ts
 * app.use('/public', tenantMiddleware({ resolver, required: false }));
 * ```
 */
export interface TenantMiddlewareOptions {
  /** The resolver from `createTenantResolver()`. */
  resolver: TenantResolver<unknown>;
  /**
   * Whether a request that names no tenant is refused. Default: the resolver's `requireTenant`.
   * An identified tenant that is unknown, suspended or not ready is refused either way.
   */
  required?: boolean;
}

const optionsSchema = z.strictObject({
  resolver: tenantResolverOptionSchema,
  required: z.boolean().optional(),
});

/**
 * Express middleware that resolves the request's tenant, sets `req.tenant`, and calls `next()`
 * inside `runWithTenant()`, so every later middleware and handler, and everything they await,
 * sees the tenant through `requireTenantId()`.
 *
 * A refused request is answered here with the error's status and a coded JSON body
 * (`{ error: { code, message } }`): `TENANT_NOT_IDENTIFIED` 400, `TENANT_UNAUTHENTICATED` 401,
 * `TENANT_IDENTIFIER_INVALID` 400, `TENANT_NOT_FOUND` 404, `TENANT_SUSPENDED` 403,
 * `TENANT_NOT_READY` 503. Errors that are not tenantkit errors (a store driver crashing, say)
 * are passed to `next(error)` for your error handling and logging.
 *
 * Body parsers mounted after this middleware call `next()` from stream events, which Node runs
 * outside the request's async context. `express.json()` and the other body-parser parsers guard
 * against that themselves, but many stream-based parsers do not. So that every parser keeps the
 * scope, the middleware binds this request's and response's `emit` to the tenant scope: stream,
 * `end` and `finish` listeners run in it. Code that is called back from elsewhere (a pooled
 * client, a queue) must still be wrapped with `bindTenantScope`.
 *
 * @throws `CONFIGURATION_INVALID` for invalid options (when called).
 * @example
 * ```ts
 * const app = express();
 * app.get('/health', (req, res) => res.send('ok')); // before the middleware: no tenant needed
 * app.use(tenantMiddleware({ resolver }));
 * app.use(express.json());
 * app.post('/projects', async (req, res) => {
 *   res.json(await projects.create(requireTenantId(), req.body));
 * });
 * app.use(tenantErrorHandler());
 * ```
 */
export function tenantMiddleware(options: TenantMiddlewareOptions): RequestHandler {
  const parsed = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'tenantMiddleware() options');
  const resolver = options.resolver;
  // Built once: the resolver takes its per-call options by reference.
  const resolveOptions = parsed.required === undefined ? undefined : Object.freeze({ required: parsed.required });

  return function resolveTenantMiddleware(req: Request, res: Response, next: NextFunction): void {
    const request: TenantRequest = {
      headers: req.headers,
      // originalUrl survives mounting (`app.use('/api', ...)` rewrites req.url).
      url: req.originalUrl ?? req.url,
      remoteAddress: req.socket?.remoteAddress,
      frameworkRequest: req,
    };
    resolveRequestTenant(
      resolver,
      request,
      resolveOptions,
      (tenant) => continueInScope(req, res, next, tenant),
      (error) => respondWithError(res, next, error),
    );
  };
}

function continueInScope(req: Request, res: Response, next: NextFunction, tenant: Tenant<unknown> | undefined): void {
  if (tenant === undefined) {
    next();
    return;
  }
  // Tenant settings are stored as JSON, so the default settings type describes every record.
  req.tenant = tenant as Tenant;
  let entered = false;
  try {
    runWithTenant(tenant, () => {
      entered = true;
      bindEmitToCurrentScope(req);
      bindEmitToCurrentScope(res);
      next();
    });
  } catch (error) {
    // Express catches what its own layers throw, so this is either a refused scope (ours to
    // answer) or a failure inside Express's dispatch, which goes to the error handlers rather
    // than becoming an unhandled rejection.
    if (entered) next(error);
    else respondWithError(res, next, error);
  }
}

/**
 * Makes every listener of this one emitter run in the scope active now, whoever emits. Only
 * the instance is touched, never a prototype, so no other request is affected.
 */
function bindEmitToCurrentScope(emitter: EventEmitter): void {
  emitter.emit = bindTenantScope(emitter.emit);
}

function respondWithError(res: Response, next: NextFunction, error: unknown): void {
  if (!isTenantkitError(error) || res.headersSent) {
    next(error);
    return;
  }
  const { status, body } = toErrorResponse(error);
  res.status(status).json(body);
}

/**
 * Express error middleware that answers any tenantkit error (from this package, auth, rbac...)
 * with its status and coded JSON body, the same way {@link tenantMiddleware} does. Anything
 * else, and errors raised after the response started, go on to the next error handler.
 *
 * @example
 * ```ts
 * app.use(routes);
 * app.use(tenantErrorHandler());
 * app.use((err, req, res, next) => { log.error(err); res.status(500).end(); });
 * ```
 */
export function tenantErrorHandler(): ErrorRequestHandler {
  return function renderTenantkitError(error: unknown, _req: Request, res: Response, next: NextFunction): void {
    respondWithError(res, next, error);
  };
}
