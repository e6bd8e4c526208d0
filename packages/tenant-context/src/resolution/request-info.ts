/**
 * The parts of an HTTP request tenant resolution reads, independent of any framework. Node's
 * `IncomingMessage`, Express and Fastify requests all map onto it without copying headers.
 *
 * @example
 * ```ts
 * const request: TenantRequest = {
 *   headers: { host: 'acme.example.com', 'x-tenant-id': 'tnt_acme' },
 *   url: '/projects?page=2',
 *   remoteAddress: '10.0.0.7',
 * };
 * ```
 */
export interface TenantRequest {
  /** Header names in lower case, as Node parses them. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The request target: path and query string, e.g. `/t/acme/projects?page=2`. */
  readonly url: string;
  /** The address of the direct peer (the client, or the last proxy), as the socket reports it. */
  readonly remoteAddress: string | undefined;
  /**
   * The framework's own request object (the Express `req`, the Fastify `request`), set by the
   * bindings, for sources that need state an earlier middleware attached, such as verified
   * token claims.
   */
  readonly frameworkRequest?: unknown;
}

/**
 * The first value of a header: Node joins most repeated headers with `, ` but keeps a few
 * (such as `set-cookie`) as arrays; both shapes are handled.
 *
 * @param name the header name in lower case.
 * @example
 * ```ts
 * headerValue({ 'x-tenant-id': 'tnt_acme' }, 'x-tenant-id'); // 'tnt_acme'
 * headerValue({ 'x-tenant-id': ['a', 'b'] }, 'x-tenant-id'); // 'a, b'
 * ```
 */
export function headerValue(headers: TenantRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  if (value === undefined || typeof value === 'string') return value;
  // A repeated identifying header is ambiguous; joining keeps every value visible so the
  // caller's validation refuses it instead of silently picking one.
  return Array.isArray(value) ? value.join(', ') : undefined;
}

/**
 * The path of a request target without its query string or fragment.
 *
 * @example
 * ```ts
 * requestPath('/t/acme/projects?page=2'); // '/t/acme/projects'
 * ```
 */
export function requestPath(url: string): string {
  const query = url.indexOf('?');
  const fragment = url.indexOf('#');
  let end = url.length;
  if (query !== -1) end = query;
  if (fragment !== -1 && fragment < end) end = fragment;
  return end === url.length ? url : url.slice(0, end);
}

/**
 * The socket view of a Node request that {@link tenantRequestFromNode} needs.
 *
 * @example
 * ```ts
 * const message: NodeRequestLike = req; // an http.IncomingMessage
 * ```
 */
export interface NodeRequestLike {
  readonly headers: TenantRequest['headers'];
  readonly url?: string | undefined;
  readonly socket?: { readonly remoteAddress?: string | undefined } | null | undefined;
}

/**
 * Builds a {@link TenantRequest} from a Node `http.IncomingMessage` (or anything shaped like
 * one) without copying the headers.
 *
 * @example
 * ```ts
 * http.createServer(async (req, res) => {
 *   const tenant = await resolver.resolve(tenantRequestFromNode(req));
 * });
 * ```
 */
export function tenantRequestFromNode(request: NodeRequestLike): TenantRequest {
  return {
    headers: request.headers,
    url: request.url ?? '/',
    remoteAddress: request.socket?.remoteAddress ?? undefined,
    frameworkRequest: request,
  };
}
