/**
 * Express (4 and 5) binding: an `authenticate()` middleware that reads the request's Bearer
 * token, session cookie or API key and sets `req.principal`.
 *
 * @packageDocumentation
 * @module @tenantkit/auth/express
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import type { Authenticator } from '../authenticator.js';
import { authRefusals, type AuthRefusal } from '../authentication/auth-failure-response.js';
import { AuthError } from '../errors.js';
import type { AuthPrincipal } from '../principal.js';
import { parseAuthInput as parseOrThrow } from '../parse-auth-input.js';

declare global {
  // Express's own request type is declared in this namespace (express-serve-static-core's
  // Request extends it); merging into it is the documented way to add properties.
  namespace Express {
    interface Request {
      /**
       * Who the request is, set by an `authenticate()` middleware of `@tenantkit/auth/express`;
       * `undefined` before it, and on an `optional` route when no credential was presented.
       */
      principal?: AuthPrincipal | undefined;
    }
  }
}

/**
 * Options of {@link createAuthMiddleware}.
 *
 * @example
 * ```ts
 * const options: AuthMiddlewareOptions = { authenticator, getTenantId: (req) => req.tenant?.id };
 * ```
 */
export interface AuthMiddlewareOptions {
  /** From `createAuthenticator()`. */
  authenticator: Authenticator;
  /**
   * The request's tenant, which every credential must be bound to. Default: the ambient tenant
   * scope (mount after `tenantMiddleware()`). `null`/`undefined` falls back to that scope too.
   */
  getTenantId?: (req: Request) => string | null | undefined;
}

/**
 * Options of one {@link AuthMiddleware.authenticate} middleware.
 *
 * @example
 * ```ts
 * app.get('/pricing', auth.authenticate({ optional: true }), showPricing);
 * ```
 */
export interface AuthenticateOptions {
  /**
   * `true`: a request without any credential continues with `req.principal` unset. A credential
   * that is presented and fails is refused either way. Default `false`.
   */
  optional?: boolean;
}

/**
 * The middlewares of one authenticator, from {@link createAuthMiddleware}.
 *
 * @example
 * ```ts
 * const auth = createAuthMiddleware({ authenticator });
 * app.use('/api', auth.authenticate());
 * ```
 */
export interface AuthMiddleware {
  /**
   * A middleware that authenticates the request and sets `req.principal`.
   *
   * @throws `CONFIGURATION_INVALID` for invalid options (when called).
   * @example
   * ```ts
   * app.get('/me', auth.authenticate(), (req, res) => res.json({ id: req.principal?.id }));
   * ```
   */
  authenticate(options?: AuthenticateOptions): RequestHandler;
}


const optionsSchema = z.strictObject({
  authenticator: z.custom<Authenticator>(
    (value) =>
      typeof value === 'object' &&
      value !== null &&
      typeof (value as Authenticator).authenticate === 'function' &&
      typeof (value as Authenticator).challenge === 'function' &&
      typeof (value as Authenticator).apiKeyHeader === 'string',
    'must be an Authenticator (createAuthenticator())',
  ),
  getTenantId: z.custom<NonNullable<AuthMiddlewareOptions['getTenantId']>>((value) => typeof value === 'function', 'must be a function').optional(),
});

const authenticateOptionsSchema = z.strictObject({ optional: z.boolean().optional() }).optional();

function send(res: Response, refusal: AuthRefusal): void {
  for (const name in refusal.headers) res.setHeader(name, refusal.headers[name]!);
  res.status(refusal.status).json(refusal.body);
}

/**
 * Builds `authenticate()` middlewares for Express around one {@link Authenticator}.
 *
 * A middleware reads `Authorization`, `Cookie` and the API key header, lets the authenticator
 * verify the one credential presented (bound to the request's tenant: `getTenantId(req)`, else
 * the ambient tenant scope), and continues with `req.principal` set. It answers itself:
 *
 * - no credential on a required route: 401 `AUTHENTICATION_REQUIRED`, `WWW-Authenticate: Bearer realm="api"`;
 * - a failed credential (`TOKEN_INVALID`, `TOKEN_EXPIRED`, `TOKEN_REVOKED`, `SESSION_INVALID`,
 *   `API_KEY_INVALID`): 401 with the RFC 6750 challenge (`error="invalid_token"` for tokens);
 * - a per-key rate limit: 429 `RATE_LIMITED` with `Retry-After`;
 *
 * each with the coded JSON body of `@tenantkit/core`. Other errors (a store down, a
 * `getTenantId` that throws) go to `next(error)`, for your error handlers.
 *
 * Mount it after `tenantMiddleware()` (so the tenant is known) and before rbac's
 * `requirePermission()` and a rate-limit middleware keyed by principal.
 *
 * @throws `CONFIGURATION_INVALID` for invalid options (when called).
 * @example
 * ```ts
 * const app = express();
 * app.use(tenantMiddleware({ resolver }));
 * const auth = createAuthMiddleware({ authenticator });
 * const { requirePermission } = createRbacMiddleware({ checker: rbac, getPrincipal: (req) => req.principal ?? null });
 * app.get('/projects', auth.authenticate(), requirePermission('projects:list'), listProjects);
 * app.get('/pricing', auth.authenticate({ optional: true }), showPricing);
 * ```
 */
export function createAuthMiddleware(options: AuthMiddlewareOptions): AuthMiddleware {
  const { authenticator, getTenantId } = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'createAuthMiddleware() options');
  const refusals = authRefusals(authenticator);
  const apiKeyHeader = authenticator.apiKeyHeader;

  return Object.freeze({
    authenticate(authenticateOptions?: AuthenticateOptions): RequestHandler {
      const parsed = parseOrThrow(authenticateOptionsSchema, authenticateOptions, 'CONFIGURATION_INVALID', 'authenticate() options');
      const optional = parsed?.optional === true;

      return function authenticateRequestMiddleware(req: Request, res: Response, next: NextFunction): void {
        let tenantId: string | null | undefined;
        try {
          tenantId = getTenantId?.(req);
        } catch (error) {
          next(error);
          return;
        }
        const headers = req.headers;
        authenticator
          .authenticate(
            { authorization: headers.authorization, cookie: headers.cookie, apiKey: headers[apiKeyHeader] },
            tenantId === undefined || tenantId === null ? undefined : { tenantId },
          )
          .then(
            (principal) => {
              if (principal !== null) {
                req.principal = principal;
                next();
              } else if (optional) {
                next();
              } else if (res.headersSent) {
                next(new AuthError('AUTHENTICATION_REQUIRED', 'Authentication required'));
              } else {
                send(res, refusals.required);
              }
            },
            (error: unknown) => {
              const refusal = refusals.of(error);
              // A response already under way cannot carry the refusal; the error handlers decide.
              if (refusal === undefined || res.headersSent) next(error);
              else send(res, refusal);
            },
          );
      };
    },
  });
}
