import { z } from 'zod';
import { parseOrThrow } from '../validation.js';
import { headerValue } from './request-info.js';
import { sourceNameSchema, tenantIdentifier, type TenantSource } from './tenant-source.js';

/**
 * Options of {@link fromHeader}.
 *
 * @example
 * ```ts
 * fromHeader({ header: 'x-tenant', by: 'slug' });
 * ```
 */
export interface HeaderSourceOptions {
  /** Header name (case-insensitive). Default: `x-tenant-id`. */
  header?: string;
  /** Whether the header carries a tenant id or a slug. Default: `'id'`. */
  by?: 'id' | 'slug';
  /** Source name in identifiers and errors. Default: `'header'`. */
  name?: string;
}

const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const optionsSchema = z.strictObject({
  header: z.string().regex(HEADER_NAME_PATTERN, 'must be an HTTP header name').optional(),
  by: z.enum(['id', 'slug']).optional(),
  name: sourceNameSchema.optional(),
});

/**
 * A source that reads the tenant from a request header, typically set by an API gateway or a
 * first-party client. A client can put any value in a header, so pair it with authentication
 * that checks the caller belongs to that tenant (membership), or accept it only from your own
 * gateway. A repeated header is refused rather than guessed at.
 *
 * @throws `CONFIGURATION_INVALID` for invalid options (when called).
 * @example
 * ```ts
 * const resolver = createTenantResolver({ registry, sources: [fromHeader({ header: 'x-tenant-id' })] });
 * ```
 */
export function fromHeader(options: HeaderSourceOptions = {}): TenantSource {
  const parsed = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'fromHeader() options');
  const header = (parsed.header ?? 'x-tenant-id').toLowerCase();
  const by = parsed.by ?? 'id';
  const name = parsed.name ?? 'header';
  return Object.freeze({
    name,
    kind: 'header' as const,
    readsHost: false,
    identify(request) {
      const value = headerValue(request.headers, header);
      return value === undefined ? undefined : tenantIdentifier(by, value, name);
    },
  } satisfies TenantSource);
}
