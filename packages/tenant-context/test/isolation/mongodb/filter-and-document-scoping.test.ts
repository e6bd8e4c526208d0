import { ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { scopeTenantDocument } from '../../../src/isolation/mongodb/document-scoping.js';
import { scopeFilter, tenantEquality, withTenantCondition } from '../../../src/isolation/mongodb/filter-scoping.js';
import { expectCode, scope } from './isolation-fixtures.js';

describe('scopeFilter', () => {
  it('scopes a missing or empty filter to every document of the tenant', () => {
    expect(scopeFilter(undefined, scope)).toEqual({ $and: [{ tenantId: 'tnt_a' }] });
    expect(scopeFilter({}, scope)).toEqual({ $and: [{ tenantId: 'tnt_a' }] });
  });

  it('puts the tenant equality and the caller filter side by side in $and, never merging keys', () => {
    expect(scopeFilter({ status: 'open' }, scope)).toEqual({ $and: [{ tenantId: 'tnt_a' }, { status: 'open' }] });
  });

  it('cannot be widened by $or, $nor or the caller filter own $and', () => {
    const widening = { $or: [{ tenantId: 'tnt_b' }, { tenantId: { $exists: true } }] };
    expect(scopeFilter(widening, scope)).toEqual({ $and: [{ tenantId: 'tnt_a' }, widening] });
    expect(scopeFilter({ $nor: [{ tenantId: 'tnt_a' }] }, scope)).toEqual({ $and: [{ tenantId: 'tnt_a' }, { $nor: [{ tenantId: 'tnt_a' }] }] });
    expect(scopeFilter({ $and: [{ a: 1 }] }, scope)).toEqual({ $and: [{ tenantId: 'tnt_a' }, { $and: [{ a: 1 }] }] });
  });

  it('leaves a spoofed tenant value in the caller filter, where it can only match nothing', () => {
    expect(scopeFilter({ tenantId: 'tnt_b' }, scope)).toEqual({ $and: [{ tenantId: 'tnt_a' }, { tenantId: 'tnt_b' }] });
    expect(scopeFilter({ tenantId: { $ne: 'tnt_a' } }, scope)).toEqual({ $and: [{ tenantId: 'tnt_a' }, { tenantId: { $ne: 'tnt_a' } }] });
  });

  it('sends a copy, so changing the caller object afterwards changes nothing', () => {
    const filter: Record<string, unknown> = { status: 'open' };
    const scoped = scopeFilter(filter, scope);
    filter['status'] = { $where: 'true' };
    expect(scoped).toEqual({ $and: [{ tenantId: 'tnt_a' }, { status: 'open' }] });
  });

  it('refuses server-side JavaScript anywhere in the filter', () => {
    expectCode(() => scopeFilter({ $where: 'this.tenantId != null' }, scope), 'TENANT_ISOLATION_VIOLATION');
    expectCode(() => scopeFilter({ $expr: { $function: { body: 'return true', args: [], lang: 'js' } } }, scope), 'TENANT_ISOLATION_VIOLATION');
  });

  it('refuses what is not a filter document', () => {
    for (const value of [null, 'status', 1, [{ a: 1 }], new ObjectId()]) expectCode(() => scopeFilter(value, scope), 'VALIDATION_FAILED');
  });

  it('uses the configured tenant field', () => {
    expect(scopeFilter({ a: 1 }, { tenantField: 'orgId', tenantId: 'org_1' })).toEqual({ $and: [{ orgId: 'org_1' }, { a: 1 }] });
    expect(tenantEquality({ tenantField: 'orgId', tenantId: 'org_1' })).toEqual({ orgId: 'org_1' });
    expect(withTenantCondition(undefined, { tenantField: 'orgId', tenantId: 'org_1' })).toEqual({ $and: [{ orgId: 'org_1' }] });
  });
});

describe('scopeTenantDocument', () => {
  it('adds the tenant to a document without it, without modifying the caller object', () => {
    const document = { number: 'INV-1', total: 100 };
    expect(scopeTenantDocument(document, scope, 'insert', 'doc')).toEqual({ number: 'INV-1', total: 100, tenantId: 'tnt_a' });
    expect(document).toEqual({ number: 'INV-1', total: 100 });
  });

  it('keeps the tenant in scope, and treats an undefined tenant field as missing', () => {
    expect(scopeTenantDocument({ tenantId: 'tnt_a', n: 1 }, scope, 'insert', 'doc')).toEqual({ tenantId: 'tnt_a', n: 1 });
    expect(scopeTenantDocument({ tenantId: undefined, n: 1 }, scope, 'insert', 'doc')).toEqual({ tenantId: 'tnt_a', n: 1 });
  });

  it.each([['tnt_b'], [null], [''], [['tnt_a']], [{ $ne: null }], [new ObjectId()], [1]])(
    'refuses a document claiming %j with TENANT_ISOLATION_VIOLATION',
    (claimed) => {
      const error = expectCode(() => scopeTenantDocument({ tenantId: claimed, n: 1 }, scope, 'insert', 'insertOne document'), 'TENANT_ISOLATION_VIOLATION');
      expect(error.details).toEqual({ path: 'insertOne document.tenantId' });
    },
  );

  it('keeps nested values as data, operators included', () => {
    const nested = { $where: 'stored as data' };
    const copy = scopeTenantDocument({ settings: nested }, scope, 'insert', 'doc');
    expect(copy['settings']).toBe(nested);
  });

  it('refuses a replacement using update operators, and top-level __proto__ keys', () => {
    expectCode(() => scopeTenantDocument({ $set: { a: 1 } }, scope, 'replacement', 'replacement'), 'VALIDATION_FAILED');
    expectCode(() => scopeTenantDocument(JSON.parse('{"__proto__": {"x": 1}}'), scope, 'insert', 'doc'), 'VALIDATION_FAILED');
  });

  it('refuses a toBSON() hook, which could serialize another tenant field', () => {
    expectCode(() => scopeTenantDocument({ n: 1, toBSON: () => ({ tenantId: 'tnt_b' }) }, scope, 'insert', 'doc'), 'VALIDATION_FAILED');
  });

  it('refuses what is not a document', () => {
    for (const value of [null, undefined, 'x', [], new Date()]) expectCode(() => scopeTenantDocument(value, scope, 'insert', 'doc'), 'VALIDATION_FAILED');
  });

  it('reads each field once', () => {
    let reads = 0;
    const document = {
      get tenantId() {
        reads += 1;
        return reads === 1 ? undefined : 'tnt_b';
      },
    };
    expect(scopeTenantDocument(document, scope, 'insert', 'doc')).toEqual({ tenantId: 'tnt_a' });
    expect(reads).toBe(1);
  });
});
