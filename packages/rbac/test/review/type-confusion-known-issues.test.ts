import { describe, expect, it } from 'vitest';
import type { Condition, FieldCondition } from '../../src/index.js';
import { evaluateCondition } from '../../src/index.js';
import { mongoPermissionFilter } from '../../src/filters/mongo-permission-filter.js';
import { compile, grant, role, rolesOf } from '../compiler/fixtures.js';
import { matchesMongoFilter } from '../filters/mongo-query-matcher.js';

/*
 * Review of issue 4 (helper J), fixed by helper K: a comparison between values of types the
 * operator cannot compare (a numeric string against a number, NaN, ±Infinity, an array or
 * object for a scalar operator, a Date, a bigint, booleans or null for an ordering, a
 * non-array for `contains`) is *unknown*, never false (or, for ne/nin, true), so an allow does
 * not apply and a deny does. Postgres `numeric`/`bigint` columns arrive in JavaScript as
 * strings, so `amount gt 1000` on `{ amount: '5000.00' }` is the realistic case.
 */

function deny(condition: Condition) {
  return compile(rolesOf(role({ key: 'r', permissions: ['invoices:*', { permission: 'invoices:approve', effect: 'deny', condition }] })), [grant('r')]);
}

function allow(condition: Condition) {
  return compile(rolesOf(role({ key: 'r', permissions: [{ permission: 'docs:read', condition }] })), [grant('r')]);
}

describe('review: type confusion fails closed (the five reported cases)', () => {
  it('a deny on amount gt 1000 applies to a numeric string amount', () => {
    expect(deny({ field: 'resource.amount', op: 'gt', value: 1000 }).can('invoices:approve', { amount: '5000.00' })).toBe(false);
    expect(deny({ field: 'resource.amount', op: 'gt', value: 1000 }).can('invoices:approve', { amount: 5000 })).toBe(false);
    expect(deny({ field: 'resource.amount', op: 'gt', value: 1000 }).can('invoices:approve', { amount: 10 })).toBe(true);
  });

  it('a deny on an ordering comparison applies to a NaN or a Date', () => {
    expect(deny({ field: 'resource.amount', op: 'gte', value: 1000 }).can('invoices:approve', { amount: Number.NaN })).toBe(false);
    expect(deny({ field: 'resource.dueAt', op: 'lt', value: '2026-01-01T00:00:00Z' }).can('invoices:approve', { dueAt: new Date(0) })).toBe(false);
  });

  it('an allow on ne/nin does not apply to an array or object value', () => {
    expect(allow({ field: 'resource.classification', op: 'ne', value: 'secret' }).can('docs:read', { classification: ['secret'] })).toBe(false);
    expect(allow({ field: 'resource.classification', op: 'nin', value: ['secret'] }).can('docs:read', { classification: { level: 'secret' } })).toBe(false);
    expect(allow({ field: 'resource.classification', op: 'ne', value: 'secret' }).can('docs:read', { classification: 'public' })).toBe(true);
  });

  it('a deny on eq applies to an array holding the value', () => {
    expect(deny({ field: 'resource.status', op: 'eq', value: 'frozen' }).can('invoices:approve', { status: ['frozen'] })).toBe(false);
  });

  it('a deny on contains applies to a scalar equal to the value', () => {
    expect(deny({ field: 'resource.flags', op: 'contains', value: 'frozen' }).can('invoices:approve', { flags: 'frozen' })).toBe(false);
  });
});

const DATE = new Date('2026-01-01T00:00:00Z');

// Every operator with an operand, and attribute values whose type it cannot compare with it.
const MATRIX: readonly [FieldCondition['op'], FieldCondition['value'], readonly unknown[]][] = [
  ['eq', 'x', [5, Number.NaN, Infinity, true, ['x'], { v: 'x' }, DATE, 1n]],
  ['ne', 'x', [5, Number.NaN, -Infinity, false, ['x'], { v: 'x' }, DATE, 1n]],
  ['eq', 5000, ['5000', '5000.00', Number.NaN, Infinity, true, [5000], { v: 5000 }, DATE, 5000n]],
  ['ne', 5000, ['5000', Number.NaN, -Infinity, false, [5000], {}, DATE, 5000n]],
  ['eq', true, ['true', 1, 0, [true], {}, DATE]],
  ['ne', null, [Number.NaN, Infinity, [null], [], {}, DATE, 1n]],
  ['in', ['x', 'y'], [5, Number.NaN, true, ['x'], { x: 1 }, DATE, 1n]],
  ['nin', ['x', 'y'], [5, Infinity, false, ['x'], { x: 1 }, DATE, 1n]],
  ['in', [1, 2], ['1', Number.NaN, true, [1], {}, DATE, 1n]],
  ['nin', [1, 2], ['1', -Infinity, false, [1], {}, DATE, 2n]],
  ['lt', 1000, ['5', '5000.00', Number.NaN, Infinity, -Infinity, true, null, [5], {}, DATE, 5n]],
  ['lte', 1000, ['5', Number.NaN, -Infinity, false, null, [5], {}, DATE, 5n]],
  ['gt', 1000, ['5000.00', Number.NaN, Infinity, true, null, [5000], {}, DATE, 5000n]],
  ['gte', 1000, ['5000', Number.NaN, Infinity, false, null, [5000], {}, DATE, 5000n]],
  ['lt', '2026-01-01T00:00:00Z', [0, Number.NaN, true, null, ['2025'], {}, DATE, 1n]],
  ['gte', 'm', [5, Infinity, false, null, ['z'], { v: 'z' }, DATE]],
  ['contains', 'x', ['x', 'xyz', 5, true, null, { 0: 'x' }, DATE, ['y', 5], ['y', ['x']], ['y', {}], ['y', Number.NaN], ['y', DATE]]],
  ['contains', 5, [5, '5', ['5'], ['y'], [1, Infinity], [1, [5]], [true]]],
  ['contains', true, [true, 'true', [1], ['true'], [false, {}]]],
];

describe('review: every operator is undecided on a value of a foreign type', () => {
  const decided: Condition = { field: 'resource.known', op: 'eq', value: 1 };
  const show = (value: unknown): string =>
    typeof value === 'bigint' ? `${value}n` : value instanceof Date ? 'a Date' : typeof value === 'number' && !Number.isFinite(value) ? String(value) : JSON.stringify(value);
  const cases = MATRIX.flatMap(([op, value, actuals]) => actuals.map((actual) => ({ op, value, actual, name: `${op} ${show(value)} on ${show(actual)}` })));

  it.each(cases)('$name', ({ op, value, actual }) => {
    const leaf: Condition = { field: 'resource.a', op, value };
    const resource = { a: actual, known: 1 };
    // The leaf, its negation and compositions where it matters are all unknown.
    for (const condition of [leaf, { not: leaf }, { not: { not: leaf } }, { all: [leaf, decided] }, { any: [leaf, { not: decided }] }] as Condition[]) {
      expect(evaluateCondition(condition, { principal: { id: 'usr_1' }, resource })).toEqual({ outcome: 'unknown', missing: ['resource.a'] });
      // An allow does not apply, a deny does.
      expect(allow(condition).can('docs:read', resource)).toBe(false);
      expect(allow(condition).explain('docs:read', resource)).toMatchObject({ allowed: false, reason: 'missing-attributes', missing: ['resource.a'] });
      expect(deny(condition).can('invoices:approve', resource)).toBe(false);
      expect(deny(condition).explain('invoices:approve', resource)).toMatchObject({ allowed: false, reason: 'denied-by-rule' });
    }
    // all with a false branch is false, any with a true branch is true: unknown never wins those.
    expect(evaluateCondition({ all: [leaf, { not: decided }] }, { principal: { id: 'usr_1' }, resource }).outcome).toBe(false);
    expect(evaluateCondition({ any: [leaf, decided] }, { principal: { id: 'usr_1' }, resource }).outcome).toBe(true);
  });

  it.each(cases.filter(({ actual }) => typeof actual !== 'bigint'))('the Mongo filter agrees: $name', ({ op, value, actual }) => {
    const leaf: Condition = { field: 'resource.a', op, value };
    const document = { a: actual };
    for (const condition of [leaf, { not: leaf }, { any: [leaf, { field: 'resource.b', op: 'exists', value: true }] }] as Condition[]) {
      const allowQuery = allow(condition).queryConditions('docs:read');
      expect(matchesMongoFilter(document, mongoPermissionFilter(allowQuery))).toBe(false);
      const denyQuery = deny(condition).queryConditions('invoices:approve');
      expect(matchesMongoFilter(document, mongoPermissionFilter(denyQuery))).toBe(false);
    }
  });
});

describe('review: null is a value for equality, not for order', () => {
  const check = (condition: Condition, a: unknown) => evaluateCondition(condition, { principal: { id: 'usr_1' }, resource: { a } }).outcome;

  it('eq/ne/in/nin decide null against any scalar', () => {
    expect(check({ field: 'resource.a', op: 'eq', value: 'x' }, null)).toBe(false);
    expect(check({ field: 'resource.a', op: 'ne', value: 'x' }, null)).toBe(true);
    expect(check({ field: 'resource.a', op: 'eq', value: null }, null)).toBe(true);
    expect(check({ field: 'resource.a', op: 'ne', value: null }, 'x')).toBe(true);
    expect(check({ field: 'resource.a', op: 'ne', value: null }, 5)).toBe(true);
    expect(check({ field: 'resource.a', op: 'eq', value: null }, false)).toBe(false);
    expect(check({ field: 'resource.a', op: 'in', value: [1] }, null)).toBe(false);
    expect(check({ field: 'resource.a', op: 'nin', value: ['x'] }, null)).toBe(true);
    expect(check({ field: 'resource.a', op: 'contains', value: 'x' }, ['y', null])).toBe(false);
    expect(check({ field: 'resource.a', op: 'contains', value: null }, ['y', null])).toBe(true);
  });

  it('an ordering with null is unknown, and mixed lists decide the types they list', () => {
    expect(check({ field: 'resource.a', op: 'lt', value: 1 }, null)).toBe('unknown');
    expect(check({ field: 'resource.a', op: 'in', value: ['x', 1] }, 2)).toBe(false);
    expect(check({ field: 'resource.a', op: 'in', value: ['x', 1] }, 1)).toBe(true);
    expect(check({ field: 'resource.a', op: 'nin', value: ['x', 1] }, 'y')).toBe(true);
    expect(check({ field: 'resource.a', op: 'nin', value: ['x', 1] }, true)).toBe('unknown');
    expect(check({ field: 'resource.a', op: 'in', value: [] }, 'x')).toBe(false);
    expect(check({ field: 'resource.a', op: 'nin', value: [] }, 'x')).toBe(true);
    expect(check({ field: 'resource.a', op: 'nin', value: [] }, ['x'])).toBe('unknown');
  });

  it('a reference resolving to a non-finite number or a bigint is unusable, hence unknown', () => {
    const principal = { id: 'usr_1', attributes: { limit: Number.NaN, big: 10n as never } };
    const gt = (ref: string) => evaluateCondition({ field: 'resource.a', op: 'gt', value: { ref } }, { principal, resource: { a: 5 } }).outcome;
    expect(gt('principal.attributes.limit')).toBe('unknown');
    expect(gt('principal.attributes.big')).toBe('unknown');
    expect(evaluateCondition({ field: 'resource.a', op: 'eq', value: { ref: 'context.x' } }, { principal, resource: { a: 5 }, context: { x: Infinity } }).outcome).toBe(
      'unknown',
    );
  });
});
