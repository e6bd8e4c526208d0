import { describe, expect, it } from 'vitest';
import { assertTenantSafeCollation, tenantIdCollisionOf } from '../../../src/isolation/mongodb/collation-guard.js';
import { checkedOperationOptions } from '../../../src/isolation/mongodb/operation-options-guard.js';
import { expectCode } from './isolation-fixtures.js';

describe('tenantIdCollisionOf', () => {
  it.each([
    [{ locale: 'simple' }],
    [{ locale: 'en' }],
    [{ locale: 'en', strength: 3 }],
    [{ locale: 'de', strength: 4, alternate: 'shifted' }],
    [{ locale: 'en', strength: 5, numericOrdering: true, alternate: 'shifted' }],
    [{ locale: 'fr', strength: 3, caseFirst: 'upper', backwards: true, normalization: true }],
    [{ locale: 'simple', strength: 1 }],
  ])('accepts %j, which keeps distinct tenant ids distinct', (collation) => {
    expect(tenantIdCollisionOf(collation)).toBeUndefined();
    expect(() => assertTenantSafeCollation(collation, 'collation')).not.toThrow();
  });

  it.each([
    [{ locale: 'en', strength: 1 }, 'case'],
    [{ locale: 'en', strength: 2 }, 'case'],
    [{ locale: 'en', strength: 2, caseLevel: true }, 'case'],
    [{ locale: 'en', numericOrdering: true }, 'numericOrdering'],
    [{ locale: 'en', strength: 4, numericOrdering: true }, 'numericOrdering'],
    [{ locale: 'en', alternate: 'shifted' }, 'shifted'],
    [{ locale: 'en', strength: '2' }, 'strength'],
    [{ locale: 'en', strength: 0 }, 'strength'],
    ['en', 'collation document'],
  ])('refuses %j with TENANT_ISOLATION_VIOLATION (%s)', (collation, reason) => {
    expect(tenantIdCollisionOf(collation)).toContain(reason);
    expectCode(() => assertTenantSafeCollation(collation, 'collation'), 'TENANT_ISOLATION_VIOLATION');
  });
});

describe('checkedOperationOptions', () => {
  it('returns the options object itself when nothing needs copying', () => {
    const options = { upsert: true, hint: 'a_1', collation: { locale: 'en' } };
    expect(checkedOperationOptions(options, 'options')).toBe(options);
    expect(checkedOperationOptions(undefined, 'options')).toBeUndefined();
  });

  it('copies the expression-bearing options and keeps the rest by reference', () => {
    const session = { id: 'session' };
    const options = { projection: { a: 1 }, let: { x: 1 }, sort: { a: -1 }, arrayFilters: [{ 'e.v': 1 }], session };
    const checked = checkedOperationOptions(options, 'options') as typeof options;
    expect(checked).toEqual(options);
    expect(checked).not.toBe(options);
    expect(checked.projection).not.toBe(options.projection);
    expect(checked.session).toBe(session);
  });

  it.each([
    ['a projection with $function', { projection: { x: { $function: {} } } }],
    ['let with $function', { let: { x: { $function: {} } } }],
    ['arrayFilters with $where', { arrayFilters: [{ $where: '1' }] }],
    ['a case-insensitive collation', { collation: { locale: 'en', strength: 2 } }],
    ['explain', { explain: true }],
    ['explain with a verbosity', { explain: 'executionStats' }],
    ['dbName', { dbName: 'other' }],
    ['authdb', { authdb: 'admin' }],
  ])('refuses %s with TENANT_ISOLATION_VIOLATION', (_, options) => {
    expectCode(() => checkedOperationOptions(options, 'options'), 'TENANT_ISOLATION_VIOLATION');
  });

  it('accepts explain: false, and refuses options that are not an object', () => {
    expect(checkedOperationOptions({ explain: false }, 'options')).toEqual({ explain: false });
    for (const options of [null, 'x', [1]]) expectCode(() => checkedOperationOptions(options as never, 'options'), 'VALIDATION_FAILED');
  });
});
