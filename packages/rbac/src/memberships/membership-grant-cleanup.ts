import type { OffboardingStepHook, TenantEventBus } from '@tenantkit/tenant-context';
import type { RbacServiceContext } from '../authorizer/rbac-service-context.js';

/**
 * Subscribes to tenant-context's events so rbac's grants follow memberships:
 * - `membership.removed`: the user's direct assignments and group memberships in that tenant
 *   are deleted (assignments are the source of truth for roles, a membership for belonging —
 *   someone who left must not keep a role should they be invited again), then
 *   `user_grants.removed` is announced;
 * - `tenant.purged`: every role, group and assignment of the tenant is deleted.
 * Cached matchers of the tenant are dropped and other processes told. A failure reaches the
 * bus's `onListenerError`; the offboarding step still removes everything of a tenant.
 *
 * @returns a function that unsubscribes.
 * @example
 * ```ts
 * const stop = listenToMembershipEvents(context, tenantEvents);
 * ```
 */
export function listenToMembershipEvents(context: RbacServiceContext, bus: TenantEventBus): () => void {
  const offRemoved = bus.on('membership.removed', async ({ membership }) => {
    await removeUserGrants(context, membership.tenantId, membership.userId);
  });
  const offPurged = bus.on('tenant.purged', async ({ tenantId }) => {
    await deleteTenantData(context, tenantId);
  });
  return () => {
    offRemoved();
    offPurged();
  };
}

/**
 * Deletes a user's direct assignments and group memberships in a tenant and announces
 * `user_grants.removed` — what the `membership.removed` listener does, for callers that want to
 * await it (the event bus runs async listeners without waiting for them).
 *
 * @example
 * ```ts
 * await memberships.removeMember(tenantId, userId);
 * await removeUserGrants(context, tenantId, userId);
 * ```
 */
export async function removeUserGrants(
  context: RbacServiceContext,
  tenantId: string,
  userId: string,
): Promise<{ readonly assignments: number; readonly groupMemberships: number }> {
  const removed = await context.store.deleteUserGrants(tenantId, userId);
  await context.afterChange(tenantId);
  context.events.emit('user_grants.removed', { tenantId, userId, ...removed });
  return removed;
}

async function deleteTenantData(context: RbacServiceContext, tenantId: string): Promise<void> {
  await context.store.deleteTenantData(tenantId);
  await context.afterChange(tenantId);
  context.events.emit('tenant_data.deleted', { tenantId });
}

/**
 * The offboarding step that deletes every role, group, membership and assignment of the tenant
 * being offboarded. Register it in the `delete-data` phase. Idempotent, so a resumed run may
 * repeat it.
 *
 * @example
 * ```ts
 * lifecycle.useOffboardingStep('delete-data', tenantDataCleanupStep(context));
 * ```
 */
export function tenantDataCleanupStep(context: RbacServiceContext): OffboardingStepHook<unknown> {
  return {
    name: 'rbac',
    run: async ({ tenantId }) => {
      await deleteTenantData(context, tenantId);
    },
  };
}
