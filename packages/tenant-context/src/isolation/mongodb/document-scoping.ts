import type { Document } from 'mongodb';
import { TenantContextError } from '../../errors.js';
import { isDocumentLike } from './checked-query-copy.js';
import type { TenantFieldScope } from './filter-scoping.js';

/**
 * What a scoped document is for: an insert, or the replacement of `replaceOne` /
 * `findOneAndReplace` (which may not use update operators).
 *
 * @example
 * ```ts
 * const kind: TenantDocumentKind = 'replacement';
 * ```
 */
export type TenantDocumentKind = 'insert' | 'replacement';

/**
 * A copy of a document to write, carrying the tenant in scope in the tenant field. A document
 * without the field (or with it `undefined`) gets it; one carrying the same tenant keeps it;
 * one claiming anything else (another tenant, `null`, an ObjectId) is refused. Only the top
 * level is copied, and the caller's object is never modified (so, unlike a raw `insertOne`,
 * the driver adds `_id` to the copy: read it from the result's `insertedId`). Values below the
 * top level are data, not operators, and are passed on as they are.
 *
 * @throws TenantContextError `TENANT_ISOLATION_VIOLATION` for a foreign tenant value;
 *   `VALIDATION_FAILED` for something that is not a document, a top-level `__proto__` key, a
 *   `toBSON()` hook (its output could not be checked), or an update operator in a replacement.
 *
 * @example
 * ```ts
 * scopeTenantDocument({ number: 'INV-1' }, { tenantField: 'tenantId', tenantId: 'tnt_a' }, 'insert', 'insertOne document');
 * // { number: 'INV-1', tenantId: 'tnt_a' }
 * ```
 */
export function scopeTenantDocument(document: unknown, scope: TenantFieldScope, kind: TenantDocumentKind, what: string): Document {
  if (!isDocumentLike(document)) {
    throw new TenantContextError('VALIDATION_FAILED', `${what} must be a document (a plain object)`, { details: { path: what } });
  }
  if (typeof (document as { toBSON?: unknown }).toBSON === 'function') {
    throw new TenantContextError('VALIDATION_FAILED', `${what} has a toBSON() hook, so its tenant field cannot be checked`, {
      details: { path: what },
    });
  }
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(document)) {
    if (key === '__proto__') {
      throw new TenantContextError('VALIDATION_FAILED', `${what} uses the key "__proto__"`, { details: { path: what } });
    }
    if (kind === 'replacement' && key.startsWith('$')) {
      throw new TenantContextError('VALIDATION_FAILED', `${what} uses ${key}: a replacement is a whole document; use updateOne for operators`, {
        details: { path: what },
      });
    }
    // Each value is read once: a getter cannot answer differently to the check and the driver.
    copy[key] = document[key];
  }
  const claimed = copy[scope.tenantField];
  if (Object.hasOwn(copy, scope.tenantField) && claimed !== undefined && claimed !== scope.tenantId) {
    throw new TenantContextError(
      'TENANT_ISOLATION_VIOLATION',
      `${what} names another tenant in "${scope.tenantField}"; documents are written for the tenant in scope only`,
      { details: { path: `${what}.${scope.tenantField}` } },
    );
  }
  copy[scope.tenantField] = scope.tenantId;
  return copy;
}
