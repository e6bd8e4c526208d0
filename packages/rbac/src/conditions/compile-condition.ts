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
 * time) and the clock time windows use when the context carries no `now`.
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

function isScalar(value: unknown): value is string | number | boolean | null {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/**
 * Whether `value` can stand on the right of `op` (after a reference was resolved). A resolved
 * reference that cannot makes the leaf unknown, which fails closed.
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
      return Array.isArray(value) && value.every((item) => item !== null && isScalar(item));
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      return typeof value === 'string' || (typeof value === 'number' && !Number.isNaN(value));
    case 'exists':
      return typeof value === 'boolean';
    default:
      return isScalar(value);
  }
}

/**
 * Compares an attribute that is present with a usable operand. Values of the wrong type never
 * match (`lt` between a string and a number is false), as in SQL and MongoDB filters.
 *
 * @example
 * ```ts
 * compareAttribute('lt', 3, 5); // true
 * compareAttribute('contains', ['a', 'b'], 'b'); // true
 * ```
 */
export function compareAttribute(op: Exclude<ConditionOperator, 'exists'>, actual: unknown, expected: unknown): boolean {
  switch (op) {
    case 'eq':
      return isScalar(actual) && actual === expected;
    case 'ne':
      return !(isScalar(actual) && actual === expected);
    case 'in':
      return isScalar(actual) && (expected as readonly unknown[]).includes(actual);
    case 'nin':
      return !(isScalar(actual) && (expected as readonly unknown[]).includes(actual));
    case 'contains':
      return Array.isArray(actual) && actual.includes(expected);
    default: {
      if (typeof actual !== typeof expected || (typeof actual !== 'number' && typeof actual !== 'string')) return false;
      const a = actual as number | string;
      const b = expected as number | string;
      if (op === 'lt') return a < b;
      if (op === 'lte') return a <= b;
      if (op === 'gt') return a > b;
      return a >= b;
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
 * The instant time windows are checked at: `context.now` (epoch ms) when the context has it,
 * else the clock; `undefined` when neither is usable (the window is then unknown).
 *
 * @example
 * ```ts
 * checkInstant({ now: 1767225600000 }, undefined); // 1767225600000
 * ```
 */
export function checkInstant(context: ConditionContext | undefined, clock: Clock | undefined): number | undefined {
  if (context !== undefined && typeof context === 'object' && context !== null && hasOwn.call(context, 'now')) {
    const now = (context as Record<string, unknown>)['now'];
    return typeof now === 'number' && Number.isFinite(now) ? now : undefined;
  }
  return clock === undefined ? undefined : clock.now();
}

function compileNode(node: ConditionNode, environment: ConditionEnvironment): CompiledCondition {
  const { principal, clock } = environment;
  switch (node.kind) {
    case 'time': {
      const test = node.test;
      return (_resource, context, missing) => {
        const now = checkInstant(context, clock);
        if (now === undefined) {
          missing?.push('context.now');
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
        return compareAttribute(op, actual, expected) ? 1 : 0;
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
