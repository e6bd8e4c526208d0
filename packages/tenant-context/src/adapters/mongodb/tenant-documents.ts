import type { Tenant, TenantDomain } from '../../tenant.js';
import { toStoredJson } from '../stored-json.js';

/**
 * A tenant as stored: the record with its id as `_id`, so the id is unique by construction
 * (the `_id` index always exists, even before {@link ensureTenantContextIndexes} runs).
 * Timestamps are epoch milliseconds, exactly as in the record.
 *
 * @example
 * ```ts
 * const document: TenantDocument = tenantToDocument(tenant);
 * ```
 */
export type TenantDocument = Omit<Tenant, 'id'> & { _id: string };

/**
 * A custom domain as stored: the host name is the `_id`, so no two tenants can ever claim the
 * same host name, whether or not the secondary indexes were created.
 *
 * @example
 * ```ts
 * const document: DomainDocument = domainToDocument(domain);
 * ```
 */
export type DomainDocument = Omit<TenantDomain, 'hostname'> & { _id: string };

/**
 * The document stored for a tenant (a JSON-exact copy of it).
 *
 * @throws TenantContextError `VALIDATION_FAILED` when the tenant is not JSON-serializable.
 *
 * @example
 * ```ts
 * await tenants.insertOne(tenantToDocument(tenant));
 * ```
 */
export function tenantToDocument(tenant: Tenant): TenantDocument {
  const stored = toStoredJson(tenant, 'tenant');
  return {
    _id: stored.id,
    slug: stored.slug,
    name: stored.name,
    status: stored.status,
    statusReason: stored.statusReason,
    plan: stored.plan,
    settings: stored.settings,
    features: stored.features,
    limits: stored.limits,
    region: stored.region,
    createdAt: stored.createdAt,
    updatedAt: stored.updatedAt,
    deletedAt: stored.deletedAt,
    version: stored.version,
  };
}

/**
 * The tenant record of a stored document. Fields are picked one by one, so nothing the
 * collection may hold besides the record (fields added by hand, by a migration) leaks out.
 *
 * @example
 * ```ts
 * const tenant = tenantFromDocument(await tenants.findOne({ _id: id }));
 * ```
 */
export function tenantFromDocument(document: TenantDocument): Tenant {
  return {
    id: document._id,
    slug: document.slug,
    name: document.name,
    status: document.status,
    statusReason: document.statusReason,
    plan: document.plan,
    settings: document.settings,
    features: document.features,
    limits: document.limits,
    region: document.region,
    createdAt: document.createdAt,
    updatedAt: document.updatedAt,
    deletedAt: document.deletedAt,
    version: document.version,
  };
}

/**
 * The document stored for a custom domain.
 *
 * @example
 * ```ts
 * await domains.insertOne(domainToDocument(domain));
 * ```
 */
export function domainToDocument(domain: TenantDomain): DomainDocument {
  const stored = toStoredJson(domain, 'domain');
  return {
    _id: stored.hostname,
    tenantId: stored.tenantId,
    status: stored.status,
    verificationToken: stored.verificationToken,
    createdAt: stored.createdAt,
    verifiedAt: stored.verifiedAt,
  };
}

/**
 * The custom-domain record of a stored document.
 *
 * @example
 * ```ts
 * const domain = domainFromDocument(await domains.findOne({ _id: hostname }));
 * ```
 */
export function domainFromDocument(document: DomainDocument): TenantDomain {
  return {
    hostname: document._id,
    tenantId: document.tenantId,
    status: document.status,
    verificationToken: document.verificationToken,
    createdAt: document.createdAt,
    verifiedAt: document.verifiedAt,
  };
}
