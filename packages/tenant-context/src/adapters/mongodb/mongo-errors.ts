import { codedErrorFactory } from '@tenantkit/core';
import { createMongoErrorTranslator } from '@tenantkit/core/mongodb';
import { TenantContextError } from '../../errors.js';

// MongoDB driver errors are classified once, in @tenantkit/core/mongodb; this binds the
// translation to TenantContextError.
export { isDuplicateKeyError, duplicateKeyFields, isMongoUnavailableError } from '@tenantkit/core/mongodb';

/**
 * Driver-error translation of the tenant-context MongoDB stores, `translateMongoError` and
 * `runMongoOperation`, throwing {@link TenantContextError}.
 *
 * @example
 * ```ts
 * return runMongoOperation(() => collection.findOne({ _id: id }));
 * ```
 */
export const { translateMongoError, runMongoOperation } = createMongoErrorTranslator({ errors: codedErrorFactory(TenantContextError) });
