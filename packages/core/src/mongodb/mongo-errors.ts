import type { CodedErrorFactory, SharedErrorCode } from '../coded-error-factory.js';

/*
 * Errors are recognised by `name`, `code` and labels, never with `instanceof`: this module must
 * not load the driver, and an application may hold a second copy of it in node_modules.
 */

/** Driver errors that mean the server could not be reached or the connection was lost. */
const unavailableErrorNames: ReadonlySet<string> = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoServerClosedError',
  'MongoTopologyClosedError',
  'MongoClientClosedError',
  'MongoNotConnectedError',
  'MongoPoolClosedError',
  'MongoPoolClearedError',
  'PoolClearedOnNetworkError',
  'MongoWaitQueueTimeoutError',
  'MongoOperationTimeoutError',
]);

/**
 * Server error codes of a node that is stepping down, shutting down or unreachable behind a
 * mongos: the same request can succeed a moment later against the new primary.
 */
const unavailableServerCodes: ReadonlySet<number> = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/** E11000, and E11001 which servers before 2.6 used for duplicates caused by an update. */
const duplicateKeyCodes: ReadonlySet<number> = new Set([11000, 11001]);

interface MongoErrorShape {
  name?: unknown;
  code?: unknown;
  keyPattern?: unknown;
  keyValue?: unknown;
  errorLabels?: unknown;
  message?: unknown;
}

function shapeOf(error: unknown): MongoErrorShape | null {
  return error instanceof Error ? (error as MongoErrorShape) : null;
}

/**
 * Whether a driver error is a unique-index violation (E11000).
 *
 * @example
 * ```ts
 * isDuplicateKeyError(err); // true after inserting a taken slug
 * ```
 */
export function isDuplicateKeyError(error: unknown): boolean {
  const code = shapeOf(error)?.code;
  return typeof code === 'number' && duplicateKeyCodes.has(code);
}

/**
 * The fields of the unique index a duplicate-key error violated (from the server's
 * `keyPattern`), or `null` when the server did not say (servers before 4.2). Field values are
 * not returned: they may be another tenant's data.
 *
 * @example
 * ```ts
 * duplicateKeyFields(err); // ['slug']
 * ```
 */
export function duplicateKeyFields(error: unknown): string[] | null {
  const keyPattern = shapeOf(error)?.keyPattern;
  if (typeof keyPattern !== 'object' || keyPattern === null) return null;
  return Object.keys(keyPattern);
}

/**
 * Whether a duplicate-key error was raised in `collection` (servers name the namespace in the
 * message: `E11000 duplicate key error collection: app.tenantkit_rbac_groups index: ...`).
 *
 * @example
 * ```ts
 * isDuplicateKeyErrorIn(error, names.policyVersions);
 * ```
 */
export function isDuplicateKeyErrorIn(error: unknown, collection: string): boolean {
  const message = shapeOf(error)?.message;
  return isDuplicateKeyError(error) && typeof message === 'string' && message.includes(`.${collection} `);
}

/**
 * Whether a driver error carries `label` among its `errorLabels` (`TransientTransactionError`,
 * `RetryableWriteError`, ...).
 *
 * @example
 * ```ts
 * hasMongoErrorLabel(err, 'TransientTransactionError'); // true for a write conflict in a transaction
 * ```
 */
export function hasMongoErrorLabel(error: unknown, label: string): boolean {
  const labels = shapeOf(error)?.errorLabels;
  return Array.isArray(labels) && labels.includes(label);
}

/**
 * Whether a driver error means MongoDB is unreachable or temporarily cannot serve the request
 * (network failure, no server selectable, closed client, primary stepping down).
 *
 * @example
 * ```ts
 * isMongoUnavailableError(err); // true for a MongoServerSelectionError
 * ```
 */
export function isMongoUnavailableError(error: unknown): boolean {
  const shape = shapeOf(error);
  if (shape === null) return false;
  if (typeof shape.name === 'string' && unavailableErrorNames.has(shape.name)) return true;
  if (typeof shape.code === 'number' && unavailableServerCodes.has(shape.code)) return true;
  // The driver labels errors it would have retried itself; reaching us, the retry also failed.
  const labels = shape.errorLabels;
  return Array.isArray(labels) && (labels.includes('RetryableWriteError') || labels.includes('ResetPool'));
}

/**
 * How {@link createMongoErrorTranslator} makes one package's errors.
 *
 * @example
 * ```ts
 * const options: MongoErrorTranslatorOptions<RbacError> = { errors: codedErrorFactory(RbacError) };
 * ```
 */
export interface MongoErrorTranslatorOptions<CodedError extends Error> {
  /** Makes and recognises the package's coded errors. */
  errors: CodedErrorFactory<CodedError, SharedErrorCode>;
  /** Which driver errors become `STORE_UNAVAILABLE`. Default {@link isMongoUnavailableError}. */
  isUnavailable?: (error: unknown) => boolean;
}

/**
 * One package's translation of MongoDB driver errors into its own coded errors (see
 * {@link createMongoErrorTranslator}).
 *
 * @example
 * ```ts
 * const { runMongoOperation } = createMongoErrorTranslator({ errors: codedErrorFactory(RbacError) });
 * await runMongoOperation(() => roles.findOne(filter));
 * ```
 */
export interface MongoErrorTranslator<CodedError extends Error> {
  /**
   * Turns what a driver call threw into what a store may throw:
   * - the package's own error passes through;
   * - a duplicate-key error becomes the error `onDuplicateKey` builds (a store with no unique
   *   index to break on passes nothing, and the driver error is rethrown as it is);
   * - an unavailability error becomes `STORE_UNAVAILABLE`, with the driver error as `cause`;
   * - any other driver error (a bug, a permissions or schema-validation failure) is rethrown
   *   unchanged, so it surfaces as an internal error instead of a retryable one; a thrown
   *   non-Error value is wrapped, so a store never rejects with one.
   *
   * @example
   * ```ts
   * try {
   *   await collection.insertOne(document);
   * } catch (error) {
   *   throw translateMongoError(error, () => new TenantContextError('DOMAIN_TAKEN', 'Claimed'));
   * }
   * ```
   */
  translateMongoError(error: unknown, onDuplicateKey?: (fields: string[] | null) => CodedError): unknown;
  /**
   * Runs one store operation and translates whatever it throws with `translateMongoError`.
   *
   * @example
   * ```ts
   * return runMongoOperation(() => collection.findOne({ _id: id }));
   * ```
   */
  runMongoOperation<T>(operation: () => Promise<T>, onDuplicateKey?: (fields: string[] | null) => CodedError): Promise<T>;
}

/**
 * Binds the driver-error classification above to one package's coded errors, so every MongoDB
 * store translates failures the same way while throwing its own class.
 *
 * @example
 * ```ts
 * export const { translateMongoError, runMongoOperation } = createMongoErrorTranslator({
 *   errors: codedErrorFactory(TenantContextError),
 * });
 * ```
 */
export function createMongoErrorTranslator<CodedError extends Error>(
  options: MongoErrorTranslatorOptions<CodedError>,
): MongoErrorTranslator<CodedError> {
  const { errors, isUnavailable = isMongoUnavailableError } = options;

  function translateMongoError(error: unknown, onDuplicateKey?: (fields: string[] | null) => CodedError): unknown {
    if (errors.isOwn(error)) return error;
    if (onDuplicateKey !== undefined && isDuplicateKeyError(error)) return onDuplicateKey(duplicateKeyFields(error));
    if (isUnavailable(error)) return errors.create('STORE_UNAVAILABLE', 'MongoDB is unavailable', { cause: error });
    if (!(error instanceof Error)) {
      return errors.create('STORE_UNAVAILABLE', 'The MongoDB driver failed with a non-Error value', { cause: error });
    }
    return error;
  }

  async function runMongoOperation<T>(operation: () => Promise<T>, onDuplicateKey?: (fields: string[] | null) => CodedError): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw translateMongoError(error, onDuplicateKey);
    }
  }

  return Object.freeze({ translateMongoError, runMongoOperation });
}
