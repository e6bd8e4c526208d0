import { type Collection, type Document, MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { type TenantIndexDirection, ensureTenantIndexes, tenantIndex } from '../../../src/adapters/mongodb.js';
import { expectCode, expectRejection } from './isolation-fixtures.js';

// Never connected: the validation below must fail before anything reaches the driver.
const offlineClient = new MongoClient('mongodb://127.0.0.1:1/offline', { serverSelectionTimeoutMS: 50 });
const offlineCollection = offlineClient.db('offline').collection('invoices');

afterAll(async () => {
  await offlineClient.close();
});

describe('tenantIndex', () => {
  it('prefixes the key with the tenant field, first', () => {
    const index = tenantIndex({ email: 1, createdAt: -1 });
    expect(index).toEqual({ key: { tenantId: 1, email: 1, createdAt: -1 } });
    expect(Object.keys(index.key)).toEqual(['tenantId', 'email', 'createdAt']);
  });

  it('makes a unique index unique per tenant, keeping the other options', () => {
    expect(tenantIndex({ number: 1 }, { unique: true, name: 'tenant_number_unique', partialFilterExpression: { number: { $exists: true } } })).toEqual({
      key: { tenantId: 1, number: 1 },
      unique: true,
      name: 'tenant_number_unique',
      partialFilterExpression: { number: { $exists: true } },
    });
  });

  it('uses the configured tenant field and does not pass it on as an index option', () => {
    expect(tenantIndex({ email: 1 }, { tenantField: 'orgId', sparse: true })).toEqual({ key: { orgId: 1, email: 1 }, sparse: true });
  });

  it('accepts text, 2dsphere and hashed keys after the prefix, and an empty key (the tenant alone)', () => {
    expect(tenantIndex({ body: 'text' }).key).toEqual({ tenantId: 1, body: 'text' });
    expect(tenantIndex({ location: '2dsphere' }).key).toEqual({ tenantId: 1, location: '2dsphere' });
    expect(tenantIndex({ email: 'hashed' }).key).toEqual({ tenantId: 1, email: 'hashed' });
    expect(tenantIndex({}).key).toEqual({ tenantId: 1 });
  });

  it.each([
    ['the tenant field itself', { tenantId: 1 }],
    ['a path under the tenant field', { 'tenantId.x': 1 }],
    ['a 2d key, which must lead', { location: '2d' }],
    ['geoHaystack', { location: 'geoHaystack' }],
    ['a numeric direction other than 1 and -1', { email: 2 }],
    ['an empty field name', { '': 1 }],
    ['__proto__', JSON.parse('{"__proto__": 1}') as Record<string, TenantIndexDirection>],
  ])('refuses a key with %s with CONFIGURATION_INVALID', (_, key) => {
    expectCode(() => tenantIndex(key as Record<string, TenantIndexDirection>), 'CONFIGURATION_INVALID');
  });

  it('refuses TTL options, a key in the options, a bad tenant field and a non-document key', () => {
    expectCode(() => tenantIndex({ createdAt: 1 }, { expireAfterSeconds: 60 }), 'CONFIGURATION_INVALID');
    expectCode(() => tenantIndex({ a: 1 }, { key: { b: 1 } } as never), 'CONFIGURATION_INVALID');
    expectCode(() => tenantIndex({ a: 1 }, { tenantField: 'meta.tenantId' }), 'CONFIGURATION_INVALID');
    expectCode(() => tenantIndex({ a: 1 }, { tenantField: '_id' }), 'CONFIGURATION_INVALID');
    expectCode(() => tenantIndex([['a', 1]] as never), 'CONFIGURATION_INVALID');
    expectCode(() => tenantIndex({ a: 1 }, null as never), 'CONFIGURATION_INVALID');
  });

  it('refuses a collation that could equate two tenant ids, and keeps a safe one', () => {
    expectCode(() => tenantIndex({ email: 1 }, { unique: true, collation: { locale: 'en', strength: 2 } }), 'CONFIGURATION_INVALID');
    expectCode(() => tenantIndex({ code: 1 }, { collation: { locale: 'en', numericOrdering: true } }), 'CONFIGURATION_INVALID');
    expect(tenantIndex({ name: 1 }, { collation: { locale: 'de' } })).toEqual({ key: { tenantId: 1, name: 1 }, collation: { locale: 'de' } });
  });

  it('refuses server-side JavaScript in a partial filter', () => {
    expectCode(() => tenantIndex({ a: 1 }, { partialFilterExpression: { $where: '1' } }), 'TENANT_ISOLATION_VIOLATION');
  });
});

describe('ensureTenantIndexes validation', () => {
  it('refuses every spec before sending any, and duplicate names', async () => {
    await expectRejection(ensureTenantIndexes(offlineCollection, [{ key: { a: 1 } }, { key: { tenantId: 1 } }]), 'CONFIGURATION_INVALID');
    await expectRejection(
      ensureTenantIndexes(offlineCollection, [
        { key: { a: 1 }, name: 'same' },
        { key: { b: 1 }, name: 'same' },
      ]),
      'CONFIGURATION_INVALID',
    );
    await expectRejection(ensureTenantIndexes(offlineCollection, [null as never]), 'CONFIGURATION_INVALID');
    await expectRejection(ensureTenantIndexes(offlineCollection, {} as never), 'CONFIGURATION_INVALID');
    await expectRejection(ensureTenantIndexes({} as Collection<Document>, []), 'CONFIGURATION_INVALID');
    await expectRejection(ensureTenantIndexes(offlineCollection, [], null as never), 'CONFIGURATION_INVALID');
    await expectRejection(ensureTenantIndexes(offlineCollection, [{ key: { a: 1 } }], { tenantField: 'a.b' }), 'CONFIGURATION_INVALID');
  });

  it('sends nothing for no specs', async () => {
    expect(await ensureTenantIndexes(offlineCollection, [])).toEqual([]);
  });

  it('reports an unreachable server as STORE_UNAVAILABLE', async () => {
    await expectRejection(ensureTenantIndexes(offlineCollection, [{ key: { a: 1 } }]), 'STORE_UNAVAILABLE');
  });
});
