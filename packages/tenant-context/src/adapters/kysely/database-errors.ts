import { codedErrorFactory } from '@tenantkit/core';
import { createDatabaseErrorTranslator } from '@tenantkit/core/kysely';
import { TenantContextError } from '../../errors.js';

// Driver errors are classified once, in @tenantkit/core/kysely; this binds the translation to
// TenantContextError and the tenant-context wording.
export {
  isUniqueViolation,
  uniqueViolationTarget,
  isDatabaseUnavailable,
  isTransactionConflict,
  insertConflictRetries,
} from '@tenantkit/core/kysely';

/**
 * Driver-error translation of the tenant-context Kysely stores: `translateDatabaseError`,
 * `runStoreOperation` and `migrationFailure`, throwing {@link TenantContextError}.
 *
 * @example
 * ```ts
 * await runStoreOperation('insertDomain', () => query.execute(), () => new TenantContextError('DOMAIN_TAKEN', '...'));
 * ```
 */
export const { translateDatabaseError, runStoreOperation, migrationFailure } = createDatabaseErrorTranslator({
  errors: codedErrorFactory(TenantContextError),
  subject: 'tenant-context',
  migrateFunction: 'migrateTenantContextSchema',
});
