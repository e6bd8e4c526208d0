import { describe, expect, it } from 'vitest';
import { scopeBulkWriteOperations } from '../../../src/isolation/mongodb/bulk-write-scoping.js';
import { expectCode, scope } from './isolation-fixtures.js';

const tenant = { tenantId: 'tnt_a' };

describe('scopeBulkWriteOperations', () => {
  it('rewrites every operation kind', () => {
    const operations = [
      { insertOne: { document: { n: 1 } } },
      { updateOne: { filter: { n: 1 }, update: { $set: { a: 1 } }, upsert: true, arrayFilters: [{ 'x.v': 1 }], hint: 'n_1', sort: { n: 1 } } },
      { updateMany: { filter: { $or: [{ n: 2 }, { n: 3 }] }, update: [{ $set: { b: 2 } }] } },
      { replaceOne: { filter: { n: 4 }, replacement: { n: 4, v: 'x' }, upsert: true } },
      { deleteOne: { filter: { n: 5 }, collation: { locale: 'en' } } },
      { deleteMany: { filter: {} } },
    ];
    expect(scopeBulkWriteOperations(operations, scope)).toEqual([
      { insertOne: { document: { n: 1, ...tenant } } },
      {
        updateOne: {
          filter: { $and: [tenant, { n: 1 }] },
          update: { $set: { a: 1 } },
          upsert: true,
          arrayFilters: [{ 'x.v': 1 }],
          hint: 'n_1',
          sort: { n: 1 },
        },
      },
      {
        updateMany: {
          filter: { $and: [tenant, { $or: [{ n: 2 }, { n: 3 }] }] },
          update: [{ $set: { b: 2 } }, { $set: { tenantId: { $literal: 'tnt_a' } } }],
        },
      },
      { replaceOne: { filter: { $and: [tenant, { n: 4 }] }, replacement: { n: 4, v: 'x', ...tenant }, upsert: true } },
      { deleteOne: { filter: { $and: [tenant, { n: 5 }] }, collation: { locale: 'en' } } },
      { deleteMany: { filter: { $and: [tenant] } } },
    ]);
  });

  it('does not modify the caller operations', () => {
    const operations = [{ insertOne: { document: { n: 1 } } }];
    scopeBulkWriteOperations(operations, scope);
    expect(operations).toEqual([{ insertOne: { document: { n: 1 } } }]);
  });

  it('refuses the whole batch, naming the operation, when one operation breaks isolation', () => {
    const cases: unknown[] = [
      { insertOne: { document: { n: 1, tenantId: 'tnt_b' } } },
      { updateOne: { filter: {}, update: { $set: { tenantId: 'tnt_b' } } } },
      { updateMany: { filter: {}, update: [{ $unset: 'tenantId' }] } },
      { replaceOne: { filter: {}, replacement: { tenantId: 'tnt_b' } } },
      { deleteOne: { filter: { $where: 'true' } } },
      { deleteMany: { filter: { a: { $expr: { $function: {} } } } } },
      { updateOne: { filter: {}, update: { $set: { a: 1 } }, arrayFilters: [{ $where: '1' }] } },
    ];
    for (const hostile of cases) {
      const error = expectCode(() => scopeBulkWriteOperations([{ insertOne: { document: { ok: true } } }, hostile], scope), 'TENANT_ISOLATION_VIOLATION');
      expect(error.message).toContain('bulkWrite operations.1');
    }
  });

  it('refuses malformed operations with VALIDATION_FAILED', () => {
    const cases: unknown[] = [
      null,
      'insertOne',
      {},
      { insertOne: { document: {} }, deleteMany: { filter: {} } },
      { insertMany: { documents: [] } },
      { insertOne: { n: 1 } },
      { insertOne: 'x' },
      { updateOne: { update: { $set: { a: 1 } } } },
      { updateOne: { filter: {}, update: { a: 1 } } },
      { updateOne: { q: {}, u: { $set: { a: 1 } } } },
      { updateMany: { filter: {}, update: { $set: { a: 1 } }, sort: { a: 1 } } },
      { deleteMany: {} },
      { replaceOne: { filter: {}, replacement: { $set: { a: 1 } } } },
    ];
    for (const malformed of cases) expectCode(() => scopeBulkWriteOperations([malformed], scope), 'VALIDATION_FAILED');
    expectCode(() => scopeBulkWriteOperations({ insertOne: { document: {} } }, scope), 'VALIDATION_FAILED');
  });

  it('passes an empty batch on for the driver to refuse', () => {
    expect(scopeBulkWriteOperations([], scope)).toEqual([]);
  });
});
