/**
 * Express (4 and 5) binding: a middleware that limits each request with a `RateLimiter` and
 * answers with the IETF RateLimit headers, or a coded 429 / 403 / 503.
 *
 * @packageDocumentation
 * @module @tenantkit/ratelimit/express
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { RateLimitDecision } from '../limiter/rate-limit-decision.js';
import { parseHttpRateLimitOptions, type HttpRateLimitOptions } from './http-rate-limit-options.js';
import { limitRequest } from './limit-request.js';
import { peerAddressOf, type RequestFacts } from './request-subject.js';

declare global {
  // Express's own request type is declared in this namespace; merging into it is the
  // documented way to add properties.
  namespace Express {
    interface Request {
      /**
       * The limiter's decision for this request, set by `rateLimitMiddleware()` before the
       * request continues (admitted) or is refused; `undefined` when no rate-limit
       * middleware ran, `skip` skipped it, or the store was down with a closed policy.
       */
      rateLimit?: RateLimitDecision | undefined;
    }
  }
}

/**
 * Options of {@link rateLimitMiddleware}.
 *
 * @example
 * ```ts
 * const options: RateLimitMiddlewareOptions = {
 *   limiter,
 *   subject: (req) => ({ userId: req.principal?.userId }),
 *   trustedProxies: ['10.0.0.0/8'],
 * };
 * ```
 */
export type RateLimitMiddlewareOptions = HttpRateLimitOptions<Request>;

/**
 * The route pattern Express knows for this request. Mounted on a route
 * (`app.get('/projects/:id', limit, handler)`), that is the router's mount path plus the
 * route's path (`req.baseUrl` holds the mount path as matched, so a parameter in it appears
 * with its value). Mounted with `app.use()`, Express has not routed the request yet and
 * knows no pattern: the mount path plus the request path stands in (`/projects/123`).
 *
 * What the client spelled (the mount path, and the request path in the fallback) is lowered
 * unless the app has `case sensitive routing`, and a trailing slash is dropped unless it has
 * `strict routing`: Express matches `/API/export/` to the `/api/export` route then, and each
 * spelling would otherwise open a counter of its own.
 */
function routePatternOf(req: Request): string {
  const routePath: unknown = (req.route as { path?: unknown } | undefined)?.path;
  const app = req.app as Request['app'] | undefined;
  const spelled = typeof routePath === 'string' ? req.baseUrl : `${req.baseUrl}${req.path}`;
  let pattern = app?.enabled('case sensitive routing') === true ? spelled : spelled.toLowerCase();
  if (typeof routePath === 'string') pattern += routePath;
  if (app?.enabled('strict routing') !== true && pattern.length > 1 && pattern.endsWith('/')) pattern = pattern.replace(/\/+$/, '') || '/';
  return pattern;
}

function factsOf(req: Request, header: 'x-forwarded-for' | 'forwarded'): RequestFacts {
  return {
    method: req.method,
    routePattern: routePatternOf(req),
    remoteAddress: peerAddressOf(req.socket),
    forwardedFor: req.headers[header],
  };
}

function send(res: Response, status: number, headers: Readonly<Record<string, string>>, body: unknown): void {
  for (const name in headers) res.setHeader(name, headers[name]!);
  res.status(status).json(body);
}

/**
 * Express middleware that limits every request it sees with `limiter.check()` (all the
 * selected policies at once, the most restrictive deciding) and sets `req.rateLimit` to the
 * decision.
 *
 * - Admitted: the `RateLimit-Policy` and `RateLimit` headers (draft-ietf-httpapi-ratelimit-
 *   headers; `X-RateLimit-*` too with `legacyHeaders`) are set and the request continues.
 *   Shadow policies never refuse.
 * - Limited: 429 with `Retry-After`, the same headers and the coded body
 *   `{ error: { code: 'RATE_LIMITED', message, details: { policy, retryAfterSeconds, limit } } }`.
 * - Deny-listed: 403 `CLIENT_DENIED`.
 * - Store down and a policy fails closed: 503 `STORE_UNAVAILABLE` (never a 429).
 *
 * Anything else that fails (the `subject`, `cost` or `skip` callbacks, no tenant in scope for a
 * tenant-keyed policy, a subject field the limiter rejects) goes to `next(error)`, for your
 * error handlers (`tenantErrorHandler()` renders tenantkit errors).
 *
 * The subject is derived from the request: `ip` from the socket's peer address, read through
 * `X-Forwarded-For` only from `trustedProxies` (Express's `trust proxy` is not used);
 * `tenantId` and `plan` from the ambient tenant scope, so mount this after
 * `tenantMiddleware()` for plan-based limits; `route` as `METHOD pattern`; plus whatever your
 * `subject` callback returns (mount after authentication to key by user or API key).
 *
 * **Route keys.** Express only knows a request's route pattern once it has routed it. Mounted
 * on a route or a router's route (`app.post('/projects/:id/export', limit, handler)`) the key
 * is `POST /projects/:id/export`, shared by every id. Mounted with `app.use()`, the key falls
 * back to the concrete path (`/projects/123`), one counter per URL: fine for policies keyed by
 * tenant, user or IP, but give route-keyed policies a per-route middleware (or a `subject`
 * that returns `route`). `HEAD` counts as `GET` (Express runs the GET handler for it); the
 * path the client spelled is lowered unless the app enables `case sensitive routing`, and a
 * trailing slash dropped unless it enables `strict routing`, so `/API/export/` shares the
 * counter of `/api/export`.
 *
 * **No peer address.** Behind a proxy on a Unix socket, give `trustedProxies: ['unix']` so
 * the proxy's header is read. Requests whose client address is unknown are never exempt from
 * IP-keyed policies: they share one `ip=unknown` counter.
 *
 * **Per-route settings.** Mount another middleware on the route with its own `policies` and
 * `cost`, and leave those policies out of the global one so the request is not counted twice
 * against them. The two are separate checks (a refusal by the second does not give back what
 * the first charged) and the later one's headers are the ones sent. `skip` excludes routes
 * from a global one.
 *
 * @throws `CONFIGURATION_INVALID` for invalid options (when called): no limiter, an unknown
 *   policy name, a bad cost, an untrusted-proxy entry that is not an address or range.
 * @example
 * ```ts
 * const app = express();
 * app.use(tenantMiddleware({ resolver }));
 * app.use(authenticate);
 * app.use(rateLimitMiddleware({
 *   limiter,
 *   policies: ['tenant', 'user', 'ip'],
 *   subject: (req) => ({ userId: req.principal?.userId }),
 *   trustedProxies: ['loopback'],
 *   skip: (req) => req.path === '/health',
 * }));
 * app.post('/imports', rateLimitMiddleware({ limiter, policies: ['imports'], cost: (req) => req.body.items.length }), runImport);
 * app.use(tenantErrorHandler());
 * ```
 */
export function rateLimitMiddleware(options: RateLimitMiddlewareOptions): RequestHandler {
  const binding = parseHttpRateLimitOptions<Request>(options, 'rateLimitMiddleware() options', true);
  const header = binding.clientIpHeader;

  return function rateLimitRequestMiddleware(req: Request, res: Response, next: NextFunction): void {
    limitRequest(binding, binding, req, factsOf(req, header)).then((result) => {
      if (result.kind === 'skipped') {
        next();
        return;
      }
      req.rateLimit = result.decision;
      if (result.kind === 'admitted') {
        for (const name in result.headers) res.setHeader(name, result.headers[name]!);
        next();
        return;
      }
      // A response already under way cannot carry the refusal; the error handlers decide.
      if (res.headersSent) {
        next(result.error);
        return;
      }
      send(res, result.refusal.status, result.refusal.headers, result.refusal.body);
    }, next);
  };
}

// The shared types of both bindings, so their signatures are documented where they are used.
export type { HttpRateLimitOptions, RequestCost } from './http-rate-limit-options.js';
