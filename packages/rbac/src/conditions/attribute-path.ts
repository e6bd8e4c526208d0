import { RbacError } from '../errors.js';
import { RBAC_LIMITS } from '../rules/rbac-limits.js';
import { isForbiddenKey } from './forbidden-keys.js';

/**
 * A validated attribute path: its root and the property names below it.
 *
 * @example
 * ```ts
 * const path: AttributePath = { source: 'resource.ownerId', root: 'resource', keys: ['ownerId'] };
 * ```
 */
export interface AttributePath {
  readonly source: string;
  readonly root: 'resource' | 'principal' | 'context';
  readonly keys: readonly string[];
}

const KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const PRINCIPAL_FIELDS = new Set(['id', 'kind', 'grantsFrom']);

/**
 * Why `path` is not a valid attribute path, or `null` when it is. Paths are dotted:
 * `resource.<keys>`, `context.<keys>`, `principal.id`, `principal.kind`,
 * `principal.grantsFrom` or `principal.attributes.<keys>`; keys are identifiers (no `$`, no
 * array indexes) and never `__proto__`, `constructor` or `prototype`. `roots` limits which
 * roots are accepted (references may not point into the resource).
 *
 * @example
 * ```ts
 * attributePathProblem('resource.__proto__.x', ['resource']); // 'forbidden key "__proto__"'
 * ```
 */
export function attributePathProblem(path: unknown, roots: readonly AttributePath['root'][]): string | null {
  if (typeof path !== 'string') return 'must be a string';
  const parts = path.split('.');
  const root = parts[0] as string;
  if (!(roots as readonly string[]).includes(root)) {
    return `must start with ${roots.map((r) => `"${r}."`).join(' or ')}`;
  }
  const keys = parts.slice(1);
  if (keys.length === 0) return `needs a property after "${root}."`;
  if (keys.length > RBAC_LIMITS.maxAttributePathSegments) {
    return `has more than ${RBAC_LIMITS.maxAttributePathSegments} segments after "${root}."`;
  }
  for (const key of keys) {
    if (isForbiddenKey(key)) return `forbidden key "${key}"`;
    if (key.length > RBAC_LIMITS.maxAttributePathSegmentLength) {
      return `segment "${key.slice(0, 16)}…" is longer than ${RBAC_LIMITS.maxAttributePathSegmentLength} characters`;
    }
    if (!KEY.test(key)) return `segment "${key}" must be an identifier (letters, digits, _ and -, not starting with a digit)`;
  }
  if (root === 'principal') {
    const first = keys[0] as string;
    if (first === 'attributes') {
      if (keys.length < 2) return 'needs a property after "principal.attributes."';
    } else if (!PRINCIPAL_FIELDS.has(first) || keys.length !== 1) {
      return 'must be principal.id, principal.kind, principal.grantsFrom or principal.attributes.<name>';
    }
  }
  return null;
}

/**
 * Parses an attribute path, throwing `CONDITION_INVALID` when it is invalid.
 *
 * @throws `CONDITION_INVALID`
 * @example
 * ```ts
 * parseAttributePath('principal.attributes.department').keys; // ['attributes', 'department']
 * ```
 */
export function parseAttributePath(
  path: string,
  roots: readonly AttributePath['root'][] = ['resource', 'principal', 'context'],
): AttributePath {
  const problem = attributePathProblem(path, roots);
  if (problem !== null) {
    throw new RbacError('CONDITION_INVALID', `Invalid attribute path ${JSON.stringify(String(path).slice(0, 100))}: ${problem}`, {
      details: { reason: problem },
    });
  }
  const parts = path.split('.');
  return { source: path, root: parts[0] as AttributePath['root'], keys: parts.slice(1) };
}

/**
 * Marks an attribute the check was not given (as opposed to one given as `null`).
 *
 * @example
 * ```ts
 * if (readOwnPath(resource, ['ownerId']) === MISSING) return 'unknown';
 * ```
 */
export const MISSING: unique symbol = Symbol('missing attribute');

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * Reads `keys` below `value` through own, enumerable-or-not data properties only: never the
 * prototype chain (so a resource built with a `__proto__` key, or inheriting from a polluted
 * prototype, cannot supply an attribute), never into arrays. `undefined` counts as missing.
 *
 * @example
 * ```ts
 * readOwnPath({ meta: { owner: 'u1' } }, ['meta', 'owner']); // 'u1'
 * readOwnPath(Object.create({ owner: 'u1' }), ['owner']); // MISSING
 * ```
 */
export function readOwnPath(value: unknown, keys: readonly string[], from = 0): unknown {
  let current = value;
  for (let index = from; index < keys.length; index += 1) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return MISSING;
    const key = keys[index] as string;
    if (!hasOwn.call(current, key)) return MISSING;
    current = (current as Record<string, unknown>)[key];
  }
  return current === undefined ? MISSING : current;
}
