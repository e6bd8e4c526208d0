import type { LifecycleRun, Membership, Tenant, TenantDomain } from '@tenantkit/tenant-context';

/**
 * The instant every fixture is stamped with unless told otherwise: 2026-01-01T12:00:00.123Z.
 * It has non-zero milliseconds and does not fit in 32 bits, so a store that truncates to
 * seconds or stores timestamps as 32-bit integers fails the round-trip tests.
 *
 * @example
 * ```ts
 * const tenant = buildTenant({ createdAt: fixtureEpochMs + 1000 });
 * ```
 */
export const fixtureEpochMs = Date.UTC(2026, 0, 1, 12, 0, 0, 123);

/**
 * A tenant record with sensible defaults; pass only the fields a test cares about.
 *
 * @example
 * ```ts
 * const tenant = buildTenant({ id: 'tnt_a', slug: 'acme', plan: 'pro' });
 * await stores.tenants.insertTenant(tenant);
 * ```
 */
export function buildTenant(overrides: Partial<Tenant> & Pick<Tenant, 'id'>): Tenant {
  return {
    slug: `slug-${overrides.id.toLowerCase().replace(/[^a-z0-9]/g, '')}`,
    name: `Tenant ${overrides.id}`,
    status: 'active',
    statusReason: null,
    plan: 'free',
    settings: {},
    features: {},
    limits: {},
    region: null,
    createdAt: fixtureEpochMs,
    updatedAt: fixtureEpochMs,
    deletedAt: null,
    version: 1,
    ...overrides,
  };
}

/**
 * A custom-domain record (pending by default).
 *
 * @example
 * ```ts
 * await stores.tenants.insertDomain(buildDomain({ tenantId: 'tnt_a', hostname: 'app.acme.test' }));
 * ```
 */
export function buildDomain(overrides: Partial<TenantDomain> & Pick<TenantDomain, 'tenantId' | 'hostname'>): TenantDomain {
  return {
    status: 'pending',
    verificationToken: `token-${overrides.hostname}`,
    createdAt: fixtureEpochMs,
    verifiedAt: null,
    ...overrides,
  };
}

/**
 * A membership record (active, invited by nobody, by default).
 *
 * @example
 * ```ts
 * await stores.memberships.insertMembership(buildMembership({ tenantId: 'tnt_a', userId: 'usr_1' }));
 * ```
 */
export function buildMembership(overrides: Partial<Membership> & Pick<Membership, 'tenantId' | 'userId'>): Membership {
  return {
    status: 'active',
    invitedBy: null,
    createdAt: fixtureEpochMs,
    updatedAt: fixtureEpochMs,
    ...overrides,
  };
}

/**
 * A freshly started onboarding run record.
 *
 * @example
 * ```ts
 * await stores.lifecycleRuns.insertRun(buildLifecycleRun({ id: 'run_1', tenantId: 'tnt_a' }));
 * ```
 */
export function buildLifecycleRun(overrides: Partial<LifecycleRun> & Pick<LifecycleRun, 'id' | 'tenantId'>): LifecycleRun {
  return {
    kind: 'onboarding',
    state: 'running',
    completedSteps: [],
    compensatedSteps: [],
    input: {},
    error: null,
    leaseOwner: null,
    leaseExpiresAt: null,
    createdAt: fixtureEpochMs,
    updatedAt: fixtureEpochMs,
    version: 1,
    ...overrides,
  };
}

/**
 * `n` zero-padded to `width` digits, so generated ids sort the same way in every collation
 * (same length, digits only after a common prefix).
 *
 * @example
 * ```ts
 * `tnt_${padIndex(7, 4)}`; // 'tnt_0007'
 * ```
 */
export function padIndex(n: number, width = 4): string {
  return String(n).padStart(width, '0');
}
