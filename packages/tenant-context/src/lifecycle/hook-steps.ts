import { TenantContextError } from '../errors.js';
import type { LifecycleCompensationContext, LifecycleStepContext } from './lifecycle-steps.js';
import type { DriverStepContext, LifecycleStepDefinition } from './run-driver.js';

/**
 * Hooks of one phase, in registration order.
 *
 * @example
 * ```ts
 * const hooks: PhaseHooks<OnboardingHookPhase, OnboardingStepHook> = new Map([['notify', [welcomeMail]]]);
 * ```
 */
export type PhaseHooks<Phase extends string, Hook> = ReadonlyMap<Phase, readonly Hook[]>;

function requireTenantInContext(context: DriverStepContext): LifecycleStepContext<unknown> {
  if (context.tenant === null) {
    throw new TenantContextError('TENANT_NOT_FOUND', 'The tenant record of this run is missing', {
      details: { tenantId: context.tenantId, runId: context.runId },
    });
  }
  return context as LifecycleStepContext<unknown>;
}

/**
 * A registered hook as a persisted step named `${phase}:${name}`.
 *
 * @example
 * ```ts
 * const step = hookStep('seed-defaults', rolesHook);
 * step.name; // 'seed-defaults:roles'
 * ```
 */
export function hookStep(
  phase: string,
  hook: {
    readonly name: string;
    run(context: LifecycleStepContext<unknown>): unknown;
    compensate?(context: LifecycleCompensationContext<unknown>): unknown;
  },
): LifecycleStepDefinition {
  return {
    name: `${phase}:${hook.name}`,
    run: async (context) => hook.run(requireTenantInContext(context)),
    ...(hook.compensate === undefined
      ? {}
      : {
          compensate: async (context: DriverStepContext) => {
            await hook.compensate?.(context as LifecycleCompensationContext<unknown>);
          },
        }),
  };
}

