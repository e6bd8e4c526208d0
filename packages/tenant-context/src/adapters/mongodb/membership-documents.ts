import type { Membership } from '../../tenant.js';
import { toStoredJson } from '../stored-json.js';

/**
 * The `_id` of a membership document: the pair itself. It makes `(tenantId, userId)` unique by
 * construction, through the `_id` index that always exists; the unique secondary index on the
 * same pair (from `ensureTenantContextIndexes`) serves the tenant listing. Always build it with
 * {@link membershipDocumentId}: an embedded `_id` matches only with its fields in this order.
 *
 * @example
 * ```ts
 * const id: MembershipDocumentId = membershipDocumentId('tnt_a', 'usr_1');
 * ```
 */
export interface MembershipDocumentId {
  tenantId: string;
  userId: string;
}

/**
 * A membership as stored: the record plus its pair `_id`.
 *
 * @example
 * ```ts
 * const document: MembershipDocument = membershipToDocument(membership);
 * ```
 */
export type MembershipDocument = Membership & { _id: MembershipDocumentId };

/**
 * The `_id` of the membership of `userId` in `tenantId`.
 *
 * @example
 * ```ts
 * membershipDocumentId('tnt_a', 'usr_1'); // { tenantId: 'tnt_a', userId: 'usr_1' }
 * ```
 */
export function membershipDocumentId(tenantId: string, userId: string): MembershipDocumentId {
  return { tenantId, userId };
}

/**
 * The document stored for a membership (a JSON-exact copy of it).
 *
 * @example
 * ```ts
 * await memberships.insertOne(membershipToDocument(membership));
 * ```
 */
export function membershipToDocument(membership: Membership): MembershipDocument {
  const stored = toStoredJson(membership, 'membership');
  return {
    _id: membershipDocumentId(stored.tenantId, stored.userId),
    tenantId: stored.tenantId,
    userId: stored.userId,
    status: stored.status,
    invitedBy: stored.invitedBy,
    createdAt: stored.createdAt,
    updatedAt: stored.updatedAt,
  };
}

/**
 * The membership record of a stored document, field by field.
 *
 * @example
 * ```ts
 * const membership = membershipFromDocument(document);
 * ```
 */
export function membershipFromDocument(document: MembershipDocument): Membership {
  return {
    tenantId: document.tenantId,
    userId: document.userId,
    status: document.status,
    invitedBy: document.invitedBy,
    createdAt: document.createdAt,
    updatedAt: document.updatedAt,
  };
}
