import type { QueryConditions, ResourceCondition } from '../compiler/compiled-permissions.js';
import { RbacError } from '../errors.js';

/*
 * The backend-neutral half of the query filters. A reduced condition is three-valued: a leaf
 * over an attribute the row does not have (a missing field, a SQL NULL) is unknown, `not` keeps
 * unknown unknown, and unknown fails closed (an allow does not apply, a deny does). SQL's
 * three-valued logic gets `ne`, `nin` and `not` subtly different, and MongoDB's `$ne`/`$nin`
 * match missing fields, so neither backend is trusted with negation. Instead every node is
 * compiled into two two-valued predicates, `whenTrue` ("the node is definitely true") and
 * `whenFalse` ("definitely false"): `not` swaps them, and a row passes
 * `OR(allow.whenTrue) AND AND(deny.whenFalse)`. Negation never reaches a backend except as a
 * negated operator on a field that is also required to be present.
 *
 * Every leaf predicate a backend renders may only be narrower than its definition (never
 * wider): the final filter is monotone in its leaves, so a narrower leaf can only drop rows.
 * SQL needs that: a NULL column may stand for a missing attribute or for a `null` value, so a
 * leaf over a NULL column is rendered as neither definitely true nor definitely false.
 */

/**
 * A test on one attribute that a backend renders, in the in-memory check's terms: an attribute
 * is missing when the record has no such key, and `null` is a value.
 *
 * - `present` / `missing`: the attribute is there (any value, `null` included) / is not.
 * - `eq` (value or `null`), `in`, `lt`, `lte`, `gt`, `gte`, `contains`: the comparison is
 *   definitely true; with `negated`, definitely false. Like the in-memory check, a comparison
 *   is neither when the attribute is missing or its value has a type the operator cannot
 *   compare with the value: a string against a number, NaN or ±Infinity, an array or object
 *   for a scalar operator, `null` for an ordering, a non-array (or an element that is not
 *   comparable) for `contains`. `null` is comparable for `eq`/`in`. So unlike SQL's `<>` on
 *   NULL or MongoDB's `$ne`, a negated test never matches a missing or wrong-typed attribute.
 *   A negated `in` may have an empty list ("any comparable scalar").
 *
 * @example
 * ```ts
 * const test: AttributeTest = { op: 'in', value: ['archived', 'deleted'], negated: true };
 * ```
 */
export type AttributeTest =
  | { readonly op: 'present' }
  | { readonly op: 'missing' }
  | { readonly op: 'eq'; readonly value: string | number | boolean | null; readonly negated: boolean }
  | { readonly op: 'lt' | 'lte' | 'gt' | 'gte'; readonly value: string | number; readonly negated: boolean }
  | { readonly op: 'in'; readonly value: readonly (string | number | boolean)[]; readonly negated: boolean }
  | { readonly op: 'contains'; readonly value: string | number | boolean; readonly negated: boolean };

/**
 * A two-valued predicate over a row, the common input of the Kysely and MongoDB filter
 * renderers. Constants are folded away except at the root.
 *
 * @example
 * ```ts
 * const own: DefinitePredicate = { kind: 'test', field: 'resource.ownerId', test: { op: 'eq', value: 'usr_1', negated: false } };
 * ```
 */
export type DefinitePredicate =
  | { readonly kind: 'constant'; readonly value: boolean }
  | { readonly kind: 'and' | 'or'; readonly operands: readonly DefinitePredicate[] }
  | { readonly kind: 'test'; readonly field: string; readonly test: AttributeTest };

/** Conditions nest at most this deep; deeper input is refused rather than recursed into. */
const maxConditionDepth = 64;

const forbiddenPathSegments: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const trueConstant: DefinitePredicate = Object.freeze({ kind: 'constant', value: true });
const falseConstant: DefinitePredicate = Object.freeze({ kind: 'constant', value: false });

function invalid(message: string): RbacError {
  return new RbacError('CONDITION_INVALID', `Invalid query condition: ${message}`);
}

/**
 * The error every filter throws for a condition it cannot translate faithfully.
 *
 * @example
 * ```ts
 * throw filterUnsupported('resource.tags', 'contains needs an array column');
 * ```
 */
export function filterUnsupported(field: string, message: string): RbacError {
  return new RbacError('FILTER_UNSUPPORTED', `Cannot filter on ${field}: ${message}`, { details: { field } });
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

function assertResourceField(field: unknown): asserts field is string {
  if (typeof field !== 'string' || !field.startsWith('resource.')) {
    throw invalid('a reduced condition may only name resource.* fields');
  }
  const segments = field.slice('resource.'.length).split('.');
  for (const segment of segments) {
    if (segment === '' || forbiddenPathSegments.has(segment)) throw invalid(`the field path ${JSON.stringify(field)} is not allowed`);
  }
}

/**
 * AND of operands with constants folded: any `false` makes it `false`, `true`s drop out.
 *
 * @example
 * ```ts
 * andPredicates([trueConstant, own]); // own
 * ```
 */
export function andPredicates(operands: readonly DefinitePredicate[]): DefinitePredicate {
  const kept: DefinitePredicate[] = [];
  for (const operand of operands) {
    if (operand.kind === 'constant') {
      if (!operand.value) return falseConstant;
      continue;
    }
    if (operand.kind === 'and') kept.push(...operand.operands);
    else kept.push(operand);
  }
  if (kept.length === 0) return trueConstant;
  return kept.length === 1 ? (kept[0] as DefinitePredicate) : { kind: 'and', operands: kept };
}

/**
 * OR of operands with constants folded: any `true` makes it `true`, `false`s drop out.
 *
 * @example
 * ```ts
 * orPredicates([]); // { kind: 'constant', value: false }
 * ```
 */
export function orPredicates(operands: readonly DefinitePredicate[]): DefinitePredicate {
  const kept: DefinitePredicate[] = [];
  for (const operand of operands) {
    if (operand.kind === 'constant') {
      if (operand.value) return trueConstant;
      continue;
    }
    if (operand.kind === 'or') kept.push(...operand.operands);
    else kept.push(operand);
  }
  if (kept.length === 0) return falseConstant;
  return kept.length === 1 ? (kept[0] as DefinitePredicate) : { kind: 'or', operands: kept };
}

function test(field: string, attributeTest: AttributeTest): DefinitePredicate {
  return { kind: 'test', field, test: attributeTest };
}

/** The `whenTrue` (polarity true) or `whenFalse` (polarity false) predicate of a leaf. */
function leafPredicate(condition: Record<string, unknown>, polarity: boolean): DefinitePredicate {
  const { field, op, value } = condition;
  assertResourceField(field);
  switch (op) {
    case 'exists': {
      if (typeof value !== 'boolean') throw invalid('exists takes true or false');
      // Two-valued: presence is always known.
      return test(field, { op: value === polarity ? 'present' : 'missing' });
    }
    case 'eq':
    case 'ne': {
      if (value !== null && !isScalar(value)) throw invalid(`${op} takes a string, a finite number, a boolean or null`);
      return test(field, { op: 'eq', value, negated: (op === 'eq') !== polarity });
    }
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte': {
      if (value !== null && !isScalar(value)) throw invalid(`${op} takes a string, a finite number, a boolean or null`);
      // The in-memory check cannot order by a boolean or null: such a leaf is unknown for every
      // row, neither definitely true nor definitely false.
      if (typeof value !== 'string' && typeof value !== 'number') return falseConstant;
      return test(field, { op, value, negated: !polarity });
    }
    case 'in':
    case 'nin': {
      if (!Array.isArray(value) || !value.every(isScalar)) throw invalid(`${op} takes a list of strings, finite numbers and booleans`);
      const negated = (op === 'in') !== polarity;
      // Nothing is in the empty list; "not in it" still needs a comparable value (not an array).
      if (value.length === 0 && !negated) return falseConstant;
      return test(field, { op: 'in', value: [...value], negated });
    }
    case 'contains': {
      if (value === null) throw filterUnsupported(field, 'contains null cannot be filtered faithfully (SQL arrays compare NULL as unknown)');
      if (!isScalar(value)) throw invalid('contains takes a string, a finite number or a boolean');
      return test(field, { op: 'contains', value, negated: !polarity });
    }
    default:
      throw invalid(`unknown operator ${JSON.stringify(op)}`);
  }
}

function nodePredicate(condition: ResourceCondition, polarity: boolean, depth: number): DefinitePredicate {
  if (depth > maxConditionDepth) throw invalid(`conditions nest deeper than ${maxConditionDepth} levels`);
  if (typeof condition === 'boolean') return condition === polarity ? trueConstant : falseConstant;
  if (typeof condition !== 'object' || condition === null || Array.isArray(condition)) throw invalid('a node must be an object or a boolean');
  const node = condition as Record<string, unknown>;
  const keys = Object.keys(node);
  if (Object.hasOwn(node, 'field')) {
    if (keys.some((key) => key !== 'field' && key !== 'op' && key !== 'value')) throw invalid('a field node has field, op and value only');
    return leafPredicate(node, polarity);
  }
  if (keys.length !== 1) throw invalid('a node has exactly one of field, all, any, not');
  if (Object.hasOwn(node, 'not')) return nodePredicate(node.not as ResourceCondition, !polarity, depth + 1);
  const isAll = Object.hasOwn(node, 'all');
  if (!isAll && !Object.hasOwn(node, 'any')) throw invalid(`unknown node ${JSON.stringify(keys[0])}`);
  const operands = isAll ? node.all : node.any;
  if (!Array.isArray(operands)) throw invalid('all and any take a list');
  const compiled = (operands as ResourceCondition[]).map((operand) => nodePredicate(operand, polarity, depth + 1));
  // De Morgan: definitely true for `all` needs every operand definitely true; definitely false
  // needs one operand definitely false (and the other way round for `any`).
  return isAll === polarity ? andPredicates(compiled) : orPredicates(compiled);
}

/**
 * The predicate that is true exactly when `condition` is definitely true (`polarity: true`) or
 * definitely false (`polarity: false`) for a row, under fail-closed three-valued logic.
 *
 * @throws RbacError `CONDITION_INVALID` for a malformed node or a non-`resource.*` field,
 *   `FILTER_UNSUPPORTED` for `contains null`.
 *
 * @example
 * ```ts
 * definitePredicate({ not: { field: 'resource.status', op: 'eq', value: 'draft' } }, true);
 * // { kind: 'test', field: 'resource.status', test: { op: 'eq', value: 'draft', negated: true } }
 * ```
 */
export function definitePredicate(condition: ResourceCondition, polarity: boolean): DefinitePredicate {
  return nodePredicate(condition, polarity, 0);
}

/**
 * The predicate of the rows a principal may act on: some allow definitely true, and every deny
 * definitely false (a deny that is true or unknown for a row removes it).
 *
 * @throws RbacError `CONDITION_INVALID` for a malformed query, `FILTER_UNSUPPORTED` as
 *   {@link definitePredicate}.
 *
 * @example
 * ```ts
 * queryConditionsPredicate({ kind: 'none' }); // { kind: 'constant', value: false }
 * ```
 */
export function queryConditionsPredicate(query: QueryConditions): DefinitePredicate {
  if (typeof query !== 'object' || query === null) throw invalid('expected QueryConditions');
  switch (query.kind) {
    case 'all':
      return trueConstant;
    case 'none':
      return falseConstant;
    case 'some': {
      if (!Array.isArray(query.allow) || !Array.isArray(query.deny)) throw invalid('some needs allow and deny lists');
      return andPredicates([
        orPredicates(query.allow.map((condition) => definitePredicate(condition, true))),
        ...query.deny.map((condition) => definitePredicate(condition, false)),
      ]);
    }
    default:
      throw invalid(`unknown kind ${JSON.stringify((query as { kind?: unknown }).kind)}`);
  }
}

/**
 * Every `resource.*` field the conditions of a query name, with the operators used on it —
 * including leaves that constant folding removed, so that a filter refuses an unmapped field
 * whatever else the condition says. Call it after {@link queryConditionsPredicate} validated
 * the query.
 *
 * @example
 * ```ts
 * queryConditionFields({ kind: 'some', allow: [{ field: 'resource.tags', op: 'contains', value: 'x' }], deny: [] });
 * // Map { 'resource.tags' => Set { 'contains' } }
 * ```
 */
export function queryConditionFields(query: QueryConditions): Map<string, Set<string>> {
  const fields = new Map<string, Set<string>>();
  const visit = (condition: ResourceCondition): void => {
    if (typeof condition === 'boolean') return;
    if ('field' in condition) {
      const operators = fields.get(condition.field) ?? new Set<string>();
      operators.add(condition.op);
      fields.set(condition.field, operators);
    } else if ('not' in condition) visit(condition.not);
    else if ('all' in condition) condition.all.forEach(visit);
    else condition.any.forEach(visit);
  };
  if (query.kind === 'some') {
    query.allow.forEach(visit);
    query.deny.forEach(visit);
  }
  return fields;
}
