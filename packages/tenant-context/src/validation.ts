import { codedErrorFactory, createParseOrThrow } from '@tenantkit/core';
import { TenantContextError } from './errors.js';

/**
 * Parses `value` with a zod schema and turns a failure into a coded error whose details list
 * each issue's path and message (never the offending values, which may be secrets).
 *
 * @example
 * ```ts
 * const options = parseOrThrow(optionsSchema, rawOptions, 'CONFIGURATION_INVALID', 'createTenantRegistry');
 * ```
 */
export const parseOrThrow = createParseOrThrow(codedErrorFactory(TenantContextError));

/**
 * Whether `value` is an object with a function under every name in `names`. Factories use it
 * to check stores, buses and clocks passed as options, so a wrong object fails when the
 * factory is called rather than with a TypeError on first use.
 *
 * @example
 * ```ts
 * z.custom<Clock>((value) => hasMethods(value, ['now']), 'must have now()');
 * ```
 */
export function hasMethods(value: unknown, names: readonly string[]): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function')
  );
}
