import type { Db } from 'mongodb';
import { runMongoOperation } from './mongo-errors.js';
import {
  type MongoTenantContextOptions,
  resolveTenantContextCollections,
  type TenantContextCollection,
} from './tenant-context-collections.js';

/**
 * One index the MongoDB tenant-context stores rely on.
 *
 * @example
 * ```ts
 * const slugIndex = tenantContextIndexes.find((index) => index.name === 'slug_unique');
 * ```
 */
export interface TenantContextIndexDefinition {
  /** The collection, by role (the name is the prefix plus the role's suffix). */
  readonly collection: TenantContextCollection;
  /** The index name, stable across releases so re-running creation is a no-op. */
  readonly name: string;
  /** Fields in index order, all ascending. */
  readonly key: Readonly<Record<string, 1>>;
  readonly unique: boolean;
  /**
   * `'tenant'`: serves one tenant's rows and leads with `tenantId`, the field a sharded
   * deployment shards on. `'global'`: serves a lookup that is global by nature (a slug, a user
   * across tenants, stuck runs of every tenant) in a collection that stays unsharded.
   */
  readonly scope: 'tenant' | 'global';
  /** What needs it. */
  readonly purpose: string;
}

function freezeIndex(index: TenantContextIndexDefinition): TenantContextIndexDefinition {
  Object.freeze(index.key);
  return Object.freeze(index);
}

/** Frozen below, so no caller can change what `ensureTenantContextIndexes` creates. */
const indexDefinitions: TenantContextIndexDefinition[] = [
  {
    collection: 'tenants',
    name: 'slug_unique',
    key: { slug: 1 },
    unique: true,
    scope: 'global',
    purpose: 'getTenantBySlug; a slug is unique across all tenants, deleted ones included',
  },
  {
    collection: 'tenants',
    name: 'createdAt_id',
    key: { createdAt: 1, _id: 1 },
    unique: false,
    scope: 'global',
    purpose: 'listTenants keyset order (createdAt, then id)',
  },
  {
    collection: 'tenantDomains',
    name: 'tenantId_hostname',
    key: { tenantId: 1, _id: 1 },
    unique: false,
    scope: 'tenant',
    purpose: "listDomains and purgeTenant: a tenant's domains ordered by host name (the _id)",
  },
  {
    collection: 'memberships',
    name: 'tenantId_userId_unique',
    key: { tenantId: 1, userId: 1 },
    unique: true,
    scope: 'tenant',
    purpose: 'one membership per (tenantId, userId); listMembershipsByTenant in user id order',
  },
  {
    collection: 'memberships',
    name: 'userId_tenantId',
    key: { userId: 1, tenantId: 1 },
    unique: false,
    scope: 'global',
    purpose: "listMembershipsByUser: a user's memberships across tenants, in tenant id order",
  },
  {
    collection: 'lifecycleRuns',
    name: 'tenantId_createdAt_id',
    key: { tenantId: 1, createdAt: 1, _id: 1 },
    unique: false,
    scope: 'tenant',
    purpose: 'listRuns of one tenant, oldest first',
  },
  {
    collection: 'lifecycleRuns',
    name: 'state_createdAt_id',
    key: { state: 1, createdAt: 1, _id: 1 },
    unique: false,
    scope: 'global',
    purpose: 'listRuns by state across tenants (resuming stuck runs), oldest first',
  },
  {
    collection: 'usageCounters',
    name: 'tenantId_resource_unique',
    key: { tenantId: 1, resource: 1 },
    unique: true,
    scope: 'tenant',
    purpose: 'one counter per (tenantId, resource); getAll and deleteAll of a tenant',
  },
];

/**
 * Every index of the MongoDB tenant-context stores. Tenant ids, host names, run ids and the
 * membership and counter pairs are the documents' `_id`, unique through the `_id` index that
 * always exists; the unique indexes here add slug uniqueness and repeat the two pairs as
 * top-level keys for per-tenant queries.
 *
 * @example
 * ```ts
 * for (const index of tenantContextIndexes) console.log(index.collection, index.name, index.key);
 * ```
 */
export const tenantContextIndexes: readonly TenantContextIndexDefinition[] = Object.freeze(indexDefinitions.map(freezeIndex));

/**
 * Creates every index in {@link tenantContextIndexes} (and so the collections). Idempotent: run
 * it at deploy or start-up, with the same options as the stores. Slug uniqueness and the
 * listing performance of the stores depend on it.
 *
 * @throws TenantContextError `CONFIGURATION_INVALID` for a missing `Db` or bad options,
 *   `STORE_UNAVAILABLE` when MongoDB cannot be reached.
 *
 * @example
 * ```ts
 * import { MongoClient } from 'mongodb';
 * import { ensureTenantContextIndexes } from '@tenantkit/tenant-context/mongodb';
 *
 * const client = await new MongoClient(process.env.MONGODB_URL!).connect();
 * await ensureTenantContextIndexes(client.db('app'), { collectionPrefix: 'app_' });
 * ```
 */
export async function ensureTenantContextIndexes(db: Db, options?: MongoTenantContextOptions): Promise<void> {
  const names = resolveTenantContextCollections(db, options, 'ensureTenantContextIndexes');
  const byCollection = new Map<TenantContextCollection, TenantContextIndexDefinition[]>();
  for (const index of tenantContextIndexes) {
    byCollection.set(index.collection, [...(byCollection.get(index.collection) ?? []), index]);
  }
  for (const [collection, indexes] of byCollection) {
    await runMongoOperation(() =>
      db.collection(names[collection]).createIndexes(
        indexes.map((index) => ({ key: { ...index.key }, name: index.name, unique: index.unique })),
      ),
    );
  }
}
