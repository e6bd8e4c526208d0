import type { MembershipService } from '@tenantkit/tenant-context';
import { AuthError } from '../errors.js';

/**
 * The part of tenant-context's `MembershipService` auth uses: checking a membership at sign-in,
 * refresh and tenant switch, and adding one when an invitation is accepted. `setMemberStatus`
 * (optional) lets an invitation activate a member who is already `invited`.
 *
 * @example
 * ```ts
 * const memberships: AuthMemberships = createMembershipService({ store: stores.memberships, registry });
 * ```
 */
export type AuthMemberships = Pick<MembershipService, 'requireActiveMembership' | 'addMember' | 'getMembership'> &
  Partial<Pick<MembershipService, 'setMemberStatus'>>;

/**
 * The configured memberships, or `CONFIGURATION_INVALID` for a flow that needs them (a sign-in
 * bound to a tenant, an invitation) when `createAuth` got none.
 *
 * @example
 * ```ts
 * await requireMemberships(context.memberships, 'login with tenantId').requireActiveMembership(tenantId, userId);
 * ```
 */
export function requireMemberships(memberships: AuthMemberships | undefined, what: string): AuthMemberships {
  if (memberships === undefined) {
    throw new AuthError('CONFIGURATION_INVALID', `${what} needs the "memberships" option of createAuth`);
  }
  return memberships;
}
