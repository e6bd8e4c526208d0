import { TenantContextError } from '../../errors.js';
import type {
  LifecycleStepContext,
  OffboardingStepHook,
  OnboardingRunInput,
  OnboardingStepHook,
} from '../../lifecycle/lifecycle-steps.js';
import { runAsSystem } from '../../scope/tenant-scope.js';
import type { JsonValue } from '../../tenant.js';
import type { TenantDatabaseRouter } from './tenant-database-router.js';

/**
 * Options of {@link tenantDatabaseOnboardingStep}.
 *
 * @example
 * ```ts
 * const options: TenantDatabaseOnboardingStepOptions = { appliesTo: ({ input }) => input.plan === 'enterprise' };
 * ```
 */
export interface TenantDatabaseOnboardingStepOptions<Settings = Record<string, JsonValue>> {
  /** The step's name within its phase. Default `'tenant-database'`. */
  name?: string;
  /**
   * Whether this tenant gets its own database. Default: every tenant. With per-tenant
   * strategies, decide from the run's input (a resumed run must decide alike), e.g.
   * `({ input }) => input.plan === 'enterprise'`, and make the isolation router's `strategyFor`
   * agree. The compensation always runs: dropping a database that was never created is a no-op.
   */
  appliesTo?: (context: LifecycleStepContext<Settings, OnboardingRunInput>) => boolean | Promise<boolean>;
}

/**
 * Options of {@link tenantDatabaseOffboardingStep}.
 *
 * @example
 * ```ts
 * const options: TenantDatabaseOffboardingStepOptions = { name: 'orders-database' };
 * ```
 */
export interface TenantDatabaseOffboardingStepOptions {
  /** The step's name within its phase. Default `'tenant-database'`. */
  name?: string;
}

type RouterForSteps = Pick<TenantDatabaseRouter<unknown>, 'provision' | 'deprovision'>;

function checkRouter(router: unknown, helper: string): asserts router is RouterForSteps {
  const candidate = router as Partial<RouterForSteps> | null;
  if (typeof candidate?.provision !== 'function' || typeof candidate.deprovision !== 'function') {
    throw new TenantContextError('CONFIGURATION_INVALID', `${helper}() needs a tenant database router`);
  }
}

function checkOptions(options: { name?: unknown; appliesTo?: unknown }, helper: string): void {
  if (typeof options !== 'object' || options === null) {
    throw new TenantContextError('CONFIGURATION_INVALID', `${helper}() options must be an object`);
  }
  if (options.appliesTo !== undefined && typeof options.appliesTo !== 'function') {
    throw new TenantContextError('CONFIGURATION_INVALID', `${helper}() appliesTo must be a function`);
  }
  // The lifecycle checks the name's format when the hook is registered.
  if (options.name !== undefined && typeof options.name !== 'string') {
    throw new TenantContextError('CONFIGURATION_INVALID', `${helper}() name must be a string`);
  }
}

/**
 * An onboarding step for the `provision-storage` phase that creates and migrates the tenant's
 * database ({@link TenantDatabaseRouter.provision}); its compensation drops it again
 * ({@link TenantDatabaseRouter.deprovision}) when a later step fails for good. Both are
 * idempotent, as the lifecycle requires, and run in the system scope (reason
 * `tenant-onboarding`, actor `tenant-lifecycle`).
 *
 * @example
 * ```ts
 * lifecycle.useOnboardingStep('provision-storage', tenantDatabaseOnboardingStep(router, {
 *   appliesTo: ({ input }) => input.plan === 'enterprise',
 * }));
 * ```
 */
export function tenantDatabaseOnboardingStep<Settings = Record<string, JsonValue>>(
  router: RouterForSteps,
  options: TenantDatabaseOnboardingStepOptions<Settings> = {},
): OnboardingStepHook<Settings> {
  checkRouter(router, 'tenantDatabaseOnboardingStep');
  checkOptions(options, 'tenantDatabaseOnboardingStep');
  const { appliesTo } = options;
  return {
    name: options.name ?? 'tenant-database',
    async run(context) {
      if (appliesTo !== undefined && !(await appliesTo(context))) return;
      await runAsSystem({ reason: 'tenant-onboarding: create the tenant database', actor: 'tenant-lifecycle' }, () =>
        router.provision(context.tenantId),
      );
    },
    async compensate({ tenantId }) {
      await runAsSystem({ reason: 'tenant-onboarding rollback: drop the tenant database', actor: 'tenant-lifecycle' }, () =>
        router.deprovision(tenantId),
      );
    },
  };
}

/**
 * An offboarding step for the `delete-data` phase that closes the tenant's pool and drops its
 * database ({@link TenantDatabaseRouter.deprovision}), in the system scope. Idempotent, and a
 * no-op for tenants that never had a database (shared-schema tenants), so it can be registered
 * for every tenant. It records a deletion receipt in the run's artifacts: `database:<name>` with whether it was
 * dropped now. Export the data in an `export` step before it, if you must.
 *
 * @example
 * ```ts
 * lifecycle.useOffboardingStep('delete-data', tenantDatabaseOffboardingStep(router));
 * ```
 */
export function tenantDatabaseOffboardingStep<Settings = Record<string, JsonValue>>(
  router: RouterForSteps,
  options: TenantDatabaseOffboardingStepOptions = {},
): OffboardingStepHook<Settings> {
  checkRouter(router, 'tenantDatabaseOffboardingStep');
  checkOptions(options, 'tenantDatabaseOffboardingStep');
  return {
    name: options.name ?? 'tenant-database',
    async run({ tenantId }) {
      const result = await runAsSystem({ reason: 'tenant-offboarding: drop the tenant database', actor: 'tenant-lifecycle' }, () =>
        router.deprovision(tenantId),
      );
      return {
        location: `database:${result.databaseName}`,
        details: { databaseName: result.databaseName, dropped: result.dropped, closedPool: result.closedPool },
      };
    },
  };
}
