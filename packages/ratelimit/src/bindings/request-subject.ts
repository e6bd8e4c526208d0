import { currentScope } from '@tenantkit/tenant-context';
import type { ClientIpResolver } from '../ip/client-ip.js';
import type { RateLimitSubject } from '../policies/rate-limit-policy.js';
import { UNKNOWN_CLIENT_IP } from '../policies/subject-key.js';

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
  /**
   * The socket's peer address (not a framework's `ip`, whose proxy trust is configured
   * elsewhere), as {@link peerAddressOf} gives it: `undefined` for a Unix-socket connection.
   */
  readonly remoteAddress: string | undefined;
  /** The raw forwarding header named by the binding's `clientIpHeader` option. */
  readonly forwardedFor: string | string[] | undefined;
}

const SUBJECT_FIELDS = ['tenantId', 'plan', 'userId', 'apiKeyId', 'ip', 'route', 'key'] as const;

/**
 * What a binding reads off a request's socket for {@link peerAddressOf} (Node's `net.Socket`;
 * `server` is the `net.Server` that accepted the connection).
 *
 * @example
 * ```ts
 * const socket: PeerSocket = req.socket;
 * ```
 */
export interface PeerSocket {
  readonly remoteAddress?: string | undefined;
  readonly server?: { address?(): unknown } | null | undefined;
}

/**
 * The peer address of a request's socket, as the client IP resolver takes it: the socket's
 * `remoteAddress`; `undefined` for a connection accepted on a Unix socket (there is none, and
 * the `'unix'` trusted-proxy preset applies); `''` (not an address) for a TCP connection that
 * has lost its address (closed before the check), so a client that hangs up early is never
 * taken for the local proxy and its header is never read.
 *
 * @example
 * ```ts
 * const facts: RequestFacts = { method: req.method, routePattern, remoteAddress: peerAddressOf(req.socket), forwardedFor };
 * ```
 */
export function peerAddressOf(socket: PeerSocket | undefined): string | undefined {
  const address = socket?.remoteAddress;
  if (typeof address === 'string') return address;
  // Node's server.address() is the path, a string, for a server listening on a Unix socket.
  return typeof socket?.server?.address?.() === 'string' ? undefined : '';
}

/**
 * The route part of a subject: the method and the route pattern, `'GET /projects/:id'`. `HEAD`
 * is keyed as `GET`: both frameworks answer it with the GET handler, so it shares the GET
 * route's counter rather than opening a second one.
 *
 * @example
 * ```ts
 * routeKey('get', '/projects/:id');  // 'GET /projects/:id'
 * routeKey('HEAD', '/projects/:id'); // 'GET /projects/:id'
 * ```
 */
export function routeKey(method: string, routePattern: string | undefined): string | undefined {
  if (routePattern === undefined) return undefined;
  const upper = method.toUpperCase();
  return `${upper === 'HEAD' ? 'GET' : upper} ${routePattern}`;
}

/**
 * The subject of one request: the defaults derived from the request, with what the app's
 * `subject` callback returned on top. Defaults:
 * - `ip`: the client IP through the trusted-proxy resolver (the socket peer unless the peer
 *   is a trusted proxy). When no address is known (a Unix socket without the `'unix'` preset,
 *   a proxy header with no readable hop, a closed connection) it is `'unknown'`
 *   (`UNKNOWN_CLIENT_IP`): IP-keyed policies then count all such requests on one shared key,
 *   which limits them together instead of skipping them (a skipped IP policy would leave them
 *   unlimited). It matches no access-list IP entry;
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
  subject.ip = resolveClientIp(facts.remoteAddress, facts.forwardedFor) ?? UNKNOWN_CLIENT_IP;
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
