import { z } from 'zod';
import { TenantContextError } from '../errors.js';
import { normalizeHostname } from '../domains/hostname.js';
import { parseOrThrow } from '../validation.js';
import { sourceNameSchema, tenantIdentifier, type TenantSource } from './tenant-source.js';

/**
 * Options of {@link fromSubdomain}.
 *
 * @example
 * ```ts
 * fromSubdomain({ baseDomain: 'example.com', ignoredSubdomains: ['www', 'status'] });
 * ```
 */
export interface SubdomainSourceOptions {
  /** The domain tenant subdomains live under, e.g. `example.com` for `acme.example.com`. */
  baseDomain: string;
  /** Labels under the base domain that are not tenants. Default: `['www']`. */
  ignoredSubdomains?: readonly string[];
  /** Source name in identifiers and errors. Default: `'subdomain'`. */
  name?: string;
}

const optionsSchema = z.strictObject({
  baseDomain: z.string(),
  ignoredSubdomains: z.array(z.string().regex(/^[a-z0-9-]{1,63}$/, 'must be a lower-case DNS label')).optional(),
  name: sourceNameSchema.optional(),
});

/**
 * A source that reads the tenant slug from the one label left of a base domain:
 * `acme.example.com` names the tenant `acme`. The base domain itself and ignored labels
 * (`www` by default) identify no tenant; a host outside the base domain is left to the next
 * source (a custom domain, say); a deeper host such as `a.b.example.com` is refused as
 * `TENANT_IDENTIFIER_INVALID`, because guessing which label is meant would let one tenant's
 * name shadow another's.
 *
 * @throws `CONFIGURATION_INVALID` for invalid options (when called).
 * @example
 * ```ts
 * const resolver = createTenantResolver({
 *   registry,
 *   sources: [fromSubdomain({ baseDomain: 'example.com' }), fromCustomDomain()],
 * });
 * ```
 */
export function fromSubdomain(options: SubdomainSourceOptions): TenantSource {
  const parsed = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'fromSubdomain() options');
  const baseDomain = normalizeHostname(parsed.baseDomain);
  if (baseDomain === undefined) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'fromSubdomain() needs a baseDomain such as "example.com"');
  }
  const suffix = `.${baseDomain}`;
  const ignored = new Set(parsed.ignoredSubdomains ?? ['www']);
  const name = parsed.name ?? 'subdomain';
  return Object.freeze({
    name,
    kind: 'subdomain' as const,
    readsHost: true,
    platformDomains: Object.freeze([baseDomain]),
    identify(_request, host) {
      if (host === undefined || host.length <= suffix.length || !host.endsWith(suffix)) return undefined;
      const label = host.slice(0, host.length - suffix.length);
      if (ignored.has(label)) return undefined;
      if (label.includes('.')) {
        throw new TenantContextError(
          'TENANT_IDENTIFIER_INVALID',
          `Only one label is allowed in front of ${baseDomain}`,
          { details: { source: name } },
        );
      }
      return tenantIdentifier('slug', label, name);
    },
  } satisfies TenantSource);
}
