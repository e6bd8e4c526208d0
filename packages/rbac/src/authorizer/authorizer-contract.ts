import type { ConditionContext, ResourceAttributes } from '../conditions/condition.js';
import type { CompiledPermissions, PermissionDecision } from '../compiler/compiled-permissions.js';
import type { RbacPrincipal } from '../principal.js';

/**
 * Checks for principals in a tenant (the current tenant scope unless `tenantId` is given),
 * served from compiled, cached matchers.
 *
 * @example
 * ```ts
 * if (await rbac.can(principal, 'invoices:approve', invoice)) approve(invoice);
 * await rbac.require(principal, 'invoices:delete'); // throws PERMISSION_DENIED
 * ```
 */
export interface PermissionChecker {
  /** The compiled matcher, from the cache when fresh. */
  forPrincipal(principal: RbacPrincipal, options?: { readonly tenantId?: string }): Promise<CompiledPermissions>;
  can(principal: RbacPrincipal, permission: string, resource?: ResourceAttributes, context?: CheckContext): Promise<boolean>;
  /** @throws `PERMISSION_DENIED` (403) with `details.permission` */
  require(principal: RbacPrincipal, permission: string, resource?: ResourceAttributes, context?: CheckContext): Promise<void>;
  explain(principal: RbacPrincipal, permission: string, resource?: ResourceAttributes, context?: CheckContext): Promise<PermissionDecision>;
}

/**
 * The request context of a check, plus an optional explicit tenant.
 *
 * @example
 * ```ts
 * await rbac.can(principal, 'docs:read', doc, { tenantId: 'tnt_1', ip: req.ip });
 * ```
 */
export type CheckContext = ConditionContext & { readonly tenantId?: string };
