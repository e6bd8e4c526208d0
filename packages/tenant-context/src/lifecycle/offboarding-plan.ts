import type { TenantEventBus } from '../events.js';
import type { MembershipService } from '../memberships/membership-service.js';
import type { TenantRegistry } from '../registry/tenant-registry.js';
import type { UsageCounterStore } from '../store.js';
import type { LifecycleRun } from './lifecycle-run.js';
import type { OffboardingHookPhase, OffboardingRunInput, OffboardingStepHook } from './lifecycle-steps.js';
import { hookStep, type PhaseHooks } from './hook-steps.js';
import type { LifecyclePlan, LifecycleStepDefinition } from './run-driver.js';
import { removeAllDomains, removeAllMembers } from './tenant-data-cleanup.js';

/**
 * Names of the built-in offboarding steps.
 *
 * @example
 * ```ts
 * run.completedSteps.includes(offboardingStepNames.markDeleted);
 * ```
 */
export const offboardingStepNames = Object.freeze({
  markOffboarding: 'mark-offboarding',
  removeMemberships: 'cleanup:memberships',
  removeUsageCounters: 'cleanup:usage-counters',
  removeDomains: 'cleanup:domains',
  markDeleted: 'mark-deleted',
} as const);

/**
 * The services offboarding steps call.
 *
 * @example
 * ```ts
 * const services: OffboardingServices = { registry, memberships, usageCounters, events };
 * ```
 */
export interface OffboardingServices {
  registry: TenantRegistry<unknown>;
  memberships: MembershipService;
  usageCounters: UsageCounterStore | undefined;
  events: TenantEventBus;
}

/**
 * The offboarding plan of one run: `mark-offboarding` (the tenant stops serving requests),
 * the `export`, `delete-data` and `shred-keys` hooks, the built-in cleanup (memberships,
 * usage counters, custom domains) and `mark-deleted` (soft delete, the record stays for
 * audit). Offboarding only moves forward: nothing is ever compensated.
 *
 * @example
 * ```ts
 * const plan = buildOffboardingPlan(services, run, hooks);
 * ```
 */
export function buildOffboardingPlan(
  services: OffboardingServices,
  run: LifecycleRun,
  hooks: PhaseHooks<OffboardingHookPhase, OffboardingStepHook<unknown>>,
): LifecyclePlan {
  const { registry, memberships, usageCounters, events } = services;
  const { tenantId } = run;
  // Validated against offboardingOptionsSchema before the run was stored.
  const { reason } = run.input as unknown as OffboardingRunInput;
  const hookSteps = (phase: OffboardingHookPhase) => (hooks.get(phase) ?? []).map((hook) => hookStep(phase, hook));

  const markOffboarding: LifecycleStepDefinition = {
    name: offboardingStepNames.markOffboarding,
    async run() {
      const tenant = await registry.getTenantOrThrow(tenantId);
      // A tenant soft-deleted before offboarding still has data to export and erase; it stays deleted.
      if (tenant.status === 'deleted') return;
      await registry.setTenantStatus(tenantId, 'offboarding', reason);
    },
  };

  const removeMemberships: LifecycleStepDefinition = {
    name: offboardingStepNames.removeMemberships,
    run: () => removeAllMembers(memberships, tenantId),
  };

  const removeUsageCounters: LifecycleStepDefinition = {
    name: offboardingStepNames.removeUsageCounters,
    run: async () => usageCounters?.deleteAll(tenantId),
  };

  const removeDomains: LifecycleStepDefinition = {
    name: offboardingStepNames.removeDomains,
    run: () => removeAllDomains(registry.store, events, tenantId),
  };

  const markDeleted: LifecycleStepDefinition = {
    name: offboardingStepNames.markDeleted,
    async run() {
      // Already deleted (before offboarding, or by an attempt whose completion was lost): the
      // registry answers without a write and keeps the first deletedAt.
      await registry.setTenantStatus(tenantId, 'deleted', reason);
    },
  };

  return {
    steps: [
      markOffboarding,
      ...hookSteps('export'),
      ...hookSteps('delete-data'),
      ...hookSteps('shred-keys'),
      removeMemberships,
      ...(usageCounters === undefined ? [] : [removeUsageCounters]),
      removeDomains,
      markDeleted,
    ],
    compensatesFailureOf: () => false,
    recordsArtifacts: true,
    loadTenant: () => registry.getTenant(tenantId),
  };
}
