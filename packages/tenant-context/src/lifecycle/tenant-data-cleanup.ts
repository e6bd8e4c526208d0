import { TenantContextError } from '../errors.js';
import type { TenantEventBus } from '../events.js';
import type { MembershipService } from '../memberships/membership-service.js';
import type { TenantStore } from '../store.js';

/** The store's largest page; offboarding a big tenant should take few round trips. */
const MEMBERSHIP_PAGE_SIZE = 500;

/**
 * Removes every membership of a tenant through the membership service, so each removal
 * announces `membership.removed` (rbac drops the member's grants on it). Idempotent.
 *
 * @throws TenantContextError `STORE_CONFLICT` when a pass removes nothing although members are
 *   listed (removed concurrently, or a store that lists what it cannot delete); retrying helps
 *   in the first case and the loop must not spin in the second.
 * @example
 * ```ts
 * await removeAllMembers(memberships, 'tnt_1');
 * ```
 */
export async function removeAllMembers(memberships: MembershipService, tenantId: string): Promise<void> {
  for (;;) {
    const page = await memberships.listMembers(tenantId, { limit: MEMBERSHIP_PAGE_SIZE });
    if (page.items.length === 0) return;
    let removed = 0;
    for (const membership of page.items) {
      if (await memberships.removeMember(tenantId, membership.userId)) removed += 1;
    }
    if (removed === 0) {
      throw new TenantContextError('STORE_CONFLICT', 'The memberships of the tenant could not be removed; try again', {
        details: { tenantId },
      });
    }
  }
}

/**
 * Removes every custom domain of a tenant, announcing `domain.removed` for each. Idempotent.
 *
 * @example
 * ```ts
 * await removeAllDomains(registry.store, events, 'tnt_1');
 * ```
 */
export async function removeAllDomains(store: TenantStore, events: TenantEventBus, tenantId: string): Promise<void> {
  for (const domain of await store.listDomains(tenantId)) {
    if (await store.deleteDomain(tenantId, domain.hostname)) events.emit('domain.removed', { domain });
  }
}
