import type { ClientSession, Db, TransactionOptions } from 'mongodb';
import { RbacError } from '../../errors.js';
import type { AssignmentPage, DeleteGroupOutcome, InsertAssignmentOutcome, MoveGroupOutcome, RbacStore } from '../../store.js';
import { decodeAssignmentCursor, encodeAssignmentCursor } from '../memory/assignment-cursor.js';
import {
  assertAssignmentLimit,
  assertEpochMs,
  assertNextVersion,
  assertPageLimit,
  assertRoleTenant,
  assertStoreString,
} from '../memory/store-argument-guards.js';
import { rbacBsonReadOptions } from './bson-read-options.js';
import { isDuplicateKeyErrorIn, runMongoOperation, translateMongoError } from './mongo-errors.js';
import { type MongoRbacStoreOptions, resolveRbacCollections } from './rbac-collections.js';
import {
  type AssignmentDocument,
  assignmentFromDocument,
  assignmentToDocument,
  type GroupDocument,
  groupFromDocument,
  type GroupMemberDocument,
  groupMemberFromDocument,
  groupMemberToDocument,
  groupToDocument,
  type PolicyVersionDocument,
  type RoleDocument,
  roleFromDocument,
  roleToDocument,
} from './rbac-documents.js';
import {
  approveUpdate,
  assignmentFilter,
  assignmentListFilter,
  groupFilter,
  groupMemberFilter,
  groupMoveWrites,
  policyVersionBump,
  policyVersionFilter,
  roleFilter,
  rolesOfTenantFilter,
  roleVersionFilter,
  siblingNameFilter,
  subjectRoleFilter,
  subjectsFilter,
  subtreeFilter,
  unexpiredOfRoleFilter,
} from './rbac-queries.js';
import {
  assertAssignmentStatus,
  assertStorableAssignment,
  assertStorableGroup,
  assertStorableGroupMember,
  assertStorableRole,
  assertStorableSubject,
} from '../store-record-guards.js';

/** Snapshot reads and majority commits: a transaction decides on one consistent state. */
function transactionOptions(): TransactionOptions {
  return { readConcern: { level: 'snapshot' }, writeConcern: { w: 'majority' }, readPreference: 'primary' };
}

/** Restarts of a transaction that lost the first-write race on a new policy version document. */
const maxVersionCreationAttempts = 3;

function keyPatternOf(error: unknown): string[] {
  const keyPattern = (error as { keyPattern?: unknown } | null)?.keyPattern;
  return typeof keyPattern === 'object' && keyPattern !== null ? Object.keys(keyPattern) : [];
}

/**
 * An {@link RbacStore} on MongoDB (driver 6 or 7; a replica set or sharded cluster of MongoDB
 * 4.2+, since every mutation is a transaction). Collections `<prefix>rbac_roles`, `_groups`,
 * `_group_members`, `_assignments` and `_policy_versions`; run {@link ensureRbacIndexes} first.
 * Records keep their natural keys as `_id` (`{ tenantId, key }` for a role, `{ tenantId, id }`
 * for a group or assignment, `{ tenantId, groupId, userId }` for a membership), and every
 * secondary index leads with `tenantId`.
 *
 * Why every mutation is a transaction, and why that is enough: the contract bumps the tenant's
 * policy version in the same atomic step as each change, which in MongoDB spans two documents.
 * So each mutation runs in one snapshot transaction that ends by incrementing the tenant's
 * policy version document. That document is written by every mutation of the tenant, so it is
 * also the tenant's write lock: two concurrent transactions of one tenant both write it, one
 * gets a write conflict and the driver retries it on the new state. Check-then-write sequences
 * — `insertAssignment` counting unexpired assignments against `maxAssignments`, duplicate and
 * sibling-name checks, the cycle check of `moveGroup`, the childless check of `deleteGroup` —
 * can therefore not be interleaved (no write skew), without a separate counter or lock
 * document. The price is that the mutations of one tenant run one at a time; RBAC changes are
 * rare next to checks, which only read. `deleteTenantData` is not one transaction (a big tenant
 * could exceed transaction limits): it deletes grants first, the version document last.
 *
 * @throws RbacError `CONFIGURATION_INVALID` (when called) for a missing `Db` or bad options.
 *
 * @example
 * ```ts
 * import { MongoClient } from 'mongodb';
 * import { ensureRbacIndexes, mongoRbacStore } from '@tenantkit/rbac/mongodb';
 *
 * const client = await new MongoClient(process.env.MONGODB_URL!).connect();
 * const db = client.db('app');
 * await ensureRbacIndexes(db);
 * const store = mongoRbacStore(db);
 * ```
 */
export function mongoRbacStore(db: Db, options?: MongoRbacStoreOptions): RbacStore {
  const names = resolveRbacCollections(db, options, 'mongoRbacStore');
  const roles = db.collection<RoleDocument>(names.roles);
  const groups = db.collection<GroupDocument>(names.groups);
  const members = db.collection<GroupMemberDocument>(names.groupMembers);
  const assignments = db.collection<AssignmentDocument>(names.assignments);
  const versions = db.collection<PolicyVersionDocument>(names.policyVersions);

  /**
   * Runs `work` in a transaction (the driver retries it on write conflicts) and returns what it
   * returns; `onDuplicateKey` maps the error that aborted it (a unique-index violation) to an
   * outcome, or returns `undefined` to let it propagate.
   */
  async function inTransaction<T>(work: (session: ClientSession) => Promise<T>, onDuplicateKey?: (error: unknown) => T | undefined): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      const session = db.client.startSession();
      try {
        return await session.withTransaction(() => work(session), transactionOptions());
      } catch (error) {
        // Two first mutations of a tenant may both try to create its version document; the
        // loser starts over and finds it.
        if (attempt < maxVersionCreationAttempts && isDuplicateKeyErrorIn(error, names.policyVersions)) continue;
        const mapped = onDuplicateKey === undefined ? undefined : onDuplicateKey(error);
        if (mapped !== undefined) return mapped;
        throw translateMongoError(error);
      } finally {
        await session.endSession();
      }
    }
  }

  async function bumpPolicyVersion(tenantId: string | null, session: ClientSession): Promise<void> {
    await versions.updateOne(policyVersionFilter(tenantId), policyVersionBump(tenantId), { upsert: true, session });
  }

  return {
    async getRole(tenantId, key) {
      const filter = roleFilter(tenantId, key);
      const document = await runMongoOperation(() => roles.findOne(filter, rbacBsonReadOptions));
      return document === null ? null : roleFromDocument(document);
    },

    async listRoles(tenantId) {
      const filter = rolesOfTenantFilter(tenantId);
      const documents = await runMongoOperation(() => roles.find(filter, rbacBsonReadOptions).sort({ key: 1 }).toArray());
      return documents.map(roleFromDocument);
    },

    async insertRole(role) {
      assertStorableRole(role);
      const document = roleToDocument(role);
      return inTransaction(
        async (session) => {
          await roles.insertOne(document, { session });
          await bumpPolicyVersion(document.tenantId, session);
          return true;
        },
        (error) => (isDuplicateKeyErrorIn(error, names.roles) ? false : undefined),
      );
    },

    async updateRole(role, expectedVersion) {
      assertStorableRole(role);
      assertNextVersion(role.version, expectedVersion);
      const document = roleToDocument(role);
      const filter = roleVersionFilter(document.tenantId, document.key, expectedVersion);
      return inTransaction(async (session) => {
        const result = await roles.replaceOne(filter, document, { session });
        if (result.matchedCount !== 1) return false;
        await bumpPolicyVersion(document.tenantId, session);
        return true;
      });
    },

    async deleteRole(tenantId, key) {
      const filter = roleFilter(tenantId, key);
      return inTransaction(async (session) => {
        const result = await roles.deleteOne(filter, { session });
        if (result.deletedCount !== 1) return false;
        if (tenantId !== null) await assignments.deleteMany({ tenantId, roleKey: key }, { session });
        await bumpPolicyVersion(tenantId, session);
        return true;
      });
    },

    async insertGroup(group) {
      assertStorableGroup(group);
      const document = groupToDocument(group);
      const siblings = siblingNameFilter(document.tenantId, document.parentId, document.name, document.id);
      return inTransaction(
        async (session) => {
          // Checked here as well as by the unique index, so it holds even before the index exists.
          if ((await groups.findOne(siblings, { session, projection: { _id: 1 } })) !== null) return false;
          await groups.insertOne(document, { session });
          await bumpPolicyVersion(document.tenantId, session);
          return true;
        },
        (error) => (isDuplicateKeyErrorIn(error, names.groups) ? false : undefined),
      );
    },

    async getGroup(tenantId, groupId) {
      const filter = groupFilter(tenantId, groupId);
      const document = await runMongoOperation(() => groups.findOne(filter, rbacBsonReadOptions));
      return document === null ? null : groupFromDocument(document);
    },

    async listGroups(tenantId) {
      assertStoreString(tenantId, 'tenantId');
      const documents = await runMongoOperation(() => groups.find({ tenantId }, rbacBsonReadOptions).sort({ path: 1 }).toArray());
      return documents.map(groupFromDocument);
    },

    async renameGroup(tenantId, groupId, name, updatedAt) {
      const filter = groupFilter(tenantId, groupId);
      assertStoreString(name, 'name');
      assertEpochMs(updatedAt, 'updatedAt');
      return inTransaction(
        async (session) => {
          const group = await groups.findOne(filter, { ...rbacBsonReadOptions, session });
          if (group === null) return false;
          if ((await groups.findOne(siblingNameFilter(tenantId, group.parentId, name, groupId), { session, projection: { _id: 1 } })) !== null) return false;
          await groups.updateOne(filter, { $set: { name, updatedAt } }, { session });
          await bumpPolicyVersion(tenantId, session);
          return true;
        },
        (error) => (isDuplicateKeyErrorIn(error, names.groups) ? false : undefined),
      );
    },

    async moveGroup(tenantId, groupId, newParentId, updatedAt): Promise<MoveGroupOutcome> {
      const filter = groupFilter(tenantId, groupId);
      if (newParentId !== null) assertStoreString(newParentId, 'newParentId');
      assertEpochMs(updatedAt, 'updatedAt');
      return inTransaction<MoveGroupOutcome>(
        async (session) => {
          const group = await groups.findOne(filter, { ...rbacBsonReadOptions, session });
          if (group === null) return 'not-found';
          let parentPath = '/';
          if (newParentId !== null) {
            const parent = await groups.findOne(groupFilter(tenantId, newParentId), { ...rbacBsonReadOptions, session });
            if (parent === null) return 'parent-not-found';
            // Paths end with `/`: a prefix is the group itself or one of its descendants.
            if (parent.path.startsWith(group.path)) return 'cycle';
            parentPath = parent.path;
          }
          if ((await groups.findOne(siblingNameFilter(tenantId, newParentId, group.name, groupId), { session, projection: { _id: 1 } })) !== null) {
            return 'name-taken';
          }
          const subtree = await groups
            .find(subtreeFilter(tenantId, group.path), { ...rbacBsonReadOptions, session, projection: { _id: 1, id: 1, path: 1 } })
            .toArray();
          const writes = groupMoveWrites(subtree, { groupId, oldPath: group.path, newPath: `${parentPath}${groupId}/`, newParentId, updatedAt });
          await groups.bulkWrite(writes, { session, ordered: true });
          await bumpPolicyVersion(tenantId, session);
          return 'moved';
        },
        (error) => (isDuplicateKeyErrorIn(error, names.groups) ? 'name-taken' : undefined),
      );
    },

    async deleteGroup(tenantId, groupId): Promise<DeleteGroupOutcome> {
      const filter = groupFilter(tenantId, groupId);
      return inTransaction<DeleteGroupOutcome>(async (session) => {
        if ((await groups.findOne(filter, { session, projection: { _id: 1 } })) === null) return 'not-found';
        if ((await groups.findOne({ tenantId, parentId: groupId }, { session, projection: { _id: 1 } })) !== null) return 'has-children';
        await groups.deleteOne(filter, { session });
        await members.deleteMany({ tenantId, groupId }, { session });
        await assignments.deleteMany({ tenantId, subjectType: 'group', subjectId: groupId }, { session });
        await bumpPolicyVersion(tenantId, session);
        return 'deleted';
      });
    },

    async addGroupMember(member) {
      assertStorableGroupMember(member);
      const document = groupMemberToDocument(member);
      const group = groupFilter(document.tenantId, document.groupId);
      return inTransaction(
        async (session) => {
          if ((await groups.findOne(group, { session, projection: { _id: 1 } })) === null) return false;
          await members.insertOne(document, { session });
          await bumpPolicyVersion(document.tenantId, session);
          return true;
        },
        (error) => (isDuplicateKeyErrorIn(error, names.groupMembers) ? false : undefined),
      );
    },

    async removeGroupMember(tenantId, groupId, userId) {
      const filter = groupMemberFilter(tenantId, groupId, userId);
      return inTransaction(async (session) => {
        const result = await members.deleteOne(filter, { session });
        if (result.deletedCount !== 1) return false;
        await bumpPolicyVersion(tenantId, session);
        return true;
      });
    },

    async listGroupMembers(tenantId, groupId) {
      assertStoreString(tenantId, 'tenantId');
      assertStoreString(groupId, 'groupId');
      const documents = await runMongoOperation(() => members.find({ tenantId, groupId }, rbacBsonReadOptions).sort({ userId: 1 }).toArray());
      return documents.map(groupMemberFromDocument);
    },

    async listUserGroups(tenantId, userId) {
      assertStoreString(tenantId, 'tenantId');
      assertStoreString(userId, 'userId');
      const memberships = await runMongoOperation(() =>
        members.find({ tenantId, userId }, { ...rbacBsonReadOptions, projection: { groupId: 1 } }).toArray(),
      );
      if (memberships.length === 0) return [];
      const groupIds = memberships.map((membership) => membership.groupId);
      const documents = await runMongoOperation(() =>
        groups.find({ tenantId, id: { $in: groupIds } }, rbacBsonReadOptions).sort({ path: 1 }).toArray(),
      );
      return documents.map(groupFromDocument);
    },

    async insertAssignment(assignment, limits): Promise<InsertAssignmentOutcome> {
      assertStorableAssignment(assignment);
      if (typeof limits !== 'object' || limits === null) throw new RbacError('VALIDATION_FAILED', 'The limits must be an object');
      assertAssignmentLimit(limits.maxAssignments);
      assertEpochMs(limits.now, 'now');
      const { maxAssignments, now } = limits;
      const document = assignmentToDocument(assignment);
      const sameGrant = subjectRoleFilter(document.tenantId, document.subjectType, document.subjectId, document.roleKey);
      return inTransaction<InsertAssignmentOutcome>(
        async (session) => {
          const existing = await assignments.findOne(sameGrant, { ...rbacBsonReadOptions, session, projection: { _id: 1, expiresAt: 1 } });
          const expired = existing !== null && existing.expiresAt !== null && existing.expiresAt <= now;
          // A duplicate is reported before a reached limit: it tells the caller more.
          if (existing !== null && !expired) return 'duplicate';
          if (maxAssignments !== null) {
            // The expired duplicate, if any, is not counted: the filter skips expired ones.
            const counted = await assignments.countDocuments(unexpiredOfRoleFilter(document.tenantId, document.roleKey, now), { session });
            if (counted >= maxAssignments) return 'limit-reached';
          }
          if (existing !== null) await assignments.deleteOne({ _id: existing._id }, { session });
          await assignments.insertOne(document, { session });
          await bumpPolicyVersion(document.tenantId, session);
          return 'inserted';
        },
        (error) => {
          if (!isDuplicateKeyErrorIn(error, names.assignments)) return undefined;
          if (keyPatternOf(error).includes('subjectId')) return 'duplicate';
          throw new RbacError('STORE_CONFLICT', 'An assignment with this id already exists', { details: { assignmentId: document.id }, cause: error });
        },
      );
    },

    async getAssignment(tenantId, assignmentId) {
      const filter = assignmentFilter(tenantId, assignmentId);
      const document = await runMongoOperation(() => assignments.findOne(filter, rbacBsonReadOptions));
      return document === null ? null : assignmentFromDocument(document);
    },

    async approveAssignment(tenantId, assignmentId, approvedBy, updatedAt) {
      const filter = { ...assignmentFilter(tenantId, assignmentId), status: 'pending' as const };
      if (approvedBy !== null) assertStoreString(approvedBy, 'approvedBy');
      assertEpochMs(updatedAt, 'updatedAt');
      return inTransaction(async (session) => {
        const document = await assignments.findOneAndUpdate(filter, approveUpdate(approvedBy, updatedAt), {
          ...rbacBsonReadOptions,
          session,
          returnDocument: 'after',
          includeResultMetadata: false,
        });
        if (document === null) return null;
        await bumpPolicyVersion(tenantId, session);
        return assignmentFromDocument(document);
      });
    },

    async deleteAssignment(tenantId, assignmentId) {
      const filter = assignmentFilter(tenantId, assignmentId);
      return inTransaction(async (session) => {
        const document = await assignments.findOneAndDelete(filter, { ...rbacBsonReadOptions, session, includeResultMetadata: false });
        if (document === null) return null;
        await bumpPolicyVersion(tenantId, session);
        return assignmentFromDocument(document);
      });
    },

    async listAssignmentsForSubjects(tenantId, subjects) {
      assertStoreString(tenantId, 'tenantId');
      if (!Array.isArray(subjects)) throw new RbacError('VALIDATION_FAILED', 'The subjects must be a list', { details: { field: 'subjects' } });
      subjects.forEach(assertStorableSubject);
      if (subjects.length === 0) return [];
      const filter = subjectsFilter(tenantId, subjects);
      const documents = await runMongoOperation(() => assignments.find(filter, rbacBsonReadOptions).sort({ id: 1 }).toArray());
      return documents.map(assignmentFromDocument);
    },

    async listAssignments(tenantId, query): Promise<AssignmentPage> {
      assertStoreString(tenantId, 'tenantId');
      if (typeof query !== 'object' || query === null) throw new RbacError('VALIDATION_FAILED', 'The query must be an object');
      assertPageLimit(query.limit);
      if (query.subject !== undefined) assertStorableSubject(query.subject);
      if (query.status !== undefined) assertAssignmentStatus(query.status);
      const afterId = query.cursor === undefined ? null : decodeAssignmentCursor(query.cursor);
      const filter = assignmentListFilter(tenantId, query, afterId);
      // One row more than the page tells whether another page follows.
      const documents = await runMongoOperation(() =>
        assignments.find(filter, rbacBsonReadOptions).sort({ id: 1 }).limit(query.limit + 1).toArray(),
      );
      const items = documents.slice(0, query.limit).map(assignmentFromDocument);
      const last = items.at(-1);
      return { items, nextCursor: documents.length > query.limit && last !== undefined ? encodeAssignmentCursor(last.id) : null };
    },

    async deleteUserGrants(tenantId, userId) {
      assertStoreString(tenantId, 'tenantId');
      assertStoreString(userId, 'userId');
      return inTransaction(async (session) => {
        const deletedAssignments = await assignments.deleteMany({ tenantId, subjectType: 'user', subjectId: userId }, { session });
        const deletedMemberships = await members.deleteMany({ tenantId, userId }, { session });
        const counts = { assignments: deletedAssignments.deletedCount, groupMemberships: deletedMemberships.deletedCount };
        if (counts.assignments + counts.groupMemberships > 0) await bumpPolicyVersion(tenantId, session);
        return counts;
      });
    },

    async deleteTenantData(tenantId) {
      assertStoreString(tenantId, 'tenantId');
      // Grants go first, so a crash part-way leaves less access, never more; the version last.
      await runMongoOperation(() => assignments.deleteMany({ tenantId }));
      await runMongoOperation(() => members.deleteMany({ tenantId }));
      await runMongoOperation(() => groups.deleteMany({ tenantId }));
      await runMongoOperation(() => roles.deleteMany({ tenantId }));
      await runMongoOperation(() => versions.deleteMany({ tenantId }));
    },

    async getPolicyVersion(tenantId) {
      assertRoleTenant(tenantId);
      const document = await runMongoOperation(() => versions.findOne(policyVersionFilter(tenantId), rbacBsonReadOptions));
      return document?.version ?? 0;
    },
  };
}
