import { AuthError } from '../../errors.js';
import type { SessionStore } from '../../store.js';
import { type SessionDocument, sessionFromDocument, sessionToDocument } from './auth-documents.js';
import {
  idFilter,
  liveSessionByIdFilter,
  liveSessionByTokenHashFilter,
  otherUserSessionsFilter,
  touchSessionUpdate,
  userSessionsQuery,
} from './auth-queries.js';
import { authBsonReadOptions } from './bson-read-options.js';
import type { MongoAuthStoreContext } from './mongo-auth-store-context.js';
import { insertOrDuplicate, runMongoOperation } from './mongo-errors.js';

/**
 * The {@link SessionStore} of {@link mongoAuthStores}: one document per session under its id,
 * token hash unique by index, a TTL index on its idle end. Lookups filter on liveness at `now`
 * themselves.
 *
 * `rotate` without a transaction (so it also runs on a standalone server): it inserts `next`
 * first — the unique `_id` and `tokenHash` indexes make a taken id or hash `'id-taken'` with
 * nothing written — and then deletes the current session through a liveness filter. That delete
 * is the single-document step that decides: of concurrent rotations of one session exactly one
 * deletes it; the others, and a rotation whose session expired meanwhile, delete the `next` they
 * inserted (nobody holds its token yet) and answer `'not-found'`. When `next` keeps the current
 * token hash, the order is reversed (delete, then insert; a failed insert puts the current
 * session back).
 *
 * @example
 * ```ts
 * const sessions = mongoSessionStore({ db, names: resolveAuthCollectionNames('tenantkit_') });
 * ```
 */
export function mongoSessionStore(context: MongoAuthStoreContext): SessionStore {
  const sessions = context.db.collection<SessionDocument>(context.names.sessions);
  const read = (document: unknown) => (document === null ? null : sessionFromDocument(document));

  return {
    async create(session) {
      const document = sessionToDocument(session);
      const outcome = await insertOrDuplicate(() => sessions.insertOne(document));
      return outcome === 'inserted' ? 'created' : 'id-taken';
    },

    async findByTokenHash(tokenHash, now) {
      return read(await runMongoOperation(() => sessions.findOne(liveSessionByTokenHashFilter(tokenHash, now), authBsonReadOptions)));
    },

    async findById(id, now) {
      return read(await runMongoOperation(() => sessions.findOne(liveSessionByIdFilter(id, now), authBsonReadOptions)));
    },

    async touch(id, change) {
      if (typeof change !== 'object' || change === null) throw new AuthError('VALIDATION_FAILED', 'touch() takes { now, expiresAt }');
      const filter = liveSessionByIdFilter(id, change.now);
      const update = touchSessionUpdate(change.now, change.expiresAt);
      return read(await runMongoOperation(() => sessions.findOneAndUpdate(filter, update, { ...authBsonReadOptions, returnDocument: 'after' })));
    },

    async rotate(id, next, now) {
      const nextDocument = sessionToDocument(next);
      const currentFilter = liveSessionByIdFilter(id, now);
      const current = await runMongoOperation(() => sessions.findOne(currentFilter, authBsonReadOptions));
      if (current === null) return 'not-found';
      if (next.id === id) return 'id-taken';

      if (nextDocument.tokenHash !== current.tokenHash) {
        const inserted = await insertOrDuplicate(() => sessions.insertOne(nextDocument));
        if (inserted !== 'inserted') return 'id-taken';
        const deleted = await runMongoOperation(() => sessions.deleteOne({ ...currentFilter, tokenHash: current.tokenHash }));
        if (deleted.deletedCount === 1) return 'rotated';
        await runMongoOperation(() => sessions.deleteOne({ _id: nextDocument._id, tokenHash: nextDocument.tokenHash }));
        return 'not-found';
      }

      // `next` keeps the token hash: the unique index forces delete-then-insert.
      const deleted = await runMongoOperation(() => sessions.findOneAndDelete({ ...currentFilter, tokenHash: current.tokenHash }, authBsonReadOptions));
      if (deleted === null) return 'not-found';
      const inserted = await insertOrDuplicate(() => sessions.insertOne(nextDocument));
      if (inserted === 'inserted') return 'rotated';
      await insertOrDuplicate(() => sessions.insertOne(deleted));
      return 'id-taken';
    },

    async listByUser(userId, now) {
      const { filter, sort } = userSessionsQuery(userId, now);
      const documents = await runMongoOperation(() => sessions.find(filter, authBsonReadOptions).sort(sort).toArray());
      return documents.map(sessionFromDocument);
    },

    async delete(id) {
      const result = await runMongoOperation(() => sessions.deleteOne(idFilter(id, 'id')));
      return result.deletedCount === 1;
    },

    async deleteByUser(userId, options) {
      const filter = otherUserSessionsFilter(userId, options?.exceptId);
      const found = await runMongoOperation(() => sessions.find(filter, { projection: { _id: 1 } }).toArray());
      const ids = found.map((document) => document._id);
      if (ids.length === 0) return [];
      await runMongoOperation(() => sessions.deleteMany({ ...filter, _id: { $in: ids } }));
      return ids;
    },
  };
}
