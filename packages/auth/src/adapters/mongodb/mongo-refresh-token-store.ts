import { AuthError } from '../../errors.js';
import type { RefreshRotateOutcome, RefreshTokenStore } from '../../store.js';
import {
  type RefreshFamilyDocument,
  type RefreshTokenDocument,
  refreshFamilyFromDocument,
  refreshFamilyToDocument,
  refreshTokenFromDocument,
  refreshTokenToDocument,
} from './auth-documents.js';
import {
  currentRefreshTokenFilter,
  idFilter,
  liveFamilyFilter,
  markRotatedUpdate,
  revokeFamilyUpdate,
  userLiveFamiliesFilter,
} from './auth-queries.js';
import { authBsonReadOptions } from './bson-read-options.js';
import type { MongoAuthStoreContext } from './mongo-auth-store-context.js';
import { insertOrDuplicate, runMongoOperation } from './mongo-errors.js';
import { decideRefreshRotation } from './refresh-rotation-decision.js';

/** A rotation whose mark lost a race decides again; by then the token is rotated, so twice is enough. */
const maxRotationAttempts = 3;

/**
 * The {@link RefreshTokenStore} of {@link mongoAuthStores}: families and tokens in two
 * collections (tokens under their hash), TTL indexes on their ends.
 *
 * `rotate` uses single-document operations, no transaction: it reads the presented token and
 * its family, decides (`decideRefreshRotation`), and on `rotate` inserts `next` and then marks
 * the presented token with `updateOne({ _id, rotatedAt: null, expiresAt > now })`. That mark is
 * the one step that decides: of N concurrent refreshes of one token exactly one matches it and
 * gets `'rotated'`; the others delete the `next` they inserted (nobody holds its secret yet),
 * read again, and answer `'grace'` (or `'reused'`). `next` is inserted before the mark so a
 * taken hash is `'invalid'` with the presented token untouched. Reuse revokes the family through
 * a live-family filter, so only the first of concurrent reuses answers `'reused'`. A family
 * revoked between the read and the mark does not stop that one rotation (its tokens are dead
 * from then on), as if the refresh had come just before the revocation.
 *
 * @example
 * ```ts
 * const refreshTokens = mongoRefreshTokenStore({ db, names: resolveAuthCollectionNames('tenantkit_') });
 * ```
 */
export function mongoRefreshTokenStore(context: MongoAuthStoreContext): RefreshTokenStore {
  const families = context.db.collection<RefreshFamilyDocument>(context.names.refreshFamilies);
  const tokens = context.db.collection<RefreshTokenDocument>(context.names.refreshTokens);

  async function readFamily(id: string) {
    const document = await runMongoOperation(() => families.findOne(idFilter(id, 'id'), authBsonReadOptions));
    return document === null ? null : refreshFamilyFromDocument(document);
  }

  async function revoke(id: string, reason: string, now: number): Promise<boolean> {
    const result = await runMongoOperation(() => families.updateOne(liveFamilyFilter(id, now), revokeFamilyUpdate(reason, now)));
    return result.modifiedCount === 1;
  }

  return {
    async createFamily(family, first) {
      const familyDocument = refreshFamilyToDocument(family);
      const tokenDocument = refreshTokenToDocument(first);
      if (first.familyId !== family.id) {
        throw new AuthError('VALIDATION_FAILED', "The first token's familyId must be the family's id", { details: { field: 'first.familyId' } });
      }
      if ((await insertOrDuplicate(() => families.insertOne(familyDocument))) !== 'inserted') return 'id-taken';
      if ((await insertOrDuplicate(() => tokens.insertOne(tokenDocument))) === 'inserted') return 'created';
      // The token hash is taken: the family this call inserted goes again.
      await runMongoOperation(() => families.deleteOne({ _id: familyDocument._id, createdAt: familyDocument.createdAt, userId: familyDocument.userId }));
      return 'id-taken';
    },

    async rotate(input): Promise<RefreshRotateOutcome> {
      if (typeof input !== 'object' || input === null) throw new AuthError('VALIDATION_FAILED', 'rotate() takes an input object');
      const { presentedHash, next, successorSealed, now, graceMs } = input;
      const nextDocument = refreshTokenToDocument(next);
      const markUpdate = markRotatedUpdate(now, successorSealed);
      const presentedFilter = idFilter(presentedHash, 'presentedHash');
      if (successorSealed.length === 0) throw new AuthError('VALIDATION_FAILED', 'successorSealed must be a non-empty string', { details: { field: 'successorSealed' } });
      if (typeof graceMs !== 'number' || !Number.isFinite(graceMs) || graceMs < 0) {
        throw new AuthError('VALIDATION_FAILED', 'graceMs must be a non-negative number', { details: { field: 'graceMs' } });
      }

      for (let attempt = 1; attempt <= maxRotationAttempts; attempt += 1) {
        const presentedDocument = await runMongoOperation(() => tokens.findOne(presentedFilter, authBsonReadOptions));
        const presented = presentedDocument === null ? null : refreshTokenFromDocument(presentedDocument);
        const family = presented === null ? null : await readFamily(presented.familyId);
        const decision = decideRefreshRotation(presented, family, { next, now, graceMs });
        switch (decision.step) {
          case 'invalid':
            return { outcome: 'invalid' };
          case 'grace':
            return { outcome: 'grace', family: family!, successorSealed: decision.successorSealed };
          case 'mismatch':
            throw new AuthError('VALIDATION_FAILED', 'next must belong to the same family, one generation on', { details: { field: 'next' } });
          case 'reuse': {
            const revoked = await runMongoOperation(() =>
              families.findOneAndUpdate(liveFamilyFilter(family!.id, now), revokeFamilyUpdate('reuse', now), { ...authBsonReadOptions, returnDocument: 'after' }),
            );
            // null: a concurrent reuse revoked it first, so for this call the family is dead.
            return revoked === null ? { outcome: 'invalid' } : { outcome: 'reused', family: refreshFamilyFromDocument(revoked) };
          }
          case 'rotate': {
            if ((await insertOrDuplicate(() => tokens.insertOne({ ...nextDocument }))) !== 'inserted') return { outcome: 'invalid' };
            const marked = await runMongoOperation(() => tokens.updateOne(currentRefreshTokenFilter(presentedHash, now), markUpdate));
            if (marked.modifiedCount === 1) return { outcome: 'rotated', family: family! };
            // Another refresh marked it first (or it just expired): take `next` back, decide again.
            await runMongoOperation(() => tokens.deleteOne({ _id: nextDocument._id, familyId: nextDocument.familyId, rotatedAt: null }));
            break;
          }
        }
      }
      throw new AuthError('STORE_CONFLICT', 'The refresh token kept changing while it was rotated; try again');
    },

    async findFamily(id) {
      return readFamily(id);
    },

    async revokeFamily(id, reason, now) {
      return revoke(id, reason, now);
    },

    async revokeByUser(userId, reason, now, options) {
      revokeFamilyUpdate(reason, now);
      const filter = userLiveFamiliesFilter(userId, now, options?.sessionId);
      const found = await runMongoOperation(() => families.find(filter, { projection: { _id: 1 } }).toArray());
      const ids = found.map((document) => document._id);
      // One update per family: each reports whether it was live, so the ids returned are exact.
      const revoked = await Promise.all(ids.map((id) => revoke(id, reason, now)));
      return ids.filter((_, index) => revoked[index]);
    },
  };
}
