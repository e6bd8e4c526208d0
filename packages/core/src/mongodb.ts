/**
 * The driver-agnostic plumbing of tenantkit's MongoDB store adapters, shared by the packages
 * that ship one (`@tenantkit/tenant-context/mongodb`, `@tenantkit/rbac/mongodb`,
 * `@tenantkit/auth/mongodb`): driver error classification and translation, the read options
 * every store passes, the check of a factory's `Db` and collection prefix, and index creation.
 * Errors are recognised by name, code and labels and the `Db` by shape, so this entry loads no
 * driver; each helper throws the calling package's own coded error (see `CodedErrorFactory` in
 * `@tenantkit/core`).
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
export {
  resolveMongoCollectionPrefix,
  type MongoCollectionPrefixSettings,
} from './mongodb/mongo-collection-prefix.js';
export { createMongoIndexes, type MongoIndexDefinition, type MongoIndexTarget } from './mongodb/create-mongo-indexes.js';
