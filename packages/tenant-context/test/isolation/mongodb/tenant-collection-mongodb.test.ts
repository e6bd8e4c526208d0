import { createId } from '@tenantkit/core';
import { describeWithService, type LeakKitTarget, runLeakKit, testServices } from '@tenantkit/test-utils';
import { type Collection, type Db, MongoClient, MongoServerError } from 'mongodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ensureTenantIndexes, type TenantCollection, tenantCollection } from '../../../src/adapters/mongodb.js';
import { runWithTenant } from '../../../src/scope/tenant-scope.js';
import { expectRejection } from './isolation-fixtures.js';

/*
 * Runs only when MONGODB_URL points at a MongoDB server (5.0+: localField joins into tenant
 * collections use the concise correlated $lookup form). Each run works in its own randomly
 * named database, dropped at the end.
 */

interface Invoice {
  _id?: string;
  tenantId: string;
  number: string;
  customerId?: string;
  currency?: string;
  total: number;
  status?: string;
  body?: string;
}

interface Customer {
  _id: string;
  tenantId: string;
  name: string;
  referredBy?: string;
}

interface Currency {
  _id?: string;
  code: string;
  symbol: string;
}

interface LeakRecordDocument {
  tenantId: string;
  id: string;
  value: string;
}

const projection = { _id: 0, id: 1, value: 1 } as const;

await describeWithService('mongodb', 'MongoDB tenant collection', () => {
  let client: MongoClient;
  let db: Db;
  let rawInvoices: Collection<Invoice>;
  let rawCustomers: Collection<Customer>;
  let invoices: TenantCollection<Invoice>;
  let customers: TenantCollection<Customer>;

  const tenantsOf = async (collection: Collection<Invoice>) =>
    (await collection.find({}, { projection: { _id: 0, tenantId: 1 } }).toArray()).map((doc) => doc.tenantId).sort();

  async function seed(): Promise<void> {
    for (const tenant of ['tnt_a', 'tnt_b']) {
      await runWithTenant(tenant, async () => {
        // Both tenants use the same customer ids and invoice numbers.
        await customers.insertMany([
          { _id: `${tenant}:c1`, name: `${tenant} first` },
          { _id: `${tenant}:c2`, name: `${tenant} second`, referredBy: `${tenant}:c1` },
        ]);
        await invoices.insertMany([
          { number: 'INV-1', customerId: `${tenant}:c1`, currency: 'EUR', total: 10, status: 'open', body: 'blue invoice' },
          { number: 'INV-2', customerId: `${tenant}:c2`, currency: 'USD', total: 20, status: 'open', body: 'red invoice' },
          { number: 'INV-3', customerId: `${tenant}:c2`, currency: 'EUR', total: 30, status: 'paid', body: 'green invoice' },
        ]);
      });
    }
  }

  beforeAll(async () => {
    client = await new MongoClient(testServices.mongodb.url as string).connect();
    db = client.db(`tenantkit_isolation_${createId()}`);
    rawInvoices = db.collection<Invoice>('invoices');
    rawCustomers = db.collection<Customer>('customers');
    await ensureTenantIndexes(rawInvoices, [
      { key: { number: 1 }, unique: true, name: 'tenant_number_unique' },
      { key: { body: 'text' }, name: 'tenant_body_text' },
    ]);
    await ensureTenantIndexes(db.collection('leak_records'), [{ key: { id: 1 }, unique: true, name: 'tenant_id_unique' }]);
    await db.collection<Currency>('currencies').insertMany([
      { code: 'EUR', symbol: '€' },
      { code: 'USD', symbol: '$' },
    ]);
    invoices = tenantCollection(rawInvoices, { tenantScopedCollections: ['customers'], globalCollections: ['currencies'], allowMerge: true });
    customers = tenantCollection(rawCustomers, { tenantScopedCollections: ['invoices'] });
  });

  afterAll(async () => {
    await db?.dropDatabase();
    await client?.close();
  });

  beforeEach(async () => {
    await Promise.all([rawInvoices.deleteMany({}), rawCustomers.deleteMany({})]);
    await seed();
  });

  describe('reads', () => {
    it('find, findOne, countDocuments and distinct see only the tenant', () =>
      runWithTenant('tnt_a', async () => {
        const found = await invoices.find({}).sort({ number: 1 }).toArray();
        expect(found.map((invoice) => [invoice.tenantId, invoice.number])).toEqual([
          ['tnt_a', 'INV-1'],
          ['tnt_a', 'INV-2'],
          ['tnt_a', 'INV-3'],
        ]);
        expect((await invoices.findOne({ number: 'INV-2' }))?.customerId).toBe('tnt_a:c2');
        expect(await invoices.findOne({ customerId: 'tnt_b:c1' })).toBeNull();
        expect(await invoices.countDocuments()).toBe(3);
        expect(await invoices.countDocuments({ status: 'open' })).toBe(2);
        expect((await invoices.distinct('customerId')).sort()).toEqual(['tnt_a:c1', 'tnt_a:c2']);
        expect(await invoices.distinct('tenantId')).toEqual(['tnt_a']);
      }));

    it('a filter spoofing another tenant, $or or $nor cannot widen the read', () =>
      runWithTenant('tnt_a', async () => {
        expect(await invoices.countDocuments({ tenantId: 'tnt_b' })).toBe(0);
        expect(await invoices.countDocuments({ $or: [{ tenantId: 'tnt_b' }, { tenantId: { $exists: true } }] })).toBe(3);
        expect(await invoices.countDocuments({ $nor: [{ tenantId: 'tnt_a' }] })).toBe(0);
        expect(await invoices.find({ $expr: { $ne: ['$tenantId', 'tnt_a'] } }).toArray()).toEqual([]);
        expect(await invoices.find().filter({}).toArray()).toHaveLength(3);
      }));

    it('a text search uses the tenant-prefixed text index and stays within the tenant', () =>
      runWithTenant('tnt_b', async () => {
        const found = await invoices.find({ $text: { $search: 'blue' } }).toArray();
        expect(found.map((invoice) => [invoice.tenantId, invoice.number])).toEqual([['tnt_b', 'INV-1']]);
      }));

    it('aggregate joins only the tenant: $lookup (both forms), $unionWith, $graphLookup, $facet, global $lookup', () =>
      runWithTenant('tnt_a', async () => {
        const joined = await invoices
          .aggregate<{ number: string; customer: Customer[]; currency: Currency[] }>([
            { $sort: { number: 1 } },
            { $lookup: { from: 'customers', localField: 'customerId', foreignField: '_id', as: 'customer' } },
            { $lookup: { from: 'currencies', localField: 'currency', foreignField: 'code', as: 'currency' } },
          ])
          .toArray();
        expect(joined.map((invoice) => [invoice.number, invoice.customer.map((customer) => customer.tenantId), invoice.currency.length])).toEqual([
          ['INV-1', ['tnt_a'], 1],
          ['INV-2', ['tnt_a'], 1],
          ['INV-3', ['tnt_a'], 1],
        ]);

        // A join on a field every tenant shares (the status) must still see one tenant only.
        const byStatus = await invoices
          .aggregate<{ others: Invoice[] }>([
            { $match: { number: 'INV-1' } },
            { $lookup: { from: 'invoices', let: { status: '$status' }, pipeline: [{ $match: { $expr: { $eq: ['$status', '$$status'] } } }], as: 'others' } },
          ])
          .toArray();
        expect(byStatus[0]?.others.map((other) => other.tenantId)).toEqual(['tnt_a', 'tnt_a']);

        const union = await invoices.aggregate([{ $project: { tenantId: 1 } }, { $unionWith: 'customers' }]).toArray();
        expect(union).toHaveLength(5);
        expect(new Set(union.map((doc) => doc['tenantId']))).toEqual(new Set(['tnt_a']));

        const chains = await customers
          .aggregate<{ _id: string; chain: Customer[] }>([
            { $match: { _id: 'tnt_a:c2' } },
            { $graphLookup: { from: 'customers', startWith: '$referredBy', connectFromField: 'referredBy', connectToField: '_id', as: 'chain' } },
          ])
          .toArray();
        expect(chains[0]?.chain.map((customer) => customer._id)).toEqual(['tnt_a:c1']);

        const facets = await invoices
          .aggregate<{ count: Array<{ n: number }>; customers: Array<{ customer: Customer[] }> }>([
            {
              $facet: {
                count: [{ $count: 'n' }],
                customers: [{ $lookup: { from: 'customers', localField: 'customerId', foreignField: '_id', as: 'customer' } }],
              },
            },
          ])
          .toArray();
        expect(facets[0]?.count).toEqual([{ n: 3 }]);
        expect(facets[0]?.customers.flatMap((row) => row.customer.map((customer) => customer.tenantId))).toEqual(['tnt_a', 'tnt_a', 'tnt_a']);
      }));

    it('aggregate refuses joins into undeclared collections before the server sees them', () =>
      runWithTenant('tnt_a', async () => {
        expect(() => invoices.aggregate([{ $unionWith: 'leak_records' }])).toThrow(expect.objectContaining({ code: 'TENANT_ISOLATION_VIOLATION' }));
      }));
  });

  describe('writes', () => {
    it('inserts carry the tenant; a unique index is unique per tenant; a foreign tenant is refused', () =>
      runWithTenant('tnt_a', async () => {
        const { insertedId } = await invoices.insertOne({ number: 'INV-4', total: 1 });
        expect((await rawInvoices.findOne({ _id: insertedId }))?.tenantId).toBe('tnt_a');
        const duplicate = await invoices.insertOne({ number: 'INV-1', total: 1 }).catch((error: unknown) => error);
        expect(duplicate).toBeInstanceOf(MongoServerError);
        expect((duplicate as MongoServerError).code).toBe(11000);
        await expectRejection(invoices.insertOne({ number: 'INV-5', total: 1, tenantId: 'tnt_b' }), 'TENANT_ISOLATION_VIOLATION');
        expect(await rawInvoices.countDocuments({ number: 'INV-5' })).toBe(0);
      }));

    it('updateOne, updateMany and replaceOne change only the tenant, and never its tenant field', async () => {
      await runWithTenant('tnt_a', async () => {
        expect((await invoices.updateOne({ number: 'INV-1' }, { $set: { status: 'paid' } })).modifiedCount).toBe(1);
        expect((await invoices.updateMany({}, { $inc: { total: 1 } })).modifiedCount).toBe(3);
        expect((await invoices.updateMany({ tenantId: 'tnt_b' }, { $inc: { total: 100 } })).matchedCount).toBe(0);
        expect((await invoices.replaceOne({ number: 'INV-2' }, { number: 'INV-2', total: 99 })).modifiedCount).toBe(1);
        // A pipeline rebuilding the document still leaves it with its tenant.
        await invoices.updateOne({ number: 'INV-3' }, [{ $replaceWith: { _id: '$_id', number: '$number', total: 0, tenantId: 'tnt_b' } }]);
        await expectRejection(invoices.updateMany({}, { $set: { tenantId: 'tnt_b' } }), 'TENANT_ISOLATION_VIOLATION');
      });
      expect(await rawInvoices.find({ tenantId: 'tnt_b' }, { projection: { _id: 0, number: 1, total: 1, status: 1 } }).sort({ number: 1 }).toArray()).toEqual([
        { number: 'INV-1', total: 10, status: 'open' },
        { number: 'INV-2', total: 20, status: 'open' },
        { number: 'INV-3', total: 30, status: 'paid' },
      ]);
      const tenantA = await rawInvoices.find({ tenantId: 'tnt_a' }, { projection: { _id: 0, number: 1, total: 1 } }).sort({ number: 1 }).toArray();
      expect(tenantA).toEqual([
        { number: 'INV-1', total: 11 },
        { number: 'INV-2', total: 99 },
        { number: 'INV-3', total: 0 },
      ]);
    });

    it('upserts insert into the tenant, and an upsert spoofing another tenant writes nothing', async () => {
      await runWithTenant('tnt_a', async () => {
        await invoices.updateOne({ number: 'INV-9' }, { $set: { total: 9 } }, { upsert: true });
        await invoices.replaceOne({ number: 'INV-8' }, { number: 'INV-8', total: 8 }, { upsert: true });
        const spoofed = await invoices.updateOne({ tenantId: 'tnt_b', number: 'INV-7' }, { $set: { total: 7 } }, { upsert: true }).catch((error: unknown) => error);
        expect(spoofed).toBeInstanceOf(MongoServerError);
      });
      expect(await rawInvoices.find({ number: { $in: ['INV-7', 'INV-8', 'INV-9'] } }, { projection: { _id: 0, tenantId: 1, number: 1 } }).sort({ number: 1 }).toArray()).toEqual([
        { tenantId: 'tnt_a', number: 'INV-8' },
        { tenantId: 'tnt_a', number: 'INV-9' },
      ]);
    });

    it('deleteOne, deleteMany and the findOneAnd* methods touch only the tenant', async () => {
      await runWithTenant('tnt_a', async () => {
        expect((await invoices.findOneAndUpdate({ number: 'INV-1' }, { $set: { status: 'void' } }, { returnDocument: 'after' }))?.status).toBe('void');
        expect((await invoices.findOneAndReplace({ number: 'INV-2' }, { number: 'INV-2', total: 2 }, { returnDocument: 'after' }))?.tenantId).toBe('tnt_a');
        expect((await invoices.findOneAndDelete({ number: 'INV-3' }))?.tenantId).toBe('tnt_a');
        expect((await invoices.deleteOne({ number: 'INV-2' })).deletedCount).toBe(1);
        expect((await invoices.deleteMany()).deletedCount).toBe(1);
        expect(await invoices.findOneAndDelete({ number: 'INV-1' })).toBeNull();
      });
      expect(await tenantsOf(rawInvoices)).toEqual(['tnt_b', 'tnt_b', 'tnt_b']);
      expect(await rawInvoices.countDocuments({ status: 'void' })).toBe(0);
    });

    it('bulkWrite rewrites every operation kind, and a refused operation sends none', async () => {
      await runWithTenant('tnt_a', async () => {
        const result = await invoices.bulkWrite([
          { insertOne: { document: { number: 'INV-4', total: 4 } } },
          { updateOne: { filter: { number: 'INV-1' }, update: { $set: { status: 'void' } } } },
          { updateMany: { filter: { status: 'open' }, update: { $set: { status: 'late' } } } },
          { replaceOne: { filter: { number: 'INV-3' }, replacement: { number: 'INV-3', total: 3 } } },
          { deleteOne: { filter: { number: 'INV-4' } } },
          { deleteMany: { filter: { status: 'void' } } },
        ]);
        expect([result.insertedCount, result.matchedCount, result.deletedCount]).toEqual([1, 3, 2]);
        await expectRejection(
          invoices.bulkWrite([{ insertOne: { document: { number: 'INV-5', total: 5 } } }, { insertOne: { document: { number: 'INV-6', total: 6, tenantId: 'tnt_b' } } }]),
          'TENANT_ISOLATION_VIOLATION',
        );
      });
      expect(await rawInvoices.countDocuments({ number: { $in: ['INV-5', 'INV-6'] } })).toBe(0);
      expect(await rawInvoices.countDocuments({ tenantId: 'tnt_b', status: { $in: ['open', 'paid'] } })).toBe(3);
    });

    it('$merge (allowMerge) writes only into the tenant, matching on the tenant field', async () => {
      await rawCustomers.createIndex({ tenantId: 1, name: 1 }, { unique: true });
      await runWithTenant('tnt_a', async () => {
        await invoices
          .aggregate([
            { $group: { _id: '$status', total: { $sum: '$total' } } },
            { $project: { _id: { $concat: ['tnt_a:', '$_id'] }, name: '$_id', tenantId: { $literal: 'tnt_b' } } },
            { $merge: { into: 'customers', on: ['tenantId', 'name'], whenMatched: 'merge', whenNotMatched: 'insert' } },
          ])
          .toArray();
      });
      expect(await rawCustomers.find({ name: { $in: ['open', 'paid'] } }, { projection: { _id: 0, tenantId: 1, name: 1 } }).sort({ name: 1 }).toArray()).toEqual([
        { tenantId: 'tnt_a', name: 'open' },
        { tenantId: 'tnt_a', name: 'paid' },
      ]);
    });
  });

  describe('indexes', () => {
    it('ensureTenantIndexes creates tenant-prefixed indexes, and running it again changes nothing', async () => {
      const names = await ensureTenantIndexes(rawInvoices, [
        { key: { number: 1 }, unique: true, name: 'tenant_number_unique' },
        { key: { body: 'text' }, name: 'tenant_body_text' },
      ]);
      expect(names).toEqual(['tenant_number_unique', 'tenant_body_text']);
      const unique = (await rawInvoices.listIndexes().toArray()).find((index) => index['name'] === 'tenant_number_unique');
      expect(unique?.['key']).toEqual({ tenantId: 1, number: 1 });
      expect(unique?.['unique']).toBe(true);
    });

    it('ensureTenantIndexes refuses a collection whose default collation ignores case, creating nothing', async () => {
      const folded = await db.createCollection('case_insensitive', { collation: { locale: 'en', strength: 2 } });
      await expectRejection(ensureTenantIndexes(folded, [{ key: { email: 1 }, unique: true }]), 'CONFIGURATION_INVALID');
      expect((await folded.listIndexes().toArray()).map((index) => index['name'])).toEqual(['_id_']);
    });
  });

  describe('leak kit', () => {
    const rawRecords = () => db.collection<LeakRecordDocument>('leak_records');

    function leakTarget(): LeakKitTarget {
      const records = tenantCollection(rawRecords());
      return {
        reset: async () => {
          await rawRecords().deleteMany({});
        },
        insert: async (record) => {
          await records.insertOne({ id: record.id, value: record.value });
        },
        get: async (id) => (await records.findOne({ id }, { projection })) ?? undefined,
        list: () => records.find({}, { projection }).toArray(),
        update: async (id, value) => (await records.updateOne({ id }, { $set: { value } })).matchedCount,
        remove: async (id) => (await records.deleteOne({ id })).deletedCount,
        count: () => records.countDocuments(),
        insertClaimingTenant: async (record, foreignTenantId) => {
          await records.insertOne({ id: record.id, value: record.value, tenantId: foreignTenantId });
        },
      };
    }

    it('leaks nothing over 10,000 random operations', async () => {
      const report = await runLeakKit(leakTarget());
      expect(report.operations).toBeGreaterThanOrEqual(10_000);
      expect(report.refusedHostileWrites).toBeGreaterThan(0);
    }, 120_000);
  });
});
