import { isDatabaseUnavailable } from '../../adapters/kysely/database-errors.js';
import { TenantContextError } from '../../errors.js';

/** Driver codes meaning the admin connection may not create or drop databases. */
const privilegeErrorCodes: ReadonlySet<string> = new Set([
  '42501', // PostgreSQL insufficient_privilege (no CREATEDB, not the owner)
  'ER_DBACCESS_DENIED_ERROR',
  'ER_ACCESS_DENIED_ERROR',
  'ER_SPECIFIC_ACCESS_DENIED_ERROR',
  'EACCES', // SQLite directory not writable
  'EPERM',
  'EROFS',
]);

/**
 * Turns a failure of a provisioner's admin statement into a coded error, the driver error kept
 * as `cause`: a missing privilege is `CONFIGURATION_INVALID` (the admin role is set up wrong),
 * an unreachable server `STORE_UNAVAILABLE`; a `TenantContextError` passes through, and anything
 * else is `STORE_UNAVAILABLE` too, since the database may or may not have been changed and the
 * idempotent operation is meant to be retried.
 *
 * @example
 * ```ts
 * try { await sql`drop database ...`.execute(admin); } catch (error) { throw provisioningError(error, 'drop', name); }
 * ```
 */
export function provisioningError(error: unknown, operation: 'create' | 'drop' | 'inspect', databaseName: string): Error {
  if (error instanceof TenantContextError) return error;
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  const details = { operation, databaseName };
  if (typeof code === 'string' && privilegeErrorCodes.has(code)) {
    return new TenantContextError(
      'CONFIGURATION_INVALID',
      `The provisioner may not ${operation} the database "${databaseName}": grant the admin connection the privilege`,
      { cause: error, details },
    );
  }
  const reason = isDatabaseUnavailable(error) ? 'the server cannot be reached' : 'the statement failed';
  return new TenantContextError('STORE_UNAVAILABLE', `Could not ${operation} the tenant database "${databaseName}": ${reason}`, {
    cause: error,
    details,
  });
}
