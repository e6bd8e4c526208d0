import type { ErrorCode } from './error-codes.js';
import type { TenantkitErrorOptions } from './tenantkit-error.js';

/**
 * The codes shared helpers raise on a package's behalf: every package's own code union
 * includes them.
 *
 * @example
 * ```ts
 * const code: SharedErrorCode = 'STORE_UNAVAILABLE';
 * ```
 */
export type SharedErrorCode = Extract<ErrorCode, 'VALIDATION_FAILED' | 'CONFIGURATION_INVALID' | 'STORE_CONFLICT' | 'STORE_UNAVAILABLE'>;

/**
 * How shared helpers make and recognise one package's coded errors, so that plumbing written
 * once (driver error translation, column conversion, validation) still throws that package's
 * own class (`TenantContextError`, `RbacError`) with the codes and causes it documents.
 *
 * @example
 * ```ts
 * const errors: CodedErrorFactory<TenantContextError, TenantContextErrorCode> = codedErrorFactory(TenantContextError);
 * throw errors.create('STORE_UNAVAILABLE', 'The database cannot be reached', { cause });
 * ```
 */
export interface CodedErrorFactory<CodedError extends Error = Error, Code extends ErrorCode = SharedErrorCode> {
  /**
   * Builds the package's error.
   *
   * @example
   * ```ts
   * errors.create('CONFIGURATION_INVALID', 'The tables are missing', { details: { operation } });
   * ```
   */
  readonly create: (code: Code, message: string, options?: TenantkitErrorOptions) => CodedError;
  /**
   * Whether `error` is already the package's own error, which shared helpers pass through.
   *
   * @example
   * ```ts
   * if (errors.isOwn(error)) return error;
   * ```
   */
  readonly isOwn: (error: unknown) => error is CodedError;
}

/**
 * The {@link CodedErrorFactory} of a coded error class whose constructor takes
 * `(code, message, options)`, as every tenantkit error class does.
 *
 * @example
 * ```ts
 * const errors = codedErrorFactory(RbacError);
 * errors.isOwn(errors.create('STORE_CONFLICT', 'Retry')); // true
 * ```
 */
export function codedErrorFactory<CodedError extends Error, Code extends ErrorCode>(
  ErrorClass: new (code: Code, message: string, options?: TenantkitErrorOptions) => CodedError,
): CodedErrorFactory<CodedError, Code> {
  return Object.freeze({
    create: (code: Code, message: string, options?: TenantkitErrorOptions) => new ErrorClass(code, message, options),
    isOwn: (error: unknown): error is CodedError => error instanceof ErrorClass,
  });
}
