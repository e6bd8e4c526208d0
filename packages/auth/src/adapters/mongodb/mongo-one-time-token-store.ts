import { AuthError } from '../../errors.js';
import type { OneTimeTokenStore } from '../../store.js';
import {
  type OneTimeTokenDocument,
  type OneTimeTokenOwnerDocument,
  oneTimeTokenFromDocument,
  oneTimeTokenToDocument,
} from './auth-documents.js';
import { consumeFilter, nextIssueUpdate, oneTimeOwnerId, ownerIssuesFilter, voidForFilter } from './auth-queries.js';
import { authBsonReadOptions } from './bson-read-options.js';
import { type MongoAuthStoreContext, runUpsert } from './mongo-auth-store-context.js';
import { runMongoOperation } from './mongo-errors.js';

/**
 * The {@link OneTimeTokenStore} of {@link mongoAuthStores}: tokens under their hash, TTL index
 * on their end. `consume` is one `findOneAndDelete` filtered on purpose and expiry, so of N
 * concurrent consumes at most one gets the record.
 *
 * `issue` voids the earlier tokens of the same purpose, subject and tenant without a
 * transaction, through an issue number: it takes the owner's next number (`$inc` on a counter
 * document, one atomic step), stores the token with it, deletes the owner's tokens with a
 * lower number, and finally deletes its own token if one with a higher number exists. So after
 * concurrent reissues exactly one token survives, the one with the highest number: any other
 * token is either deleted by that one's cleanup (when it was stored before it ran) or sees it in
 * its own last check (when it was stored after). Each call reports what its own cleanup deleted.
 *
 * @example
 * ```ts
 * const oneTimeTokens = mongoOneTimeTokenStore({ db, names: resolveAuthCollectionNames('tenantkit_') });
 * ```
 */
export function mongoOneTimeTokenStore(context: MongoAuthStoreContext): OneTimeTokenStore {
  const tokens = context.db.collection<OneTimeTokenDocument>(context.names.oneTimeTokens);
  const owners = context.db.collection<OneTimeTokenOwnerDocument>(context.names.oneTimeTokenOwners);

  return {
    async issue(token) {
      // Checked before anything is written.
      oneTimeTokenToDocument(token, 0);
      const owner = oneTimeOwnerId(token.purpose, token.subject, token.tenantId);
      const counter = await runUpsert(() =>
        owners.findOneAndUpdate({ _id: owner }, nextIssueUpdate(token.expiresAt), { ...authBsonReadOptions, upsert: true, returnDocument: 'after' }),
      );
      const seq = counter?.seq;
      if (typeof seq !== 'number') throw new AuthError('STORE_CONFLICT', 'MongoDB returned no issue number after the upsert');
      const document = oneTimeTokenToDocument(token, seq);
      // A hash stored before (another owner's, or this one's) is replaced, never shared.
      await runUpsert(() => tokens.replaceOne({ _id: document._id }, document, { upsert: true }));
      const voided = await runMongoOperation(() => tokens.deleteMany(ownerIssuesFilter(owner, seq, 'earlier')));
      const newer = await runMongoOperation(() => tokens.findOne(ownerIssuesFilter(owner, seq, 'later'), { projection: { _id: 1 } }));
      if (newer !== null) await runMongoOperation(() => tokens.deleteOne({ _id: document._id, seq }));
      return voided.deletedCount;
    },

    async consume(tokenHash, purpose, now) {
      const taken = await runMongoOperation(() => tokens.findOneAndDelete(consumeFilter(tokenHash, purpose, now), authBsonReadOptions));
      return taken === null ? null : oneTimeTokenFromDocument(taken);
    },

    async voidFor(purpose, subject, tenantId) {
      const result = await runMongoOperation(() => tokens.deleteMany(voidForFilter(purpose, subject, tenantId)));
      return result.deletedCount;
    },
  };
}
