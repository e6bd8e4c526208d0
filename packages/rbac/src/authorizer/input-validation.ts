/**
 * Whether `value` is an object with a function under every name in `names`, so a wrong store,
 * clock or channel fails when `createRbac` is called rather than on first use.
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
