import { isForbiddenKey } from '../conditions/forbidden-keys.js';
import { RBAC_LIMITS } from '../rules/rbac-limits.js';
import { policyInvalid, type PolicyPath } from './policy-error.js';

function isPlainObject(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Checks that a policy is plain JSON-like data before anything reads it: objects with the
 * plain prototype (so `{ __proto__: {...} }` written in code, which sets the prototype instead
 * of a key, is refused rather than silently dropped), arrays, strings, finite numbers,
 * booleans, `null` and `undefined` (an absent optional field); no `__proto__` / `constructor` /
 * `prototype` key anywhere; no nesting deeper than `RBAC_LIMITS.maxScanDepth`. Refusing a Date,
 * Buffer, Map or class instance up front means a YAML tag or a stray object never reaches the
 * stored rules.
 *
 * @throws RbacError `POLICY_INVALID` with the path of the first offending value.
 * @example
 * ```ts
 * assertPlainPolicyData(JSON.parse('{"roles":{"__proto__":{}}}')); // throws POLICY_INVALID at roles.__proto__
 * ```
 */
export function assertPlainPolicyData(value: unknown, path: PolicyPath = []): void {
  if (path.length > RBAC_LIMITS.maxScanDepth) {
    throw policyInvalid(path, `nested deeper than ${RBAC_LIMITS.maxScanDepth} levels`);
  }
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw policyInvalid(path, 'numbers must be finite');
      return;
    case 'object':
      break;
    default:
      throw policyInvalid(path, `a ${typeof value} is not policy data`);
  }
  if (value === null) return;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index += 1) assertPlainPolicyData(value[index], [...path, index]);
    return;
  }
  if (!isPlainObject(value)) throw policyInvalid(path, 'must be a plain object (no class instances, dates, buffers or a replaced prototype)');
  for (const key of Object.keys(value)) {
    if (isForbiddenKey(key)) throw policyInvalid([...path, key], `the key "${key}" is forbidden`);
    assertPlainPolicyData((value as Record<string, unknown>)[key], [...path, key]);
  }
}
