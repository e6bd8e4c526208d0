import { z } from 'zod';
import type { TenantRequest } from '../resolution/request-info.js';
import type { ResolveTenantOptions, TenantResolver } from '../resolution/tenant-resolver.js';
import type { Tenant } from '../tenant.js';

/*
 * What the framework bindings share: how they check the resolver they are given, and how they
 * run it for one request.
 */

/**
 * The `resolver` option of a binding: anything from `createTenantResolver()`.
 *
 * @example
 * ```ts
 * const optionsSchema = z.strictObject({ resolver: tenantResolverOptionSchema, required: z.boolean().optional() });
 * ```
 */
export const tenantResolverOptionSchema = z.custom<TenantResolver<unknown>>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as TenantResolver<unknown>).resolveMaybeSync === 'function',
  'must come from createTenantResolver()',
);

/**
 * Resolves the tenant of `request` and hands it to `onTenant`, or whatever the resolver threw
 * or rejected with to `onError`. A resolver that answers synchronously (a cached tenant) is
 * continued synchronously, so the common request costs no promise and no microtask.
 *
 * @example
 * ```ts
 * resolveRequestTenant(resolver, tenantRequest, undefined, (tenant) => continueInScope(tenant), (error) => fail(error));
 * ```
 */
export function resolveRequestTenant(
  resolver: TenantResolver<unknown>,
  request: TenantRequest,
  options: ResolveTenantOptions | undefined,
  onTenant: (tenant: Tenant<unknown> | undefined) => void,
  onError: (error: unknown) => void,
): void {
  let result: Tenant<unknown> | undefined | PromiseLike<Tenant<unknown> | undefined>;
  try {
    result = resolver.resolveMaybeSync(request, options);
  } catch (error) {
    onError(error);
    return;
  }
  if (isPromiseLike(result)) result.then(onTenant, onError);
  else onTenant(result);
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | undefined)?.then === 'function';
}
