import { z } from 'zod';
import { TenantContextError } from '../errors.js';
import { isSameOrSubdomain, normalizeHostname } from '../domains/hostname.js';
import { parseOrThrow } from '../validation.js';
import { sourceNameSchema, type TenantSource } from './tenant-source.js';

/**
 * Options of {@link fromCustomDomain}.
 *
 * @example
 * ```ts
 * fromCustomDomain({ platformDomains: ['example.com', 'example.dev'] });
 * ```
 */
export interface CustomDomainSourceOptions {
  /**
   * Your own domains: hosts at or under them are never custom domains. The base domains of
   * `fromSubdomain` sources in the same resolver are added automatically.
   */
  platformDomains?: readonly string[];
  /** Source name in identifiers and errors. Default: `'custom-domain'`. */
  name?: string;
}

const optionsSchema = z.strictObject({
  platformDomains: z.array(z.string()).optional(),
  name: sourceNameSchema.optional(),
});

/**
 * A source that names the tenant by the request host itself, for tenants that brought their
 * own domain (`app.acme.com`). The resolver looks the host up among **verified** custom domains
 * only. IP addresses, single-label hosts such as `localhost`, and hosts under your platform
 * domains identify no tenant.
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
export function fromCustomDomain(options: CustomDomainSourceOptions = {}): TenantSource {
  const parsed = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'fromCustomDomain() options');
  const platformDomains = (parsed.platformDomains ?? []).map((domain) => {
    const normalized = normalizeHostname(domain);
    if (normalized === undefined) {
      throw new TenantContextError('CONFIGURATION_INVALID', `platformDomains: "${domain}" is not a domain name`);
    }
    return normalized;
  });
  const name = parsed.name ?? 'custom-domain';
  return Object.freeze({
    name,
    kind: 'custom-domain' as const,
    readsHost: true,
    platformDomains: Object.freeze(platformDomains),
    identify(_request, host) {
      // Normalised hosts are either bracketed IPv6, dotted IPv4 or DNS names; only a DNS name
      // with at least two labels and a non-numeric top label can be a registered domain.
      if (host === undefined || host.charCodeAt(0) === 91 /* [ */ || !host.includes('.')) return undefined;
      if (isNumericTopLabel(host)) return undefined;
      for (const domain of platformDomains) if (isSameOrSubdomain(host, domain)) return undefined;
      return { by: 'hostname' as const, value: host, source: name };
    },
  } satisfies TenantSource);
}

function isNumericTopLabel(host: string): boolean {
  const code = host.charCodeAt(host.length - 1);
  return code >= 48 && code <= 57 && /\.[0-9]+$/.test(host);
}
