import fc from 'fast-check';
import type { QueryConditions, ResourceCondition } from '../../src/compiler/compiled-permissions.js';

/*
 * The reference the filter tests compare databases with: a direct, deliberately naive
 * three-valued evaluation of reduced conditions over plain rows, written from the contract
 * (missing attribute ⇒ unknown; a value of a type the operator cannot compare with the operand
 * ⇒ unknown; `not` keeps unknown; an allow applies only when true, a deny whenever true or
 * unknown), independent of the filter code.
 *
 * `evaluateReference` reads rows the way the in-memory check reads resources: a key that is not
 * there is missing, `null` is a value. `evaluateReference(condition, row, 'sql')` reads them as a SQL filter must: a
 * NULL column may be either, so every leaf over one — `exists` included — is unknown.
 */

export type Truth = true | false | 'unknown';

export type ReferenceRow = Readonly<Record<string, unknown>> & { readonly id: number };

const missing = Symbol('missing');

function lookup(row: Readonly<Record<string, unknown>>, field: string): unknown {
  let current: unknown = row;
  for (const segment of field.slice('resource.'.length).split('.')) {
    if (typeof current !== 'object' || current === null || Array.isArray(current) || !Object.hasOwn(current, segment)) return missing;
    current = (current as Record<string, unknown>)[segment];
  }
  return current === undefined ? missing : current;
}

/**
 * The type of a value for comparison: `null`, `string`, `boolean`, `number` (finite only), or
 * `other` (arrays, objects, NaN, ±Infinity, Dates, bigints...), which nothing compares with.
 */
function comparisonType(value: unknown): 'null' | 'string' | 'boolean' | 'number' | 'other' {
  if (value === null) return 'null';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'number' && Number.isFinite(value)) return 'number';
  return 'other';
}

/** Equality, three-valued: `null` equals only `null` and differs from any scalar; other pairs need one type. */
function equal(actual: unknown, expected: string | number | boolean | null): Truth {
  const type = comparisonType(actual);
  if (type === 'other') return 'unknown';
  if (type === 'null' || expected === null) return actual === expected;
  return type === comparisonType(expected) ? actual === expected : 'unknown';
}

function negate(truth: Truth): Truth {
  return truth === 'unknown' ? 'unknown' : !truth;
}

/** Membership, three-valued: listed, or else decided when the value is null, the list empty or holding its type. */
function member(actual: unknown, list: readonly (string | number | boolean)[]): Truth {
  const type = comparisonType(actual);
  if (type === 'other') return 'unknown';
  if (list.includes(actual as string)) return true;
  if (type === 'null' || list.length === 0 || list.some((item) => comparisonType(item) === type)) return false;
  return 'unknown';
}

export type ReferenceModel = 'memory' | 'sql';

export function evaluateReference(condition: ResourceCondition, row: Readonly<Record<string, unknown>>, model: ReferenceModel = 'memory'): Truth {
  if (typeof condition === 'boolean') return condition;
  if ('not' in condition) {
    const inner = evaluateReference(condition.not, row, model);
    return inner === 'unknown' ? 'unknown' : !inner;
  }
  if ('all' in condition) {
    const results = condition.all.map((operand) => evaluateReference(operand, row, model));
    if (results.includes(false)) return false;
    return results.includes('unknown') ? 'unknown' : true;
  }
  if ('any' in condition) {
    const results = condition.any.map((operand) => evaluateReference(operand, row, model));
    if (results.includes(true)) return true;
    return results.includes('unknown') ? 'unknown' : false;
  }
  const actual = lookup(row, condition.field);
  if (model === 'sql' && actual === null) return 'unknown';
  if (condition.op === 'exists') return (actual !== missing) === condition.value;
  if (actual === missing) return 'unknown';
  switch (condition.op) {
    case 'eq':
      return equal(actual, condition.value);
    case 'ne':
      return negate(equal(actual, condition.value));
    case 'in':
      return member(actual, condition.value);
    case 'nin':
      return negate(member(actual, condition.value));
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte': {
      // Order is decided only between two finite numbers or two strings.
      const type = comparisonType(actual);
      if ((type !== 'number' && type !== 'string') || type !== comparisonType(condition.value)) return 'unknown';
      const left = actual as number | string;
      const right = condition.value as number | string;
      if (condition.op === 'lt') return left < right;
      if (condition.op === 'lte') return left <= right;
      if (condition.op === 'gt') return left > right;
      return left >= right;
    }
    case 'contains': {
      // Equality over the elements: one equal element decides, else one undecided one.
      if (!Array.isArray(actual)) return 'unknown';
      const results = actual.map((element: unknown) => equal(element, condition.value));
      if (results.includes(true)) return true;
      return results.includes('unknown') ? 'unknown' : false;
    }
  }
}

export function referenceVisible(query: QueryConditions, row: Readonly<Record<string, unknown>>, model: ReferenceModel = 'memory'): boolean {
  if (query.kind === 'all') return true;
  if (query.kind === 'none') return false;
  const allowed = query.allow.some((condition) => evaluateReference(condition, row, model) === true);
  const denied = query.deny.some((condition) => evaluateReference(condition, row, model) !== false);
  return allowed && !denied;
}

export function referenceIds(query: QueryConditions, rows: readonly ReferenceRow[], model: ReferenceModel = 'memory'): number[] {
  return rows.filter((row) => referenceVisible(query, row, model)).map((row) => row.id);
}

/** What the arbitraries may generate for one field. */
export interface FieldDomain {
  readonly field: string;
  readonly kind: 'string' | 'number' | 'boolean' | 'array';
  /** Values of the field's type (compared against; arrays: candidate elements). */
  readonly values: readonly (string | number | boolean)[];
}

function scalarLeaf(domain: FieldDomain): fc.Arbitrary<ResourceCondition> {
  const value = fc.constantFrom(...domain.values);
  const list = fc.uniqueArray(value, { maxLength: 3 });
  const { field } = domain;
  const leaves: fc.Arbitrary<ResourceCondition>[] = [
    fc.record({ field: fc.constant(field), op: fc.constantFrom('eq' as const, 'ne' as const), value: fc.oneof(value, fc.constant(null)) }),
    fc.record({ field: fc.constant(field), op: fc.constantFrom('in' as const, 'nin' as const), value: list }),
    fc.record({ field: fc.constant(field), op: fc.constant('exists' as const), value: fc.boolean() }),
  ];
  const ordering = fc.constantFrom('lt' as const, 'lte' as const, 'gt' as const, 'gte' as const);
  if (domain.kind === 'boolean') {
    // Order by a boolean or null is never decided: the filter folds these to a constant.
    leaves.push(fc.record({ field: fc.constant(field), op: ordering, value: fc.oneof(fc.boolean(), fc.constant(null)) }));
  } else {
    leaves.push(fc.record({ field: fc.constant(field), op: ordering, value: fc.oneof({ weight: 5, arbitrary: value }, { weight: 1, arbitrary: fc.constant(null) }) }));
  }
  return fc.oneof(...leaves);
}

function arrayLeaf(domain: FieldDomain): fc.Arbitrary<ResourceCondition> {
  return fc.oneof(
    fc.record({ field: fc.constant(domain.field), op: fc.constant('contains' as const), value: fc.constantFrom(...domain.values) }),
    fc.record({ field: fc.constant(domain.field), op: fc.constant('exists' as const), value: fc.boolean() }),
  );
}

export function resourceConditionArbitrary(domains: readonly FieldDomain[]): fc.Arbitrary<ResourceCondition> {
  const leaf = fc.oneof(
    { weight: 10, arbitrary: fc.oneof(...domains.map((domain) => (domain.kind === 'array' ? arrayLeaf(domain) : scalarLeaf(domain)))) },
    { weight: 1, arbitrary: fc.boolean() },
  );
  const { node } = fc.letrec<{ node: ResourceCondition }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.record({ all: fc.array(tie('node'), { maxLength: 3 }) }),
      fc.record({ any: fc.array(tie('node'), { maxLength: 3 }) }),
      fc.record({ not: tie('node') }),
    ),
  }));
  return node;
}

export function queryConditionsArbitrary(domains: readonly FieldDomain[]): fc.Arbitrary<QueryConditions> {
  const condition = resourceConditionArbitrary(domains);
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant({ kind: 'all' } as const) },
    { weight: 1, arbitrary: fc.constant({ kind: 'none' } as const) },
    {
      weight: 12,
      arbitrary: fc.record({
        kind: fc.constant('some' as const),
        allow: fc.array(condition, { minLength: 1, maxLength: 3 }),
        deny: fc.array(condition, { maxLength: 2 }),
      }),
    },
  );
}
