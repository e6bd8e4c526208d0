import { currentScope } from '@tenantkit/tenant-context';
import type { ClientIpResolver } from '../ip/client-ip.js';
import type { RateLimitSubject } from '../policies/rate-limit-policy.js';

/*
 * How a binding turns one request into a RateLimitSubject. The bindings read the facts off
 * their framework's request; everything from there on is the same for Express and Fastify.
 */

/**
 * What a binding reads off one request to derive its subject.
 *
 * @example
 * ```ts
 * const facts: RequestFacts = {
 *   method: req.method,
 *   routePattern: '/projects/:id',
 *   remoteAddress: req.socket.remoteAddress,
 *   forwardedFor: req.headers['x-forwarded-for'],
 * };
 * ```
 */
export interface RequestFacts {
  /** The HTTP method as received (`GET`, `POST`, ...). */
  readonly method: string;
  /**
   * The route the request matched, as its pattern (`/projects/:id`), never the concrete URL,
   * so `/projects/123` and `/projects/456` share one route key. `undefined` when no route
   * matched (a 404): policies keyed by route then do not apply to it.
   */
  readonly routePattern: string | undefined;
  /** The socket's peer address (not a framework's `ip`, whose proxy trust is configured elsewhere). */
  readonly remoteAddress: string | undefined;
  /** The raw forwarding header named by the binding's `clientIpHeader` option. */
  readonly forwardedFor: string | string[] | undefined;
}

const SUBJECT_FIELDS = ['tenantId', 'plan', 'userId', 'apiKeyId', 'ip', 'route', 'key'] as const;

/**
 * The route part of a subject: the method and the route pattern, `'GET /projects/:id'`.
 *
 * @example
 * ```ts
 * routeKey('get', '/projects/:id'); // 'GET /projects/:id'
 * ```
 */
export function routeKey(method: string, routePattern: string | undefined): string | undefined {
  return routePattern === undefined ? undefined : `${method.toUpperCase()} ${routePattern}`;
}

/**
 * The subject of one request: the defaults derived from the request, with what the app's
 * `subject` callback returned on top. Defaults:
 * - `ip`: the client IP through the trusted-proxy resolver (the socket peer unless the peer
 *   is a trusted proxy);
 * - `route`: `METHOD /route/:pattern` (see {@link RequestFacts.routePattern});
 * - `tenantId` and `plan`: the ambient tenant scope (`currentTenantId()`, `currentTenant()?.plan`)
 *   when one is active. The ambient plan is only taken for the ambient tenant, never for a
 *   tenant id the callback chose.
 *
 * A field the callback returns as `undefined` keeps its default; to stop a request from
 * counting against, say, its IP, narrow the policies instead.
 *
 * @example
 * ```ts
 * const subject = requestSubject(facts, resolveClientIp, { userId: req.principal?.id });
 * // { ip: '203.0.113.7', route: 'GET /projects/:id', tenantId: 'acme', plan: 'pro', userId: 'u_1' }
 * ```
 */
export function requestSubject(
  facts: RequestFacts,
  resolveClientIp: ClientIpResolver,
  custom: Partial<RateLimitSubject> | undefined,
): RateLimitSubject {
  const subject: { -readonly [Field in keyof RateLimitSubject]: RateLimitSubject[Field] } = {};
  const ip = resolveClientIp(facts.remoteAddress, facts.forwardedFor);
  if (ip !== undefined) subject.ip = ip;
  const route = routeKey(facts.method, facts.routePattern);
  if (route !== undefined) subject.route = route;
  if (custom !== undefined && custom !== null) {
    for (const field of SUBJECT_FIELDS) {
      const value = custom[field];
      if (value !== undefined) subject[field] = value;
    }
  }
  // One AsyncLocalStorage read: the scope carries both the tenant id and its record.
  const scope = currentScope();
  if (scope?.kind === 'tenant') {
    if (subject.tenantId === undefined) subject.tenantId = scope.tenantId;
    // Another tenant's id from the callback is the limiter's to refuse (TENANT_SCOPE_CONFLICT);
    // lending it the ambient tenant's plan would only hide that.
    if (subject.plan === undefined && subject.tenantId === scope.tenantId) {
      const plan = scope.tenant?.plan;
      if (plan !== undefined) subject.plan = plan;
    }
  }
  return subject;
}
