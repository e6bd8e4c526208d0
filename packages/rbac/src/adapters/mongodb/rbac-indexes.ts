import type { Db } from 'mongodb';
import { runMongoOperation } from './mongo-errors.js';
import { type MongoRbacStoreOptions, type RbacCollection, resolveRbacCollections } from './rbac-collections.js';

/**
 * One index the MongoDB RBAC store relies on. Every one leads with `tenantId`, the field a
 * sharded deployment shards on, so every query of the store targets one tenant's range.
 *
 * @example
 * ```ts
 * const siblings = rbacIndexes.find((index) => index.name === 'tenantId_parentId_name_unique');
 * ```
 */
export interface RbacIndexDefinition {
  readonly collection: RbacCollection;
  /** Stable across releases, so re-running creation is a no-op. */
  readonly name: string;
  /** Fields in index order, all ascending. */
  readonly key: Readonly<Record<string, 1>>;
  readonly unique: boolean;
  /** What needs it. */
  readonly purpose: string;
}

const definitions: RbacIndexDefinition[] = [
  { collection: 'roles', name: 'tenantId_key_unique', key: { tenantId: 1, key: 1 }, unique: true, purpose: 'listRoles in key order; one role per key' },
  { collection: 'groups', name: 'tenantId_path', key: { tenantId: 1, path: 1 }, unique: false, purpose: 'listGroups in path order; subtree ranges of moveGroup' },
  {
    collection: 'groups',
    name: 'tenantId_parentId_name_unique',
    key: { tenantId: 1, parentId: 1, name: 1 },
    unique: true,
    purpose: 'names unique among siblings (insertGroup, renameGroup, moveGroup); children of deleteGroup',
  },
  {
    collection: 'groupMembers',
    name: 'tenantId_groupId_userId_unique',
    key: { tenantId: 1, groupId: 1, userId: 1 },
    unique: true,
    purpose: 'listGroupMembers in user order; deleteGroup',
  },
  { collection: 'groupMembers', name: 'tenantId_userId', key: { tenantId: 1, userId: 1 }, unique: false, purpose: 'listUserGroups, deleteUserGrants' },
  {
    collection: 'assignments',
    name: 'tenantId_subject_roleKey_unique',
    key: { tenantId: 1, subjectType: 1, subjectId: 1, roleKey: 1 },
    unique: true,
    purpose: 'one assignment per (tenant, subject, role); listAssignmentsForSubjects, deleteUserGrants, deleteGroup',
  },
  { collection: 'assignments', name: 'tenantId_id_unique', key: { tenantId: 1, id: 1 }, unique: true, purpose: 'listAssignments keyset paging by id' },
  {
    collection: 'assignments',
    name: 'tenantId_roleKey_expiresAt',
    key: { tenantId: 1, roleKey: 1, expiresAt: 1 },
    unique: false,
    purpose: 'the maxAssignments count of insertAssignment; deleteRole',
  },
  { collection: 'policyVersions', name: 'tenantId_unique', key: { tenantId: 1 }, unique: true, purpose: 'deleteTenantData' },
];

/**
 * Every index of the MongoDB RBAC store. Record keys are the documents' `_id`s; these add the
 * tenant-leading orders and the uniqueness rules that are not a record's own key.
 *
 * @example
 * ```ts
 * for (const index of rbacIndexes) console.log(index.collection, index.name, index.key);
 * ```
 */
export const rbacIndexes: readonly RbacIndexDefinition[] = Object.freeze(
  definitions.map((index) => {
    Object.freeze(index.key);
    return Object.freeze(index);
  }),
);

/**
 * Creates every index in {@link rbacIndexes} (and so the collections). Idempotent: run it at
 * deploy or start-up, with the store's options, before the store is used — sibling-name and
 * one-assignment-per-subject uniqueness rest on these indexes.
 *
 * @throws RbacError `CONFIGURATION_INVALID` for a missing `Db` or bad options, `STORE_UNAVAILABLE`
 *   when MongoDB cannot be reached.
 *
 * @example
 * ```ts
 * import { ensureRbacIndexes, mongoRbacStore } from '@tenantkit/rbac/mongodb';
 *
 * await ensureRbacIndexes(db);
 * const store = mongoRbacStore(db);
 * ```
 */
export async function ensureRbacIndexes(db: Db, options?: MongoRbacStoreOptions): Promise<void> {
  const names = resolveRbacCollections(db, options, 'ensureRbacIndexes');
  const byCollection = new Map<RbacCollection, RbacIndexDefinition[]>();
  for (const index of rbacIndexes) byCollection.set(index.collection, [...(byCollection.get(index.collection) ?? []), index]);
  for (const [collection, indexes] of byCollection) {
    await runMongoOperation(() =>
      db.collection(names[collection]).createIndexes(indexes.map((index) => ({ key: { ...index.key }, name: index.name, unique: index.unique }))),
    );
  }
}
