import { z } from 'zod';
import { parseOrThrow } from '../validation.js';
import { sourceNameSchema, tenantIdentifier, type TenantSource } from './tenant-source.js';

/**
 * Options of {@link fromPathPrefix}.
 *
 * @example
 * ```ts
 * fromPathPrefix({ prefix: '/orgs/' });
 * ```
 */
export interface PathPrefixSourceOptions {
  /** The path before the tenant segment; starts and ends with `/`. Default: `'/t/'`. */
  prefix?: string;
  /** Whether the segment is a slug or a tenant id. Default: `'slug'`. */
  by?: 'id' | 'slug';
  /** Source name in identifiers and errors. Default: `'path-prefix'`. */
  name?: string;
}

/**
 * A {@link TenantSource} that reads the tenant from a path segment, and can strip that part of
 * the path for routers that mount tenant routes at `/`.
 *
 * @example
 * ```ts
 * const source = fromPathPrefix({ prefix: '/t/' });
 * source.stripPrefix('/t/acme/projects?page=2'); // '/projects?page=2'
 * ```
 */
export interface PathPrefixSource extends TenantSource {
  /** The configured prefix, e.g. `/t/`. */
  readonly prefix: string;
  /**
   * `url` without the prefix and tenant segment, always starting with `/` (query kept); `url`
   * unchanged when it does not start with the prefix.
   */
  stripPrefix(url: string): string;
}

const optionsSchema = z.strictObject({
  prefix: z
    .string()
    .max(200)
    .regex(/^\/(?:[A-Za-z0-9._~-]+\/)*$/, 'must start and end with "/", e.g. "/t/"')
    .optional(),
  by: z.enum(['id', 'slug']).optional(),
  name: sourceNameSchema.optional(),
});

/**
 * A source that reads the tenant from the path segment after a prefix: with the default
 * prefix `/t/`, `/t/acme/projects` names the tenant `acme`. The segment is matched as sent,
 * without percent-decoding, so `/t/%61cme` or `/t/..` are refused as
 * `TENANT_IDENTIFIER_INVALID` rather than interpreted. A path outside the prefix, or the bare
 * prefix, identifies no tenant.
 *
 * @throws `CONFIGURATION_INVALID` for invalid options (when called).
 * @example
 * ```ts
 * const byPath = fromPathPrefix({ prefix: '/t/' });
 * const resolver = createTenantResolver({ registry, sources: [byPath] });
 * ```
 */
export function fromPathPrefix(options: PathPrefixSourceOptions = {}): PathPrefixSource {
  const parsed = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'fromPathPrefix() options');
  const prefix = parsed.prefix ?? '/t/';
  const by = parsed.by ?? 'slug';
  const name = parsed.name ?? 'path-prefix';

  /** Index just past the tenant segment, or -1 when `url` is not under the prefix. */
  function segmentEnd(url: string): number {
    if (!url.startsWith(prefix)) return -1;
    let end = prefix.length;
    while (end < url.length) {
      const code = url.charCodeAt(end);
      if (code === 47 /* / */ || code === 63 /* ? */ || code === 35 /* # */) break;
      end += 1;
    }
    return end;
  }

  return Object.freeze({
    name,
    kind: 'path-prefix' as const,
    readsHost: false,
    prefix,
    identify(request) {
      const url = request.url;
      const end = segmentEnd(url);
      if (end === -1 || end === prefix.length) return undefined;
      return tenantIdentifier(by, url.slice(prefix.length, end), name);
    },
    stripPrefix(url: string) {
      const end = segmentEnd(url);
      if (end === -1) return url;
      const rest = url.slice(end);
      return rest.charCodeAt(0) === 47 /* / */ ? rest : `/${rest}`;
    },
  } satisfies PathPrefixSource);
}
