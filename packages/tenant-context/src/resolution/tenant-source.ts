import { z } from 'zod';
import { TenantContextError } from '../errors.js';
import { isValidTenantId, isValidTenantSlug } from '../identifiers.js';
import type { TenantRequest } from './request-info.js';

/**
 * How an identifier names a tenant: by its immutable id, its slug, or a verified custom domain.
 *
 * @example
 * ```ts
 * const by: TenantIdentifierKind = 'slug';
 * ```
 */
export type TenantIdentifierKind = 'id' | 'slug' | 'hostname';

/**
 * What a {@link TenantSource} found in a request: a validated value that names one tenant.
 *
 * @example
 * ```ts
 * const identifier: TenantIdentifier = { by: 'slug', value: 'acme', source: 'subdomain' };
 * ```
 */
export interface TenantIdentifier {
  readonly by: TenantIdentifierKind;
  /** A valid tenant id, a valid slug, or a normalised host name, according to `by`. */
  readonly value: string;
  /** The {@link TenantSource.name} of the source that found it. */
  readonly source: string;
}

/**
 * The family a source belongs to. The resolver answers `TENANT_UNAUTHENTICATED` instead of
 * `TENANT_NOT_IDENTIFIED` when every configured source is a `token-claim` one, because then a
 * missing tenant means a missing or anonymous credential.
 *
 * @example
 * ```ts
 * const kind: TenantSourceKind = 'subdomain';
 * ```
 */
export type TenantSourceKind = 'header' | 'subdomain' | 'custom-domain' | 'path-prefix' | 'token-claim' | 'custom';

/**
 * One place a tenant identifier can come from. The built-in factories (`fromHeader`,
 * `fromSubdomain`, `fromCustomDomain`, `fromPathPrefix`, `fromTokenClaim`) cover the usual
 * ones; implement this interface for anything else.
 *
 * @example
 * ```ts
 * const fromQuery: TenantSource = {
 *   name: 'query',
 *   kind: 'custom',
 *   readsHost: false,
 *   identify(request) {
 *     const slug = new URL(request.url, 'http://x').searchParams.get('tenant');
 *     return slug === null ? undefined : tenantIdentifier('slug', slug, 'query');
 *   },
 * };
 * ```
 */
export interface TenantSource {
  /** Name reported in {@link TenantIdentifier.source} and error details. */
  readonly name: string;
  readonly kind: TenantSourceKind;
  /**
   * Whether {@link identify} reads its `host` argument; the resolver works out the effective
   * host (trusted proxies included) once per request, and only when some source needs it.
   */
  readonly readsHost: boolean;
  /**
   * Domains this source owns, such as the base domain of tenant subdomains. A host at or under
   * one of them is never looked up as a custom domain.
   */
  readonly platformDomains?: readonly string[];
  /**
   * The identifier this source finds in `request`, or `undefined` when it finds none (so the
   * next source is tried).
   *
   * @param host the effective, normalised host (see `effectiveHost`), or `undefined` when the
   *   request has no valid host or no source reads it.
   * @throws `TENANT_IDENTIFIER_INVALID` when the request carries a malformed identifier.
   */
  identify(request: TenantRequest, host: string | undefined): TenantIdentifier | undefined | Promise<TenantIdentifier | undefined>;
}

/**
 * Builds a {@link TenantIdentifier} after checking `value` against the id or slug rules, so a
 * malformed or oversized value (path traversal, SQL, 10 kB strings) never reaches a store.
 *
 * @throws `TENANT_IDENTIFIER_INVALID` when `value` is not a valid identifier of kind `by`.
 * @example
 * ```ts
 * tenantIdentifier('slug', 'acme', 'path-prefix'); // { by: 'slug', value: 'acme', source: 'path-prefix' }
 * tenantIdentifier('id', '../etc', 'header');      // throws TENANT_IDENTIFIER_INVALID
 * ```
 */
export function tenantIdentifier(by: 'id' | 'slug', value: unknown, source: string): TenantIdentifier {
  const valid = by === 'id' ? isValidTenantId(value) : isValidTenantSlug(value);
  if (!valid) {
    // The offending value is not echoed: it is attacker-controlled and may be huge.
    throw new TenantContextError(
      'TENANT_IDENTIFIER_INVALID',
      by === 'id'
        ? 'The tenant id in the request is not 1 to 64 characters of A-Z, a-z, 0-9, "_" or "-"'
        : 'The tenant slug in the request is not 1 to 63 characters of a-z, 0-9 and inner hyphens',
      { details: { source } },
    );
  }
  return { by, value: value as string, source };
}

/**
 * Names of sources: short, lower-case, safe to show in error details. Used by the built-in
 * source factories to validate their `name` option; not part of the package's public API.
 *
 * @internal
 * @example
 * ```ts
 * sourceNameSchema.parse('gateway-header');
 * ```
 */
export const sourceNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,63}$/, 'must be 1-64 characters of a-z, 0-9 and "-", starting with a letter');
