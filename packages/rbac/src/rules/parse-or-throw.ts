import { codedErrorFactory, createParseOrThrow } from '@tenantkit/core';
import { RbacError } from '../errors.js';

/**
 * Parses `value` with a zod schema and turns a failure into an {@link RbacError} whose details
 * list each issue's path and message (never the offending values).
 *
 * @example
 * ```ts
 * const condition = parseOrThrow(conditionSchema, raw, 'CONDITION_INVALID', 'condition');
 * ```
 */
export const parseOrThrow = createParseOrThrow(codedErrorFactory(RbacError));
