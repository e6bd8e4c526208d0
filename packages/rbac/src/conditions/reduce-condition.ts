import type { ResourceCondition } from '../compiler/compiled-permissions.js';
import type { RuleEffect } from '../rules/permission-rule.js';
import { MISSING } from './attribute-path.js';
import { checkInstant, compareAttribute, describeNode, readAttribute, usableOperand, type ConditionNode } from './compile-condition.js';
import type { Condition } from './condition.js';
import type { ConditionInput } from './evaluate-condition.js';

/**
 * Negates a reduced condition: constants fold, double negation cancels, `exists` flips, and
 * `all`/`any` are pushed through (De Morgan) so filters stay flat.
 *
 * @example
 * ```ts
 * negateResourceCondition({ not: { field: 'resource.a', op: 'eq', value: 1 } }); // { field: 'resource.a', op: 'eq', value: 1 }
 * negateResourceCondition({ field: 'resource.a', op: 'exists', value: false }); // { field: 'resource.a', op: 'exists', value: true }
 * ```
 */
export function negateResourceCondition(condition: ResourceCondition): ResourceCondition {
  if (typeof condition === 'boolean') return !condition;
  if ('not' in condition) return condition.not;
  if ('all' in condition) return joinResourceConditions('any', condition.all.map(negateResourceCondition));
  if ('any' in condition) return joinResourceConditions('all', condition.any.map(negateResourceCondition));
  if (condition.op === 'exists') return { field: condition.field, op: 'exists', value: !condition.value };
  return { not: condition };
}

/**
 * Joins reduced conditions with `all` or `any`, folding constants (`false` in an `all` makes it
 * `false`, `true` in an `any` makes it `true`), flattening nested joins of the same kind and
 * unwrapping single branches.
 *
 * @example
 * ```ts
 * joinResourceConditions('all', [true, { field: 'resource.a', op: 'eq', value: 1 }]); // the field leaf
 * ```
 */
export function joinResourceConditions(kind: 'all' | 'any', parts: readonly ResourceCondition[]): ResourceCondition {
  const absorbing = kind === 'any';
  const kept: ResourceCondition[] = [];
  for (const part of parts) {
    if (part === absorbing) return absorbing;
    if (part === !absorbing) continue;
    if (typeof part === 'object' && kind in part) kept.push(...(part as Record<string, readonly ResourceCondition[]>)[kind]!);
    else kept.push(part);
  }
  if (kept.length === 0) return !absorbing;
  if (kept.length === 1) return kept[0] as ResourceCondition;
  return kind === 'all' ? { all: kept } : { any: kept };
}

type Reduced = { readonly sure: ResourceCondition; readonly possible: ResourceCondition };

const UNKNOWN: Reduced = { sure: false, possible: true };
const TRUE: Reduced = { sure: true, possible: true };
const FALSE: Reduced = { sure: false, possible: false };

// Each node reduces to two two-valued conditions over resource fields: `sure` holds on rows
// where the node is definitely true, `possible` where it is true or unknown. An allow filters
// with `sure`, a deny with `possible`, and `not` swaps them, so a value the check lacks fails
// closed however deep under `not` it sits.
function reduceNode(node: ConditionNode, input: ConditionInput): Reduced {
  switch (node.kind) {
    case 'time': {
      const now = checkInstant(input.clock);
      if (now === undefined) return UNKNOWN;
      return node.test(now) ? TRUE : FALSE;
    }
    case 'not': {
      const child = reduceNode(node.child, input);
      return { sure: negateResourceCondition(child.possible), possible: negateResourceCondition(child.sure) };
    }
    case 'all':
    case 'any': {
      const children = node.children.map((child) => reduceNode(child, input));
      return {
        sure: joinResourceConditions(node.kind, children.map((child) => child.sure)),
        possible: joinResourceConditions(node.kind, children.map((child) => child.possible)),
      };
    }
    case 'field': {
      const { path, op, operand } = node;
      let expected: unknown;
      if ('ref' in operand) {
        expected = readAttribute(operand.ref, input.principal, undefined, input.context);
        if (expected === MISSING || !usableOperand(op, expected)) return UNKNOWN;
      } else {
        expected = operand.value;
        if (!usableOperand(op, expected)) return UNKNOWN;
      }
      if (path.root !== 'resource') {
        const actual = readAttribute(path, input.principal, undefined, input.context);
        if (op === 'exists') {
          if (path.root === 'context' && input.context === undefined) return UNKNOWN;
          return (actual !== MISSING) === expected ? TRUE : FALSE;
        }
        if (actual === MISSING) return UNKNOWN;
        const truth = compareAttribute(op, actual, expected);
        return truth === 2 ? UNKNOWN : truth === 1 ? TRUE : FALSE;
      }
      const leaf = { field: path.source, op, value: Array.isArray(expected) ? [...expected] : expected } as ResourceCondition;
      if (op === 'exists') return { sure: leaf, possible: leaf };
      // A row without the field makes the leaf unknown, which a deny must still cover.
      return { sure: leaf, possible: { any: [leaf, { field: path.source, op: 'exists', value: false }] } };
    }
  }
}

/**
 * Reduces a condition for a data query: principal and context references become constants,
 * principal and context comparisons and time windows are decided, and only `resource.*` leaves
 * remain. Values the principal or context lack fail closed for `effect`: for an allow the
 * result holds only where the condition is surely true (an unknown leaf counts as false), for a
 * deny wherever it is possibly true (an unknown leaf counts as true, and a row missing a field
 * the deny reads is covered too). `not` is accounted for.
 *
 * Leaves of the result are read as the engine reads them, three-valued: a leaf on a field the
 * row lacks, or whose value has a type the operator cannot compare with the operand (a numeric
 * string against a number, an array for `ne`), is unknown, except `exists`, which tests
 * presence. The query filters render them that way (an allow leaf only where surely true, a
 * deny leaf wherever it is not surely false). Time windows read `input.clock` only.
 *
 * @throws `CONDITION_INVALID` for a malformed condition.
 * @example
 * ```ts
 * reduceCondition({ self: 'resource.ownerId' }, { principal: { id: 'u1' } }, 'allow');
 * // { field: 'resource.ownerId', op: 'eq', value: 'u1' }
 * reduceCondition({ field: 'context.ip', op: 'eq', value: '10.0.0.1' }, { principal }, 'deny'); // true (no context: the deny applies)
 * ```
 */
export function reduceCondition(condition: Condition, input: ConditionInput, effect: RuleEffect): ResourceCondition {
  const reduced = reduceNode(describeNode(condition), input);
  return effect === 'allow' ? reduced.sure : reduced.possible;
}
