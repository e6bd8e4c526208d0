import { codedErrorFactory, createParseOrThrow } from '@tenantkit/core';
import { AuthError } from './errors.js';

/**
 * Validates options and inputs with a zod schema and throws `AuthError` (the code the caller
 * names, with the issues in `details`): the one parser every auth module uses.
 *
 * @example
 * ```ts
 * const options = parseAuthInput(optionsSchema, input, 'CONFIGURATION_INVALID', 'createAuth options');
 * ```
 */
export const parseAuthInput = createParseOrThrow(codedErrorFactory(AuthError));
