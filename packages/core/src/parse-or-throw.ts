import type { ErrorCode } from './error-codes.js';
import type { CodedErrorFactory } from './coded-error-factory.js';

/**
 * What {@link createParseOrThrow} needs of a schema: zod's `safeParse` shape, described
 * structurally so that core depends on no validation library.
 *
 * @example
 * ```ts
 * const schema: SafeParseSchema<string> = z.string();
 * ```
 */
export interface SafeParseSchema<Output> {
  /**
   * Parses without throwing.
   *
   * @example
   * ```ts
   * schema.safeParse('acme'); // { success: true, data: 'acme' }
   * ```
   */
  safeParse(
    value: unknown,
  ):
    | { readonly success: true; readonly data: Output }
    | { readonly success: false; readonly error: { readonly issues: readonly { readonly path: readonly PropertyKey[]; readonly message: string }[] } };
}

/**
 * A package's `parseOrThrow(schema, value, code, what)`: parses `value` and turns a failure
 * into the package's coded error, `Invalid <what>: <path>: <message>; ...`, whose details list
 * each issue's path and message (never the offending values, which may be secrets).
 *
 * @example
 * ```ts
 * const parseOrThrow = createParseOrThrow(codedErrorFactory(TenantContextError));
 * const options = parseOrThrow(optionsSchema, rawOptions, 'CONFIGURATION_INVALID', 'createTenantRegistry');
 * ```
 */
export function createParseOrThrow<Code extends ErrorCode>(
  errors: CodedErrorFactory<Error, Code>,
): <Output>(schema: SafeParseSchema<Output>, value: unknown, code: Code, what: string) => Output {
  return <Output>(schema: SafeParseSchema<Output>, value: unknown, code: Code, what: string): Output => {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    const issues = result.error.issues.map((issue) => ({
      path: issue.path.map(String).join('.'),
      message: issue.message,
    }));
    const summary = issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join('; ');
    throw errors.create(code, `Invalid ${what}: ${summary}`, { details: { issues } });
  };
}
