import { TenantContextError } from '../../errors.js';

interface PostgresErrorShape {
  code?: unknown;
  message?: unknown;
}

/**
 * Whether a driver error is Postgres refusing a row by a row-level security policy: SQLSTATE
 * `42501` (insufficient_privilege, which also covers plain "permission denied") with the policy
 * wording, e.g. `new row violates row-level security policy for table "projects"`.
 */
export function isRowLevelSecurityViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as PostgresErrorShape;
  return code === '42501' && typeof message === 'string' && /violates row-level security policy/.test(message);
}

/**
 * Turns a row-level security refusal into `TENANT_ISOLATION_VIOLATION` (the driver error kept as
 * `cause`); every other error passes through unchanged, so callers still see the driver's own
 * errors (unique violations and the like) as they would without the wrapper.
 */
export function translateRowLevelSecurityError(error: unknown): unknown {
  if (!isRowLevelSecurityViolation(error)) return error;
  const { message } = error as { message: string };
  return new TenantContextError(
    'TENANT_ISOLATION_VIOLATION',
    `The database refused a row outside the tenant in scope (${message}); a tenant can only write rows of its own tenant id`,
    { cause: error },
  );
}
