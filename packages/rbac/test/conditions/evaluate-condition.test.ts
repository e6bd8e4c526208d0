import { createManualClock } from '@tenantkit/core';
import { describe, expect, it } from 'vitest';
import { evaluateCondition, RbacError, type Condition, type ConditionInput, type RbacPrincipal } from '../../src/index.js';

const principal: RbacPrincipal = { id: 'usr_1', kind: 'user', attributes: { department: 'sales', levels: [1, 2], clearance: 3 } };
const evaluate = (condition: Condition, input: Partial<ConditionInput> = {}) => evaluateCondition(condition, { principal, ...input });
const leaf = (field: string, op: string, value: unknown) => ({ field, op, value }) as Condition;

describe('evaluateCondition: operators', () => {
  it.each<[string, unknown, unknown, boolean | 'unknown']>([
    ['eq', 'a', 'a', true],
    ['eq', 'a', 'b', false],
    ['eq', 1, '1', 'unknown'],
    ['eq', null, null, true],
    ['eq', null, 'x', false],
    ['eq', 'x', null, false],
    ['eq', { a: 1 }, 'x', 'unknown'],
    ['ne', 'a', 'b', true],
    ['ne', 'a', 'a', false],
    ['in', 'b', ['a', 'b'], true],
    ['in', 'c', ['a', 'b'], false],
    ['in', ['a'], ['a'], 'unknown'],
    ['in', null, ['a'], false],
    ['nin', 'c', ['a', 'b'], true],
    ['nin', 'a', ['a', 'b'], false],
    ['lt', 1, 2, true],
    ['lt', 2, 2, false],
    ['lte', 2, 2, true],
    ['gt', 3, 2, true],
    ['gte', 2, 3, false],
    ['lt', '2026-01-01', '2026-02-01', true],
    ['lt', '1', 2, 'unknown'],
    ['gt', null, 0, 'unknown'],
    ['contains', ['x', 'y'], 'y', true],
    ['contains', ['x', 'y'], 'z', false],
    ['contains', ['x', null], 'z', false],
    ['contains', ['x', 1], 'z', 'unknown'],
    ['contains', ['x', 1], 'x', true],
    ['contains', 'xyz', 'y', 'unknown'],
  ])('%s: %j vs %j is %s', (op, actual, expected, outcome) => {
    // An undecidable comparison names the attribute, like a missing one.
    expect(evaluate(leaf('resource.a', op, expected), { resource: { a: actual } })).toEqual({ outcome, missing: outcome === 'unknown' ? ['resource.a'] : [] });
  });

  it('exists tests presence; undefined counts as absent, null as present', () => {
    expect(evaluate(leaf('resource.a', 'exists', true), { resource: { a: null } }).outcome).toBe(true);
    expect(evaluate(leaf('resource.a', 'exists', true), { resource: { a: undefined } }).outcome).toBe(false);
    expect(evaluate(leaf('resource.a', 'exists', false), { resource: {} }).outcome).toBe(true);
    expect(evaluate(leaf('resource.a', 'exists', true), {})).toEqual({ outcome: 'unknown', missing: ['resource.a'] });
  });

  it('reads nested paths and never descends into arrays', () => {
    expect(evaluate(leaf('resource.meta.owner', 'eq', 'u'), { resource: { meta: { owner: 'u' } } }).outcome).toBe(true);
    expect(evaluate(leaf('resource.meta.length', 'eq', 1), { resource: { meta: ['x'] } }).outcome).toBe('unknown');
    expect(evaluate(leaf('resource.meta.owner', 'eq', 'u'), { resource: { meta: 'u' } }).outcome).toBe('unknown');
  });
});

describe('evaluateCondition: self and references', () => {
  it('self compares with the principal id', () => {
    expect(evaluate({ self: 'resource.ownerId' }, { resource: { ownerId: 'usr_1' } }).outcome).toBe(true);
    expect(evaluate({ self: 'resource.ownerId' }, { resource: { ownerId: 'usr_2' } }).outcome).toBe(false);
  });

  it('resolves principal attributes and context references', () => {
    expect(evaluate(leaf('resource.dept', 'eq', { ref: 'principal.attributes.department' }), { resource: { dept: 'sales' } }).outcome).toBe(true);
    expect(evaluate(leaf('resource.level', 'in', { ref: 'principal.attributes.levels' }), { resource: { level: 2 } }).outcome).toBe(true);
    expect(evaluate(leaf('resource.region', 'eq', { ref: 'context.region' }), { resource: { region: 'eu' }, context: { region: 'eu' } }).outcome).toBe(true);
    expect(evaluate(leaf('principal.attributes.clearance', 'gte', 3)).outcome).toBe(true);
    expect(evaluate(leaf('principal.kind', 'eq', 'user')).outcome).toBe(true);
    expect(evaluate(leaf('context.ip', 'in', ['10.0.0.1']), { context: { ip: '10.0.0.1' } }).outcome).toBe(true);
  });

  it('a reference the check lacks, or of an unusable type, is unknown', () => {
    expect(evaluate(leaf('resource.region', 'eq', { ref: 'context.region' }), { resource: { region: 'eu' } })).toEqual({
      outcome: 'unknown',
      missing: ['context.region'],
    });
    expect(evaluate(leaf('resource.team', 'eq', { ref: 'principal.attributes.team' }), { resource: { team: 't' } }).outcome).toBe('unknown');
    expect(evaluate(leaf('resource.level', 'in', { ref: 'principal.attributes.department' }), { resource: { level: 1 } }).outcome).toBe('unknown');
    expect(evaluate(leaf('resource.level', 'eq', { ref: 'principal.attributes.levels' }), { resource: { level: 1 } }).outcome).toBe('unknown');
  });
});

describe('evaluateCondition: three-valued logic (missing attributes fail closed)', () => {
  const owner: Condition = { self: 'resource.ownerId' };
  const isPublic = leaf('resource.visibility', 'eq', 'public');

  it('a missing attribute is unknown and reported', () => {
    expect(evaluate(owner, { resource: {} })).toEqual({ outcome: 'unknown', missing: ['resource.ownerId'] });
    expect(evaluate(owner)).toEqual({ outcome: 'unknown', missing: ['resource.ownerId'] });
    expect(evaluate(leaf('context.ip', 'eq', 'x'))).toEqual({ outcome: 'unknown', missing: ['context.ip'] });
  });

  it('not keeps unknown unknown', () => {
    expect(evaluate({ not: owner }, { resource: {} }).outcome).toBe('unknown');
    expect(evaluate({ not: { not: owner } }, { resource: {} }).outcome).toBe('unknown');
    expect(evaluate({ not: owner }, { resource: { ownerId: 'x' } }).outcome).toBe(true);
  });

  it('all: false beats unknown, unknown beats true', () => {
    expect(evaluate({ all: [owner, isPublic] }, { resource: { visibility: 'private' } }).outcome).toBe(false);
    expect(evaluate({ all: [owner, isPublic] }, { resource: { visibility: 'public' } }).outcome).toBe('unknown');
    expect(evaluate({ all: [owner, isPublic] }, { resource: { visibility: 'public', ownerId: 'usr_1' } }).outcome).toBe(true);
  });

  it('any: true beats unknown, unknown beats false', () => {
    expect(evaluate({ any: [owner, isPublic] }, { resource: { visibility: 'public' } }).outcome).toBe(true);
    expect(evaluate({ any: [owner, isPublic] }, { resource: { visibility: 'private' } })).toEqual({ outcome: 'unknown', missing: ['resource.ownerId'] });
    expect(evaluate({ any: [owner, isPublic] }, { resource: { visibility: 'private', ownerId: 'x' } }).outcome).toBe(false);
  });

  it('lists each missing path once', () => {
    expect(evaluate({ all: [owner, { not: owner }, leaf('context.ip', 'eq', 'x')] }).missing).toEqual(['resource.ownerId', 'context.ip']);
  });
});

describe('evaluateCondition: own properties only', () => {
  it('a __proto__ key in a parsed resource does not satisfy a condition', () => {
    const resource = JSON.parse('{"__proto__":{"ownerId":"usr_1","status":"published"}}');
    expect(evaluate({ self: 'resource.ownerId' }, { resource }).outcome).toBe('unknown');
    expect(evaluate(leaf('resource.status', 'eq', 'published'), { resource }).outcome).toBe('unknown');
  });

  it('an object literal __proto__ (a real prototype) is not read either', () => {
    const resource = { __proto__: { ownerId: 'usr_1' } } as unknown as Record<string, unknown>;
    expect(evaluate({ self: 'resource.ownerId' }, { resource }).outcome).toBe('unknown');
  });

  it('a polluted Object.prototype is not read', () => {
    const proto = Object.prototype as unknown as Record<string, unknown>;
    proto['ownerIdPolluted'] = 'usr_1';
    try {
      expect(evaluate({ self: 'resource.ownerIdPolluted' }, { resource: {} }).outcome).toBe('unknown');
      expect(evaluate(leaf('context.ownerIdPolluted', 'eq', 'usr_1'), { context: {} }).outcome).toBe('unknown');
      expect(evaluate(leaf('principal.attributes.ownerIdPolluted', 'eq', 'usr_1')).outcome).toBe('unknown');
    } finally {
      delete proto['ownerIdPolluted'];
    }
  });

  it('class instances expose only own fields', () => {
    class Doc {
      get ownerId() {
        return 'usr_1';
      }
    }
    expect(evaluate({ self: 'resource.ownerId' }, { resource: new Doc() as unknown as Record<string, unknown> }).outcome).toBe('unknown');
  });

  it('rejects forbidden paths even in unvalidated conditions', () => {
    expect(() => evaluate(leaf('resource.__proto__.x', 'eq', 1), { resource: {} })).toThrow(RbacError);
    expect(() => evaluate(leaf('resource.constructor', 'eq', 1), { resource: {} })).toThrow(/forbidden key/);
  });

  it('rejects malformed conditions with CONDITION_INVALID', () => {
    for (const bad of [{}, { field: 'resource.a', op: 'regex', value: 1 }, { all: [] }, { self: 'principal.id' }, null]) {
      try {
        evaluate(bad as unknown as Condition);
        expect.unreachable();
      } catch (err) {
        expect((err as RbacError).code).toBe('CONDITION_INVALID');
      }
    }
  });
});

describe('evaluateCondition: time windows', () => {
  // 2026-01-05 is a Monday. Windows read the clock only.
  const at = (iso: string) => ({ clock: createManualClock(Date.parse(iso)) });

  it('notBefore and notAfter are inclusive bounds', () => {
    const window: Condition = { timeWindow: { notBefore: '2026-01-01T00:00:00Z', notAfter: '2026-01-31T23:59:59Z' } };
    expect(evaluate(window, at('2025-12-31T23:59:59Z')).outcome).toBe(false);
    expect(evaluate(window, at('2026-01-01T00:00:00Z')).outcome).toBe(true);
    expect(evaluate(window, at('2026-01-31T23:59:59Z')).outcome).toBe(true);
    expect(evaluate(window, at('2026-02-01T00:00:00Z')).outcome).toBe(false);
  });

  it('uses the clock, and is unknown without one', () => {
    const window: Condition = { timeWindow: { notBefore: '2026-01-01T00:00:00Z' } };
    expect(evaluate(window, { clock: createManualClock(Date.parse('2026-06-01T00:00:00Z')) }).outcome).toBe(true);
    expect(evaluate(window, { clock: createManualClock(Date.parse('2025-06-01T00:00:00Z')) }).outcome).toBe(false);
    expect(evaluate(window)).toEqual({ outcome: 'unknown', missing: ['clock'] });
  });

  it('ignores context.now: the client cannot pick the time', () => {
    const window: Condition = { timeWindow: { notBefore: '2026-01-01T00:00:00Z' } };
    const clock = createManualClock(Date.parse('2030-01-01T00:00:00Z'));
    expect(evaluate(window, { clock, context: { now: Date.parse('2025-01-01T00:00:00Z') } }).outcome).toBe(true);
    expect(evaluate(window, { clock, context: { now: '2030-01-01' } }).outcome).toBe(true);
    expect(evaluate(window, { context: { now: Date.parse('2030-01-01T00:00:00Z') } }).outcome).toBe('unknown');
    const before = createManualClock(Date.parse('2025-01-01T00:00:00Z'));
    expect(evaluate(window, { clock: before, context: { now: Date.parse('2030-01-01T00:00:00Z') } }).outcome).toBe(false);
  });

  it('a clock that returns a non-finite instant leaves the window unknown', () => {
    const window: Condition = { timeWindow: { notBefore: '2026-01-01T00:00:00Z' } };
    expect(evaluate(window, { clock: { now: () => Number.NaN } }).outcome).toBe('unknown');
    expect(evaluate({ not: window }, { clock: { now: () => Infinity } }).outcome).toBe('unknown');
  });

  it('office hours: fromTime inclusive, toTime exclusive, days in UTC by default', () => {
    const window: Condition = { timeWindow: { daysOfWeek: [1, 2, 3, 4, 5], fromTime: '09:00', toTime: '17:00' } };
    expect(evaluate(window, at('2026-01-05T08:59:00Z')).outcome).toBe(false);
    expect(evaluate(window, at('2026-01-05T09:00:00Z')).outcome).toBe(true);
    expect(evaluate(window, at('2026-01-05T16:59:59Z')).outcome).toBe(true);
    expect(evaluate(window, at('2026-01-05T17:00:00Z')).outcome).toBe(false);
    expect(evaluate(window, at('2026-01-04T10:00:00Z')).outcome).toBe(false); // Sunday
  });

  it('reads days and times in the given time zone (including DST)', () => {
    const berlin: Condition = { timeWindow: { daysOfWeek: [1], fromTime: '09:00', toTime: '17:00', timeZone: 'Europe/Berlin' } };
    expect(evaluate(berlin, at('2026-01-05T08:30:00Z')).outcome).toBe(true); // 09:30 CET
    expect(evaluate(berlin, at('2026-01-05T16:30:00Z')).outcome).toBe(false); // 17:30 CET
    expect(evaluate(berlin, at('2026-07-06T07:30:00Z')).outcome).toBe(true); // 09:30 CEST (Monday)
    expect(evaluate(berlin, at('2026-07-06T06:30:00Z')).outcome).toBe(false); // 08:30 CEST
    const tokyo: Condition = { timeWindow: { daysOfWeek: [2], timeZone: 'Asia/Tokyo' } };
    expect(evaluate(tokyo, at('2026-01-05T16:00:00Z')).outcome).toBe(true); // Tuesday 01:00 in Tokyo, Monday in UTC
    expect(evaluate(tokyo, at('2026-01-05T14:00:00Z')).outcome).toBe(false); // Monday 23:00 in Tokyo
  });

  it('wraps past midnight; the part after midnight belongs to the day the window started', () => {
    const night: Condition = { timeWindow: { fromTime: '22:00', toTime: '06:00' } };
    expect(evaluate(night, at('2026-01-05T23:00:00Z')).outcome).toBe(true);
    expect(evaluate(night, at('2026-01-05T05:59:00Z')).outcome).toBe(true);
    expect(evaluate(night, at('2026-01-05T06:00:00Z')).outcome).toBe(false);
    expect(evaluate(night, at('2026-01-05T21:59:00Z')).outcome).toBe(false);
    const fridayNight: Condition = { timeWindow: { daysOfWeek: [5], fromTime: '22:00', toTime: '06:00' } };
    expect(evaluate(fridayNight, at('2026-01-09T23:00:00Z')).outcome).toBe(true); // Friday 23:00
    expect(evaluate(fridayNight, at('2026-01-10T02:00:00Z')).outcome).toBe(true); // Saturday 02:00
    expect(evaluate(fridayNight, at('2026-01-09T02:00:00Z')).outcome).toBe(false); // Friday 02:00 (Thursday's night)
    expect(evaluate(fridayNight, at('2026-01-10T23:00:00Z')).outcome).toBe(false); // Saturday 23:00
  });

  it('time windows combine with attributes', () => {
    const condition: Condition = { all: [{ self: 'resource.ownerId' }, { timeWindow: { fromTime: '09:00', toTime: '17:00' } }] };
    expect(evaluate(condition, { resource: { ownerId: 'usr_1' }, ...at('2026-01-05T10:00:00Z') }).outcome).toBe(true);
    expect(evaluate(condition, { resource: { ownerId: 'usr_1' }, ...at('2026-01-05T18:00:00Z') }).outcome).toBe(false);
  });
});
