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
 * duplicated package copies because it checks the shape, not only the prototype.
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
  const candidate = value as Partial<TenantkitError>;
  if (typeof candidate.code !== 'string' || typeof candidate.status !== 'number') return false;
  return code === undefined || candidate.code === code;
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
