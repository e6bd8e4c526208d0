import type { Clock } from '@tenantkit/core';
import { RbacError } from '../errors.js';
import type { RbacPrincipal } from '../principal.js';
import { MISSING, parseAttributePath, readOwnPath, type AttributePath } from './attribute-path.js';
import type { Condition, ConditionContext, ConditionOperator, ResourceAttributes } from './condition.js';
import { compileTimeWindow } from './time-window.js';

/**
 * Three-valued truth as the compiled evaluator returns it: `0` false, `1` true, `2` unknown.
 *
 * @example
 * ```ts
 * const unknown: Truth = 2;
 * ```
 */
export type Truth = 0 | 1 | 2;

/**
 * A condition compiled for one principal: give it the resource and context of a check and,
 * when you want them, an array that collects the attribute paths that were missing.
 *
 * @example
 * ```ts
 * const test: CompiledCondition = compileCondition({ self: 'resource.ownerId' }, { principal });
 * test({ ownerId: principal.id }, undefined, null); // 1
 * ```
 */
export type CompiledCondition = (
  resource: ResourceAttributes | undefined,
  context: ConditionContext | undefined,
  missing: string[] | null,
) => Truth;

/**
 * What a condition is compiled against: the principal (its values are read once, at compile
 * time) and the clock time windows are checked against (the only source of time: without it a
 * window is unknown).
 *
 * @example
 * ```ts
 * const environment: ConditionEnvironment = { principal, clock: systemClock };
 * ```
 */
export interface ConditionEnvironment {
  readonly principal: RbacPrincipal;
  readonly clock?: Clock | undefined;
}

const NODE_KEYS = ['field', 'self', 'timeWindow', 'all', 'any', 'not'] as const;
const OPERATORS = new Set<ConditionOperator>(['eq', 'ne', 'in', 'nin', 'lt', 'lte', 'gt', 'gte', 'contains', 'exists']);
const hasOwn = Object.prototype.hasOwnProperty;

function malformed(message: string): never {
  throw new RbacError('CONDITION_INVALID', `Invalid condition: ${message}`);
}

/** A value equality can compare: `null`, a string, a boolean or a finite number. */
function isComparableScalar(value: unknown): value is string | number | boolean | null {
  if (value === null) return true;
  const type = typeof value;
  return type === 'string' || type === 'boolean' || (type === 'number' && Number.isFinite(value));
}

/**
 * Whether `value` can stand on the right of `op` (after a reference was resolved): `null`, a
 * string, a boolean or a finite number for `eq`/`ne`/`contains`; a list of those (without
 * `null`) for `in`/`nin`; a string or a finite number for `lt`/`lte`/`gt`/`gte`; a boolean for
 * `exists`. A resolved reference that cannot makes the leaf unknown, which fails closed.
 *
 * @example
 * ```ts
 * usableOperand('in', ['a', 'b']); // true
 * usableOperand('eq', { nested: true }); // false
 * ```
 */
export function usableOperand(op: ConditionOperator, value: unknown): boolean {
  switch (op) {
    case 'in':
    case 'nin':
      return Array.isArray(value) && value.every((item) => item !== null && isComparableScalar(item));
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
    case 'exists':
      return typeof value === 'boolean';
    default:
      return isComparableScalar(value);
  }
}

// Equality of a present attribute with a usable scalar operand. `null` compares with anything
// (it is a value, distinct from missing); otherwise both sides must be of one type. Anything
// else (a number against a string, NaN, ±Infinity, an array, an object, a Date, a bigint) is
// unknown: `'5000' eq 5000` is neither true nor false, so a deny on it still applies.
function equalityTruth(actual: unknown, expected: unknown): Truth {
  if (actual === null) return expected === null ? 1 : 0;
  const type = typeof actual;
  if (type === 'number') {
    if (!Number.isFinite(actual)) return 2;
  } else if (type !== 'string' && type !== 'boolean') {
    return 2;
  }
  if (expected === null) return 0;
  if (typeof expected !== type) return 2;
  return actual === expected ? 1 : 0;
}

// Membership of a present attribute in a usable list: true when listed; false when the value is
// `null`, the list is empty, or it lists a value of the attribute's type; else unknown.
function membershipTruth(actual: unknown, list: readonly unknown[]): Truth {
  if (actual === null) return 0;
  const type = typeof actual;
  if (type === 'number') {
    if (!Number.isFinite(actual)) return 2;
  } else if (type !== 'string' && type !== 'boolean') {
    return 2;
  }
  let comparable = list.length === 0;
  for (let index = 0; index < list.length; index += 1) {
    const item = list[index];
    if (item === actual) return 1;
    if (typeof item === type) comparable = true;
  }
  return comparable ? 0 : 2;
}

/**
 * Compares an attribute that is present with a usable operand, three-valued (`0` false, `1`
 * true, `2` unknown). A value of a type the operator cannot compare with the operand is
 * unknown, never false: `'5000.00' gt 1000`, `NaN gte 1`, a `Date` against an ISO string,
 * `['secret'] ne 'secret'`, `contains` on a non-array. `null` is a value for
 * `eq`/`ne`/`in`/`nin` (`null ne 'x'` is true) but cannot be ordered. `contains` is `eq` over
 * the elements: true when one is equal, else unknown when one is not comparable.
 *
 * @example
 * ```ts
 * compareAttribute('lt', 3, 5); // 1
 * compareAttribute('gt', '5000.00', 1000); // 2
 * compareAttribute('contains', ['a', 'b'], 'b'); // 1
 * ```
 */
export function compareAttribute(op: Exclude<ConditionOperator, 'exists'>, actual: unknown, expected: unknown): Truth {
  switch (op) {
    case 'eq':
      return equalityTruth(actual, expected);
    case 'ne': {
      const truth = equalityTruth(actual, expected);
      return truth === 2 ? 2 : truth === 1 ? 0 : 1;
    }
    case 'in':
      return membershipTruth(actual, expected as readonly unknown[]);
    case 'nin': {
      const truth = membershipTruth(actual, expected as readonly unknown[]);
      return truth === 2 ? 2 : truth === 1 ? 0 : 1;
    }
    case 'contains': {
      if (!Array.isArray(actual)) return 2;
      let unknown = false;
      for (let index = 0; index < actual.length; index += 1) {
        const truth = equalityTruth(actual[index], expected);
        if (truth === 1) return 1;
        if (truth === 2) unknown = true;
      }
      return unknown ? 2 : 0;
    }
    default: {
      const type = typeof actual;
      if (type !== typeof expected) return 2;
      if (type === 'number') {
        if (!Number.isFinite(actual)) return 2;
      } else if (type !== 'string') {
        return 2;
      }
      const a = actual as number | string;
      const b = expected as number | string;
      if (op === 'lt') return a < b ? 1 : 0;
      if (op === 'lte') return a <= b ? 1 : 0;
      if (op === 'gt') return a > b ? 1 : 0;
      return a >= b ? 1 : 0;
    }
  }
}

/**
 * A structurally checked condition node, shared by the evaluator and the reducer.
 *
 * @example
 * ```ts
 * const node = describeNode({ self: 'resource.ownerId' }); // { kind: 'field', ... }
 * ```
 */
export type ConditionNode =
  | { readonly kind: 'field'; readonly path: AttributePath; readonly op: ConditionOperator; readonly operand: { readonly ref: AttributePath } | { readonly value: unknown } }
  | { readonly kind: 'time'; readonly test: (now: number) => boolean }
  | { readonly kind: 'all' | 'any'; readonly children: readonly ConditionNode[] }
  | { readonly kind: 'not'; readonly child: ConditionNode };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks the structure of a (possibly stored, so untrusted) condition and turns it into a
 * {@link ConditionNode} tree. Attribute paths are validated (no prototype keys); operand types
 * are left to evaluation, where an unusable one is unknown.
 *
 * @throws `CONDITION_INVALID`
 * @example
 * ```ts
 * describeNode({ not: { field: 'resource.status', op: 'eq', value: 'archived' } }).kind; // 'not'
 * ```
 */
export function describeNode(condition: Condition, depth = 1): ConditionNode {
  if (depth > 32) malformed('nested too deeply');
  if (!isObject(condition)) malformed('a condition must be an object');
  const kinds = NODE_KEYS.filter((key) => hasOwn.call(condition, key));
  if (kinds.length !== 1) malformed('a condition node needs exactly one of field, self, timeWindow, all, any, not');
  const node = condition as Record<string, unknown>;
  switch (kinds[0]) {
    case 'field': {
      const op = node['op'] as ConditionOperator;
      if (!OPERATORS.has(op)) malformed(`unknown operator ${JSON.stringify(String(op)).slice(0, 40)}`);
      const path = parseAttributePath(String(node['field']));
      const value = node['value'];
      if (isObject(value)) {
        if (Object.keys(value).length !== 1 || !hasOwn.call(value, 'ref')) malformed('an object operand must be { ref }');
        return { kind: 'field', path, op, operand: { ref: parseAttributePath(String(value['ref']), ['principal', 'context']) } };
      }
      return { kind: 'field', path, op, operand: { value } };
    }
    case 'self':
      return {
        kind: 'field',
        path: parseAttributePath(String(node['self']), ['resource']),
        op: 'eq',
        operand: { ref: parseAttributePath('principal.id') },
      };
    case 'timeWindow':
      return { kind: 'time', test: compileTimeWindow(node['timeWindow'] as never) };
    case 'all':
    case 'any': {
      const kind = kinds[0];
      const branches = node[kind];
      if (!Array.isArray(branches) || branches.length === 0) malformed(`${kind} needs a non-empty list`);
      return { kind, children: branches.map((child: Condition) => describeNode(child, depth + 1)) };
    }
    default:
      return { kind: 'not', child: describeNode(node['not'] as Condition, depth + 1) };
  }
}

/**
 * Reads an attribute path from the principal (fixed), the resource or the context; `MISSING`
 * when the check did not supply it. Own properties only.
 *
 * @example
 * ```ts
 * readAttribute(parseAttributePath('resource.ownerId'), principal, { ownerId: 'u1' }, undefined); // 'u1'
 * ```
 */
export function readAttribute(
  path: AttributePath,
  principal: RbacPrincipal,
  resource: ResourceAttributes | undefined,
  context: ConditionContext | undefined,
): unknown {
  if (path.root === 'resource') return resource === undefined ? MISSING : readOwnPath(resource, path.keys);
  if (path.root === 'context') return context === undefined ? MISSING : readOwnPath(context, path.keys);
  return readOwnPath(principal, path.keys);
}

/**
 * The instant time windows are checked at: the clock given at compile time, never the request
 * context (an app that builds the context from request data would let the client pick the
 * time); `undefined` without a clock or when it returns something other than a finite number
 * (the window is then unknown).
 *
 * @example
 * ```ts
 * checkInstant(createManualClock(1767225600000)); // 1767225600000
 * checkInstant(undefined); // undefined
 * ```
 */
export function checkInstant(clock: Clock | undefined): number | undefined {
  if (clock === undefined) return undefined;
  const now = clock.now();
  return typeof now === 'number' && Number.isFinite(now) ? now : undefined;
}

function compileNode(node: ConditionNode, environment: ConditionEnvironment): CompiledCondition {
  const { principal, clock } = environment;
  switch (node.kind) {
    case 'time': {
      const test = node.test;
      return (_resource, _context, missing) => {
        const now = checkInstant(clock);
        if (now === undefined) {
          missing?.push('clock');
          return 2;
        }
        return test(now) ? 1 : 0;
      };
    }
    case 'not': {
      const child = compileNode(node.child, environment);
      return (resource, context, missing) => {
        const truth = child(resource, context, missing);
        return truth === 2 ? 2 : truth === 1 ? 0 : 1;
      };
    }
    case 'all':
    case 'any': {
      const children = node.children.map((child) => compileNode(child, environment));
      const decisive: Truth = node.kind === 'all' ? 0 : 1;
      return (resource, context, missing) => {
        let unknown = false;
        for (let index = 0; index < children.length; index += 1) {
          const truth = (children[index] as CompiledCondition)(resource, context, missing);
          if (truth === decisive) return decisive;
          if (truth === 2) unknown = true;
        }
        return unknown ? 2 : decisive === 0 ? 1 : 0;
      };
    }
    case 'field': {
      const { path, op, operand } = node;
      // Principal values are fixed for the compiled matcher, so read them once.
      const fixedActual = path.root === 'principal' ? readOwnPath(principal, path.keys) : undefined;
      let constant: unknown = 'value' in operand ? operand.value : undefined;
      let constantUsable = 'value' in operand ? usableOperand(op, operand.value) : true;
      const ref = 'ref' in operand ? operand.ref : null;
      if (ref !== null && ref.root === 'principal') {
        constant = readOwnPath(principal, ref.keys);
        constantUsable = constant !== MISSING && usableOperand(op, constant);
      }
      const refAtCheck = ref !== null && ref.root === 'context' ? ref : null;
      return (resource, context, missing) => {
        let expected = constant;
        let usable = constantUsable;
        let unknown = false;
        if (refAtCheck !== null) {
          expected = context === undefined ? MISSING : readOwnPath(context, refAtCheck.keys);
          usable = expected !== MISSING && usableOperand(op, expected);
        }
        if (!usable) {
          missing?.push((ref as AttributePath | null)?.source ?? path.source);
          unknown = true;
        }
        const actual = path.root === 'principal' ? fixedActual : readAttribute(path, principal, resource, context);
        if (op === 'exists') {
          const rootMissing = (path.root === 'resource' && resource === undefined) || (path.root === 'context' && context === undefined);
          if (rootMissing) {
            missing?.push(path.source);
            return 2;
          }
          return unknown ? 2 : (actual !== MISSING) === expected ? 1 : 0;
        }
        if (actual === MISSING) {
          missing?.push(path.source);
          return 2;
        }
        if (unknown) return 2;
        const truth = compareAttribute(op, actual, expected);
        if (truth === 2) missing?.push(path.source);
        return truth;
      };
    }
  }
}

/**
 * Compiles a condition into a closure (never `eval`): three-valued, short-circuiting, reading
 * own properties only. Principal values and references are resolved once here.
 *
 * @throws `CONDITION_INVALID` for a malformed condition.
 * @example
 * ```ts
 * const test = compileCondition({ field: 'resource.status', op: 'eq', value: 'published' }, { principal });
 * test({ status: 'draft' }, undefined, null); // 0
 * ```
 */
export function compileCondition(condition: Condition, environment: ConditionEnvironment): CompiledCondition {
  return compileNode(describeNode(condition), environment);
}
