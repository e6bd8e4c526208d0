/**
 * Validates a value with a zod schema or throws an `AuthError` with the given code, listing every
 * issue (`VALIDATION_FAILED` for flow input, `CONFIGURATION_INVALID` for `createAuth` options).
 *
 * @example
 * ```ts
 * const input = parseFlowInput(signUpInputSchema, raw, 'VALIDATION_FAILED', 'sign-up input');
 * ```
 */
export { parseAuthInput as parseFlowInput } from '../parse-auth-input.js';
