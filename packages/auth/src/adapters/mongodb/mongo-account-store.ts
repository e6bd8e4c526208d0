import type { AccountStore } from '../../store.js';
import { type AccountDocument, accountFromDocument, accountToDocument } from './auth-documents.js';
import { accountByEmailFilter, accountFlagsUpdate, idFilter, rehashFilter, rehashUpdate, setPasswordFilter, setPasswordUpdate } from './auth-queries.js';
import { authBsonReadOptions } from './bson-read-options.js';
import type { MongoAuthStoreContext } from './mongo-auth-store-context.js';
import { insertOrDuplicate, runMongoOperation } from './mongo-errors.js';

/**
 * The {@link AccountStore} of {@link mongoAuthStores}: one document per account under its id,
 * email unique by index (`create` maps the violated index to `'id-taken'` / `'email-taken'`).
 * `setPassword` is one `findOneAndUpdate` with an aggregation-pipeline update, so pushing the
 * old hash to the history, the cut and the compare-and-set are a single atomic step.
 *
 * @example
 * ```ts
 * const accounts = mongoAccountStore({ db, names: resolveAuthCollectionNames('tenantkit_') });
 * ```
 */
export function mongoAccountStore(context: MongoAuthStoreContext): AccountStore {
  const accounts = context.db.collection<AccountDocument>(context.names.accounts);
  const read = (document: unknown) => (document === null ? null : accountFromDocument(document));

  return {
    async create(account) {
      const document = accountToDocument(account);
      const outcome = await insertOrDuplicate(() => accounts.insertOne(document));
      if (outcome === 'inserted') return 'created';
      if (outcome === 'id') return 'id-taken';
      if (outcome === 'email') return 'email-taken';
      // The server did not name the index (before 4.2): the id is the one to check.
      const holder = await runMongoOperation(() => accounts.findOne({ _id: document._id }, { projection: { _id: 1 } }));
      return holder === null ? 'email-taken' : 'id-taken';
    },

    async findById(id) {
      return read(await runMongoOperation(() => accounts.findOne(idFilter(id, 'id'), authBsonReadOptions)));
    },

    async findByEmail(email) {
      return read(await runMongoOperation(() => accounts.findOne(accountByEmailFilter(email), authBsonReadOptions)));
    },

    async setPassword(id, change) {
      const filter = setPasswordFilter(id, change.expectedPasswordHash);
      const update = setPasswordUpdate(change);
      const updated = await runMongoOperation(() => accounts.findOneAndUpdate(filter, update, { ...authBsonReadOptions, returnDocument: 'after' }));
      if (updated !== null) return accountFromDocument(updated);
      if (change.expectedPasswordHash === undefined) return 'not-found';
      const exists = await runMongoOperation(() => accounts.findOne(idFilter(id, 'id'), { projection: { _id: 1 } }));
      return exists === null ? 'not-found' : 'conflict';
    },

    async rehashPassword(id, expectedPasswordHash, passwordHash, now) {
      const result = await runMongoOperation(() => accounts.updateOne(rehashFilter(id, expectedPasswordHash), rehashUpdate(passwordHash, now)));
      return result.matchedCount === 1;
    },

    async update(id, patch, now) {
      const update = accountFlagsUpdate(patch, now);
      return read(await runMongoOperation(() => accounts.findOneAndUpdate(idFilter(id, 'id'), update, { ...authBsonReadOptions, returnDocument: 'after' })));
    },

    async delete(id) {
      const result = await runMongoOperation(() => accounts.deleteOne(idFilter(id, 'id')));
      return result.deletedCount === 1;
    },
  };
}
