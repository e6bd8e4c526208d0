import { Binary, Code, Decimal128, Long, ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { copyQueryDocument, copyQueryValue, isDocumentLike, maxQueryNestingDepth } from '../../../src/isolation/mongodb/checked-query-copy.js';
import { expectCode } from './isolation-fixtures.js';

function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 1 };
  for (let level = 1; level < depth; level += 1) value = { a: value };
  return value;
}

describe('copyQueryValue', () => {
  it('returns an equal, fresh deep copy', () => {
    const filter = { $or: [{ status: 'open' }, { total: { $gt: 10 } }], tags: ['a', 'b'] };
    const copy = copyQueryValue(filter, 'filter') as typeof filter;
    expect(copy).toEqual(filter);
    expect(copy).not.toBe(filter);
    expect(copy.$or).not.toBe(filter.$or);
    expect(copy.$or[1]).not.toBe(filter.$or[1]);
  });

  it('keeps BSON values, dates, regular expressions and buffers as they are', () => {
    const id = new ObjectId();
    const date = new Date(0);
    const pattern = /^inv-/i;
    const bytes = Buffer.from('abc');
    const values = { id, date, pattern, bytes, long: Long.fromNumber(5), decimal: Decimal128.fromString('1.5'), binary: new Binary(bytes) };
    const copy = copyQueryValue(values, 'filter') as typeof values;
    expect(copy.id).toBe(id);
    expect(copy.date).toBe(date);
    expect(copy.pattern).toBe(pattern);
    expect(copy.bytes).toBe(bytes);
    expect(copy.long).toBe(values.long);
    expect(copy.decimal).toBe(values.decimal);
    expect(copy.binary).toBe(values.binary);
  });

  it('copies Maps as Maps, in order', () => {
    const sort = new Map<string, number>([['b', 1], ['a', -1]]);
    const copy = copyQueryValue({ sort }, 'options') as { sort: Map<string, number> };
    expect(copy.sort).toBeInstanceOf(Map);
    expect(copy.sort).not.toBe(sort);
    expect([...copy.sort]).toEqual([['b', 1], ['a', -1]]);
  });

  it('copies class instances as the documents BSON would write (own enumerable properties)', () => {
    class Criteria {
      status = 'open';
      get hidden(): string {
        return 'not enumerable on the instance';
      }
    }
    expect(copyQueryValue({ criteria: new Criteria() }, 'filter')).toEqual({ criteria: { status: 'open' } });
  });

  it('reads each value once, so a getter cannot answer differently later', () => {
    let reads = 0;
    const filter = {
      get status() {
        reads += 1;
        return reads === 1 ? 'open' : { $where: 'sleep(1000)' };
      },
    };
    const copy = copyQueryValue(filter, 'filter') as Record<string, unknown>;
    expect(copy['status']).toBe('open');
    expect(copy['status']).toBe('open');
    expect(reads).toBe(1);
  });

  it.each(['$where', '$function', '$accumulator'])('refuses %s at any depth with TENANT_ISOLATION_VIOLATION', (operator) => {
    expectCode(() => copyQueryValue({ [operator]: 'x' }, 'filter'), 'TENANT_ISOLATION_VIOLATION');
    expectCode(() => copyQueryValue({ $expr: { $and: [{ $eq: [1, 1] }, { [operator]: {} }] } }, 'filter'), 'TENANT_ISOLATION_VIOLATION');
    expectCode(() => copyQueryValue({ a: { $elemMatch: { b: { $not: { [operator]: 1 } } } } }, 'filter'), 'TENANT_ISOLATION_VIOLATION');
    expectCode(() => copyQueryValue([{ $group: { _id: null, x: { [operator]: {} } } }], 'pipeline'), 'TENANT_ISOLATION_VIOLATION');
    expectCode(() => copyQueryValue({ m: new Map([[operator, 1]]) }, 'filter'), 'TENANT_ISOLATION_VIOLATION');
  });

  it('names the offending path in the message and details', () => {
    const error = expectCode(() => copyQueryValue({ $or: [{ a: 1 }, { $where: 'true' }] }, 'find filter'), 'TENANT_ISOLATION_VIOLATION');
    expect(error.details).toEqual({ path: 'find filter.$or.1.$where' });
    expect(error.message).toContain('find filter.$or.1.$where');
  });

  it('refuses $where passed as BSON Code too (the key is what counts)', () => {
    expectCode(() => copyQueryValue({ $where: new Code('this.a > 1') }, 'filter'), 'TENANT_ISOLATION_VIOLATION');
  });

  it('allows the operator names as values, where they are data', () => {
    expect(copyQueryValue({ note: '$where', tags: ['$function'] }, 'filter')).toEqual({ note: '$where', tags: ['$function'] });
  });

  it('refuses __proto__ keys (as JSON.parse produces them) with VALIDATION_FAILED', () => {
    const hostile = JSON.parse('{"a": {"__proto__": {"polluted": true}}}') as unknown;
    expectCode(() => copyQueryValue(hostile, 'filter'), 'VALIDATION_FAILED');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('keeps "constructor" and "prototype" as ordinary field names', () => {
    const copy = copyQueryValue(JSON.parse('{"constructor": "x", "prototype": {"a": 1}}'), 'filter') as Record<string, unknown>;
    expect(Object.hasOwn(copy, 'constructor')).toBe(true);
    expect(copy['constructor']).toBe('x');
    expect(copy['prototype']).toEqual({ a: 1 });
  });

  it('refuses objects with a toBSON() hook, whose output cannot be checked', () => {
    const sneaky = { status: 'open', toBSON: () => ({ $where: 'true' }) };
    expectCode(() => copyQueryValue({ a: sneaky }, 'filter'), 'VALIDATION_FAILED');
  });

  it('refuses Maps with keys that are not strings', () => {
    expectCode(() => copyQueryValue({ a: new Map([[1, 'x']]) }, 'filter'), 'VALIDATION_FAILED');
  });

  it(`accepts ${maxQueryNestingDepth} levels and refuses one more, and refuses cycles`, () => {
    expect(() => copyQueryValue(nested(maxQueryNestingDepth), 'filter')).not.toThrow();
    expectCode(() => copyQueryValue(nested(maxQueryNestingDepth + 1), 'filter'), 'VALIDATION_FAILED');
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = cyclic;
    expectCode(() => copyQueryValue(cyclic, 'filter'), 'VALIDATION_FAILED');
  });

  it('passes scalars through', () => {
    for (const scalar of ['x', 1, 1n, true, null, undefined]) expect(copyQueryValue(scalar, 'value')).toBe(scalar);
  });
});

describe('copyQueryDocument and isDocumentLike', () => {
  it('accept plain and null-prototype objects only', () => {
    expect(isDocumentLike({})).toBe(true);
    expect(isDocumentLike(Object.create(null))).toBe(true);
    for (const value of [null, undefined, 'x', 1, [], new Map(), new ObjectId(), new Date(), /x/]) {
      expect(isDocumentLike(value)).toBe(false);
      expectCode(() => copyQueryDocument(value, 'filter'), 'VALIDATION_FAILED');
    }
  });
});
