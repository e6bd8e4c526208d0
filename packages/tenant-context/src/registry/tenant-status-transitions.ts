import { TenantContextError } from '../errors.js';
import type { TenantStatus } from '../tenant.js';

const allowedTransitions: Readonly<Record<TenantStatus, readonly TenantStatus[]>> = {
  provisioning: ['active'],
  active: ['suspended', 'offboarding', 'deleted'],
  suspended: ['active', 'offboarding', 'deleted'],
  offboarding: ['deleted'],
  deleted: [],
};

/**
 * Whether a tenant may move from one status to another. A deleted tenant never comes back;
 * a provisioning tenant only becomes active (a failed onboarding purges it instead).
 *
 * @example
 * ```ts
 * canTransitionTenantStatus('suspended', 'active'); // true
 * canTransitionTenantStatus('deleted', 'active');   // false
 * ```
 */
export function canTransitionTenantStatus(from: TenantStatus, to: TenantStatus): boolean {
  // hasOwn: an unchecked value such as 'constructor' must answer false, not reach Object.prototype.
  return Object.hasOwn(allowedTransitions, from) && allowedTransitions[from].includes(to);
}

/**
 * Throws `TENANT_STATUS_TRANSITION_INVALID` unless the transition is allowed.
 *
 * @example
 * ```ts
 * assertTenantStatusTransition(tenant.status, 'suspended');
 * ```
 */
export function assertTenantStatusTransition(from: TenantStatus, to: TenantStatus): void {
  if (!canTransitionTenantStatus(from, to)) {
    throw new TenantContextError(
      'TENANT_STATUS_TRANSITION_INVALID',
      `A tenant cannot go from "${from}" to "${to}"`,
      { details: { from, to } },
    );
  }
}
