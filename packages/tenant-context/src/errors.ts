import { TenantkitError, type ErrorCode, type TenantkitErrorOptions } from '@tenantkit/core';

/**
 * The codes {@link TenantContextError} carries.
 *
 * @example
 * ```ts
 * const code: TenantContextErrorCode = 'TENANT_SCOPE_REQUIRED';
 * ```
 */
export type TenantContextErrorCode = Extract<
  ErrorCode,
  | 'VALIDATION_FAILED'
  | 'CONFIGURATION_INVALID'
  | 'STORE_CONFLICT'
  | 'STORE_UNAVAILABLE'
  | 'TENANT_SCOPE_REQUIRED'
  | 'TENANT_SCOPE_CONFLICT'
  | 'TENANT_ENVELOPE_INVALID'
  | 'TENANT_NOT_IDENTIFIED'
  | 'TENANT_UNAUTHENTICATED'
  | 'TENANT_IDENTIFIER_INVALID'
  | 'TENANT_NOT_FOUND'
  | 'TENANT_SUSPENDED'
  | 'TENANT_NOT_READY'
  | 'TENANT_ALREADY_EXISTS'
  | 'TENANT_SETTINGS_INVALID'
  | 'TENANT_STATUS_TRANSITION_INVALID'
  | 'MEMBERSHIP_NOT_FOUND'
  | 'MEMBERSHIP_ALREADY_EXISTS'
  | 'MEMBERSHIP_INACTIVE'
  | 'LIFECYCLE_RUN_NOT_FOUND'
  | 'LIFECYCLE_RUN_LOCKED'
  | 'LIFECYCLE_STEP_FAILED'
  | 'PLAN_NOT_FOUND'
  | 'QUOTA_EXCEEDED'
  | 'DOMAIN_INVALID'
  | 'DOMAIN_TAKEN'
  | 'DOMAIN_NOT_FOUND'
  | 'DOMAIN_VERIFICATION_FAILED'
  | 'TENANT_ISOLATION_VIOLATION'
  | 'TENANT_MIGRATION_FAILED'
  | 'TENANT_POOL_EXHAUSTED'
>;

/**
 * Every error @tenantkit/tenant-context throws.
 *
 * @example
 * ```ts
 * try {
 *   requireTenantId();
 * } catch (err) {
 *   if (err instanceof TenantContextError) console.log(err.code, err.status); // TENANT_SCOPE_REQUIRED 500
 * }
 * ```
 */
export class TenantContextError extends TenantkitError<TenantContextErrorCode> {
  constructor(code: TenantContextErrorCode, message: string, options?: TenantkitErrorOptions) {
    super(code, message, options);
  }
}
