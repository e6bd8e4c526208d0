import type { Document } from 'mongodb';
import { TenantContextError } from '../../errors.js';
import { isDocumentLike } from './checked-query-copy.js';
import { scopeTenantDocument } from './document-scoping.js';
import { type TenantFieldScope, scopeFilter } from './filter-scoping.js';
import { checkedOperationOptions } from './operation-options-guard.js';
import { guardUpdate } from './update-guards.js';

type BulkWriteKind = 'insertOne' | 'updateOne' | 'updateMany' | 'replaceOne' | 'deleteOne' | 'deleteMany';

/** The fields each operation kind may have (those the driver reads); anything else is refused. */
const allowedFields: Readonly<Record<BulkWriteKind, ReadonlySet<string>>> = {
  insertOne: new Set(['document']),
  updateOne: new Set(['filter', 'update', 'upsert', 'arrayFilters', 'collation', 'hint', 'sort']),
  updateMany: new Set(['filter', 'update', 'upsert', 'arrayFilters', 'collation', 'hint']),
  replaceOne: new Set(['filter', 'replacement', 'upsert', 'collation', 'hint', 'sort']),
  deleteOne: new Set(['filter', 'collation', 'hint']),
  deleteMany: new Set(['filter', 'collation', 'hint']),
};

function isBulkWriteKind(name: string): name is BulkWriteKind {
  return Object.hasOwn(allowedFields, name);
}

function invalid(where: string, problem: string): TenantContextError {
  return new TenantContextError('VALIDATION_FAILED', `${where} ${problem}`, { details: { path: where } });
}

function scopeOperation(operation: unknown, scope: TenantFieldScope, where: string): Document {
  if (!isDocumentLike(operation)) throw invalid(where, 'must be an operation document');
  const kinds = Object.keys(operation);
  const kind = kinds[0];
  if (kinds.length !== 1 || kind === undefined || !isBulkWriteKind(kind)) {
    throw invalid(where, 'must have exactly one of insertOne, updateOne, updateMany, replaceOne, deleteOne, deleteMany');
  }
  const spec: unknown = operation[kind];
  const specWhere = `${where}.${kind}`;
  if (!isDocumentLike(spec)) throw invalid(specWhere, 'must be a document');
  for (const field of Object.keys(spec)) {
    if (!allowedFields[kind].has(field)) throw invalid(specWhere, `has the unknown field "${field}"`);
  }
  if (kind === 'insertOne') {
    // The driver also takes a bare document here (deprecated); being explicit removes the
    // ambiguity of a document that has a field called "document".
    if (!Object.hasOwn(spec, 'document')) throw invalid(specWhere, 'must be { document }');
    return { insertOne: { document: scopeTenantDocument(spec['document'], scope, 'insert', `${specWhere}.document`) } };
  }
  if (spec['filter'] === undefined) throw invalid(specWhere, 'needs a filter');
  const rest = checkedOperationOptions({ ...spec }, specWhere) as Document;
  rest['filter'] = scopeFilter(spec['filter'], scope, `${specWhere}.filter`);
  if (kind === 'updateOne' || kind === 'updateMany') {
    rest['update'] = guardUpdate(spec['update'], scope, `${specWhere}.update`);
  } else if (kind === 'replaceOne') {
    rest['replacement'] = scopeTenantDocument(spec['replacement'], scope, 'replacement', `${specWhere}.replacement`);
  }
  return { [kind]: rest };
}

/**
 * Rewrites the operations of a `bulkWrite` for the tenant in scope, every one before any is
 * sent (so a refused operation leaves nothing half-written): inserts and replacements get the
 * tenant field ({@link scopeTenantDocument}), filters are scoped ({@link scopeFilter}), updates
 * guarded ({@link guardUpdate}), and `arrayFilters`/`sort` checked.
 *
 * @throws TenantContextError `TENANT_ISOLATION_VIOLATION` (a foreign tenant, a tenant-field
 *   change, server-side JavaScript) or `VALIDATION_FAILED` (an unknown operation kind or field,
 *   a missing filter), naming the operation's index.
 *
 * @example
 * ```ts
 * scopeBulkWriteOperations([{ deleteMany: { filter: { status: 'void' } } }], { tenantField: 'tenantId', tenantId: 'tnt_a' });
 * // [{ deleteMany: { filter: { $and: [{ tenantId: 'tnt_a' }, { status: 'void' }] } } }]
 * ```
 */
export function scopeBulkWriteOperations(operations: unknown, scope: TenantFieldScope): Document[] {
  if (!Array.isArray(operations)) throw invalid('bulkWrite operations', 'must be an array');
  return operations.map((operation: unknown, index) => scopeOperation(operation, scope, `bulkWrite operations.${index}`));
}
