import { type ErrorCode, httpStatusForCode } from './error-codes.js';

/**
 * Options accepted by every tenantkit error constructor.
 *
 * @example
 * ```ts
 * new TenantkitError('STORE_UNAVAILABLE', 'Redis is down', { cause: err });
 * ```
 */
export interface TenantkitErrorOptions {
  /** The underlying error, kept as the standard `cause`. */
  cause?: unknown;
  /** Safe, client-presentable structured facts (never secrets or foreign tenant data). */
  details?: Readonly<Record<string, unknown>>;
}

/**
 * The JSON body the framework bindings send for a failed request.
 *
 * @example
 * ```ts
 * const body: ErrorResponseBody = { error: { code: 'TENANT_NOT_FOUND', message: 'Unknown tenant' } };
 * ```
 */
export interface ErrorResponseBody {
  error: {
    code: ErrorCode;
    message: string;
    details?: Readonly<Record<string, unknown>>;
  };
}

// Marks tenantkit errors across duplicated package copies (ESM and CJS builds, two versions
// installed side by side), where `instanceof` fails. A plain shape check would also accept other
// libraries' errors that happen to carry `code` and `status` (HTTP clients do).
const TENANTKIT_ERROR_BRAND = Symbol.for('@tenantkit/core/error');

/**
 * Base class of every error tenantkit throws. `code` is a string literal from {@link ErrorCode},
 * `status` comes from the one status table, `name` is the concrete class name and `cause` is
 * passed through.
 *
 * @example
 * ```ts
 * try {
 *   await registry.getTenantOrThrow('t_1');
 * } catch (err) {
 *   if (err instanceof TenantkitError && err.code === 'TENANT_NOT_FOUND') reply.status(err.status);
 * }
 * ```
 */
export class TenantkitError<Code extends ErrorCode = ErrorCode> extends Error {
  /** The machine-readable error code. */
  readonly code: Code;
  /** The HTTP status the bindings answer with. */
  readonly status: number;
  /** Structured, client-safe facts about the failure. */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: Code, message: string, options: TenantkitErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = httpStatusForCode(code);
    this.details = options.details;
    Object.defineProperty(this, TENANTKIT_ERROR_BRAND, { value: true });
  }

  /**
   * The response body for this error.
   *
   * @example
   * ```ts
   * reply.status(err.status).send(err.toResponseBody());
   * ```
   */
  toResponseBody(): ErrorResponseBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

/**
 * Narrows an unknown value to a {@link TenantkitError}, optionally of one code. Works across
 * duplicated package copies (it checks a brand every tenantkit error carries, not only the
 * prototype) and never mistakes another library's error with a `code` and `status` for ours.
 *
 * @example
 * ```ts
 * if (isTenantkitError(err, 'QUOTA_EXCEEDED')) showUpgradeDialog();
 * ```
 */
export function isTenantkitError<Code extends ErrorCode>(
  value: unknown,
  code?: Code,
): value is TenantkitError<Code> {
  if (!(value instanceof Error)) return false;
  if (!(value instanceof TenantkitError) && (value as { [TENANTKIT_ERROR_BRAND]?: unknown })[TENANTKIT_ERROR_BRAND] !== true) {
    return false;
  }
  return code === undefined || (value as TenantkitError).code === code;
}

/**
 * Turns any thrown value into a status and a coded body. Unknown errors become a generic 500
 * whose message reveals nothing about the failure.
 *
 * @example
 * ```ts
 * const { status, body } = toErrorResponse(err);
 * res.status(status).json(body);
 * ```
 */
export function toErrorResponse(value: unknown): { status: number; body: ErrorResponseBody } {
  if (isTenantkitError(value)) {
    return { status: value.status, body: value.toResponseBody() };
  }
  return {
    status: 500,
    body: { error: { code: 'INTERNAL_ERROR', message: 'Internal server error' } },
  };
}
