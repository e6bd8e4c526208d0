import { TenantContextError } from '../../errors.js';
import { assertTenantId } from '../../identifiers.js';
import { currentScope } from '../../scope/tenant-scope.js';

/**
 * The tenant an operation that names its tenant explicitly may act on: any tenant inside
 * `runAsSystem`, only the tenant in scope inside `runWithTenant`, none outside a scope. Without
 * an explicit tenant, the tenant in scope.
 *
 * @throws TenantContextError `TENANT_IDENTIFIER_INVALID` for a malformed id;
 *   `TENANT_SCOPE_REQUIRED` outside any scope (or in the system scope without an explicit
 *   tenant); `TENANT_ISOLATION_VIOLATION` when a tenant scope names another tenant.
 * @example
 * ```ts
 * const tenantId = resolveExplicitTenant(options.tenantId, 'purgeTenantKeys()');
 * ```
 */
export function resolveExplicitTenant(tenantId: string | undefined, operation: string): string {
  const scope = currentScope();
  if (tenantId === undefined) {
    if (scope?.kind === 'tenant') return scope.tenantId;
    throw new TenantContextError(
      'TENANT_SCOPE_REQUIRED',
      scope?.kind === 'system'
        ? `${operation} in the system scope needs an explicit tenantId`
        : `${operation} needs a tenant in scope, or runAsSystem with an explicit tenantId`,
    );
  }
  assertTenantId(tenantId);
  if (scope === undefined) {
    throw new TenantContextError('TENANT_SCOPE_REQUIRED', `${operation} for an explicit tenant runs only inside runAsSystem or that tenant's scope`);
  }
  if (scope.kind === 'tenant' && scope.tenantId !== tenantId) {
    throw new TenantContextError('TENANT_ISOLATION_VIOLATION', `${operation} was asked to act on another tenant than the one in scope`, {
      details: { tenantId: scope.tenantId, requestedTenantId: tenantId },
    });
  }
  return tenantId;
}
