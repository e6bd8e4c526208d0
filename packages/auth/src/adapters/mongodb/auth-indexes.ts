import { createMongoIndexes, type MongoIndexDefinition } from '@tenantkit/core/mongodb';
import type { Db } from 'mongodb';
import { type AuthCollection, type MongoAuthStoresOptions, resolveAuthCollections } from './auth-collections.js';
import { runMongoOperation } from './mongo-errors.js';

/**
 * One index the MongoDB auth stores rely on.
 *
 * @example
 * ```ts
 * const email = authMongoIndexes.find((index) => index.name === 'email_unique');
 * ```
 */
export interface AuthIndexDefinition extends MongoIndexDefinition<AuthCollection> {
  /** What needs it. */
  readonly purpose: string;
}

const expireAtTtl = (collection: AuthCollection, what: string): AuthIndexDefinition => ({
  collection,
  name: 'expireAt_ttl',
  key: { expireAt: 1 },
  unique: false,
  expireAfterSeconds: 0,
  purpose: `the server deletes ${what} once it cannot matter (reads still check now themselves)`,
});

const definitions: AuthIndexDefinition[] = [
  { collection: 'accounts', name: 'email_unique', key: { email: 1 }, unique: true, purpose: 'findByEmail; one account per email (create → email-taken)' },
  { collection: 'sessions', name: 'tokenHash_unique', key: { tokenHash: 1 }, unique: true, purpose: 'findByTokenHash; one session per token hash' },
  { collection: 'sessions', name: 'userId_createdAt', key: { userId: 1, createdAt: -1 }, unique: false, purpose: 'listByUser newest first, deleteByUser' },
  expireAtTtl('sessions', 'a session past its idle or absolute end'),
  { collection: 'refreshFamilies', name: 'userId_sessionId', key: { userId: 1, sessionId: 1 }, unique: false, purpose: 'revokeByUser, with or without a session' },
  expireAtTtl('refreshFamilies', 'a family past its absolute end'),
  expireAtTtl('refreshTokens', 'a refresh token past its end (a rotated one is kept until then, for reuse detection)'),
  expireAtTtl('revocations', 'a jti or session entry past its `until` (epochs have no expireAt and stay)'),
  {
    collection: 'oneTimeTokens',
    name: 'purpose_subject_tenantId_seq',
    key: { purpose: 1, subject: 1, tenantId: 1, seq: 1 },
    unique: false,
    purpose: 'issue voids the earlier tokens of an owner, voidFor',
  },
  expireAtTtl('oneTimeTokens', 'a one-time token past its end'),
  expireAtTtl('oneTimeTokenOwners', 'an issue counter whose newest token ended'),
  { collection: 'apiKeys', name: 'tenantId_createdAt', key: { tenantId: 1, createdAt: -1, _id: -1 }, unique: false, purpose: 'listByTenant newest first, deleteByTenant' },
];

/**
 * Every index of the MongoDB auth stores. Records keep their natural key as `_id` (account,
 * session, family and API key ids; refresh and one-time token hashes); these add the unique
 * email and session token hash, the user- and tenant-leading orders, and the TTL indexes.
 *
 * @example
 * ```ts
 * for (const index of authMongoIndexes) console.log(index.collection, index.name, index.key);
 * ```
 */
export const authMongoIndexes: readonly AuthIndexDefinition[] = Object.freeze(
  definitions.map((index) => {
    Object.freeze(index.key);
    return Object.freeze(index);
  }),
);

/**
 * Creates every index in {@link authMongoIndexes} (and so the collections). Idempotent: run it at
 * deploy or start-up, with the stores' options, before the stores are used — email and session
 * token uniqueness rest on these indexes.
 *
 * @throws AuthError `CONFIGURATION_INVALID` for a missing `Db` or bad options, `STORE_UNAVAILABLE`
 *   when MongoDB cannot be reached.
 * @example
 * ```ts
 * import { ensureAuthIndexes, mongoAuthStores } from '@tenantkit/auth/mongodb';
 *
 * await ensureAuthIndexes(db);
 * const stores = mongoAuthStores(db);
 * ```
 */
export async function ensureAuthIndexes(db: Db, options?: MongoAuthStoresOptions): Promise<void> {
  const names = resolveAuthCollections(db, options, 'ensureAuthIndexes');
  await createMongoIndexes(db, names, authMongoIndexes, runMongoOperation);
}
