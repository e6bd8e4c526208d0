/**
 * The `_id` of a usage counter document: the `(tenantId, resource)` pair. It makes the pair
 * unique by construction, so the first-increment race can never create two counters for one
 * resource, even before `ensureTenantContextIndexes` has run. Always build it with
 * `usageCounterFilter`: an embedded `_id` matches only with its fields in this order.
 *
 * @example
 * ```ts
 * const id: UsageCounterDocumentId = { tenantId: 'tnt_a', resource: 'users' };
 * ```
 */
export interface UsageCounterDocumentId {
  tenantId: string;
  resource: string;
}

/**
 * One counter as stored: one document per tenant and resource, with the pair also as top-level
 * fields for the per-tenant index (`getAll`, `deleteAll`).
 *
 * @example
 * ```ts
 * const document: UsageCounterDocument = { _id: { tenantId: 'tnt_a', resource: 'users' }, tenantId: 'tnt_a', resource: 'users', value: 3 };
 * ```
 */
export interface UsageCounterDocument {
  _id: UsageCounterDocumentId;
  tenantId: string;
  resource: string;
  /** A non-negative safe integer. */
  value: number;
}
