import { type AggregationCursor, type Collection, type Document, type FindCursor, MongoClient, type WithId } from 'mongodb';
import { afterAll, describe, expect, expectTypeOf, it } from 'vitest';
import { tenantCollection } from '../../../src/adapters/mongodb.js';
import { runAsSystem, runWithTenant } from '../../../src/scope/tenant-scope.js';
import { expectCode, expectRejection, tenantMatch } from './isolation-fixtures.js';

/*
 * No MongoDB server here. Two kinds of collection stand in for one:
 * - a real driver collection of a client that never connects: cursors are built lazily, so
 *   find() and aggregate() can be inspected (through the driver's own cursorFilter and pipeline
 *   fields), and every refusal must come before the driver would try to reach a server;
 * - a recorder with the driver collection's method names, which answers nothing but records
 *   what the wrapper forwards, to pin down each method's rewriting exactly.
 * What MongoDB does with the rewritten commands is covered by the MONGODB_URL suite.
 */

interface InvoiceDocument {
  _id?: string;
  tenantId: string;
  number: string;
  total?: number;
  status?: string;
}

const offlineClient = new MongoClient('mongodb://127.0.0.1:1/offline', { serverSelectionTimeoutMS: 50 });
const offlineDb = offlineClient.db('app');
const invoices = tenantCollection(offlineDb.collection<InvoiceDocument>('invoices'), {
  tenantScopedCollections: ['customers'],
  globalCollections: ['currencies'],
});

afterAll(async () => {
  await offlineClient.close();
});

function filterOf(cursor: FindCursor<unknown>): unknown {
  return (cursor as unknown as { cursorFilter: unknown }).cursorFilter;
}

function pipelineOf(cursor: AggregationCursor<unknown>): unknown {
  return (cursor as unknown as { pipeline: unknown }).pipeline;
}

interface RecordedCall {
  readonly method: string;
  readonly args: unknown[];
}

const recordedMethods = [
  'find',
  'findOne',
  'countDocuments',
  'distinct',
  'insertOne',
  'insertMany',
  'updateOne',
  'updateMany',
  'replaceOne',
  'deleteOne',
  'deleteMany',
  'findOneAndUpdate',
  'findOneAndDelete',
  'findOneAndReplace',
  'bulkWrite',
  'aggregate',
] as const;

function recordingCollection(): { collection: Collection<InvoiceDocument>; calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const collection: Record<string, unknown> = { collectionName: 'invoices', dbName: 'app' };
  for (const method of recordedMethods) {
    collection[method] = (...args: unknown[]) => {
      calls.push({ method, args });
      return Promise.resolve('driver result');
    };
  }
  return { collection: collection as unknown as Collection<InvoiceDocument>, calls };
}

const scoped = (filter?: Document) => ({ $and: filter === undefined ? [{ tenantId: 'tnt_a' }] : [{ tenantId: 'tnt_a' }, filter] });
const restore = { $set: { tenantId: { $literal: 'tnt_a' } } };

describe('tenantCollection(): configuration', () => {
  const collection = offlineDb.collection('invoices');

  it('exposes the collection name and tenant field, and is frozen', () => {
    const orders = tenantCollection(offlineDb.collection('orders'), { tenantField: 'orgId' });
    expect(orders.collectionName).toBe('orders');
    expect(orders.tenantField).toBe('orgId');
    expect(Object.isFrozen(orders)).toBe(true);
  });

  it.each([
    ['a missing collection', undefined, undefined],
    ['a Db instead of a collection', offlineDb, undefined],
    ['an unknown option', collection, { tenantFeld: 'orgId' }],
    ['a dotted tenant field', collection, { tenantField: 'meta.tenantId' }],
    ['_id as the tenant field', collection, { tenantField: '_id' }],
    ['__proto__ as the tenant field', collection, { tenantField: '__proto__' }],
    ['constructor as the tenant field', collection, { tenantField: 'constructor' }],
    ['a non-string tenant field', collection, { tenantField: 5 }],
    ['a collection both global and tenant-scoped', collection, { tenantScopedCollections: ['x'], globalCollections: ['x'] }],
    ['the wrapped collection declared global', collection, { globalCollections: ['invoices'] }],
    ['a system collection', collection, { globalCollections: ['system.users'] }],
    ['a collection name with $', collection, { tenantScopedCollections: ['a$b'] }],
    ['a non-boolean allowMerge', collection, { allowMerge: 'yes' }],
  ])('refuses %s with CONFIGURATION_INVALID', (_, target, options) => {
    expectCode(() => tenantCollection(target as Collection, options as never), 'CONFIGURATION_INVALID');
  });
});

describe('tenantCollection(): types', () => {
  it('makes the tenant field optional on writes and keeps the driver types on reads', () => {
    type Invoices = typeof invoices;
    expectTypeOf<Invoices['tenantField']>().toEqualTypeOf<'tenantId'>();
    expectTypeOf<Parameters<Invoices['insertOne']>[0]>().toMatchTypeOf<{ number: string; total?: number }>();
    expectTypeOf<ReturnType<Invoices['countDocuments']>>().toEqualTypeOf<Promise<number>>();
    expectTypeOf(tenantCollection(offlineDb.collection<InvoiceDocument>('invoices'), { tenantField: 'orgId' }).tenantField).toEqualTypeOf<'orgId'>();
    // Compile-time checks only; nothing runs outside a tenant scope here.
    const typeChecks = () => {
      void invoices.insertOne({ number: 'INV-1' });
      void invoices.replaceOne({ number: 'INV-1' }, { number: 'INV-1', total: 2 });
      void invoices.bulkWrite([{ insertOne: { document: { number: 'INV-2' } } }, { deleteOne: { filter: { status: 'void' } } }]);
      // @ts-expect-error -- number is required
      void invoices.insertOne({ total: 1 });
      // @ts-expect-error -- a replacement is a whole document of the schema
      void invoices.replaceOne({}, { total: 1 });
      expectTypeOf(invoices.find({ status: 'open' })).toEqualTypeOf<FindCursor<WithId<InvoiceDocument>>>();
      expectTypeOf(invoices.findOne({})).toEqualTypeOf<Promise<WithId<InvoiceDocument> | null>>();
    };
    expect(typeof typeChecks).toBe('function');
  });
});

describe('tenantCollection(): fail closed', () => {
  const calls: Array<[string, () => unknown]> = [
    ['find', () => invoices.find({})],
    ['aggregate', () => invoices.aggregate([])],
    ['findOne', () => invoices.findOne({})],
    ['countDocuments', () => invoices.countDocuments()],
    ['distinct', () => invoices.distinct('status')],
    ['insertOne', () => invoices.insertOne({ number: 'x' })],
    ['insertMany', () => invoices.insertMany([{ number: 'x' }])],
    ['updateOne', () => invoices.updateOne({}, { $set: { total: 1 } })],
    ['updateMany', () => invoices.updateMany({}, { $set: { total: 1 } })],
    ['replaceOne', () => invoices.replaceOne({}, { number: 'x' })],
    ['deleteOne', () => invoices.deleteOne({})],
    ['deleteMany', () => invoices.deleteMany()],
    ['findOneAndUpdate', () => invoices.findOneAndUpdate({}, { $set: { total: 1 } })],
    ['findOneAndDelete', () => invoices.findOneAndDelete({})],
    ['findOneAndReplace', () => invoices.findOneAndReplace({}, { number: 'x' })],
    ['bulkWrite', () => invoices.bulkWrite([{ deleteMany: { filter: {} } }])],
  ];

  async function outcome(run: () => unknown): Promise<unknown> {
    try {
      await run();
      return 'resolved';
    } catch (error) {
      return error;
    }
  }

  it.each(calls)('%s outside any scope fails with TENANT_SCOPE_REQUIRED before reaching the driver', async (_, run) => {
    expect(await outcome(run)).toMatchObject({ code: 'TENANT_SCOPE_REQUIRED' });
  });

  it.each(calls)('%s in the system scope fails with TENANT_SCOPE_REQUIRED too', async (_, run) => {
    expect(await outcome(() => runAsSystem({ reason: 'test' }, run))).toMatchObject({ code: 'TENANT_SCOPE_REQUIRED' });
  });

  it('throws synchronously from the cursor methods, and rejects from the others', () => {
    expect(() => invoices.find()).toThrow(expect.objectContaining({ code: 'TENANT_SCOPE_REQUIRED' }));
    expect(() => invoices.aggregate()).toThrow(expect.objectContaining({ code: 'TENANT_SCOPE_REQUIRED' }));
    const pending = invoices.findOne();
    expect(pending).toBeInstanceOf(Promise);
    return expectRejection(pending, 'TENANT_SCOPE_REQUIRED');
  });
});

describe('tenantCollection(): find cursors (real driver cursor)', () => {
  it('opens the cursor with the scoped filter and checked options', () =>
    runWithTenant('tnt_a', () => {
      const cursor = invoices.find({ status: 'open' }, { projection: { number: 1 } });
      expect(filterOf(cursor)).toEqual(scoped({ status: 'open' }));
      expect(filterOf(invoices.find())).toEqual(scoped());
    }));

  it('keeps filter() and addQueryModifier("$query") scoped', () =>
    runWithTenant('tnt_a', () => {
      const cursor = invoices.find({ status: 'open' });
      expect(filterOf(cursor.filter({}))).toEqual(scoped());
      expect(filterOf(cursor.filter({ tenantId: 'tnt_b' }))).toEqual(scoped({ tenantId: 'tnt_b' }));
      expect(filterOf(cursor.addQueryModifier('$query', { number: 'x' }))).toEqual(scoped({ number: 'x' }));
      cursor.addQueryModifier('$comment', 'hello');
      expect(filterOf(cursor)).toEqual(scoped({ number: 'x' }));
    }));

  it('keeps a clone guarded, and a clone of a clone', () =>
    runWithTenant('tnt_a', () => {
      const clone = invoices.find({ status: 'open' }).clone().clone();
      expect(filterOf(clone)).toEqual(scoped({ status: 'open' }));
      expect(filterOf(clone.filter({}))).toEqual(scoped());
    }));

  it('checks project(), sort() and cursor modifiers for server-side JavaScript', () =>
    runWithTenant('tnt_a', () => {
      const cursor = invoices.find();
      expectCode(() => cursor.project({ x: { $function: { body: 'return 1', args: [], lang: 'js' } } }), 'TENANT_ISOLATION_VIOLATION');
      expectCode(() => cursor.filter({ $where: 'true' }), 'TENANT_ISOLATION_VIOLATION');
      expectCode(() => cursor.addQueryModifier('$query', { $where: 'true' }), 'TENANT_ISOLATION_VIOLATION');
      expect(() => cursor.project({ number: 1 }).sort({ number: -1 })).not.toThrow();
    }));

  it('refuses unsafe collations, explain and other databases, on the call and on the cursor', () =>
    runWithTenant('tnt_a', async () => {
      expectCode(() => invoices.find({}, { collation: { locale: 'en', strength: 2 } }), 'TENANT_ISOLATION_VIOLATION');
      expectCode(() => invoices.find({}, { dbName: 'other' }), 'TENANT_ISOLATION_VIOLATION');
      expectCode(() => invoices.aggregate([], { explain: true }), 'TENANT_ISOLATION_VIOLATION');
      await expectRejection(invoices.countDocuments({}, { collation: { locale: 'en', strength: 1 } }), 'TENANT_ISOLATION_VIOLATION');
      await expectRejection(invoices.deleteMany({}, { collation: { locale: 'en', alternate: 'shifted' } }), 'TENANT_ISOLATION_VIOLATION');
      await expectRejection(
        invoices.bulkWrite([{ deleteOne: { filter: {}, collation: { locale: 'en', strength: 2 } } }]),
        'TENANT_ISOLATION_VIOLATION',
      );
      const cursor = invoices.find();
      expectCode(() => cursor.collation({ locale: 'en', strength: 2 }), 'TENANT_ISOLATION_VIOLATION');
      expect(() => cursor.collation({ locale: 'en' })).not.toThrow();
      expectCode(() => cursor.addQueryModifier('$explain', true), 'TENANT_ISOLATION_VIOLATION');
      await expectRejection(cursor.explain(), 'TENANT_ISOLATION_VIOLATION');
      await expectRejection(invoices.aggregate().explain('queryPlanner'), 'TENANT_ISOLATION_VIOLATION');
      await expectRejection(cursor.clone().explain(), 'TENANT_ISOLATION_VIOLATION');
    }));

  it('refuses to reconfigure a cursor in another tenant scope, or outside any', async () => {
    const cursor = runWithTenant('tnt_a', () => invoices.find());
    runWithTenant('tnt_b', () => {
      expectCode(() => cursor.filter({}), 'TENANT_ISOLATION_VIOLATION');
      expectCode(() => cursor.clone(), 'TENANT_ISOLATION_VIOLATION');
      expectCode(() => cursor.sort({ a: 1 }), 'TENANT_ISOLATION_VIOLATION');
    });
    expectCode(() => cursor.filter({}), 'TENANT_SCOPE_REQUIRED');
    expect(filterOf(cursor)).toEqual(scoped());
  });

  it('refuses hostile find filters and options before reaching the driver', () =>
    runWithTenant('tnt_a', () => {
      expectCode(() => invoices.find({ $where: 'sleep(100)' }), 'TENANT_ISOLATION_VIOLATION');
      expectCode(() => invoices.find({}, { projection: { x: { $function: {} } } }), 'TENANT_ISOLATION_VIOLATION');
      expectCode(() => invoices.find({}, { let: { x: { $function: {} } } }), 'TENANT_ISOLATION_VIOLATION');
      expectCode(() => invoices.find('INV-1' as never), 'VALIDATION_FAILED');
    }));
});

describe('tenantCollection(): aggregation cursors (real driver cursor)', () => {
  it('opens the cursor with the scoped pipeline', () =>
    runWithTenant('tnt_a', () => {
      const cursor = invoices.aggregate([{ $lookup: { from: 'customers', localField: 'customerId', foreignField: '_id', as: 'c' } }]);
      expect(pipelineOf(cursor)).toEqual([
        tenantMatch,
        { $lookup: { from: 'customers', localField: 'customerId', foreignField: '_id', as: 'c', pipeline: [tenantMatch] } },
      ]);
    }));

  it('scopes stages added through addStage() and its shortcuts', () =>
    runWithTenant('tnt_a', () => {
      const cursor = invoices.aggregate().match({ status: 'open' }).lookup({ from: 'customers', localField: 'a', foreignField: 'b', as: 'c' });
      cursor.addStage({ $unionWith: 'customers' });
      expect(pipelineOf(cursor)).toEqual([
        tenantMatch,
        { $match: { status: 'open' } },
        { $lookup: { from: 'customers', localField: 'a', foreignField: 'b', as: 'c', pipeline: [tenantMatch] } },
        { $unionWith: { coll: 'customers', pipeline: [tenantMatch] } },
      ]);
    }));

  it('refuses out(), undeclared joins and unknown stages added later, leaving the pipeline as it was', () =>
    runWithTenant('tnt_a', () => {
      const cursor = invoices.aggregate([{ $limit: 1 }]);
      expectCode(() => cursor.out('everything'), 'TENANT_ISOLATION_VIOLATION');
      expectCode(() => cursor.lookup({ from: 'users', localField: 'a', foreignField: 'b', as: 'c' }), 'TENANT_ISOLATION_VIOLATION');
      expectCode(() => cursor.addStage({ $collStats: {} }), 'TENANT_ISOLATION_VIOLATION');
      expectCode(() => cursor.match({ $where: 'true' }), 'TENANT_ISOLATION_VIOLATION');
      expect(pipelineOf(cursor)).toEqual([tenantMatch, { $limit: 1 }]);
    }));

  it('keeps a clone guarded and bound to its tenant', () => {
    const clone = runWithTenant('tnt_a', () => invoices.aggregate([{ $limit: 1 }]).clone());
    runWithTenant('tnt_a', () => expectCode(() => clone.out('x'), 'TENANT_ISOLATION_VIOLATION'));
    runWithTenant('tnt_b', () => expectCode(() => clone.limit(2), 'TENANT_ISOLATION_VIOLATION'));
    expect(pipelineOf(clone)).toEqual([tenantMatch, { $limit: 1 }]);
  });

  it('refuses hostile pipelines and options before reaching the driver', () =>
    runWithTenant('tnt_a', () => {
      expectCode(() => invoices.aggregate([{ $out: 'x' }]), 'TENANT_ISOLATION_VIOLATION');
      expectCode(() => invoices.aggregate([], { let: { x: { $function: {} } } }), 'TENANT_ISOLATION_VIOLATION');
      expectCode(() => invoices.aggregate({ $match: {} } as never), 'VALIDATION_FAILED');
    }));
});

describe('tenantCollection(): refusals come before the driver (real driver collection)', () => {
  it('rejects with the coded error at once, never with a server selection error', () =>
    runWithTenant('tnt_a', async () => {
      await expectRejection(invoices.findOne({ $where: 'true' }), 'TENANT_ISOLATION_VIOLATION');
      await expectRejection(invoices.insertOne({ number: 'x', tenantId: 'tnt_b' }), 'TENANT_ISOLATION_VIOLATION');
      await expectRejection(invoices.insertMany([{ number: 'x' }, { number: 'y', tenantId: 'tnt_b' }]), 'TENANT_ISOLATION_VIOLATION');
      await expectRejection(invoices.updateOne({}, { $set: { tenantId: 'tnt_b' } }), 'TENANT_ISOLATION_VIOLATION');
      await expectRejection(invoices.updateMany({}, [{ $unset: 'tenantId' }]), 'TENANT_ISOLATION_VIOLATION');
      await expectRejection(invoices.replaceOne({}, { number: 'x', tenantId: 'tnt_b' }), 'TENANT_ISOLATION_VIOLATION');
      await expectRejection(invoices.findOneAndUpdate({}, { $rename: { number: 'tenantId' } }), 'TENANT_ISOLATION_VIOLATION');
      await expectRejection(invoices.findOneAndReplace({}, { number: 'x', tenantId: 'tnt_b' }), 'TENANT_ISOLATION_VIOLATION');
      await expectRejection(invoices.findOneAndDelete({ $where: 'true' }), 'TENANT_ISOLATION_VIOLATION');
      await expectRejection(invoices.deleteMany({ $where: 'true' }), 'TENANT_ISOLATION_VIOLATION');
      await expectRejection(invoices.countDocuments({ $expr: { $function: {} } }), 'TENANT_ISOLATION_VIOLATION');
      await expectRejection(invoices.distinct('number', { $where: 'true' }), 'TENANT_ISOLATION_VIOLATION');
      await expectRejection(invoices.bulkWrite([{ insertOne: { document: { number: 'x', tenantId: 'tnt_b' } } }]), 'TENANT_ISOLATION_VIOLATION');
    }));

  it('refuses a missing filter where the driver needs one, and malformed arguments', () =>
    runWithTenant('tnt_a', async () => {
      await expectRejection(invoices.updateMany(undefined as never, { $set: { total: 1 } }), 'VALIDATION_FAILED');
      await expectRejection(invoices.replaceOne(undefined as never, { number: 'x' }), 'VALIDATION_FAILED');
      await expectRejection(invoices.findOneAndDelete(undefined as never), 'VALIDATION_FAILED');
      await expectRejection(invoices.insertMany({ number: 'x' } as never), 'VALIDATION_FAILED');
      await expectRejection(invoices.distinct('' as never), 'VALIDATION_FAILED');
      await expectRejection(invoices.findOne({}, 'options' as never), 'VALIDATION_FAILED');
    }));
});

describe('tenantCollection(): what each method forwards (recorder)', () => {
  it('scopes every read', async () => {
    const { collection, calls } = recordingCollection();
    const recorded = tenantCollection(collection);
    await runWithTenant('tnt_a', async () => {
      await recorded.findOne({ number: 'INV-1' }, { projection: { total: 1 } });
      await recorded.countDocuments({ status: 'open' }, { limit: 5 });
      await recorded.countDocuments();
      await recorded.distinct('status', { total: { $gt: 1 } });
      await recorded.distinct('status');
    });
    expect(calls).toEqual([
      { method: 'findOne', args: [scoped({ number: 'INV-1' }), { projection: { total: 1 } }] },
      { method: 'countDocuments', args: [scoped({ status: 'open' }), { limit: 5 }] },
      { method: 'countDocuments', args: [scoped(), undefined] },
      { method: 'distinct', args: ['status', scoped({ total: { $gt: 1 } }), {}] },
      { method: 'distinct', args: ['status', scoped(), {}] },
    ]);
  });

  it('stamps inserts with the tenant without modifying the caller documents', async () => {
    const { collection, calls } = recordingCollection();
    const recorded = tenantCollection(collection);
    const document = { number: 'INV-1' };
    await runWithTenant('tnt_a', async () => {
      await recorded.insertOne(document, { comment: 'c' });
      await recorded.insertMany([{ number: 'INV-2' }, { number: 'INV-3', tenantId: 'tnt_a' }], { ordered: false });
    });
    expect(document).toEqual({ number: 'INV-1' });
    expect(calls).toEqual([
      { method: 'insertOne', args: [{ number: 'INV-1', tenantId: 'tnt_a' }, { comment: 'c' }] },
      { method: 'insertMany', args: [[{ number: 'INV-2', tenantId: 'tnt_a' }, { number: 'INV-3', tenantId: 'tnt_a' }], { ordered: false }] },
    ]);
  });

  it('scopes and guards every write', async () => {
    const { collection, calls } = recordingCollection();
    const recorded = tenantCollection(collection);
    await runWithTenant('tnt_a', async () => {
      await recorded.updateOne({ number: 'INV-1' }, { $set: { status: 'paid' } }, { upsert: true });
      await recorded.updateMany({ status: 'draft' }, [{ $set: { status: 'void' } }], { arrayFilters: [{ 'x.a': 1 }] });
      await recorded.replaceOne({ number: 'INV-1' }, { number: 'INV-1', total: 5 }, { upsert: true });
      await recorded.deleteOne({ number: 'INV-1' });
      await recorded.deleteMany();
      await recorded.findOneAndUpdate({ number: 'INV-1' }, { $inc: { total: 1 } }, { returnDocument: 'after' });
      await recorded.findOneAndDelete({ number: 'INV-1' }, { sort: { number: 1 } });
      await recorded.findOneAndReplace({ number: 'INV-1' }, { number: 'INV-1' }, { includeResultMetadata: true });
    });
    expect(calls).toEqual([
      { method: 'updateOne', args: [scoped({ number: 'INV-1' }), { $set: { status: 'paid' } }, { upsert: true }] },
      { method: 'updateMany', args: [scoped({ status: 'draft' }), [{ $set: { status: 'void' } }, restore], { arrayFilters: [{ 'x.a': 1 }] }] },
      { method: 'replaceOne', args: [scoped({ number: 'INV-1' }), { number: 'INV-1', total: 5, tenantId: 'tnt_a' }, { upsert: true }] },
      { method: 'deleteOne', args: [scoped({ number: 'INV-1' }), undefined] },
      { method: 'deleteMany', args: [scoped(), undefined] },
      { method: 'findOneAndUpdate', args: [scoped({ number: 'INV-1' }), { $inc: { total: 1 } }, { returnDocument: 'after' }] },
      { method: 'findOneAndDelete', args: [scoped({ number: 'INV-1' }), { sort: { number: 1 } }] },
      { method: 'findOneAndReplace', args: [scoped({ number: 'INV-1' }), { number: 'INV-1', tenantId: 'tnt_a' }, { includeResultMetadata: true }] },
    ]);
  });

  it('rewrites bulkWrite operations and passes the options on', async () => {
    const { collection, calls } = recordingCollection();
    const recorded = tenantCollection(collection);
    await runWithTenant('tnt_a', () =>
      recorded.bulkWrite([{ insertOne: { document: { number: 'INV-9' } } }, { deleteMany: { filter: { status: 'void' } } }], { ordered: true }),
    );
    expect(calls).toEqual([
      {
        method: 'bulkWrite',
        args: [[{ insertOne: { document: { number: 'INV-9', tenantId: 'tnt_a' } } }, { deleteMany: { filter: scoped({ status: 'void' }) } }], { ordered: true }],
      },
    ]);
  });

  it('forwards the driver result unchanged', async () => {
    const { collection } = recordingCollection();
    expect(await runWithTenant('tnt_a', () => tenantCollection(collection).deleteMany())).toBe('driver result');
  });

  it('sends nothing at all for a refused call', async () => {
    const { collection, calls } = recordingCollection();
    const recorded = tenantCollection(collection);
    await runWithTenant('tnt_a', async () => {
      await expectRejection(recorded.insertMany([{ number: 'ok' }, { number: 'bad', tenantId: 'tnt_b' }]), 'TENANT_ISOLATION_VIOLATION');
      await expectRejection(
        recorded.bulkWrite([{ deleteMany: { filter: {} } }, { updateOne: { filter: {}, update: { $unset: { tenantId: '' } } } }]),
        'TENANT_ISOLATION_VIOLATION',
      );
      await expectRejection(recorded.updateOne({ $where: 'true' }, { $set: { a: 1 } }), 'TENANT_ISOLATION_VIOLATION');
    });
    await expectRejection(recorded.deleteMany(), 'TENANT_SCOPE_REQUIRED');
    expect(calls).toEqual([]);
  });

  it('uses the configured tenant field everywhere', async () => {
    const { collection, calls } = recordingCollection();
    const recorded = tenantCollection(collection, { tenantField: 'orgId' });
    await runWithTenant('org_1', async () => {
      await recorded.insertOne({ number: 'INV-1' } as never);
      await recorded.deleteMany({ tenantId: 'x' });
      await expectRejection(recorded.updateOne({}, { $set: { orgId: 'org_2' } }), 'TENANT_ISOLATION_VIOLATION');
    });
    expect(calls).toEqual([
      { method: 'insertOne', args: [{ number: 'INV-1', orgId: 'org_1' }, undefined] },
      { method: 'deleteMany', args: [{ $and: [{ orgId: 'org_1' }, { tenantId: 'x' }] }, undefined] },
    ]);
  });
});
