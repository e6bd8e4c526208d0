import { codedErrorFactory } from '@tenantkit/core';
import { createDatabaseErrorTranslator } from '@tenantkit/core/kysely';
import { RbacError } from '../../errors.js';

// Driver errors are classified once, in @tenantkit/core/kysely; this binds the translation to
// RbacError and the RBAC wording.
export { isUniqueViolation, isDatabaseUnavailable, isTransactionConflict } from '@tenantkit/core/kysely';

/**
 * Driver-error translation of the Kysely RBAC store: `translateDatabaseError`,
 * `runStoreOperation` and `migrationFailure`, throwing {@link RbacError}.
 *
 * @example
 * ```ts
 * const row = await runStoreOperation('getRole', () => query.executeTakeFirst());
 * ```
 */
export const { translateDatabaseError, runStoreOperation, migrationFailure } = createDatabaseErrorTranslator({
  errors: codedErrorFactory(RbacError),
  subject: 'RBAC',
  migrateFunction: 'migrateRbacSchema',
});
