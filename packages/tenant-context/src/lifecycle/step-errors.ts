import { isTenantkitError } from '@tenantkit/core';

/** Stored messages are for operators; a hook that throws a megabyte of text must not bloat every run write. */
const MAX_STORED_MESSAGE_LENGTH = 1000;

/**
 * The code and message a run records for a step's error: the tenantkit code when there is one,
 * else a string `code` (Node system errors such as `ECONNREFUSED`), else `INTERNAL_ERROR`.
 *
 * @example
 * ```ts
 * describeStepError(new Error('boom')); // { code: 'INTERNAL_ERROR', message: 'boom' }
 * ```
 */
export function describeStepError(error: unknown): { code: string; message: string } {
  const code =
    typeof (error as { code?: unknown } | null)?.code === 'string' && (error as { code: string }).code.length <= 64
      ? (error as { code: string }).code
      : 'INTERNAL_ERROR';
  const message = error instanceof Error ? error.message : String(error);
  return { code, message: message.slice(0, MAX_STORED_MESSAGE_LENGTH) };
}

/**
 * Whether trying a step again can help. A tenantkit error with a 4xx status is a refusal that
 * will repeat (invalid settings, a taken slug, an impossible transition), so it fails the step
 * at once; `STORE_CONFLICT` is the exception, as it only says a concurrent write won. Anything
 * else (5xx codes, network errors, plain errors from hooks) is retried.
 *
 * @example
 * ```ts
 * isRetryableStepError(new TenantContextError('STORE_UNAVAILABLE', 'down')); // true
 * isRetryableStepError(new TenantContextError('TENANT_ALREADY_EXISTS', 'taken')); // false
 * ```
 */
export function isRetryableStepError(error: unknown): boolean {
  if (!isTenantkitError(error)) return true;
  if (error.code === 'STORE_CONFLICT') return true;
  return error.status >= 500;
}
