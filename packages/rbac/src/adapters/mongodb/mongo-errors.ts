import { RbacError } from '../../errors.js';

/*
 * Errors are recognised by `name`, `code` and labels, never with `instanceof`: this module must
 * not load the driver, and an application may hold a second copy of it in node_modules.
 */

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

/** Server codes of a node stepping down, shutting down or unreachable behind a mongos. */
const unavailableServerCodes: ReadonlySet<number> = new Set([6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);

interface MongoErrorShape {
  name?: unknown;
  code?: unknown;
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
 * if (isDuplicateKeyError(error)) return false;
 * ```
 */
export function isDuplicateKeyError(error: unknown): boolean {
  const code = shapeOf(error)?.code;
  return code === 11000 || code === 11001;
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
 * Whether a driver error means MongoDB is unreachable or temporarily cannot serve the request.
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
  const labels = shape.errorLabels;
  return Array.isArray(labels) && (labels.includes('RetryableWriteError') || labels.includes('ResetPool') || labels.includes('TransientTransactionError'));
}

/**
 * Turns what a driver call threw into what the store may throw: an {@link RbacError} passes
 * through, unavailability becomes `STORE_UNAVAILABLE` (driver error as `cause`), a non-Error is
 * wrapped, and any other driver error (a bug, an authorization failure) is rethrown unchanged.
 *
 * @example
 * ```ts
 * try { await roles.insertOne(document); } catch (error) { throw translateMongoError(error); }
 * ```
 */
export function translateMongoError(error: unknown): unknown {
  if (error instanceof RbacError) return error;
  if (isMongoUnavailableError(error)) return new RbacError('STORE_UNAVAILABLE', 'MongoDB is unavailable', { cause: error });
  if (!(error instanceof Error)) return new RbacError('STORE_UNAVAILABLE', 'The MongoDB driver failed with a non-Error value', { cause: error });
  return error;
}

/**
 * Runs one store operation and translates whatever it throws with {@link translateMongoError}.
 *
 * @example
 * ```ts
 * return runMongoOperation(() => roles.findOne(filter));
 * ```
 */
export async function runMongoOperation<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw translateMongoError(error);
  }
}
