/**
 * Fastify 5 binding: limits each request with a `RateLimiter` in one global hook, with
 * per-route settings under `config.rateLimits`, and answers with the IETF RateLimit headers or
 * a coded 429 / 403 / 503.
 *
 * @packageDocumentation
 * @module @tenantkit/ratelimit/fastify
 */
import type {
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  RouteOptions,
} from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod';
import { RateLimitError } from '../errors.js';
import type { RateLimitRefusal } from '../http/rate-limit-response.js';
import type { RateLimitDecision } from '../limiter/rate-limit-decision.js';
import {
  parseHttpRateLimitOptions,
  parseRouteRateLimit,
  type HttpRateLimitBinding,
  type HttpRateLimitOptions,
  type RouteRateLimit,
  type RouteRateLimitOptions,
} from './http-rate-limit-options.js';
import { limitRequest } from './limit-request.js';
import { peerAddressOf } from './request-subject.js';

/**
 * The object form of a route's `config.rateLimits`: the policies and cost in force on that
 * route instead of the plugin's (a setting left out keeps the plugin's). A `cost` function
 * runs in the plugin's hook, so with `hook: 'preHandler'` (the default) it can read the
 * parsed body.
 *
 * @example
 * ```ts
 * const setting: RateLimitRouteConfig = { policies: ['tenant', 'imports'], cost: (request) => (request.body as unknown[]).length };
 * app.post('/imports', { config: { rateLimits: setting } }, runImport);
 * ```
 */
export type RateLimitRouteConfig = RouteRateLimitOptions<FastifyRequest>;

declare module 'fastify' {
  interface FastifyRequest {
    /**
     * The limiter's decision for this request, set by the rate-limit hook; `null` on routes
     * with `config.rateLimits: false`, skipped requests, or when the store was down with a
     * closed policy.
     */
    rateLimit: RateLimitDecision | null;
  }
  interface FastifyContextConfig {
    /** `false` turns rate limiting off on the route; an object replaces the plugin's policies or cost. */
    rateLimits?: false | RateLimitRouteConfig;
  }
}

/**
 * Options of {@link rateLimitPlugin}.
 *
 * @example
 * ```ts
 * await app.register(rateLimitPlugin, { limiter, subject: (request) => ({ userId: request.principal?.userId }) });
 * ```
 */
export interface RateLimitPluginOptions extends HttpRateLimitOptions<FastifyRequest> {
  /**
   * The hook requests are limited in. `'preHandler'` (default) runs after authentication and
   * tenant resolution (whatever hooks run earlier) and after body parsing, so the subject
   * can name the principal, plan limits apply, and `cost` can read the body. `'onRequest'`
   * refuses before the body is read (cheaper under a flood); register tenant resolution and
   * authentication first then, since hooks of one kind run in registration order.
   */
  hook?: 'onRequest' | 'preHandler';
}

const WHAT_ROUTE = 'config.rateLimits';

const pluginShape = { hook: z.enum(['onRequest', 'preHandler']).optional() };

function routeSetting(config: unknown): unknown {
  return (config as { rateLimits?: unknown } | undefined)?.rateLimits;
}

function replyRefused(request: FastifyRequest, reply: FastifyReply, refusal: RateLimitRefusal): void {
  const { status, headers, body } = refusal;
  if (status >= 500) request.log.warn({ status }, 'rate limiting unavailable: the store is down and a policy fails closed');
  // Answered here, not thrown, so an app error handler that renders errors its own way cannot
  // turn a refusal into a 500 or drop its Retry-After.
  void reply.code(status).headers(headers).send(body);
}

function runLimit(
  binding: HttpRateLimitBinding<FastifyRequest>,
  route: RouteRateLimit<FastifyRequest>,
  request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
): void {
  const facts = {
    method: request.method,
    // The route's pattern, never the URL: `/projects/123` and `/projects/456` share one key.
    // Undefined for requests no route matched (404s), which route-keyed policies skip.
    routePattern: request.routeOptions.url,
    // The socket's peer, not request.ip: Fastify's trustProxy is not ours to rely on.
    // Undefined on a Unix socket (see the 'unix' trusted-proxy preset).
    remoteAddress: peerAddressOf(request.raw.socket),
    forwardedFor: request.headers[binding.clientIpHeader],
  };
  limitRequest(binding, route, request, facts).then(
    (result) => {
      if (result.kind === 'skipped') {
        done();
        return;
      }
      request.rateLimit = result.decision ?? null;
      if (result.kind === 'admitted') {
        void reply.headers(result.headers);
        done();
        return;
      }
      replyRefused(request, reply, result.refusal);
    },
    (error: unknown) => done(error instanceof Error ? error : new Error('Rate limiting failed', { cause: error })),
  );
}

const limitRequestsPlugin: FastifyPluginCallback<RateLimitPluginOptions> = (fastify, options, done) => {
  let binding: HttpRateLimitBinding<FastifyRequest>;
  try {
    // Not strict: Fastify adds keys of its own (such as `prefix`) to plugin options.
    binding = parseHttpRateLimitOptions<FastifyRequest>(options, 'rate limit plugin options', false, pluginShape);
  } catch (error) {
    done(error as Error);
    return;
  }
  const hook = options.hook ?? 'preHandler';

  // A shared reference type as the default would be shared by every request; null is not.
  fastify.decorateRequest('rateLimit', null);

  // Route settings are parsed once. Keyed by the config object Fastify keeps per route (a
  // WeakMap in this closure, so nothing outlives the instance).
  const routes = new WeakMap<object, RouteRateLimit<FastifyRequest> | false>();

  // Checked when the route is declared, so a typo fails at startup rather than per request.
  fastify.addHook('onRoute', (route: RouteOptions) => {
    const setting = routeSetting(route.config);
    if (setting !== undefined) parseRouteRateLimit(binding, setting, `Route ${route.method.toString()} ${route.url}: ${WHAT_ROUTE}`);
  });

  function limitRequestHook(request: FastifyRequest, reply: FastifyReply, hookDone: HookHandlerDoneFunction): void {
    // Optional chaining: the 404 context of some Fastify versions has no config object.
    const config = request.routeOptions.config as object | undefined;
    const setting = routeSetting(config);
    if (setting === false) {
      hookDone();
      return;
    }
    if (config === undefined || setting === undefined) {
      runLimit(binding, binding, request, reply, hookDone);
      return;
    }
    let route = routes.get(config);
    if (route === undefined) {
      // A route declared before the plugin was registered skipped onRoute: parse it now, and
      // fail closed (an error, never an unlimited handler) when the setting is invalid.
      const where = `Route ${request.method} ${request.routeOptions.url ?? request.url}`;
      try {
        route = parseRouteRateLimit(binding, setting, `${where}: ${WHAT_ROUTE}`);
      } catch (error) {
        hookDone(new RateLimitError('CONFIGURATION_INVALID', `${where}: invalid ${WHAT_ROUTE}`, { cause: error }));
        return;
      }
      routes.set(config, route);
    }
    if (route === false) hookDone();
    else runLimit(binding, route, request, reply, hookDone);
  }

  if (hook === 'onRequest') fastify.addHook('onRequest', limitRequestHook);
  else fastify.addHook('preHandler', limitRequestHook);

  done();
};

/**
 * The Fastify plugin: decorates `request.rateLimit` and limits every request in one global
 * hook (`preHandler` by default, see {@link RateLimitPluginOptions.hook}) with
 * `limiter.check()`: all the selected policies at once, the most restrictive deciding.
 *
 * - Admitted: the `RateLimit-Policy` and `RateLimit` headers (draft-ietf-httpapi-ratelimit-
 *   headers; `X-RateLimit-*` too with `legacyHeaders`) go on the response, whatever the
 *   handler then answers. Shadow policies never refuse.
 * - Limited: 429 with `Retry-After`, the same headers and the coded body
 *   `{ error: { code: 'RATE_LIMITED', message, details: { policy, retryAfterSeconds, limit } } }`.
 * - Deny-listed: 403 `CLIENT_DENIED`.
 * - Store down and a policy fails closed: 503 `STORE_UNAVAILABLE` (never a 429), logged at
 *   warn level.
 *
 * Anything else that fails (the `subject`, `cost` or `skip` callbacks, no tenant in scope for
 * a tenant-keyed policy, a subject field the limiter rejects) goes to your error handler.
 *
 * The subject is derived from the request: `ip` from the socket's peer address, read through
 * `X-Forwarded-For` only from `trustedProxies` (Fastify's `trustProxy` is not used; behind a
 * proxy on a Unix socket give `['unix']`; a client whose address is unknown counts on one
 * shared `ip=unknown` key, never skipping IP-keyed policies);
 * `tenantId` and `plan` from the ambient tenant scope (register `tenantContextPlugin` first);
 * `route` as `METHOD pattern` from `request.routeOptions.url`, so `/projects/123` and
 * `/projects/456` share `GET /projects/:id` and `HEAD` counts as `GET` (Fastify answers it
 * with the GET route; 404s have no route and skip route-keyed policies); plus whatever your
 * `subject` callback returns.
 *
 * Per route, `config: { rateLimits: false }` turns limiting off and
 * `config: { rateLimits: { policies, cost } }` replaces the plugin's policies and/or cost.
 * Invalid settings fail when the route is declared. Register the plugin before `rbacPlugin`
 * so a flood is refused before permissions are checked.
 *
 * @example
 * ```ts
 * const app = Fastify();
 * await app.register(tenantContextPlugin, { resolver });
 * await app.register(authPlugin);
 * await app.register(rateLimitPlugin, {
 *   limiter,
 *   policies: ['tenant', 'user', 'ip'],
 *   subject: (request) => ({ userId: request.principal?.userId }),
 *   trustedProxies: ['loopback'],
 * });
 * app.get('/health', { config: { rateLimits: false } }, async () => 'ok');
 * app.post('/imports', { config: { rateLimits: { policies: ['imports'], cost: (request) => (request.body as unknown[]).length } } }, runImport);
 * ```
 */
export const rateLimitPlugin = fp(limitRequestsPlugin, {
  fastify: '5.x',
  name: '@tenantkit/ratelimit',
});

// The shared types of both bindings, so their signatures are documented where they are used.
export type { HttpRateLimitOptions, RequestCost, RouteRateLimitOptions } from './http-rate-limit-options.js';
