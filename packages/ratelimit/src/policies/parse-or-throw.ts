import { codedErrorFactory, createParseOrThrow } from '@tenantkit/core';
import { RateLimitError } from '../errors.js';

/**
 * Parses `value` with a zod schema and turns a failure into a {@link RateLimitError} whose
 * message and details list each issue's path and message (never the offending values).
 *
 * @example
 * ```ts
 * const options = parseOrThrow(rateLimiterOptionsSchema, raw, 'CONFIGURATION_INVALID', 'createRateLimiter options');
 * ```
 */
export const parseOrThrow = createParseOrThrow(codedErrorFactory(RateLimitError));
