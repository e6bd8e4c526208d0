import { codedErrorFactory, createParseOrThrow } from '@tenantkit/core';
import { z } from 'zod';
import { maxPoints } from '../stores/limiter-spec-guards.js';
import { RateLimitError } from '../errors.js';
import { createRateLimitHeaders, type RateLimitHeadersBuilder, type RateLimitHeadersOptions } from '../http/rate-limit-headers.js';
import { createClientIpResolver, type ClientIpResolver } from '../ip/client-ip.js';
import type { RateLimiter } from '../limiter/rate-limiter.js';
import type { RateLimitSubject } from '../policies/rate-limit-policy.js';

/*
 * The options both bindings take, and how they are checked: once, when the middleware or the
 * plugin is created (route settings when the route is declared), never on the first request.
 */

/** A value, or a promise of it: app callbacks may answer either way. */
type MaybePromise<T> = T | PromiseLike<T>;

/**
 * What one request costs: a fixed whole number of points (>= 1), or a function of the
 * request (a bulk call costs one point per item, say). The function runs after the binding's
 * hook has the request, so in Fastify's `preHandler` (the default) and after an Express body
 * parser it can read the parsed body.
 *
 * @example
 * ```ts
 * const cost: RequestCost<Request> = (req) => Math.max(1, Array.isArray(req.body) ? req.body.length : 1);
 * ```
 */
export type RequestCost<Request> = number | ((request: Request) => MaybePromise<number>);

/**
 * The options of `rateLimitMiddleware()` (Express) and `rateLimitPlugin` (Fastify),
 * checked when they are given (`CONFIGURATION_INVALID`).
 *
 * @example
 * ```ts
 * const options: HttpRateLimitOptions<Request> = {
 *   limiter,
 *   subject: (req) => ({ userId: req.principal?.userId, apiKeyId: req.principal?.apiKeyId }),
 *   trustedProxies: ['loopback', '10.0.0.0/8'],
 *   skip: (req) => req.path === '/health',
 * };
 * ```
 */
export interface HttpRateLimitOptions<Request> {
  /** The limiter from `createRateLimiter()`. */
  limiter: RateLimiter;
  /** Only these policies (by name, checked against the limiter); default every policy. */
  policies?: readonly string[];
  /** Points per request; default 1. */
  cost?: RequestCost<Request>;
  /**
   * Subject fields the request carries beyond the defaults, usually from the principal that
   * authentication set (`userId`, `apiKeyId`), or a `key`. Fields returned as `undefined`
   * keep their defaults (ip from the socket or trusted proxies, route pattern, tenant and
   * plan from the ambient tenant scope).
   */
  subject?: (request: Request) => MaybePromise<Partial<RateLimitSubject> | undefined>;
  /**
   * Proxies whose forwarding header is believed: addresses, CIDR ranges and the presets
   * `loopback`, `linklocal`, `uniquelocal`, `private`, plus `unix`: the proxy in front of a
   * Unix socket the app listens on (its connections have no peer address). Default none: the
   * client IP is the socket's peer and `X-Forwarded-For` is ignored. The framework's own proxy
   * setting (Express `trust proxy`, Fastify `trustProxy`) is not used. A request whose client
   * address stays unknown (a Unix socket without `unix`, no readable hop) is limited by
   * IP-keyed policies on one shared `ip=unknown` key, never skipped.
   */
  trustedProxies?: readonly string[];
  /** Which header trusted proxies write: `'x-forwarded-for'` (default) or RFC 7239 `'forwarded'`. */
  clientIpHeader?: 'x-forwarded-for' | 'forwarded';
  /** Send the IETF `RateLimit-Policy` and `RateLimit` headers; default true. */
  headers?: boolean;
  /** Send `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` too; default false. */
  legacyHeaders?: boolean;
  /**
   * The HMAC key of the headers' `pk` partition keys, at least 16 bytes. Default: a random
   * secret per process; give every process behind one balancer the same secret so a client
   * sees one `pk` per counter.
   */
  partitionKeySecret?: string | Uint8Array;
  /** Requests this returns true for are not counted (health checks, internal callers). */
  skip?: (request: Request) => MaybePromise<boolean>;
}

/**
 * A route's own rate-limit settings, replacing the binding's `policies` and `cost` for that
 * route (a setting left out keeps the binding's).
 *
 * @example
 * ```ts
 * const bulkImport: RouteRateLimitOptions<FastifyRequest> = { policies: ['tenant', 'bulk'], cost: (request) => (request.body as unknown[]).length };
 * ```
 */
export interface RouteRateLimitOptions<Request> {
  policies?: readonly string[];
  cost?: RequestCost<Request>;
}

/**
 * A checked route setting: the policies and cost in force on that route.
 *
 * @example
 * ```ts
 * const route: RouteRateLimit<Request> = { policies: ['bulk'], cost: 10 };
 * ```
 */
export interface RouteRateLimit<Request> {
  readonly policies: readonly string[] | undefined;
  readonly cost: RequestCost<Request>;
}

/**
 * Checked, frozen binding options with the client IP resolver built. Its own `policies` and
 * `cost` are the route setting of every route that has none.
 *
 * @example
 * ```ts
 * const binding: HttpRateLimitBinding<Request> = parseHttpRateLimitOptions(options, 'rateLimitMiddleware() options', true);
 * ```
 */
export interface HttpRateLimitBinding<Request> extends RouteRateLimit<Request> {
  readonly limiter: RateLimiter;
  readonly subject: ((request: Request) => MaybePromise<Partial<RateLimitSubject> | undefined>) | undefined;
  readonly resolveClientIp: ClientIpResolver;
  /** The forwarding header to read, lower case. */
  readonly clientIpHeader: 'x-forwarded-for' | 'forwarded';
  /** Whether the IETF headers are sent. */
  readonly headers: boolean;
  /** Whether the `X-RateLimit-*` headers are sent. */
  readonly legacyHeaders: boolean;
  /** What `rateLimitHeaders()` is called with. */
  readonly headerOptions: RateLimitHeadersOptions;
  /** `rateLimitHeaders()` with `headerOptions`, its per-counter parts cached for this binding. */
  readonly rateLimitHeaders: RateLimitHeadersBuilder;
  readonly skip: ((request: Request) => MaybePromise<boolean>) | undefined;
}

const parseOrThrow = createParseOrThrow(codedErrorFactory(RateLimitError));

const callback = z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', 'must be a function');

const limiterSchema = z.custom<RateLimiter>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as RateLimiter).check === 'function' &&
    Array.isArray((value as RateLimiter).policyNames),
  'must be a RateLimiter (from createRateLimiter())',
);

const policiesSchema = z.array(z.string()).min(1, 'must name at least one policy (leave it out for every policy)');

const costSchema = z.union([z.number().int().min(1).max(maxPoints), callback], {
  error: 'must be a whole number >= 1 or a function of the request',
});

const optionsShape = {
  limiter: limiterSchema,
  policies: policiesSchema.optional(),
  cost: costSchema.optional(),
  subject: callback.optional(),
  trustedProxies: z.array(z.string()).optional(),
  clientIpHeader: z.enum(['x-forwarded-for', 'forwarded']).optional(),
  headers: z.boolean().optional(),
  legacyHeaders: z.boolean().optional(),
  partitionKeySecret: z.union([z.string(), z.instanceof(Uint8Array)], { error: 'must be a string or a Uint8Array' }).optional(),
  skip: callback.optional(),
};

const routeSchema = z.strictObject(
  { policies: policiesSchema.optional(), cost: costSchema.optional() },
  { error: 'must be false or { policies?, cost? }' },
);

/**
 * Checks that every name is a policy of the limiter, so a typo fails at startup rather than
 * with `RATE_LIMIT_POLICY_NOT_FOUND` on every request of the route.
 */
function assertKnownPolicies(limiter: RateLimiter, policies: readonly string[] | undefined, what: string): void {
  if (policies === undefined) return;
  const unknown = policies.filter((name) => !limiter.policyNames.includes(name));
  if (unknown.length > 0) {
    throw new RateLimitError(
      'CONFIGURATION_INVALID',
      `Invalid ${what}: ${unknown.map((name) => JSON.stringify(name)).join(', ')} ` +
        `not among the limiter's policies (${limiter.policyNames.join(', ')})`,
      { details: { unknownPolicies: unknown } },
    );
  }
}

/**
 * Checks a binding's options and builds its client IP resolver. `strict` rejects unknown
 * keys (a misspelt option); Fastify adds keys of its own (`prefix`) to plugin options, so its
 * binding passes `false`. `extraShape` adds a binding's own options (Fastify's `hook`) to the
 * same check.
 *
 * @throws `CONFIGURATION_INVALID` listing each problem: no limiter, an unknown policy name, a
 *   cost that is not a whole number >= 1, a trusted proxy that is not an address, range or
 *   preset, a callback that is not a function.
 * @example
 * ```ts
 * const binding = parseHttpRateLimitOptions<Request>(options, 'rateLimitMiddleware() options', true);
 * const hook = z.enum(['onRequest', 'preHandler']).optional();
 * const plugin = parseHttpRateLimitOptions<FastifyRequest>(options, 'rate limit plugin options', false, { hook });
 * ```
 */
export function parseHttpRateLimitOptions<Request>(
  options: unknown,
  what: string,
  strict: boolean,
  extraShape: z.ZodRawShape = {},
): HttpRateLimitBinding<Request> {
  const schema = strict ? z.strictObject({ ...optionsShape, ...extraShape }) : z.looseObject({ ...optionsShape, ...extraShape });
  parseOrThrow(schema, options, 'CONFIGURATION_INVALID', what);
  // The caller's own objects are kept (zod would copy them and drop the limiter's prototype).
  const given = options as HttpRateLimitOptions<Request>;
  assertKnownPolicies(given.limiter, given.policies, what);
  const clientIpHeader = given.clientIpHeader ?? 'x-forwarded-for';
  const resolveClientIp = createClientIpResolver({ trustedProxies: given.trustedProxies ?? [], header: clientIpHeader });
  const legacyHeaders = given.legacyHeaders ?? false;
  const headerOptions: RateLimitHeadersOptions = Object.freeze({
    legacy: legacyHeaders,
    ...(given.partitionKeySecret === undefined ? {} : { partitionKeySecret: given.partitionKeySecret }),
  });
  // Checks the partition key secret now rather than on every request.
  const headersOf = createRateLimitHeaders(headerOptions);
  return Object.freeze({
    limiter: given.limiter,
    policies: given.policies === undefined ? undefined : Object.freeze([...given.policies]),
    cost: given.cost ?? 1,
    subject: given.subject,
    resolveClientIp,
    headers: given.headers ?? true,
    legacyHeaders,
    headerOptions,
    rateLimitHeaders: headersOf,
    skip: given.skip,
    clientIpHeader,
  });
}

/**
 * Checks a route's settings against the binding: `false` turns limiting off on the route;
 * an object replaces the binding's `policies` and/or `cost`; `undefined` keeps the binding's.
 *
 * @throws `CONFIGURATION_INVALID` when the setting is neither, names a policy the limiter
 *   does not have, or has a bad cost.
 * @example
 * ```ts
 * const route = parseRouteRateLimit(binding, { policies: ['bulk'], cost: 10 }, 'Route POST /imports: config.rateLimit');
 * ```
 */
export function parseRouteRateLimit<Request>(
  binding: HttpRateLimitBinding<Request>,
  setting: unknown,
  what: string,
): RouteRateLimit<Request> | false {
  if (setting === false) return false;
  if (setting === undefined) return Object.freeze({ policies: binding.policies, cost: binding.cost });
  parseOrThrow(routeSchema, setting, 'CONFIGURATION_INVALID', what);
  const given = setting as RouteRateLimitOptions<Request>;
  assertKnownPolicies(binding.limiter, given.policies, what);
  return Object.freeze({
    policies: given.policies === undefined ? binding.policies : Object.freeze([...given.policies]),
    cost: given.cost ?? binding.cost,
  });
}
