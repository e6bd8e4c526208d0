import { RbacError } from '../errors.js';

/**
 * Where in a policy something is: object keys and array indexes from the root
 * (`['roles', 'editor', 'permissions', 1]`).
 *
 * @example
 * ```ts
 * const path: PolicyPath = ['plans', 'pro', 'permissions', 0];
 * ```
 */
export type PolicyPath = readonly (string | number)[];

/**
 * A path as people read it: `roles.editor.permissions.1` (`(root)` for the whole policy).
 *
 * @example
 * ```ts
 * formatPolicyPath(['roles', 'editor', 'permissions', 1]); // 'roles.editor.permissions.1'
 * ```
 */
export function formatPolicyPath(path: PolicyPath): string {
  return path.length === 0 ? '(root)' : path.map(String).join('.');
}

/**
 * The `POLICY_INVALID` error of every policy check: the message starts with the path of the
 * bad entry, `details.path` holds it as text and `details.segments` as keys and indexes (so a
 * file loader can turn it into a line number), `cause` the error of the rule or role
 * validator that refused it.
 *
 * @example
 * ```ts
 * throw policyInvalid(['roles', 'editor', 'key'], 'must equal the key it is declared under ("editor")');
 * ```
 */
export function policyInvalid(
  path: PolicyPath,
  message: string,
  options: { readonly cause?: unknown; readonly details?: Readonly<Record<string, unknown>> } = {},
): RbacError {
  const where = formatPolicyPath(path);
  return new RbacError('POLICY_INVALID', `Invalid policy at ${where}: ${message}`, {
    details: { ...options.details, path: where, segments: [...path] },
    ...(options.cause === undefined ? {} : { cause: options.cause }),
  });
}
