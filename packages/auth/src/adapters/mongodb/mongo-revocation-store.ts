import { AuthError } from '../../errors.js';
import type { RevocationStore } from '../../store.js';
import { type RevocationDocument, revocationDocumentId, revocationFromDocument } from './auth-documents.js';
import { raiseEpochUpdate, revocationCheckIds, revokeUntilUpdate } from './auth-queries.js';
import { authBsonReadOptions } from './bson-read-options.js';
import { type MongoAuthStoreContext, runUpsert } from './mongo-auth-store-context.js';
import { runMongoOperation } from './mongo-errors.js';

/**
 * The {@link RevocationStore} of {@link mongoAuthStores}: jti and session entries and the user
 * and tenant epochs in one collection under `_id: { kind, id }`, so `check` is one `find` (one
 * round trip). Entries are upserts with `$max` (a later `until` wins) and a TTL field; epochs
 * are upserts with `$max` and no TTL field, so they stay.
 *
 * @example
 * ```ts
 * const revocations = mongoRevocationStore({ db, names: resolveAuthCollectionNames('tenantkit_') });
 * ```
 */
export function mongoRevocationStore(context: MongoAuthStoreContext): RevocationStore {
  const revocations = context.db.collection<RevocationDocument>(context.names.revocations);

  async function revokeUntil(kind: 'jti' | 'session', id: string, until: number): Promise<void> {
    const filter = { _id: revocationDocumentId(kind, id) };
    const update = revokeUntilUpdate(until);
    await runUpsert(() => revocations.updateOne(filter, update, { upsert: true }));
  }

  return {
    async revokeToken(jti, until) {
      await revokeUntil('jti', jti, until);
    },

    async revokeSession(sessionId, until) {
      await revokeUntil('session', sessionId, until);
    },

    async raiseEpoch(kind, id, epochMs) {
      if (kind !== 'user' && kind !== 'tenant') throw new AuthError('VALIDATION_FAILED', "kind must be 'user' or 'tenant'", { details: { field: 'kind' } });
      const filter = { _id: revocationDocumentId(kind === 'user' ? 'user-epoch' : 'tenant-epoch', id) };
      const update = raiseEpochUpdate(epochMs);
      const stored = await runUpsert(() => revocations.findOneAndUpdate(filter, update, { ...authBsonReadOptions, upsert: true, returnDocument: 'after' }));
      if (stored === null) throw new AuthError('STORE_CONFLICT', 'MongoDB returned no epoch after the upsert');
      return revocationFromDocument(stored).time;
    },

    async check(query, now) {
      if (typeof now !== 'number' || !Number.isFinite(now)) throw new AuthError('VALIDATION_FAILED', '`now` must be a finite number (epoch ms)');
      const ids = revocationCheckIds(query);
      const documents = await runMongoOperation(() => revocations.find({ _id: { $in: ids } }, authBsonReadOptions).toArray());
      const state = { jtiRevoked: false, sessionRevoked: false, userEpoch: 0, tenantEpoch: 0 };
      for (const document of documents) {
        const { kind, id, time } = revocationFromDocument(document);
        if (kind === 'jti' && id === query.jti) state.jtiRevoked = time > now;
        else if (kind === 'session' && id === query.sessionId) state.sessionRevoked = time > now;
        else if (kind === 'user-epoch' && id === query.userId) state.userEpoch = time;
        else if (kind === 'tenant-epoch' && id === query.tenantId) state.tenantEpoch = time;
      }
      return state;
    },
  };
}
