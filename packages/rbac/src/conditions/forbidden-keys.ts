import { RbacError } from '../errors.js';
import { RBAC_LIMITS } from '../rules/rbac-limits.js';

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Whether `key` is one of the names that reach an object's prototype (`__proto__`,
 * `constructor`, `prototype`). Such keys are rejected in stored rules and attribute paths so a
 * condition can never read or write through the prototype chain.
 *
 * @example
 * ```ts
 * isForbiddenKey('__proto__'); // true
 * ```
 */
export function isForbiddenKey(key: string): boolean {
  return FORBIDDEN.has(key);
}

/**
 * The path of the first forbidden key in `value` (own keys of objects and arrays, recursively),
 * or `null`. Values nested deeper than `RBAC_LIMITS.maxScanDepth` count as forbidden too, so a
 * hostile payload cannot hide a key below the scan.
 *
 * @example
 * ```ts
 * findForbiddenKey(JSON.parse('{"a":{"__proto__":{}}}')); // ['a', '__proto__']
 * ```
 */
export function findForbiddenKey(value: unknown): (string | number)[] | null {
  const walk = (node: unknown, path: (string | number)[]): (string | number)[] | null => {
    if (typeof node !== 'object' || node === null) return null;
    if (path.length >= RBAC_LIMITS.maxScanDepth) return path;
    if (Array.isArray(node)) {
      for (let index = 0; index < node.length; index += 1) {
        const found = walk(node[index], [...path, index]);
        if (found) return found;
      }
      return null;
    }
    for (const key of Object.keys(node)) {
      if (FORBIDDEN.has(key)) return [...path, key];
      const found = walk((node as Record<string, unknown>)[key], [...path, key]);
      if (found) return found;
    }
    return null;
  };
  return walk(value, []);
}

/**
 * Throws `CONDITION_INVALID` when `value` holds a `__proto__`, `constructor` or `prototype`
 * key anywhere.
 *
 * @throws `CONDITION_INVALID` with `details.path`.
 * @example
 * ```ts
 * assertNoForbiddenKeys(JSON.parse(body), 'role definition');
 * ```
 */
export function assertNoForbiddenKeys(value: unknown, what: string): void {
  const found = findForbiddenKey(value);
  if (found === null) return;
  const path = found.map(String).join('.');
  const last = found[found.length - 1];
  const message =
    typeof last === 'string' && FORBIDDEN.has(last)
      ? `Invalid ${what}: forbidden key "${last}" at ${path}`
      : `Invalid ${what}: nested deeper than ${RBAC_LIMITS.maxScanDepth} levels at ${path}`;
  throw new RbacError('CONDITION_INVALID', message, { details: { path } });
}
