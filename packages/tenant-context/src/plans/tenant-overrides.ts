import { featureOverridesSchema, limitOverridesSchema } from '../registry/tenant-input-schemas.js';
import type { Tenant } from '../tenant.js';
import { parseOrThrow } from '../validation.js';
import { rejectingPrototypeKeys } from './entitlement-keys.js';

const limitOverridesWithoutPrototypeKeys = rejectingPrototypeKeys(limitOverridesSchema);
const featureOverridesWithoutPrototypeKeys = rejectingPrototypeKeys(featureOverridesSchema);

/**
 * The parts of a tenant record that plans, quotas and feature flags read.
 *
 * @example
 * ```ts
 * const entitlements: TenantEntitlements = { plan: 'pro', features: { 'new-editor': true }, limits: { projects: 50 } };
 * ```
 */
export type TenantEntitlements = Pick<Tenant<unknown>, 'plan' | 'features' | 'limits'>;

/**
 * A tenant's quota overrides, re-validated. The registry validates them on every write, but a
 * record can also come straight from a store or a hand-built object; a malformed override
 * must not silently widen (or narrow) a quota, so it throws `CONFIGURATION_INVALID`.
 *
 * @example
 * ```ts
 * tenantLimitOverrides({ plan: 'free', features: {}, limits: { projects: -1 } }); // { projects: -1 }
 * ```
 */
export function tenantLimitOverrides(tenant: Pick<TenantEntitlements, 'limits'>): Readonly<Record<string, number>> {
  return parseOrThrow(limitOverridesWithoutPrototypeKeys, tenant.limits ?? {}, 'CONFIGURATION_INVALID', 'tenant limit overrides');
}

/**
 * A tenant's feature overrides (`true` forces a feature on, `false` forces it off),
 * re-validated like {@link tenantLimitOverrides}.
 *
 * @example
 * ```ts
 * tenantFeatureOverrides({ plan: 'free', features: { 'new-editor': false }, limits: {} }); // { 'new-editor': false }
 * ```
 */
export function tenantFeatureOverrides(
  tenant: Pick<TenantEntitlements, 'features'>,
): Readonly<Record<string, boolean>> {
  return parseOrThrow(featureOverridesWithoutPrototypeKeys, tenant.features ?? {}, 'CONFIGURATION_INVALID', 'tenant feature overrides');
}

/**
 * The tenant's explicit on/off for one feature, or `undefined` when it has none. Reads own
 * properties only, so a name like `toString` never finds an inherited value.
 *
 * @example
 * ```ts
 * featureOverrideOf({ plan: 'free', features: { beta: true }, limits: {} }, 'beta'); // true
 * ```
 */
export function featureOverrideOf(tenant: Pick<TenantEntitlements, 'features'>, feature: string): boolean | undefined {
  const overrides = tenantFeatureOverrides(tenant);
  return Object.hasOwn(overrides, feature) ? overrides[feature] : undefined;
}
