/**
 * The driver-agnostic plumbing of tenantkit's MongoDB store adapters, shared by the packages
 * that ship one (`@tenantkit/tenant-context/mongodb`, `@tenantkit/rbac/mongodb`): driver error
 * classification and translation, and the read options every store passes. Errors are
 * recognised by name, code and labels, so this entry loads no driver; each helper throws the
 * calling package's own coded error (see `CodedErrorFactory` in `@tenantkit/core`).
 *
 * @packageDocumentation
 * @module @tenantkit/core/mongodb
 */
export {
  isDuplicateKeyError,
  isDuplicateKeyErrorIn,
  duplicateKeyFields,
  hasMongoErrorLabel,
  isMongoUnavailableError,
  createMongoErrorTranslator,
  type MongoErrorTranslator,
  type MongoErrorTranslatorOptions,
} from './mongodb/mongo-errors.js';
export { bsonReadOptions } from './mongodb/bson-read-options.js';
