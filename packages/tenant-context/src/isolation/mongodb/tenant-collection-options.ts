import type { Collection, Document } from 'mongodb';
import { z } from 'zod';
import { TenantContextError } from '../../errors.js';
import { hasMethods, parseOrThrow } from '../../validation.js';

/**
 * Options of {@link tenantCollection}.
 *
 * @typeParam TField the tenant field's name, inferred from `tenantField` (default `'tenantId'`).
 * @example
 * ```ts
 * const options: TenantCollectionOptions = {
 *   tenantScopedCollections: ['invoices', 'invoice_lines'],
 *   globalCollections: ['currencies'],
 * };
 * ```
 */
export interface TenantCollectionOptions<TField extends string = 'tenantId'> {
  /**
   * The top-level field every document carries its tenant id in. Default `'tenantId'`. A plain
   * field name (`A-Z a-z 0-9 _`, not starting with a digit, at most 64 characters), never `_id`;
   * dotted paths are refused so that no update path can reach it through a parent.
   */
  tenantField?: TField;
  /**
   * Other collections of the same database whose documents carry the tenant in the same field.
   * `$lookup`, `$unionWith` and `$graphLookup` into them are rewritten to read only the tenant in
   * scope; `$merge` may write into them (with `allowMerge`). The wrapped collection is always one.
   */
  tenantScopedCollections?: readonly string[];
  /**
   * Collections of shared reference data (currencies, countries, plans) that every tenant may
   * read in full through `$lookup`, `$unionWith` and `$graphLookup`. Any other collection named in
   * a pipeline is refused with `TENANT_ISOLATION_VIOLATION`, so forgetting to declare a tenant
   * collection fails loudly instead of reading every tenant's documents.
   */
  globalCollections?: readonly string[];
  /**
   * Allow a final `$merge` into a tenant-scoped collection. Default `false`. When allowed, the
   * stage must name the tenant field in `on`, the tenant field is forced to the tenant in scope on
   * every merged document, and a `whenMatched` pipeline is checked like an update pipeline.
   * `$out` is always refused: it replaces the whole target collection, every tenant's documents.
   */
  allowMerge?: boolean;
}

/**
 * The validated configuration of one tenant collection wrapper, without the tenant, which every
 * call reads from the scope.
 *
 * @example
 * ```ts
 * const config = resolveTenantCollectionConfig(collection, { globalCollections: ['currencies'] });
 * config.tenantScopedCollections.has(collection.collectionName); // true
 * ```
 */
export interface TenantCollectionConfig {
  readonly tenantField: string;
  readonly databaseName: string;
  readonly collectionName: string;
  readonly tenantScopedCollections: ReadonlySet<string>;
  readonly globalCollections: ReadonlySet<string>;
  readonly allowMerge: boolean;
}

/**
 * The tenant field used when none is configured.
 *
 * @example
 * ```ts
 * tenantIndex({ email: 1 }).key; // { [defaultTenantField]: 1, email: 1 }
 * ```
 */
export const defaultTenantField = 'tenantId';

const tenantFieldPattern = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
// Names that are fine as MongoDB fields but turn into prototype lookups or pollution in
// JavaScript code handling the documents (`doc[tenantField]` on a plain object).
const reservedFieldNames: ReadonlySet<string> = new Set(['_id', '__proto__', 'constructor', 'prototype']);

/**
 * Throws `CONFIGURATION_INVALID` unless `field` can be a tenant field (see
 * {@link TenantCollectionOptions.tenantField}).
 *
 * @example
 * ```ts
 * assertTenantFieldName('orgId', 'tenantCollection'); // fine
 * assertTenantFieldName('meta.orgId', 'tenantCollection'); // throws CONFIGURATION_INVALID
 * ```
 */
export function assertTenantFieldName(field: unknown, where: string): asserts field is string {
  if (typeof field !== 'string' || !tenantFieldPattern.test(field) || reservedFieldNames.has(field)) {
    throw new TenantContextError(
      'CONFIGURATION_INVALID',
      `${where}(): tenantField must be a top-level field name of 1 to 64 characters of A-Z, a-z, 0-9 and _ (not starting with a digit), and not _id, __proto__, constructor or prototype`,
    );
  }
}

// Collection names MongoDB accepts, minus the server's own `system.` collections.
const collectionNameSchema = z
  .string()
  .min(1)
  .max(255)
  .refine((name) => !name.includes('$') && !name.includes('\0'), 'A collection name may not contain "$" or NUL')
  .refine((name) => !name.startsWith('system.'), 'system.* collections cannot be joined');

const optionsSchema = z
  .strictObject({
    tenantField: z.unknown().optional(),
    tenantScopedCollections: z.array(collectionNameSchema).readonly().optional(),
    globalCollections: z.array(collectionNameSchema).readonly().optional(),
    allowMerge: z.boolean().optional(),
  })
  .optional();

/** What {@link tenantCollection} calls on the driver collection; checked when the wrapper is made. */
const collectionMethods = [
  'find',
  'findOne',
  'countDocuments',
  'distinct',
  'insertOne',
  'insertMany',
  'updateOne',
  'updateMany',
  'replaceOne',
  'deleteOne',
  'deleteMany',
  'findOneAndUpdate',
  'findOneAndDelete',
  'findOneAndReplace',
  'bulkWrite',
  'aggregate',
] as const;

/**
 * Validates what {@link tenantCollection} was given and returns its configuration, so a
 * misconfiguration fails when the wrapper is created, not on the first request.
 *
 * @throws TenantContextError `CONFIGURATION_INVALID` for something that is not a driver
 *   collection, unknown or malformed options, or a collection declared both tenant-scoped and
 *   global (the wrapped collection included).
 *
 * @example
 * ```ts
 * const config = resolveTenantCollectionConfig(db.collection('invoices'), { tenantField: 'orgId' });
 * config.tenantField; // 'orgId'
 * ```
 */
export function resolveTenantCollectionConfig<TSchema extends Document>(
  collection: Collection<TSchema>,
  options: TenantCollectionOptions<string> | undefined,
): TenantCollectionConfig {
  const shape = collection as unknown as { collectionName?: unknown; dbName?: unknown };
  if (!hasMethods(collection, collectionMethods) || typeof shape.collectionName !== 'string' || typeof shape.dbName !== 'string') {
    throw new TenantContextError('CONFIGURATION_INVALID', 'tenantCollection() needs a mongodb Collection (db.collection(name))');
  }
  const parsed = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'tenantCollection() options');
  const tenantField = parsed?.tenantField ?? defaultTenantField;
  assertTenantFieldName(tenantField, 'tenantCollection');
  const collectionName = shape.collectionName;
  const tenantScopedCollections = new Set([collectionName, ...(parsed?.tenantScopedCollections ?? [])]);
  const globalCollections = new Set(parsed?.globalCollections ?? []);
  for (const name of globalCollections) {
    if (tenantScopedCollections.has(name)) {
      throw new TenantContextError(
        'CONFIGURATION_INVALID',
        `tenantCollection(): collection "${name}" cannot be both tenant-scoped and global`,
      );
    }
  }
  return Object.freeze({
    tenantField,
    databaseName: shape.dbName,
    collectionName,
    tenantScopedCollections,
    globalCollections,
    allowMerge: parsed?.allowMerge ?? false,
  });
}
