import { z } from 'zod';
import { TenantContextError } from '../errors.js';
import { parseOrThrow } from '../validation.js';
import type { TenantRequest } from './request-info.js';
import { sourceNameSchema, tenantIdentifier, type TenantIdentifier, type TenantSource } from './tenant-source.js';

/**
 * Options of {@link fromTokenClaim}.
 *
 * @example
 * ```ts
 * fromTokenClaim({ getTenantId: (request) => sessions.tenantIdOf(request) });
 * ```
 */
export interface TokenClaimSourceOptions {
  /**
   * Returns the tenant id carried by the request's verified credential (an access token's
   * tenant claim, a session), or `undefined` when the request has none. Called once per
   * resolution; the credential must already be verified, by this callback or by an earlier
   * middleware whose result it reads from `request.frameworkRequest`.
   */
  getTenantId: (request: TenantRequest) => string | undefined | Promise<string | undefined>;
  /** Source name in identifiers and errors. Default: `'token-claim'`. */
  name?: string;
}

const optionsSchema = z.strictObject({
  getTenantId: z.custom<TokenClaimSourceOptions['getTenantId']>((value) => typeof value === 'function', 'must be a function'),
  name: sourceNameSchema.optional(),
});

/**
 * A source that takes the tenant id from an authenticated credential, through a callback the
 * authentication layer supplies. When it is the only kind of source, a request without a
 * tenant is answered `TENANT_UNAUTHENTICATED` (401) rather than `TENANT_NOT_IDENTIFIED`.
 *
 * An `Error` thrown by the callback (say, an expired token) propagates unchanged; anything else
 * thrown is wrapped, so the resolver never rejects with a non-Error.
 *
 * @throws `CONFIGURATION_INVALID` for invalid options (when called).
 * @example
 * ```ts
 * const resolver = createTenantResolver({
 *   registry,
 *   sources: [fromTokenClaim({ getTenantId: (request) => verifiedClaims(request)?.tid })],
 * });
 * ```
 */
export function fromTokenClaim(options: TokenClaimSourceOptions): TenantSource {
  const parsed = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'fromTokenClaim() options');
  const getTenantId = options.getTenantId;
  const name = parsed.name ?? 'token-claim';

  // `null` is accepted as "no tenant" because plain JavaScript callbacks often return it.
  const toIdentifier = (value: unknown): TenantIdentifier | undefined =>
    value === undefined || value === null ? undefined : tenantIdentifier('id', value, name);
  const wrapThrown = (thrown: unknown): never => {
    if (thrown instanceof Error) throw thrown;
    throw new TenantContextError('CONFIGURATION_INVALID', `The ${name} source's getTenantId threw a non-Error value`, {
      cause: thrown,
    });
  };

  return Object.freeze({
    name,
    kind: 'token-claim' as const,
    readsHost: false,
    identify(request) {
      let value: unknown;
      try {
        value = getTenantId(request);
      } catch (thrown) {
        return wrapThrown(thrown);
      }
      // Any object is treated as a thenable: the contract allows only strings, undefined and promises.
      return typeof value === 'object' && value !== null
        ? Promise.resolve(value).then(toIdentifier, wrapThrown)
        : toIdentifier(value);
    },
  } satisfies TenantSource);
}
