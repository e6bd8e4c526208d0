import { createManualClock } from '@tenantkit/core';
import { describe, expect, it } from 'vitest';
import { evaluateCondition, reduceCondition, type Condition, type RbacPrincipal, type ResourceCondition } from '../../src/index.js';
import { evaluateReference } from '../filters/condition-reference.js';

const principal: RbacPrincipal = { id: 'usr_1', attributes: { department: 'sales', levels: [1, 2] } };
const leaf = (field: string, op: string, value: unknown) => ({ field, op, value }) as Condition;

// A reduced condition is read as the filters read it: three-valued, like the engine (a leaf on a
// missing or wrong-typed field is unknown); an allow selects rows where it is true, a deny removes
// rows where it is not false.
function allowMatches(condition: ResourceCondition, row: Record<string, unknown>): boolean {
  return evaluateReference(condition, row) === true;
}

function denyMatches(condition: ResourceCondition, row: Record<string, unknown>): boolean {
  return evaluateReference(condition, row) !== false;
}

describe('reduceCondition', () => {
  it('replaces principal references with constants', () => {
    expect(reduceCondition({ self: 'resource.ownerId' }, { principal }, 'allow')).toEqual({ field: 'resource.ownerId', op: 'eq', value: 'usr_1' });
    expect(reduceCondition(leaf('resource.level', 'in', { ref: 'principal.attributes.levels' }), { principal }, 'allow')).toEqual({
      field: 'resource.level',
      op: 'in',
      value: [1, 2],
    });
  });

  it('replaces context references and decides principal/context comparisons', () => {
    expect(reduceCondition(leaf('resource.region', 'eq', { ref: 'context.region' }), { principal, context: { region: 'eu' } }, 'allow')).toEqual({
      field: 'resource.region',
      op: 'eq',
      value: 'eu',
    });
    expect(reduceCondition(leaf('principal.attributes.department', 'eq', 'sales'), { principal }, 'allow')).toBe(true);
    expect(reduceCondition(leaf('principal.attributes.department', 'eq', 'hr'), { principal }, 'allow')).toBe(false);
    expect(
      reduceCondition({ all: [leaf('principal.attributes.department', 'eq', 'sales'), { self: 'resource.ownerId' }] }, { principal }, 'allow'),
    ).toEqual({ field: 'resource.ownerId', op: 'eq', value: 'usr_1' });
    expect(reduceCondition({ any: [leaf('principal.attributes.department', 'eq', 'sales'), { self: 'resource.ownerId' }] }, { principal }, 'allow')).toBe(true);
  });

  describe('fails closed on values the principal or context lack', () => {
    const needsIp = leaf('context.ip', 'eq', '10.0.0.1');
    const needsRegion = leaf('resource.region', 'eq', { ref: 'context.region' });

    it('an unknown allow leaf is false, an unknown deny leaf is true', () => {
      expect(reduceCondition(needsIp, { principal }, 'allow')).toBe(false);
      expect(reduceCondition(needsIp, { principal }, 'deny')).toBe(true);
      expect(reduceCondition(needsRegion, { principal }, 'allow')).toBe(false);
      expect(reduceCondition(needsRegion, { principal }, 'deny')).toBe(true);
    });

    it('under not, still: the allow does not apply, the deny does', () => {
      expect(reduceCondition({ not: needsIp }, { principal }, 'allow')).toBe(false);
      expect(reduceCondition({ not: needsIp }, { principal }, 'deny')).toBe(true);
      expect(reduceCondition({ not: { not: needsIp } }, { principal }, 'allow')).toBe(false);
      // not(all[unknown, owner]) is surely true only on rows that surely fail the owner check.
      expect(reduceCondition({ not: { all: [needsIp, { self: 'resource.ownerId' }] } }, { principal }, 'allow')).toEqual({
        all: [
          { not: { field: 'resource.ownerId', op: 'eq', value: 'usr_1' } },
          { field: 'resource.ownerId', op: 'exists', value: true },
        ],
      });
      expect(reduceCondition({ not: { all: [needsIp, { self: 'resource.ownerId' }] } }, { principal }, 'deny')).toBe(true);
    });

    it('mixed with resource fields', () => {
      const condition: Condition = { any: [needsIp, { self: 'resource.ownerId' }] };
      expect(reduceCondition(condition, { principal }, 'allow')).toEqual({ field: 'resource.ownerId', op: 'eq', value: 'usr_1' });
      expect(reduceCondition(condition, { principal }, 'deny')).toBe(true);
    });

    it('a time window without a clock is unknown; context.now is ignored', () => {
      const window: Condition = { timeWindow: { fromTime: '09:00', toTime: '17:00' } };
      expect(reduceCondition(window, { principal }, 'allow')).toBe(false);
      expect(reduceCondition(window, { principal }, 'deny')).toBe(true);
      const clock = createManualClock(Date.parse('2026-01-05T10:00:00Z'));
      expect(reduceCondition(window, { principal, clock }, 'allow')).toBe(true);
      expect(reduceCondition(window, { principal, context: { now: Date.parse('2026-01-05T20:00:00Z') }, clock }, 'allow')).toBe(true);
      expect(reduceCondition(window, { principal, context: { now: Date.parse('2026-01-05T10:00:00Z') } }, 'deny')).toBe(true);
      expect(reduceCondition(window, { principal, clock: createManualClock(Date.parse('2026-01-05T20:00:00Z')) }, 'deny')).toBe(false);
    });
  });

  it('a deny also covers rows that lack the field it reads; an allow under not requires the field', () => {
    const archived = leaf('resource.status', 'eq', 'archived');
    expect(reduceCondition(archived, { principal }, 'deny')).toEqual({
      any: [
        { field: 'resource.status', op: 'eq', value: 'archived' },
        { field: 'resource.status', op: 'exists', value: false },
      ],
    });
    expect(reduceCondition({ not: archived }, { principal }, 'allow')).toEqual({
      all: [{ not: { field: 'resource.status', op: 'eq', value: 'archived' } }, { field: 'resource.status', op: 'exists', value: true }],
    });
    expect(reduceCondition({ not: archived }, { principal }, 'deny')).toEqual({ not: { field: 'resource.status', op: 'eq', value: 'archived' } });
  });

  // The reduced form must decide each row exactly as can() would: an allow matches where the
  // condition is true, a deny where it is true or unknown.
  const rows: Record<string, unknown>[] = [
    {},
    { status: 'archived' },
    { status: 'draft' },
    { ownerId: 'usr_1' },
    { ownerId: 'usr_2', status: 'draft' },
    { ownerId: 'usr_1', status: 'archived' },
    { level: 1 },
    { level: 3, ownerId: 'usr_1' },
    // Wrong types: every leaf on them is unknown.
    { status: ['archived'], ownerId: 5 },
    { level: '3', ownerId: ['usr_1'] },
    { level: Number.NaN, status: null, ownerId: null },
  ];
  const conditions: Condition[] = [
    { self: 'resource.ownerId' },
    { not: { self: 'resource.ownerId' } },
    { all: [{ self: 'resource.ownerId' }, { not: leaf('resource.status', 'eq', 'archived') }] },
    { any: [{ not: leaf('resource.status', 'ne', 'draft') }, leaf('resource.level', 'in', { ref: 'principal.attributes.levels' })] },
    { not: { any: [leaf('resource.level', 'gt', 2), { not: leaf('resource.ownerId', 'exists', true) }] } },
    { all: [leaf('context.ip', 'eq', '1'), { self: 'resource.ownerId' }] },
    { not: { all: [leaf('context.ip', 'eq', '1'), { self: 'resource.ownerId' }] } },
  ];
  it.each(conditions.map((c) => [JSON.stringify(c), c] as const))('agrees with evaluateCondition row by row: %s', (_label, condition) => {
    for (const row of rows) {
      const outcome = evaluateCondition(condition, { principal, resource: row }).outcome;
      expect(allowMatches(reduceCondition(condition, { principal }, 'allow'), row)).toBe(outcome === true);
      expect(denyMatches(reduceCondition(condition, { principal }, 'deny'), row)).toBe(outcome !== false);
    }
  });
});
