import { currentTenantId, isValidTenantId } from '@tenantkit/tenant-context';
import { RbacError } from '../errors.js';

/**
 * Which tenant an rbac call is for. Without `tenantId`, the tenant in scope
 * (`TENANT_SCOPE_REQUIRED` outside one, the system scope included: checks fail closed). An
 * explicit `tenantId` that differs from the tenant in scope throws `TENANT_SCOPE_CONFLICT`,
 * as tenant-context's quota calls do: a request of one tenant must not read or change another
 * tenant's permissions. Cross-tenant jobs run outside a tenant scope and pass `tenantId`.
 *
 * @example
 * ```ts
 * const tenantId = resolveTenantId(options?.tenantId);
 * ```
 */
export function resolveTenantId(explicit: unknown): string {
  const scoped = currentTenantId();
  if (explicit === undefined) {
    if (scoped === undefined) {
      throw new RbacError('TENANT_SCOPE_REQUIRED', 'This rbac call needs a tenant: run it in a tenant scope or pass tenantId');
    }
    return scoped;
  }
  assertRbacTenantId(explicit);
  if (scoped !== undefined && scoped !== explicit) {
    throw new RbacError(
      'TENANT_SCOPE_CONFLICT',
      'An rbac call names a tenant other than the one in scope; cross-tenant work runs outside tenant scopes',
    );
  }
  return explicit;
}

/**
 * Throws `TENANT_IDENTIFIER_INVALID` unless `value` is a tenant id as tenant-context accepts it.
 *
 * @example
 * ```ts
 * assertRbacTenantId('tnt_1');
 * ```
 */
export function assertRbacTenantId(value: unknown): asserts value is string {
  if (!isValidTenantId(value)) {
    throw new RbacError('TENANT_IDENTIFIER_INVALID', 'A tenant id must be 1 to 64 characters of A-Z, a-z, 0-9, "_" or "-"');
  }
}
