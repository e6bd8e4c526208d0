/**
 * The one table that maps every tenantkit error code to its HTTP status.
 *
 * Each package declares the codes it throws as a subset of {@link ErrorCode}; the bindings
 * translate a thrown error into a response through this table only, so a code always maps to
 * the same status whichever package threw it.
 *
 * @example
 * ```ts
 * import { errorHttpStatus } from '@tenantkit/core';
 * errorHttpStatus.TENANT_NOT_FOUND; // 404
 * ```
 */
export const errorHttpStatus = {
  // shared
  VALIDATION_FAILED: 400,
  CONFIGURATION_INVALID: 500,
  STORE_CONFLICT: 409,
  STORE_UNAVAILABLE: 503,
  INTERNAL_ERROR: 500,
  // tenant-context: scope
  TENANT_SCOPE_REQUIRED: 500,
  TENANT_SCOPE_CONFLICT: 500,
  TENANT_ENVELOPE_INVALID: 400,
  // tenant-context: resolution
  TENANT_NOT_IDENTIFIED: 400,
  TENANT_UNAUTHENTICATED: 401,
  TENANT_IDENTIFIER_INVALID: 400,
  TENANT_NOT_FOUND: 404,
  TENANT_SUSPENDED: 403,
  TENANT_NOT_READY: 503,
  // tenant-context: registry, memberships, lifecycle
  TENANT_ALREADY_EXISTS: 409,
  TENANT_SETTINGS_INVALID: 400,
  TENANT_STATUS_TRANSITION_INVALID: 409,
  MEMBERSHIP_NOT_FOUND: 404,
  MEMBERSHIP_ALREADY_EXISTS: 409,
  MEMBERSHIP_INACTIVE: 403,
  LIFECYCLE_RUN_NOT_FOUND: 404,
  LIFECYCLE_RUN_LOCKED: 409,
  LIFECYCLE_STEP_FAILED: 500,
  // tenant-context: plans and quotas
  PLAN_NOT_FOUND: 400,
  QUOTA_EXCEEDED: 403,
  // tenant-context: custom domains
  DOMAIN_INVALID: 400,
  DOMAIN_TAKEN: 409,
  DOMAIN_NOT_FOUND: 404,
  DOMAIN_VERIFICATION_FAILED: 422,
  // tenant-context: data isolation
  TENANT_ISOLATION_VIOLATION: 500,
  TENANT_MIGRATION_FAILED: 500,
  TENANT_POOL_EXHAUSTED: 503,
  // rbac: checks
  PERMISSION_DENIED: 403,
  PRINCIPAL_REQUIRED: 401,
  PERMISSION_INVALID: 400,
  CONDITION_INVALID: 400,
  FILTER_UNSUPPORTED: 500,
  // rbac: roles, groups, assignments, policy files
  ROLE_INVALID: 400,
  ROLE_NOT_FOUND: 404,
  ROLE_ALREADY_EXISTS: 409,
  ROLE_INHERITANCE_CYCLE: 400,
  GROUP_INVALID: 400,
  GROUP_NOT_FOUND: 404,
  GROUP_ALREADY_EXISTS: 409,
  GROUP_HIERARCHY_INVALID: 409,
  ASSIGNMENT_FORBIDDEN: 403,
  ASSIGNMENT_LIMIT_REACHED: 409,
  ASSIGNMENT_ALREADY_EXISTS: 409,
  ASSIGNMENT_NOT_FOUND: 404,
  ASSIGNMENT_NOT_PENDING: 409,
  POLICY_INVALID: 400,
  // ratelimit
  RATE_LIMITED: 429,
  CLIENT_DENIED: 403,
  RATE_LIMIT_KEY_INVALID: 400,
  RATE_LIMIT_POLICY_NOT_FOUND: 500,
  // auth: tokens, sessions, credentials
  AUTHENTICATION_REQUIRED: 401,
  TOKEN_INVALID: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_REVOKED: 401,
  SIGNING_KEY_UNAVAILABLE: 500,
  SESSION_INVALID: 401,
  REFRESH_TOKEN_INVALID: 401,
  REFRESH_TOKEN_REUSED: 401,
  CREDENTIALS_INVALID: 401,
  ACCOUNT_ALREADY_EXISTS: 409,
  ACCOUNT_NOT_FOUND: 404,
  ACCOUNT_DISABLED: 403,
  PASSWORD_POLICY_VIOLATION: 400,
  PASSWORD_REUSED: 400,
  ONE_TIME_TOKEN_INVALID: 400,
  API_KEY_INVALID: 401,
  API_KEY_NOT_FOUND: 404,
  API_KEY_SCOPE_FORBIDDEN: 403,
  SECOND_FACTOR_REQUIRED: 401,
} as const satisfies Record<string, number>;

/**
 * Every error code any tenantkit package may throw.
 *
 * @example
 * ```ts
 * import type { ErrorCode } from '@tenantkit/core';
 * const code: ErrorCode = 'TENANT_SUSPENDED';
 * ```
 */
export type ErrorCode = keyof typeof errorHttpStatus;

/**
 * The HTTP status for an error code (500 for a string that is not a known code).
 *
 * @example
 * ```ts
 * httpStatusForCode('QUOTA_EXCEEDED'); // 403
 * ```
 */
export function httpStatusForCode(code: string): number {
  return Object.hasOwn(errorHttpStatus, code) ? errorHttpStatus[code as ErrorCode] : 500;
}
