import type {
  AggregateOptions,
  AggregationCursor,
  AnyBulkWriteOperation,
  BulkWriteOptions,
  BulkWriteResult,
  Collection,
  CountDocumentsOptions,
  DeleteManyModel,
  DeleteOneModel,
  DeleteOptions,
  DeleteResult,
  DistinctOptions,
  Document,
  EnhancedOmit,
  Filter,
  FindCursor,
  FindOneAndDeleteOptions,
  FindOneAndReplaceOptions,
  FindOneAndUpdateOptions,
  FindOptions,
  Flatten,
  InsertManyResult,
  InsertOneOptions,
  InsertOneResult,
  ModifyResult,
  OptionalUnlessRequiredId,
  ReplaceOneModel,
  ReplaceOptions,
  Sort,
  UpdateFilter,
  UpdateManyModel,
  UpdateOneModel,
  UpdateOptions,
  UpdateResult,
  WithId,
  WithoutId,
} from 'mongodb';
import { TenantContextError } from '../../errors.js';
import { requireTenantId } from '../../scope/tenant-scope.js';
import { scopeBulkWriteOperations } from './bulk-write-scoping.js';
import { scopeTenantDocument } from './document-scoping.js';
import { scopeFilter } from './filter-scoping.js';
import { checkedOperationOptions } from './operation-options-guard.js';
import { type PipelineScope, scopeAggregationPipeline } from './pipeline-scoping.js';
import { guardAggregationCursor, guardFindCursor } from './scoped-cursors.js';
import { type TenantCollectionOptions, resolveTenantCollectionConfig } from './tenant-collection-options.js';
import { guardUpdate } from './update-guards.js';

/**
 * `TSchema` with the tenant field optional: the tenant collection sets it, so callers need not.
 *
 * @example
 * ```ts
 * type NewInvoice = WithOptionalTenantField<{ tenantId: string; number: string }, 'tenantId'>;
 * const invoice: NewInvoice = { number: 'INV-1' };
 * ```
 */
export type WithOptionalTenantField<TSchema, TField extends string> = EnhancedOmit<TSchema, TField> &
  Partial<Pick<TSchema, Extract<keyof TSchema, TField>>>;

/**
 * A document {@link TenantCollection.insertOne} takes: the driver's insert type with the
 * tenant field optional.
 *
 * @example
 * ```ts
 * const invoice: TenantInsertDocument<Invoice> = { number: 'INV-1', total: 100 };
 * ```
 */
export type TenantInsertDocument<TSchema extends Document, TField extends string = 'tenantId'> = OptionalUnlessRequiredId<
  WithOptionalTenantField<TSchema, TField>
>;

/**
 * A replacement {@link TenantCollection.replaceOne} takes: the driver's replacement type with
 * the tenant field optional.
 *
 * @example
 * ```ts
 * const replacement: TenantReplacementDocument<Invoice> = { number: 'INV-1', total: 120 };
 * ```
 */
export type TenantReplacementDocument<TSchema extends Document, TField extends string = 'tenantId'> = WithoutId<
  WithOptionalTenantField<TSchema, TField>
>;

/**
 * One operation of {@link TenantCollection.bulkWrite}: the driver's `AnyBulkWriteOperation`
 * with the tenant field optional in inserted and replacing documents.
 *
 * @example
 * ```ts
 * const operations: TenantBulkWriteOperation<Invoice>[] = [
 *   { insertOne: { document: { number: 'INV-2', total: 50 } } },
 *   { updateMany: { filter: { status: 'draft' }, update: { $set: { status: 'void' } } } },
 * ];
 * ```
 */
export type TenantBulkWriteOperation<TSchema extends Document = Document, TField extends string = 'tenantId'> =
  | { insertOne: { document: TenantInsertDocument<TSchema, TField> } }
  | { replaceOne: Omit<ReplaceOneModel<TSchema>, 'replacement'> & { replacement: TenantReplacementDocument<TSchema, TField> } }
  | { updateOne: UpdateOneModel<TSchema> }
  | { updateMany: UpdateManyModel<TSchema> }
  | { deleteOne: DeleteOneModel<TSchema> }
  | { deleteMany: DeleteManyModel<TSchema> };

/**
 * A MongoDB collection seen through one tenant: every method reads the tenant from the scope
 * (`requireTenantId()`, so outside a tenant scope it fails with `TENANT_SCOPE_REQUIRED` before
 * anything reaches the driver) and rewrites what it sends so that only the tenant's documents
 * are read or written. Options are checked too: `projection`, `let`, `sort` and
 * `arrayFilters` like filters, a `collation` that could equate two tenant ids, `explain`, and
 * `dbName`/`authdb` (another database) are refused. Driver errors pass through unchanged; refusals are
 * `TenantContextError`s (`TENANT_ISOLATION_VIOLATION`, `VALIDATION_FAILED`). Methods returning
 * a cursor throw synchronously; the others reject.
 *
 * Not offered, on purpose: `estimatedDocumentCount` (collection metadata spans tenants; use
 * `countDocuments`), `watch` (see {@link tenantCollection}), index management, `drop`,
 * `rename` and the legacy bulk builders.
 *
 * @example
 * ```ts
 * const invoices = tenantCollection(db.collection<Invoice>('invoices'));
 * await runWithTenant('tnt_acme', async () => {
 *   await invoices.insertOne({ number: 'INV-1', total: 100 });
 *   const open = await invoices.find({ status: 'open' }).toArray();
 * });
 * ```
 */
export interface TenantCollection<TSchema extends Document = Document, TField extends string = 'tenantId'> {
  /** The wrapped collection's name. */
  readonly collectionName: string;
  /** The field holding each document's tenant. */
  readonly tenantField: TField;

  /**
   * `find` within the tenant. The cursor's `filter()`, `project()`, `sort()`,
   * `addQueryModifier()` and `clone()` stay scoped and require the same tenant's scope.
   *
   * @example
   * ```ts
   * const page = await invoices.find({ status: 'open' }).sort({ number: 1 }).limit(20).toArray();
   * ```
   */
  find(filter?: Filter<TSchema>, options?: FindOptions): FindCursor<WithId<TSchema>>;
  find<T extends Document>(filter: Filter<TSchema>, options?: FindOptions): FindCursor<T>;

  /**
   * `findOne` within the tenant.
   *
   * @example
   * ```ts
   * const invoice = await invoices.findOne({ number: 'INV-1' });
   * ```
   */
  findOne(filter?: Filter<TSchema>, options?: FindOptions): Promise<WithId<TSchema> | null>;
  findOne<T = TSchema>(filter?: Filter<TSchema>, options?: FindOptions): Promise<T | null>;

  /**
   * How many of the tenant's documents match.
   *
   * @example
   * ```ts
   * const open = await invoices.countDocuments({ status: 'open' });
   * ```
   */
  countDocuments(filter?: Filter<TSchema>, options?: CountDocumentsOptions): Promise<number>;

  /**
   * The distinct values of a field among the tenant's matching documents.
   *
   * @example
   * ```ts
   * const currencies = await invoices.distinct('currency');
   * ```
   */
  distinct<Key extends keyof WithId<TSchema>>(
    key: Key,
    filter?: Filter<TSchema>,
    options?: DistinctOptions,
  ): Promise<Array<Flatten<WithId<TSchema>[Key]>>>;
  distinct(key: string, filter?: Filter<TSchema>, options?: DistinctOptions): Promise<unknown[]>;

  /**
   * Inserts a copy of the document carrying the tenant; a document claiming another tenant is
   * refused with `TENANT_ISOLATION_VIOLATION`. The caller's object is not modified (read the
   * new `_id` from `insertedId`).
   *
   * @example
   * ```ts
   * const { insertedId } = await invoices.insertOne({ number: 'INV-1', total: 100 });
   * ```
   */
  insertOne(document: TenantInsertDocument<TSchema, TField>, options?: InsertOneOptions): Promise<InsertOneResult<TSchema>>;

  /**
   * Inserts copies of the documents carrying the tenant. Every document is checked before
   * any is sent, so a refused one leaves nothing written.
   *
   * @example
   * ```ts
   * await invoices.insertMany([{ number: 'INV-2' }, { number: 'INV-3' }]);
   * ```
   */
  insertMany(documents: ReadonlyArray<TenantInsertDocument<TSchema, TField>>, options?: BulkWriteOptions): Promise<InsertManyResult<TSchema>>;

  /**
   * `updateOne` within the tenant. The update may not touch the tenant field (an update
   * pipeline ends with a stage restoring it); an upsert inserts into the tenant.
   *
   * @example
   * ```ts
   * await invoices.updateOne({ number: 'INV-1' }, { $set: { status: 'paid' } });
   * ```
   */
  updateOne(
    filter: Filter<TSchema>,
    update: UpdateFilter<TSchema> | Document[],
    options?: UpdateOptions & { sort?: Sort },
  ): Promise<UpdateResult<TSchema>>;

  /**
   * `updateMany` within the tenant, with the update rules of {@link TenantCollection.updateOne}.
   *
   * @example
   * ```ts
   * await invoices.updateMany({ status: 'draft' }, { $set: { status: 'void' } });
   * ```
   */
  updateMany(filter: Filter<TSchema>, update: UpdateFilter<TSchema> | Document[], options?: UpdateOptions): Promise<UpdateResult<TSchema>>;

  /**
   * `replaceOne` within the tenant; the replacement is written carrying the tenant (one
   * claiming another tenant is refused).
   *
   * @example
   * ```ts
   * await invoices.replaceOne({ number: 'INV-1' }, { number: 'INV-1', total: 120 });
   * ```
   */
  replaceOne(
    filter: Filter<TSchema>,
    replacement: TenantReplacementDocument<TSchema, TField>,
    options?: ReplaceOptions,
  ): Promise<UpdateResult<TSchema>>;

  /**
   * `deleteOne` within the tenant.
   *
   * @example
   * ```ts
   * await invoices.deleteOne({ number: 'INV-1' });
   * ```
   */
  deleteOne(filter?: Filter<TSchema>, options?: DeleteOptions): Promise<DeleteResult>;

  /**
   * `deleteMany` within the tenant; without a filter it deletes every document of the tenant,
   * and only of the tenant.
   *
   * @example
   * ```ts
   * await invoices.deleteMany({ status: 'void' });
   * ```
   */
  deleteMany(filter?: Filter<TSchema>, options?: DeleteOptions): Promise<DeleteResult>;

  /**
   * `findOneAndUpdate` within the tenant, with the update rules of
   * {@link TenantCollection.updateOne}.
   *
   * @example
   * ```ts
   * const next = await invoices.findOneAndUpdate({ _id: 'seq' }, { $inc: { value: 1 } }, { upsert: true, returnDocument: 'after' });
   * ```
   */
  findOneAndUpdate(
    filter: Filter<TSchema>,
    update: UpdateFilter<TSchema> | Document[],
    options: FindOneAndUpdateOptions & { includeResultMetadata: true },
  ): Promise<ModifyResult<TSchema>>;
  findOneAndUpdate(
    filter: Filter<TSchema>,
    update: UpdateFilter<TSchema> | Document[],
    options?: FindOneAndUpdateOptions,
  ): Promise<WithId<TSchema> | null>;

  /**
   * `findOneAndDelete` within the tenant.
   *
   * @example
   * ```ts
   * const claimed = await jobs.findOneAndDelete({ state: 'ready' }, { sort: { createdAt: 1 } });
   * ```
   */
  findOneAndDelete(filter: Filter<TSchema>, options: FindOneAndDeleteOptions & { includeResultMetadata: true }): Promise<ModifyResult<TSchema>>;
  findOneAndDelete(filter: Filter<TSchema>, options?: FindOneAndDeleteOptions): Promise<WithId<TSchema> | null>;

  /**
   * `findOneAndReplace` within the tenant, with the replacement rules of
   * {@link TenantCollection.replaceOne}.
   *
   * @example
   * ```ts
   * const before = await invoices.findOneAndReplace({ number: 'INV-1' }, { number: 'INV-1', total: 90 });
   * ```
   */
  findOneAndReplace(
    filter: Filter<TSchema>,
    replacement: TenantReplacementDocument<TSchema, TField>,
    options: FindOneAndReplaceOptions & { includeResultMetadata: true },
  ): Promise<ModifyResult<TSchema>>;
  findOneAndReplace(
    filter: Filter<TSchema>,
    replacement: TenantReplacementDocument<TSchema, TField>,
    options?: FindOneAndReplaceOptions,
  ): Promise<WithId<TSchema> | null>;

  /**
   * `bulkWrite` within the tenant: every operation kind is rewritten (inserts and replacements
   * get the tenant, filters are scoped, updates guarded), all of them before any is sent.
   * `insertOne` must use the `{ insertOne: { document } }` form.
   *
   * @example
   * ```ts
   * await invoices.bulkWrite([
   *   { insertOne: { document: { number: 'INV-4' } } },
   *   { deleteMany: { filter: { status: 'void' } } },
   * ]);
   * ```
   */
  bulkWrite(operations: ReadonlyArray<TenantBulkWriteOperation<TSchema, TField>>, options?: BulkWriteOptions): Promise<BulkWriteResult>;

  /**
   * `aggregate` within the tenant: the pipeline starts with the tenant `$match`, joins into
   * tenant-scoped collections read only the tenant, joins into other collections must be
   * declared global, and stages that escape the collection are refused (see
   * {@link TenantCollectionOptions}). The cursor's `addStage()` and its shortcuts (`match()`,
   * `lookup()`, `out()`, ...) apply the same rules. A leading `$geoNear` gets the tenant in its
   * `query` and a leading `$vectorSearch` in its `filter` (index the tenant field as a filter
   * field); Atlas `$search`/`$searchMeta` are refused, as their scores and counts span tenants.
   *
   * @example
   * ```ts
   * const totals = await invoices.aggregate([{ $group: { _id: '$status', total: { $sum: '$total' } } }]).toArray();
   * ```
   */
  aggregate<T extends Document = Document>(pipeline?: Document[], options?: AggregateOptions): AggregationCursor<T>;
}

function requireFilter(filter: unknown, what: string): void {
  // The driver refuses a missing filter here too; saying so before anything is rewritten keeps
  // "no filter" from ever meaning "the whole tenant" for an update.
  if (filter === undefined) {
    throw new TenantContextError('VALIDATION_FAILED', `${what} needs a filter (use {} for every document of the tenant)`, {
      details: { path: what },
    });
  }
}

/**
 * Wraps a driver collection whose documents carry their tenant in one field, so that every
 * read and write through the wrapper stays within the tenant in scope: filters are combined as
 * `{ $and: [{ tenantId }, filter] }` (never merged, so no `$or` or spoofed tenant value can
 * widen them), inserts and replacements get the tenant field, updates cannot change it,
 * aggregation pipelines start with the tenant `$match` and their joins are scoped, and
 * server-side JavaScript (`$where`, `$function`, `$accumulator`) is refused everywhere.
 * Options are validated when this is called.
 *
 * Requires MongoDB 5.0+ for `$lookup` with `localField`/`foreignField` into tenant-scoped
 * collections (they are rewritten to the concise correlated form with a tenant pipeline).
 * Create the indexes with {@link ensureTenantIndexes} so every query can use the tenant prefix.
 *
 * Pitfalls the wrapper cannot close for you:
 * - **Direct collection access.** The driver collection you wrapped still reads everything.
 *   Keep it out of request code: create the wrapper once at start-up and hand out only it; use
 *   the raw collection for cross-tenant jobs inside `runAsSystem` so they are audited.
 * - **`$where` and friends.** Refused here, but only here: MongoDB runs them wherever else they
 *   arrive. Turn server-side JavaScript off (`security.javascriptEnabled: false`).
 * - **`$lookup` into unscoped collections.** A join into a collection that is not declared is
 *   refused; one into a declared `globalCollections` entry reads all of it by design. Declaring
 *   a tenant collection as global leaks it, so declare each collection once, deliberately.
 * - **Change streams.** `watch` is not offered: delete events carry only the `_id`, so a
 *   `$match` on `fullDocument.tenantId` cannot see them, and pre-images must be enabled per
 *   collection. Consume change streams in a system-scope worker that routes events by tenant.
 * - **Transactions across tenants.** A session is passed through untouched. Each call scopes to
 *   the tenant in scope at that call, and a tenant scope cannot switch tenants, but a session
 *   started in the system scope and reused in several tenant scopes makes one transaction span
 *   them. Start a session per tenant scope.
 * - **Cursors.** A cursor is bound to the tenant it was opened for: reconfiguring it in another
 *   tenant's scope is refused, but iterating it elsewhere still returns the first tenant's
 *   documents. Do not cache or share cursors between requests.
 * - **Collations.** A case-insensitive collation would make `tnt_a` match `TNT_A`, so a
 *   `collation` option that could equate two tenant ids is refused, and so is `explain`, whose
 *   statistics count other tenants' documents. The collection's own default collation cannot be
 *   seen from here: {@link ensureTenantIndexes} checks it; never create tenant collections with
 *   a case-insensitive default.
 * - **Caller-chosen `_id`s.** `_id` is unique across the whole collection, so inserting an
 *   `_id` another tenant already uses fails with a duplicate-key error, telling the caller that
 *   it exists. Let the driver generate `_id`s or prefix them with the tenant id, and enforce
 *   natural keys with a unique {@link tenantIndex}, which is unique per tenant.
 * - **Data written around the wrapper.** A document whose tenant field holds an array matches
 *   the equality for every tenant in it. The wrapper never writes one; other writers must not.
 *
 * @throws TenantContextError `CONFIGURATION_INVALID` (when called) for something that is not a
 *   driver collection, an invalid tenant field, or a collection declared both tenant-scoped and
 *   global.
 *
 * @example
 * ```ts
 * import { runWithTenant } from '@tenantkit/tenant-context';
 * import { ensureTenantIndexes, tenantCollection } from '@tenantkit/tenant-context/mongodb';
 *
 * interface Invoice { tenantId: string; number: string; customerId: string; total: number }
 *
 * const invoices = tenantCollection(db.collection<Invoice>('invoices'), {
 *   tenantScopedCollections: ['customers'],
 *   globalCollections: ['currencies'],
 * });
 * await ensureTenantIndexes(db.collection('invoices'), [{ key: { number: 1 }, unique: true }]);
 *
 * await runWithTenant('tnt_acme', async () => {
 *   await invoices.insertOne({ number: 'INV-1', customerId: 'c1', total: 100 });
 *   const withCustomers = await invoices
 *     .aggregate([{ $lookup: { from: 'customers', localField: 'customerId', foreignField: '_id', as: 'customer' } }])
 *     .toArray(); // only tnt_acme's invoices, joined only to tnt_acme's customers
 * });
 * ```
 */
export function tenantCollection<TSchema extends Document = Document, const TField extends string = 'tenantId'>(
  collection: Collection<TSchema>,
  options?: TenantCollectionOptions<TField>,
): TenantCollection<TSchema, TField> {
  const config = resolveTenantCollectionConfig(collection, options);
  // The wrapper builds Document-typed queries; TSchema typing is the interface's job.
  const raw = collection as unknown as Collection<Document>;
  const scopeNow = (): PipelineScope => ({ ...config, tenantId: requireTenantId() });

  const wrapper = {
    collectionName: config.collectionName,
    tenantField: config.tenantField,

    find(filter?: Document, options?: FindOptions) {
      const scope = scopeNow();
      const cursor = raw.find(scopeFilter(filter, scope, 'find filter'), checkedOperationOptions(options, 'find options'));
      return guardFindCursor(cursor, scope);
    },

    async findOne(filter?: Document, options?: FindOptions) {
      const scope = scopeNow();
      return raw.findOne(scopeFilter(filter, scope, 'findOne filter'), checkedOperationOptions(options, 'findOne options') ?? {});
    },

    async countDocuments(filter?: Document, options?: CountDocumentsOptions) {
      const scope = scopeNow();
      return raw.countDocuments(scopeFilter(filter, scope, 'countDocuments filter'), checkedOperationOptions(options, 'countDocuments options'));
    },

    async distinct(key: string, filter?: Document, options?: DistinctOptions) {
      const scope = scopeNow();
      if (typeof key !== 'string' || key === '') {
        throw new TenantContextError('VALIDATION_FAILED', 'distinct key must be a non-empty field path', { details: { path: 'distinct key' } });
      }
      return raw.distinct(key, scopeFilter(filter, scope, 'distinct filter'), checkedOperationOptions(options, 'distinct options') ?? {});
    },

    async insertOne(document: Document, options?: InsertOneOptions) {
      const scope = scopeNow();
      const scoped = scopeTenantDocument(document, scope, 'insert', 'insertOne document');
      return raw.insertOne(scoped, checkedOperationOptions(options, 'insertOne options'));
    },

    async insertMany(documents: readonly Document[], options?: BulkWriteOptions) {
      const scope = scopeNow();
      if (!Array.isArray(documents)) {
        throw new TenantContextError('VALIDATION_FAILED', 'insertMany documents must be an array', { details: { path: 'insertMany documents' } });
      }
      const scoped = documents.map((document: unknown, index) => scopeTenantDocument(document, scope, 'insert', `insertMany documents.${index}`));
      return raw.insertMany(scoped, checkedOperationOptions(options, 'insertMany options'));
    },

    async updateOne(filter: Document, update: Document | Document[], options?: UpdateOptions & { sort?: Sort }) {
      const scope = scopeNow();
      requireFilter(filter, 'updateOne');
      const scopedFilter = scopeFilter(filter, scope, 'updateOne filter');
      const guarded = guardUpdate(update, scope, 'updateOne update');
      return raw.updateOne(scopedFilter, guarded, checkedOperationOptions(options, 'updateOne options'));
    },

    async updateMany(filter: Document, update: Document | Document[], options?: UpdateOptions) {
      const scope = scopeNow();
      requireFilter(filter, 'updateMany');
      const scopedFilter = scopeFilter(filter, scope, 'updateMany filter');
      const guarded = guardUpdate(update, scope, 'updateMany update');
      return raw.updateMany(scopedFilter, guarded, checkedOperationOptions(options, 'updateMany options'));
    },

    async replaceOne(filter: Document, replacement: Document, options?: ReplaceOptions) {
      const scope = scopeNow();
      requireFilter(filter, 'replaceOne');
      const scopedFilter = scopeFilter(filter, scope, 'replaceOne filter');
      const scoped = scopeTenantDocument(replacement, scope, 'replacement', 'replaceOne replacement');
      return raw.replaceOne(scopedFilter, scoped, checkedOperationOptions(options, 'replaceOne options'));
    },

    async deleteOne(filter?: Document, options?: DeleteOptions) {
      const scope = scopeNow();
      return raw.deleteOne(scopeFilter(filter, scope, 'deleteOne filter'), checkedOperationOptions(options, 'deleteOne options'));
    },

    async deleteMany(filter?: Document, options?: DeleteOptions) {
      const scope = scopeNow();
      return raw.deleteMany(scopeFilter(filter, scope, 'deleteMany filter'), checkedOperationOptions(options, 'deleteMany options'));
    },

    async findOneAndUpdate(filter: Document, update: Document | Document[], options?: FindOneAndUpdateOptions) {
      const scope = scopeNow();
      requireFilter(filter, 'findOneAndUpdate');
      const scopedFilter = scopeFilter(filter, scope, 'findOneAndUpdate filter');
      const guarded = guardUpdate(update, scope, 'findOneAndUpdate update');
      return raw.findOneAndUpdate(scopedFilter, guarded, checkedOperationOptions(options, 'findOneAndUpdate options') ?? {});
    },

    async findOneAndDelete(filter: Document, options?: FindOneAndDeleteOptions) {
      const scope = scopeNow();
      requireFilter(filter, 'findOneAndDelete');
      const scopedFilter = scopeFilter(filter, scope, 'findOneAndDelete filter');
      return raw.findOneAndDelete(scopedFilter, checkedOperationOptions(options, 'findOneAndDelete options') ?? {});
    },

    async findOneAndReplace(filter: Document, replacement: Document, options?: FindOneAndReplaceOptions) {
      const scope = scopeNow();
      requireFilter(filter, 'findOneAndReplace');
      const scopedFilter = scopeFilter(filter, scope, 'findOneAndReplace filter');
      const scoped = scopeTenantDocument(replacement, scope, 'replacement', 'findOneAndReplace replacement');
      return raw.findOneAndReplace(scopedFilter, scoped, checkedOperationOptions(options, 'findOneAndReplace options') ?? {});
    },

    async bulkWrite(operations: readonly Document[], options?: BulkWriteOptions) {
      const scope = scopeNow();
      const scoped = scopeBulkWriteOperations(operations, scope) as AnyBulkWriteOperation<Document>[];
      return raw.bulkWrite(scoped, checkedOperationOptions(options, 'bulkWrite options'));
    },

    aggregate(pipeline?: Document[], options?: AggregateOptions) {
      const scope = scopeNow();
      const cursor = raw.aggregate(scopeAggregationPipeline(pipeline, scope), checkedOperationOptions(options, 'aggregate options'));
      return guardAggregationCursor(cursor, scope);
    },
  };
  // Frozen: one wrapper serves every request, and nobody may swap a method for all of them.
  return Object.freeze(wrapper) as unknown as TenantCollection<TSchema, TField>;
}
