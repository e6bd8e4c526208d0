import type { Db } from 'mongodb';
import { TenantContextError } from '../../errors.js';
import type { MembershipPage, MembershipStore } from '../../store.js';
import { decodeMembershipCursor, encodeMembershipCursor } from '../keyset-cursor.js';
import { assertPageLimit, assertStoreString } from '../store-argument-guards.js';
import { bsonReadOptions } from './bson-read-options.js';
import { type MembershipDocument, membershipFromDocument, membershipToDocument } from './membership-documents.js';
import { membershipChangeUpdate, membershipFilter, membershipListFilter } from './membership-queries.js';
import { runMongoOperation } from './mongo-errors.js';
import { type MongoTenantContextOptions, resolveTenantContextCollections } from './tenant-context-collections.js';

/**
 * A {@link MembershipStore} on MongoDB, in `<prefix>memberships`. The `(tenantId, userId)` pair
 * is the document's `_id`, so a duplicate is refused even before any index exists; run
 * {@link ensureTenantContextIndexes} for the listing indexes (by tenant, by user).
 *
 * @throws TenantContextError `CONFIGURATION_INVALID` (when called) for a missing `Db` or bad options.
 *
 * @example
 * ```ts
 * import { createMembershipService } from '@tenantkit/tenant-context';
 * import { mongoMembershipStore } from '@tenantkit/tenant-context/mongodb';
 *
 * const memberships = createMembershipService({ store: mongoMembershipStore(db), registry });
 * ```
 */
export function mongoMembershipStore(db: Db, options?: MongoTenantContextOptions): MembershipStore {
  const names = resolveTenantContextCollections(db, options, 'mongoMembershipStore');
  const memberships = db.collection<MembershipDocument>(names.memberships);

  return {
    async insertMembership(membership) {
      const document = membershipToDocument(membership);
      assertStoreString(document.tenantId, 'tenant id');
      assertStoreString(document.userId, 'user id');
      await runMongoOperation(
        () => memberships.insertOne(document),
        () =>
          new TenantContextError('MEMBERSHIP_ALREADY_EXISTS', 'This user is already a member of this tenant', {
            details: { tenantId: document.tenantId },
          }),
      );
    },

    async updateMembership(membership, expected) {
      const filter = {
        ...membershipFilter(membership.tenantId, membership.userId),
        status: expected.status,
        updatedAt: expected.updatedAt,
      };
      const result = await runMongoOperation(() => memberships.updateOne(filter, membershipChangeUpdate(membership)));
      return result.matchedCount === 1;
    },

    async getMembership(tenantId, userId) {
      const filter = membershipFilter(tenantId, userId);
      const document = await runMongoOperation(() => memberships.findOne(filter, bsonReadOptions));
      return document === null ? null : membershipFromDocument(document);
    },

    async listMembershipsByUser(userId) {
      assertStoreString(userId, 'user id');
      const documents = await runMongoOperation(() =>
        memberships.find({ userId }, bsonReadOptions).sort({ tenantId: 1 }).toArray(),
      );
      return documents.map(membershipFromDocument);
    },

    async listMembershipsByTenant(tenantId, query): Promise<MembershipPage> {
      assertPageLimit(query.limit);
      const afterUserId = query.cursor === undefined ? null : decodeMembershipCursor(query.cursor);
      const filter = membershipListFilter(tenantId, query, afterUserId);
      // One row more than the page tells whether another page follows.
      const documents = await runMongoOperation(() =>
        memberships.find(filter, bsonReadOptions).sort({ userId: 1 }).limit(query.limit + 1).toArray(),
      );
      const items = documents.slice(0, query.limit).map(membershipFromDocument);
      const last = items.at(-1);
      const nextCursor = documents.length > query.limit && last !== undefined ? encodeMembershipCursor(last.userId) : null;
      return { items, nextCursor };
    },

    async deleteMembership(tenantId, userId) {
      const filter = membershipFilter(tenantId, userId);
      const result = await runMongoOperation(() => memberships.deleteOne(filter));
      return result.deletedCount === 1;
    },

    async deleteMembershipsOfTenant(tenantId) {
      assertStoreString(tenantId, 'tenant id');
      const result = await runMongoOperation(() => memberships.deleteMany({ tenantId }));
      return result.deletedCount;
    },
  };
}
