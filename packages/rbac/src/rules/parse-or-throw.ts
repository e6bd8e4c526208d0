import type { z } from 'zod';
import { RbacError, type RbacErrorCode } from '../errors.js';

/**
 * Parses `value` with a zod schema and turns a failure into an {@link RbacError} whose details
 * list each issue's path and message (never the offending values).
 *
 * @example
 * ```ts
 * const condition = parseOrThrow(conditionSchema, raw, 'CONDITION_INVALID', 'condition');
 * ```
 */
export function parseOrThrow<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
  code: RbacErrorCode,
  what: string,
): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
  const summary = issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join('; ');
  throw new RbacError(code, `Invalid ${what}: ${summary}`, { details: { issues } });
}
