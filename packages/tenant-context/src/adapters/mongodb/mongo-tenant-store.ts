import type { Db } from 'mongodb';
import { TenantContextError } from '../../errors.js';
import type { TenantPage, TenantStore } from '../../store.js';
import type { Tenant } from '../../tenant.js';
import { decodeTenantCursor, encodeTenantCursor } from '../keyset-cursor.js';
import { assertExpectedVersion, assertPageLimit, assertStoreString } from '../store-argument-guards.js';
import { bsonReadOptions } from './bson-read-options.js';
import { runMongoOperation } from './mongo-errors.js';
import { type MongoTenantContextOptions, resolveTenantContextCollections } from './tenant-context-collections.js';
import { type DomainDocument, domainFromDocument, domainToDocument, type TenantDocument, tenantFromDocument, tenantToDocument } from './tenant-documents.js';
import {
  domainVerificationUpdate,
  tenantDomainFilter,
  tenantListFilter,
  tenantListSort,
  tenantVersionFilter,
} from './tenant-queries.js';

function tenantTaken(tenant: Tenant, fields: string[] | null): TenantContextError {
  if (fields?.includes('slug') === true) {
    return new TenantContextError('TENANT_ALREADY_EXISTS', 'A tenant with this slug already exists', { details: { slug: tenant.slug } });
  }
  if (fields?.includes('_id') === true) {
    return new TenantContextError('TENANT_ALREADY_EXISTS', 'A tenant with this id already exists', { details: { tenantId: tenant.id } });
  }
  // Servers before 4.2 do not say which index was violated.
  return new TenantContextError('TENANT_ALREADY_EXISTS', 'A tenant with this id or slug already exists', {
    details: { tenantId: tenant.id, slug: tenant.slug },
  });
}

/**
 * A {@link TenantStore} on MongoDB: tenants in `<prefix>tenants` (the id is the `_id`) and custom
 * domains in `<prefix>tenant_domains` (the host name is the `_id`).
 *
 * - Run {@link ensureTenantContextIndexes} once (at deploy or start-up) before use: slug
 *   uniqueness rests on its unique index, and listings on its sort indexes. Ids and host names
 *   are unique through `_id` either way.
 * - Needs MongoDB 5.0 or later when settings may hold keys with `.` or a leading `$`; strings
 *   compare by code point, so the collections must keep the default (simple) collation.
 * - `updateTenant` is a compare-and-set on `{ _id, version }`; `purgeTenant` is a `deleteOne` on
 *   `{ _id, status, version }` and removes the domains only after that matched, so a tenant
 *   that moved on keeps its domains. Without a transaction, a crash in between leaves domains
 *   of a gone tenant; `listDomains(id)` still finds them for cleanup.
 *
 * @throws TenantContextError `CONFIGURATION_INVALID` (when called) for a missing `Db` or bad options.
 *
 * @example
 * ```ts
 * import { MongoClient } from 'mongodb';
 * import { createTenantRegistry } from '@tenantkit/tenant-context';
 * import { ensureTenantContextIndexes, mongoTenantStore } from '@tenantkit/tenant-context/mongodb';
 *
 * const db = new MongoClient(process.env.MONGODB_URL!).db('app');
 * await ensureTenantContextIndexes(db);
 * const registry = createTenantRegistry({ store: mongoTenantStore(db) });
 * ```
 */
export function mongoTenantStore(db: Db, options?: MongoTenantContextOptions): TenantStore {
  const names = resolveTenantContextCollections(db, options, 'mongoTenantStore');
  const tenants = db.collection<TenantDocument>(names.tenants);
  const domains = db.collection<DomainDocument>(names.tenantDomains);

  return {
    async insertTenant(tenant) {
      const document = tenantToDocument(tenant);
      assertStoreString(document._id, 'tenant id');
      await runMongoOperation(
        () => tenants.insertOne(document),
        (fields) => tenantTaken(tenant, fields),
      );
    },

    async getTenantById(id) {
      assertStoreString(id, 'tenant id');
      const document = await runMongoOperation(() => tenants.findOne({ _id: id }, bsonReadOptions));
      return document === null ? null : tenantFromDocument(document);
    },

    async getTenantBySlug(slug) {
      assertStoreString(slug, 'slug');
      const document = await runMongoOperation(() => tenants.findOne({ slug }, bsonReadOptions));
      return document === null ? null : tenantFromDocument(document);
    },

    async updateTenant(tenant, expectedVersion) {
      assertExpectedVersion(tenant.version, expectedVersion);
      const filter = tenantVersionFilter(tenant.id, expectedVersion);
      const document = tenantToDocument(tenant);
      // A replacement rather than `$set`: the record is replaced whole, and MongoDB (5.0+)
      // accepts `.` and `$`-prefixed nested keys in settings in a replacement, as in an insert.
      const result = await runMongoOperation(
        () => tenants.replaceOne(filter, document),
        (fields) => tenantTaken(tenant, fields),
      );
      return result.matchedCount === 1;
    },

    async purgeTenant(id, expected) {
      assertStoreString(id, 'tenant id');
      // The conditional delete decides; domains go only after it removed the tenant, so a
      // tenant that moved on keeps them.
      const result = await runMongoOperation(() =>
        tenants.deleteOne({ _id: id, status: expected.status, version: expected.version }),
      );
      if (result.deletedCount !== 1) return false;
      await runMongoOperation(() => domains.deleteMany({ tenantId: id }));
      return true;
    },

    async listTenants(query): Promise<TenantPage> {
      assertPageLimit(query.limit);
      const after = query.cursor === undefined ? null : decodeTenantCursor(query.cursor);
      const filter = tenantListFilter(query, after);
      // One row more than the page tells whether another page follows, so a last page that
      // is exactly full still gets a null cursor.
      const documents = await runMongoOperation(() =>
        tenants.find(filter, bsonReadOptions).sort(tenantListSort).limit(query.limit + 1).toArray(),
      );
      const items = documents.slice(0, query.limit).map(tenantFromDocument);
      const last = items.at(-1);
      const nextCursor = documents.length > query.limit && last !== undefined ? encodeTenantCursor(last) : null;
      return { items, nextCursor };
    },

    async insertDomain(domain) {
      const document = domainToDocument(domain);
      assertStoreString(document._id, 'host name');
      await runMongoOperation(
        () => domains.insertOne(document),
        () => new TenantContextError('DOMAIN_TAKEN', 'This host name is already claimed', { details: { hostname: domain.hostname } }),
      );
    },

    async getDomain(hostname) {
      assertStoreString(hostname, 'host name');
      const document = await runMongoOperation(() => domains.findOne({ _id: hostname }, bsonReadOptions));
      return document === null ? null : domainFromDocument(document);
    },

    async listDomains(tenantId) {
      assertStoreString(tenantId, 'tenant id');
      const documents = await runMongoOperation(() =>
        domains.find({ tenantId }, bsonReadOptions).sort({ _id: 1 }).toArray(),
      );
      return documents.map(domainFromDocument);
    },

    async updateDomain(domain) {
      const filter = tenantDomainFilter(domain.tenantId, domain.hostname);
      const result = await runMongoOperation(() => domains.updateOne(filter, domainVerificationUpdate(domain)));
      return result.matchedCount === 1;
    },

    async deleteDomain(tenantId, hostname, expected) {
      const filter = {
        ...tenantDomainFilter(tenantId, hostname),
        ...(expected === undefined ? {} : { status: expected.status, createdAt: expected.createdAt }),
      };
      const result = await runMongoOperation(() => domains.deleteOne(filter));
      return result.deletedCount === 1;
    },
  };
}
