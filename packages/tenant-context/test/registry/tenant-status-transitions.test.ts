import { describe, expect, it } from 'vitest';
import { TenantContextError } from '../../src/errors.js';
import {
  assertTenantStatusTransition,
  canTransitionTenantStatus,
} from '../../src/registry/tenant-status-transitions.js';
import { tenantStatuses, type TenantStatus } from '../../src/tenant.js';

// The whole lifecycle graph, written out so a change to it is a deliberate change to this test.
const allowed: ReadonlyArray<readonly [TenantStatus, TenantStatus]> = [
  ['provisioning', 'active'],
  ['active', 'suspended'],
  ['active', 'offboarding'],
  ['active', 'deleted'],
  ['suspended', 'active'],
  ['suspended', 'offboarding'],
  ['suspended', 'deleted'],
  ['offboarding', 'deleted'],
];

const everyPair = tenantStatuses.flatMap((from) => tenantStatuses.map((to) => [from, to] as const));
const isAllowed = (from: TenantStatus, to: TenantStatus) => allowed.some(([f, t]) => f === from && t === to);

describe('tenant status transitions', () => {
  it.each(everyPair)('%s -> %s follows the lifecycle graph', (from, to) => {
    expect(canTransitionTenantStatus(from, to)).toBe(isAllowed(from, to));
    if (isAllowed(from, to)) {
      expect(() => assertTenantStatusTransition(from, to)).not.toThrow();
    } else {
      let caught: unknown;
      try {
        assertTenantStatusTransition(from, to);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(TenantContextError);
      expect(caught).toMatchObject({ code: 'TENANT_STATUS_TRANSITION_INVALID', status: 409, details: { from, to } });
    }
  });

  it('treats deleted as terminal', () => {
    for (const to of tenantStatuses) expect(canTransitionTenantStatus('deleted', to)).toBe(false);
  });

  it('never leads back to provisioning', () => {
    for (const from of tenantStatuses) expect(canTransitionTenantStatus(from, 'provisioning')).toBe(false);
  });

  it('answers false, without throwing a TypeError, for a value that is not a status', () => {
    // Inherited keys of a plain object must not be mistaken for statuses.
    for (const bogus of ['constructor', 'toString', '__proto__', 'unknown']) {
      expect(canTransitionTenantStatus(bogus as TenantStatus, 'active')).toBe(false);
      expect(() => assertTenantStatusTransition(bogus as TenantStatus, 'active')).toThrow(
        expect.objectContaining({ code: 'TENANT_STATUS_TRANSITION_INVALID' }),
      );
    }
    expect(canTransitionTenantStatus('active', 'bogus' as TenantStatus)).toBe(false);
  });
});
