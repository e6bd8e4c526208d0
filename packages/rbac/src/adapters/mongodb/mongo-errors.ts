import { codedErrorFactory } from '@tenantkit/core';
import {
  createMongoErrorTranslator,
  hasMongoErrorLabel,
  isMongoUnavailableError as isCoreMongoUnavailableError,
} from '@tenantkit/core/mongodb';
import { RbacError } from '../../errors.js';

// MongoDB driver errors are classified once, in @tenantkit/core/mongodb; this binds the
// translation to RbacError.
export { isDuplicateKeyError, isDuplicateKeyErrorIn } from '@tenantkit/core/mongodb';

/**
 * Whether a driver error means MongoDB is unreachable or temporarily cannot serve the request.
 * Beyond the shared classification, a `TransientTransactionError` counts: the store's
 * transactions are short, and the label says running them again can succeed.
 *
 * @example
 * ```ts
 * isMongoUnavailableError(err); // true for a MongoServerSelectionError
 * ```
 */
export function isMongoUnavailableError(error: unknown): boolean {
  return isCoreMongoUnavailableError(error) || hasMongoErrorLabel(error, 'TransientTransactionError');
}

/**
 * Driver-error translation of the MongoDB RBAC store, `translateMongoError` and
 * `runMongoOperation`, throwing {@link RbacError}.
 *
 * @example
 * ```ts
 * return runMongoOperation(() => roles.findOne(filter));
 * ```
 */
export const { translateMongoError, runMongoOperation } = createMongoErrorTranslator({
  errors: codedErrorFactory(RbacError),
  isUnavailable: isMongoUnavailableError,
});
