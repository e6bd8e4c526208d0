import type { Filter, UpdateFilter } from 'mongodb';
import type { MembershipListQuery } from '../../store.js';
import type { Membership } from '../../tenant.js';
import { assertStoreString, assertStoreStringList } from '../store-argument-guards.js';
import { type MembershipDocument, membershipDocumentId } from './membership-documents.js';

/*
 * Pure builders of the query documents the MongoDB membership store sends. Caller-supplied
 * values are checked to be strings before they enter a document, so none can be an operator.
 */

/**
 * The filter of one membership, by its pair `_id`.
 *
 * @throws TenantContextError `VALIDATION_FAILED` when an id is not a string.
 *
 * @example
 * ```ts
 * membershipFilter('tnt_a', 'usr_1'); // { _id: { tenantId: 'tnt_a', userId: 'usr_1' } }
 * ```
 */
export function membershipFilter(tenantId: string, userId: string): Filter<MembershipDocument> {
  assertStoreString(tenantId, 'tenant id');
  assertStoreString(userId, 'user id');
  return { _id: membershipDocumentId(tenantId, userId) };
}

/**
 * The filter of a page of a tenant's memberships: the tenant, the statuses (none match an empty
 * list) and the user ids after the cursor's.
 *
 * @throws TenantContextError `VALIDATION_FAILED` when the tenant id or a status is not a string.
 *
 * @example
 * ```ts
 * membershipListFilter('tnt_a', { limit: 10, status: ['active'] }, 'usr_5');
 * // { tenantId: 'tnt_a', status: { $in: ['active'] }, userId: { $gt: 'usr_5' } }
 * ```
 */
export function membershipListFilter(
  tenantId: string,
  query: MembershipListQuery,
  afterUserId: string | null,
): Filter<MembershipDocument> {
  assertStoreString(tenantId, 'tenant id');
  if (query.status !== undefined) {
    assertStoreStringList(query.status, 'status');
  }
  return {
    tenantId,
    ...(query.status === undefined ? {} : { status: { $in: [...query.status] } }),
    ...(afterUserId === null ? {} : { userId: { $gt: afterUserId } }),
  };
}

/**
 * The update of {@link MembershipStore.updateMembership}: status, inviter and `updatedAt`;
 * the pair and `createdAt` never change.
 *
 * @example
 * ```ts
 * membershipChangeUpdate(membership);
 * // { $set: { status: 'suspended', invitedBy: null, updatedAt: 1767225605123 } }
 * ```
 */
export function membershipChangeUpdate(membership: Pick<Membership, 'status' | 'invitedBy' | 'updatedAt'>): UpdateFilter<MembershipDocument> {
  return { $set: { status: membership.status, invitedBy: membership.invitedBy, updatedAt: membership.updatedAt } };
}
