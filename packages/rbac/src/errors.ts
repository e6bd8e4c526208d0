import { TenantkitError, type ErrorCode, type TenantkitErrorOptions } from '@tenantkit/core';

/**
 * The codes {@link RbacError} carries.
 *
 * @example
 * ```ts
 * const code: RbacErrorCode = 'PERMISSION_DENIED';
 * ```
 */
export type RbacErrorCode = Extract<
  ErrorCode,
  | 'VALIDATION_FAILED'
  | 'CONFIGURATION_INVALID'
  | 'STORE_CONFLICT'
  | 'STORE_UNAVAILABLE'
  | 'TENANT_SCOPE_REQUIRED'
  | 'TENANT_SCOPE_CONFLICT'
  | 'TENANT_IDENTIFIER_INVALID'
  | 'PERMISSION_DENIED'
  | 'PRINCIPAL_REQUIRED'
  | 'PERMISSION_INVALID'
  | 'CONDITION_INVALID'
  | 'FILTER_UNSUPPORTED'
  | 'ROLE_INVALID'
  | 'ROLE_NOT_FOUND'
  | 'ROLE_ALREADY_EXISTS'
  | 'ROLE_INHERITANCE_CYCLE'
  | 'GROUP_INVALID'
  | 'GROUP_NOT_FOUND'
  | 'GROUP_ALREADY_EXISTS'
  | 'GROUP_HIERARCHY_INVALID'
  | 'ASSIGNMENT_FORBIDDEN'
  | 'ASSIGNMENT_LIMIT_REACHED'
  | 'ASSIGNMENT_ALREADY_EXISTS'
  | 'ASSIGNMENT_NOT_FOUND'
  | 'ASSIGNMENT_NOT_PENDING'
  | 'POLICY_INVALID'
>;

/**
 * Every error @tenantkit/rbac throws.
 *
 * @example
 * ```ts
 * try {
 *   await rbac.require(principal, 'invoices:delete');
 * } catch (err) {
 *   if (err instanceof RbacError && err.code === 'PERMISSION_DENIED') console.log(err.status); // 403
 * }
 * ```
 */
export class RbacError extends TenantkitError<RbacErrorCode> {
  constructor(code: RbacErrorCode, message: string, options?: TenantkitErrorOptions) {
    super(code, message, options);
  }
}
