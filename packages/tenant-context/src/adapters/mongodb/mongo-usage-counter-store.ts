import type { Db, Filter, UpdateFilter } from 'mongodb';
import { TenantContextError } from '../../errors.js';
import type { UsageCounterStore, UsageIncrementResult } from '../../store.js';
import {
  assertCounterLimit,
  assertCounterValue,
  assertPositiveAmount,
  counterOverflowError,
} from '../store-argument-guards.js';
import { bsonReadOptions } from './bson-read-options.js';
import { isDuplicateKeyError, runMongoOperation, translateMongoError } from './mongo-errors.js';
import { type MongoTenantContextOptions, resolveTenantContextCollections } from './tenant-context-collections.js';
import type { UsageCounterDocument } from './usage-counter-documents.js';
import {
  usageCounterFilter,
  usageCountersOfTenantFilter,
  usageDecrementPipeline,
  usageIncrementFilter,
  usageIncrementUpdate,
  usageSetUpdate,
} from './usage-counter-queries.js';

/**
 * How often an increment starts over when the counter changed between its steps (see
 * `increment` below). Each restart needs a concurrent decrement, set or delete of the same
 * counter to land in a window of one round trip, so running out means heavy contention.
 */
const maxIncrementAttempts = 5;

/**
 * A {@link UsageCounterStore} on MongoDB, in `<prefix>usage_counters`: one document per tenant
 * and resource, whose `_id` is the `(tenantId, resource)` pair.
 *
 * Admission is one conditional `findOneAndUpdate` (`value <= limit - amount`, then `$inc`), so
 * under any concurrency across processes a counter never passes its limit. Decrements are an
 * update pipeline that floors at 0 on the server. Counters need MongoDB 4.2 or later.
 *
 * @throws TenantContextError `CONFIGURATION_INVALID` (when called) for a missing `Db` or bad options.
 *
 * @example
 * ```ts
 * import { mongoUsageCounterStore } from '@tenantkit/tenant-context/mongodb';
 *
 * const counters = mongoUsageCounterStore(db);
 * const { applied } = await counters.increment('tnt_1', 'projects', 1, 10);
 * ```
 */
export function mongoUsageCounterStore(db: Db, options?: MongoTenantContextOptions): UsageCounterStore {
  const names = resolveTenantContextCollections(db, options, 'mongoUsageCounterStore');
  const counters = db.collection<UsageCounterDocument>(names.usageCounters);

  async function readValue(filter: Filter<UsageCounterDocument>): Promise<number | null> {
    const document = await runMongoOperation(() => counters.findOne(filter, { ...bsonReadOptions, projection: { value: 1 } }));
    return document === null ? null : document.value;
  }

  /**
   * One conditional `$inc`: the new value when admitted, `null` when the filter missed or, for
   * an upsert, when E11000 says the counter already exists.
   */
  async function tryAdmit(
    filter: Filter<UsageCounterDocument>,
    update: UpdateFilter<UsageCounterDocument>,
    upsert: boolean,
  ): Promise<number | null> {
    try {
      const document = await counters.findOneAndUpdate(filter, update, {
        ...bsonReadOptions,
        upsert,
        returnDocument: 'after',
        includeResultMetadata: false,
        projection: { value: 1 },
      });
      return document === null ? null : document.value;
    } catch (error) {
      if (upsert && isDuplicateKeyError(error)) return null;
      throw translateMongoError(error);
    }
  }

  return {
    async increment(tenantId, resource, amount, limit): Promise<UsageIncrementResult> {
      assertPositiveAmount(amount);
      assertCounterLimit(limit);
      const counterFilter = usageCounterFilter(tenantId, resource);
      const admissionFilter = usageIncrementFilter(tenantId, resource, amount, limit);
      if (admissionFilter === null) {
        return { applied: false, value: (await readValue(counterFilter)) ?? 0 };
      }
      const update = usageIncrementUpdate(tenantId, resource, amount);
      const ceiling = limit === -1 ? Number.MAX_SAFE_INTEGER : limit;

      /*
       * Why this is a loop, and why it cannot over-admit:
       *
       * 1. Upsert with the admission filter. If the counter exists and has room, the filter
       *    matches and `$inc` applies atomically: admitted. If no counter exists, the upsert
       *    inserts one holding `amount` (`amount <= limit` was checked above): admitted.
       * 2. The upsert fails with E11000 in two cases: the counter exists but is full (the filter
       *    missed it because of `value`, so the upsert tried to insert a second document with
       *    the same `_id`), or another request's upsert created the counter between our filter
       *    and our insert. The server does not retry this itself: it only retries upserts whose
       *    filter is equality on the unique key alone, and ours also constrains `value`.
       *    Retrying the upsert could loop forever on a full counter, so we retry WITHOUT upsert:
       *    the counter exists now, and the conditional update admits atomically or misses.
       * 3. On a miss we read the value. If it still leaves no room, the refusal is real. If it
       *    does leave room, a concurrent decrement or set got in between; if the counter is
       *    gone, a concurrent `deleteAll` did. Either way we start over.
       *
       * Every admission is a single conditional write, and the `_id` makes a second document
       * for the same counter impossible, so no interleaving can take a counter past its limit.
       */
      for (let attempt = 1; attempt <= maxIncrementAttempts; attempt += 1) {
        const upserted = await tryAdmit(admissionFilter, update, true);
        if (upserted !== null) return { applied: true, value: upserted };
        const updated = await tryAdmit(admissionFilter, update, false);
        if (updated !== null) return { applied: true, value: updated };
        const current = await readValue(counterFilter);
        if (current !== null && current > ceiling - amount) {
          if (limit === -1) throw counterOverflowError(resource);
          return { applied: false, value: current };
        }
      }
      throw new TenantContextError('STORE_CONFLICT', 'The usage counter kept changing concurrently; try again', {
        details: { resource },
      });
    },

    async decrement(tenantId, resource, amount) {
      assertPositiveAmount(amount);
      const filter = usageCounterFilter(tenantId, resource);
      // No upsert: decrementing a counter that was never set leaves it unset (it reads as 0).
      const document = await runMongoOperation(() =>
        counters.findOneAndUpdate(filter, usageDecrementPipeline(amount), {
          ...bsonReadOptions,
          returnDocument: 'after',
          includeResultMetadata: false,
          projection: { value: 1 },
        }),
      );
      return document === null ? 0 : document.value;
    },

    async get(tenantId, resource) {
      return (await readValue(usageCounterFilter(tenantId, resource))) ?? 0;
    },

    async getAll(tenantId) {
      const filter = usageCountersOfTenantFilter(tenantId);
      const documents = await runMongoOperation(() =>
        counters.find(filter, { ...bsonReadOptions, projection: { resource: 1, value: 1 } }).sort({ resource: 1 }).toArray(),
      );
      // Object.fromEntries defines own properties, so even a resource named `__proto__` is a
      // plain key of the result, never its prototype.
      return Object.fromEntries(documents.map((document) => [document.resource, document.value]));
    },

    async set(tenantId, resource, value) {
      assertCounterValue(value);
      const filter = usageCounterFilter(tenantId, resource);
      const update = usageSetUpdate(tenantId, resource, value);
      // An upsert whose filter is equality on `_id` alone: MongoDB 4.2+ retries the
      // first-write race itself, and the second attempt here covers older servers.
      for (let attempt = 1; ; attempt += 1) {
        try {
          await counters.updateOne(filter, update, { upsert: true });
          return;
        } catch (error) {
          if (attempt >= 2 || !isDuplicateKeyError(error)) throw translateMongoError(error);
        }
      }
    },

    async deleteAll(tenantId) {
      const filter = usageCountersOfTenantFilter(tenantId);
      await runMongoOperation(() => counters.deleteMany(filter));
    },
  };
}
