import { codedErrorFactory } from '@tenantkit/core';
import { createDatabaseErrorTranslator } from '@tenantkit/core/kysely';
import { AuthError } from '../../errors.js';

// Driver errors are classified once, in @tenantkit/core/kysely; this binds the translation to
// AuthError and the auth wording.
export { isUniqueViolation, uniqueViolationTarget, isTransactionConflict, insertConflictRetries } from '@tenantkit/core/kysely';

/**
 * Driver-error translation of the Kysely auth stores: `translateDatabaseError`,
 * `runStoreOperation` and `migrationFailure`, throwing {@link AuthError} (`STORE_UNAVAILABLE`
 * for a database that cannot be reached, `CONFIGURATION_INVALID` for missing tables,
 * `STORE_CONFLICT` for a deadlock that was not retried).
 *
 * @example
 * ```ts
 * const row = await runStoreOperation('findAccountById', () => query.executeTakeFirst());
 * ```
 */
export const { translateDatabaseError, runStoreOperation, migrationFailure } = createDatabaseErrorTranslator({
  errors: codedErrorFactory(AuthError),
  subject: 'auth',
  migrateFunction: 'migrateAuthSchema',
});
