import type { Collection, Document, IndexDescription } from 'mongodb';
import { runMongoOperation } from '../../adapters/mongodb/mongo-errors.js';
import { TenantContextError } from '../../errors.js';
import { hasMethods } from '../../validation.js';
import { copyQueryValue, isDocumentLike } from './checked-query-copy.js';
import { tenantIdCollisionOf } from './collation-guard.js';
import { assertTenantFieldName, defaultTenantField } from './tenant-collection-options.js';

/**
 * The key types a tenant index may use after the tenant prefix: ascending, descending, text,
 * 2dsphere and hashed (MongoDB 4.4+ for a compound hashed index). `'2d'` is not among them:
 * a 2d index must lead its key, so it cannot follow the tenant.
 *
 * @example
 * ```ts
 * const key: Record<string, TenantIndexDirection> = { body: 'text' };
 * ```
 */
export type TenantIndexDirection = 1 | -1 | 'text' | '2dsphere' | 'hashed';

/**
 * Index options of {@link tenantIndex}: the driver's index options, plus the tenant field.
 * `expireAfterSeconds` is refused: TTL indexes must be single-field, so one never carries the
 * tenant prefix (create it on the raw collection; it deletes by age, not by tenant).
 *
 * @example
 * ```ts
 * const options: TenantIndexOptions = { unique: true, name: 'tenant_email_unique' };
 * ```
 */
export interface TenantIndexOptions extends Omit<IndexDescription, 'key'> {
  /** The tenant field, as given to {@link tenantCollection}. Default `'tenantId'`. */
  tenantField?: string;
}

/**
 * One index for {@link ensureTenantIndexes}: its key without the tenant prefix, and its
 * options.
 *
 * @example
 * ```ts
 * const spec: TenantIndexSpec = { key: { email: 1 }, unique: true };
 * ```
 */
export interface TenantIndexSpec extends Omit<IndexDescription, 'key'> {
  readonly key: Readonly<Record<string, TenantIndexDirection>>;
}

const allowedDirections: ReadonlySet<unknown> = new Set<unknown>([1, -1, 'text', '2dsphere', 'hashed']);

function invalidIndex(problem: string): TenantContextError {
  return new TenantContextError('CONFIGURATION_INVALID', `tenantIndex(): ${problem}`);
}

/**
 * An index description whose key starts with the tenant field, so every index serves
 * per-tenant queries (the wrapper's filters always lead with the tenant equality) and every
 * unique index is unique per tenant: two tenants may both have an invoice `INV-1`, and the
 * uniqueness error of one never reveals the other's data. The key may not name the tenant
 * field itself.
 *
 * @throws TenantContextError `CONFIGURATION_INVALID` for a key that is not a document of field
 *   paths and {@link TenantIndexDirection} values, names the tenant field or `__proto__`,
 *   options with `key` or `expireAfterSeconds`, or a collation that could compare two tenant
 *   ids as equal (case-insensitive, `numericOrdering`, `alternate: 'shifted'`): a unique index
 *   with it would let one tenant's insert collide with another's.
 *
 * @example
 * ```ts
 * tenantIndex({ email: 1 }, { unique: true });
 * // { unique: true, key: { tenantId: 1, email: 1 } }
 * ```
 */
export function tenantIndex(key: Readonly<Record<string, TenantIndexDirection>>, options: TenantIndexOptions = {}): IndexDescription {
  if (!isDocumentLike(options)) throw invalidIndex('options must be an object');
  const { tenantField = defaultTenantField, ...indexOptions } = options;
  assertTenantFieldName(tenantField, 'tenantIndex');
  if (Object.hasOwn(indexOptions, 'key')) throw invalidIndex('pass the key as the first argument, not in the options');
  if ((indexOptions as { expireAfterSeconds?: unknown }).expireAfterSeconds !== undefined) {
    throw invalidIndex('a TTL index (expireAfterSeconds) must be single-field; create it on the raw collection without the tenant prefix');
  }
  if (indexOptions.collation !== undefined) {
    const collision = tenantIdCollisionOf(indexOptions.collation);
    if (collision !== undefined) throw invalidIndex(`its collation cannot be used because ${collision}`);
  }
  if (!isDocumentLike(key)) throw invalidIndex('the key must be a document of field paths and directions');
  const prefixed: Record<string, TenantIndexDirection> = { [tenantField]: 1 };
  for (const field of Object.keys(key)) {
    const direction: unknown = key[field];
    if (field === '' || field === '__proto__') throw invalidIndex(`"${field}" cannot be indexed`);
    if (field === tenantField || field.startsWith(`${tenantField}.`)) {
      throw invalidIndex(`the key names "${field}"; the tenant field is prefixed automatically`);
    }
    if (direction === '2d') throw invalidIndex(`a 2d index ("${field}") must lead its key; use 2dsphere`);
    if (!allowedDirections.has(direction)) throw invalidIndex(`"${field}" must be 1, -1, "text", "2dsphere" or "hashed"`);
    prefixed[field] = direction as TenantIndexDirection;
  }
  const description: IndexDescription = { ...indexOptions, key: prefixed };
  if (indexOptions.partialFilterExpression !== undefined) {
    description.partialFilterExpression = copyQueryValue(indexOptions.partialFilterExpression, 'tenantIndex partialFilterExpression') as Document;
  }
  return description;
}

/**
 * Creates tenant-prefixed indexes ({@link tenantIndex}) on a collection in one `createIndexes`
 * command. Idempotent for unchanged specs, so run it at deploy or start-up. Every spec is
 * validated before anything is sent, and the collection's default collation (which queries
 * and indexes without their own use) is checked like an index collation first: a collection
 * created case-insensitive would make the tenant equality match two tenants.
 *
 * @returns the index names, in the order of `specs`.
 * @throws TenantContextError `CONFIGURATION_INVALID` for a missing collection, an invalid spec,
 *   two specs with the same name, or an unsafe default collation; `STORE_UNAVAILABLE` when
 *   MongoDB cannot be reached. Other server errors (an existing index with the same name but
 *   other options) pass through.
 *
 * @example
 * ```ts
 * await ensureTenantIndexes(db.collection('invoices'), [
 *   { key: { number: 1 }, unique: true, name: 'tenant_number_unique' },
 *   { key: { status: 1, createdAt: -1 } },
 * ]);
 * ```
 */
export async function ensureTenantIndexes<TSchema extends Document>(
  collection: Collection<TSchema>,
  specs: readonly TenantIndexSpec[],
  options: { readonly tenantField?: string } = {},
): Promise<string[]> {
  if (!hasMethods(collection, ['createIndexes']) || !hasMethods((collection as { db?: unknown }).db, ['listCollections'])) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'ensureTenantIndexes() needs a mongodb Collection (db.collection(name))');
  }
  if (!Array.isArray(specs)) throw new TenantContextError('CONFIGURATION_INVALID', 'ensureTenantIndexes(): specs must be an array');
  if (!isDocumentLike(options)) throw new TenantContextError('CONFIGURATION_INVALID', 'ensureTenantIndexes(): options must be an object');
  const tenantField = options.tenantField ?? defaultTenantField;
  const descriptions = specs.map((spec: unknown, index) => {
    if (!isDocumentLike(spec)) throw new TenantContextError('CONFIGURATION_INVALID', `ensureTenantIndexes(): spec ${index} must be an object`);
    const { key, ...indexOptions } = spec as TenantIndexSpec;
    return tenantIndex(key, { ...indexOptions, tenantField });
  });
  const names = descriptions.map((description) => description.name).filter((name) => name !== undefined);
  if (new Set(names).size !== names.length) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'ensureTenantIndexes(): two specs have the same name');
  }
  if (descriptions.length === 0) return [];
  const [info] = await runMongoOperation(() =>
    collection.db.listCollections({ name: collection.collectionName }, { nameOnly: false }).toArray(),
  );
  const defaultCollation: unknown = (info as { options?: Document } | undefined)?.options?.['collation'];
  const collision = defaultCollation === undefined ? undefined : tenantIdCollisionOf(defaultCollation);
  if (collision !== undefined) {
    throw new TenantContextError(
      'CONFIGURATION_INVALID',
      `ensureTenantIndexes(): the default collation of "${collection.collectionName}" cannot be used because ${collision}; recreate the collection without it`,
    );
  }
  return runMongoOperation(() => collection.createIndexes(descriptions));
}
