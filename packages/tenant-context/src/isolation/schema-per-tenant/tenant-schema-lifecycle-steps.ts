import type { LifecycleArtifactReference, OffboardingStepHook, OnboardingStepHook } from '../../lifecycle/lifecycle-steps.js';
import type { JsonValue } from '../../tenant.js';
import type { SchemaPerTenant } from './schema-per-tenant.js';

/**
 * Options of {@link provisionTenantSchemaStep} and {@link dropTenantSchemaStep}.
 *
 * @example
 * ```ts
 * lifecycle.useOnboardingStep('provision-storage', provisionTenantSchemaStep(schemas, { name: 'orders-schema' }));
 * ```
 */
export interface TenantSchemaStepOptions {
  /** The step's name within its phase (persisted as `${phase}:${name}`). Default `'tenant-schema'`. */
  name?: string;
}

const DEFAULT_STEP_NAME = 'tenant-schema';

/**
 * An onboarding step for the `provision-storage` phase: creates and migrates the new tenant's
 * schema, and drops it again when a later step fails for good and the onboarding rolls back.
 * Both are idempotent, as the lifecycle requires (a resumed run may repeat either).
 *
 * @example
 * ```ts
 * lifecycle.useOnboardingStep('provision-storage', provisionTenantSchemaStep(schemas));
 * ```
 */
export function provisionTenantSchemaStep<Settings = Record<string, JsonValue>>(
  schemas: SchemaPerTenant,
  options: TenantSchemaStepOptions = {},
): OnboardingStepHook<Settings> {
  return {
    name: options.name ?? DEFAULT_STEP_NAME,
    async run({ tenantId }) {
      await schemas.provision(tenantId);
    },
    async compensate({ tenantId }) {
      await schemas.drop(tenantId);
    },
  };
}

/**
 * An offboarding step for the `delete-data` phase: drops the tenant's schema with all its data
 * (idempotent: a resumed run finds nothing left to drop). It records an artifact saying which
 * schema went, `postgres-schema:<name>`.
 *
 * @example
 * ```ts
 * lifecycle.useOffboardingStep('delete-data', dropTenantSchemaStep(schemas));
 * ```
 */
export function dropTenantSchemaStep<Settings = Record<string, JsonValue>>(
  schemas: SchemaPerTenant,
  options: TenantSchemaStepOptions = {},
): OffboardingStepHook<Settings> {
  return {
    name: options.name ?? DEFAULT_STEP_NAME,
    async run({ tenantId }): Promise<LifecycleArtifactReference> {
      // The owned schema, or the name it would have: a resumed run, whose first try already
      // dropped it, records the same artifact.
      const { schema, dropped } = await schemas.drop(tenantId);
      return { location: `postgres-schema:${schema ?? schemas.schemaNameOf(tenantId)}`, details: { dropped } };
    },
  };
}
