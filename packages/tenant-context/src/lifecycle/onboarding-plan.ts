import { isTenantkitError } from '@tenantkit/core';
import type { MembershipService } from '../memberships/membership-service.js';
import type { TenantRegistry } from '../registry/tenant-registry.js';
import type { UsageCounterStore } from '../store.js';
import type { LifecycleRun } from './lifecycle-run.js';
import { hookStep, type PhaseHooks } from './hook-steps.js';
import type { OnboardingHookPhase, OnboardingRunInput, OnboardingStepHook } from './lifecycle-steps.js';
import type { LifecyclePlan, LifecycleStepDefinition } from './run-driver.js';
import { removeAllMembers } from './tenant-data-cleanup.js';

/**
 * Names of the built-in onboarding steps.
 *
 * @example
 * ```ts
 * run.completedSteps.includes(onboardingStepNames.activate);
 * ```
 */
export const onboardingStepNames = Object.freeze({
  createRecord: 'create-record',
  createAdminMembership: 'create-admin-membership',
  activate: 'activate',
} as const);

/**
 * The services onboarding steps call.
 *
 * @example
 * ```ts
 * const services: OnboardingServices = { registry, memberships, usageCounters };
 * ```
 */
export interface OnboardingServices {
  registry: TenantRegistry<unknown>;
  memberships: MembershipService;
  usageCounters: UsageCounterStore | undefined;
}

function onboardingInputOf(run: LifecycleRun): OnboardingRunInput {
  // The run's input was validated against onboardingInputSchema before the run was stored.
  return run.input as unknown as OnboardingRunInput;
}

/**
 * The onboarding plan of one run: `create-record`, the `provision-storage` and `seed-defaults`
 * hooks, `create-admin-membership`, `activate`, then the `notify` hooks.
 *
 * `activate` is the pivot. A step failing up to and including it rolls the run back (every
 * step that ran is compensated, the tenant record purged), so the tenant never stays half
 * created. After it the tenant is live and in use, so a failing `notify` hook is never
 * undone: the run stops as `failed` with the tenant active, and `resumeRun` retries the hook.
 *
 * @example
 * ```ts
 * const plan = buildOnboardingPlan(services, run, hooks);
 * plan.steps.map((step) => step.name); // ['create-record', 'seed-defaults:roles', ...]
 * ```
 */
export function buildOnboardingPlan(
  services: OnboardingServices,
  run: LifecycleRun,
  hooks: PhaseHooks<OnboardingHookPhase, OnboardingStepHook<unknown>>,
): LifecyclePlan {
  const { registry, memberships, usageCounters } = services;
  const { tenantId } = run;
  const input = onboardingInputOf(run);
  const hookSteps = (phase: OnboardingHookPhase) => (hooks.get(phase) ?? []).map((hook) => hookStep(phase, hook));

  const createRecord: LifecycleStepDefinition = {
    name: onboardingStepNames.createRecord,
    async run() {
      // The id was generated for this run alone, so a record with it is this run's own,
      // written by an attempt whose completion was never recorded.
      if ((await registry.getTenant(tenantId)) !== null) return;
      try {
        await registry.createTenant({
          id: tenantId,
          slug: input.slug,
          name: input.name,
          status: 'provisioning',
          ...(input.plan === undefined ? {} : { plan: input.plan }),
          ...(input.settings === undefined ? {} : { settings: input.settings }),
          ...(input.features === undefined ? {} : { features: input.features }),
          ...(input.limits === undefined ? {} : { limits: input.limits }),
          ...(input.region === undefined ? {} : { region: input.region }),
        });
      } catch (error) {
        if (isTenantkitError(error, 'TENANT_ALREADY_EXISTS') && (await registry.getTenant(tenantId)) !== null) return;
        throw error;
      }
    },
    async compensate() {
      // Members and counters first: once the record is gone nothing points at them anymore.
      await removeAllMembers(memberships, tenantId);
      await usageCounters?.deleteAll(tenantId);
      await registry.purgeProvisioningTenant(tenantId);
    },
  };

  const createAdminMembership: LifecycleStepDefinition = {
    name: onboardingStepNames.createAdminMembership,
    async run() {
      const existing = await memberships.getMembership(tenantId, input.adminUserId);
      if (existing === null) {
        try {
          await memberships.addMember(tenantId, input.adminUserId, { status: 'active' });
          return;
        } catch (error) {
          if (!isTenantkitError(error, 'MEMBERSHIP_ALREADY_EXISTS')) throw error;
        }
      }
      await memberships.setMemberStatus(tenantId, input.adminUserId, 'active');
    },
    async compensate() {
      await memberships.removeMember(tenantId, input.adminUserId);
    },
  };

  const activate: LifecycleStepDefinition = {
    name: onboardingStepNames.activate,
    async run() {
      // Already active after a lost acknowledgement: the registry answers without a write.
      await registry.setTenantStatus(tenantId, 'active');
    },
  };

  return {
    steps: [
      createRecord,
      ...hookSteps('provision-storage'),
      ...hookSteps('seed-defaults'),
      createAdminMembership,
      activate,
      ...hookSteps('notify'),
    ],
    compensatesFailureOf: (current) => !current.completedSteps.includes(onboardingStepNames.activate),
    async confirmsFailedStep(step) {
      // Purging a tenant that did become active would take a live tenant away (and the
      // registry refuses it anyway), so a failed activation is double-checked first.
      if (step !== onboardingStepNames.activate) return false;
      return (await registry.getTenant(tenantId))?.status === 'active';
    },
    recordsArtifacts: false,
    loadTenant: () => registry.getTenant(tenantId),
  };
}
