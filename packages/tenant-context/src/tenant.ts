/**
 * Where a tenant is in its life.
 *
 * - `provisioning`: onboarding is running; the tenant does not serve requests yet.
 * - `active`: serving.
 * - `suspended`: kept, but requests are refused with `TENANT_SUSPENDED`.
 * - `offboarding`: export and deletion are running; requests are refused.
 * - `deleted`: soft-deleted; requests get `TENANT_NOT_FOUND`.
 *
 * @example
 * ```ts
 * const status: TenantStatus = 'active';
 * ```
 */
export type TenantStatus = 'provisioning' | 'active' | 'suspended' | 'offboarding' | 'deleted';

/**
 * All tenant statuses, in lifecycle order.
 *
 * @example
 * ```ts
 * tenantStatuses.includes('suspended'); // true
 * ```
 */
export const tenantStatuses: readonly TenantStatus[] = Object.freeze([
  'provisioning',
  'active',
  'suspended',
  'offboarding',
  'deleted',
]);

/**
 * A JSON-compatible value, as stored in settings.
 *
 * @example
 * ```ts
 * const value: JsonValue = { theme: 'dark', seats: 3 };
 * ```
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * One tenant as the registry stores it. Records are immutable snapshots: change them through
 * the registry, which bumps `version`.
 *
 * @example
 * ```ts
 * const tenant = await registry.getTenantOrThrow('tnt_abc');
 * tenant.slug; // 'acme'
 * ```
 */
export interface Tenant<Settings = Record<string, JsonValue>> {
  /** Opaque, immutable identifier (`[A-Za-z0-9_-]{1,64}`). */
  readonly id: string;
  /** Unique, DNS-label-safe handle used in subdomains and paths; may change. */
  readonly slug: string;
  /** Display name. */
  readonly name: string;
  readonly status: TenantStatus;
  /** Why the tenant was last suspended, reactivated or deleted; `null` otherwise. */
  readonly statusReason: string | null;
  /** Plan key from the plan catalog. */
  readonly plan: string;
  /** Application settings, validated by the app-supplied schema. */
  readonly settings: Settings;
  /** Per-tenant feature flag overrides: `true` forces on, `false` forces off. */
  readonly features: Readonly<Record<string, boolean>>;
  /** Per-tenant quota overrides; `-1` means unlimited. */
  readonly limits: Readonly<Record<string, number>>;
  /** Data residency region, or `null` when the application has one region. */
  readonly region: string | null;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  /** Epoch milliseconds. */
  readonly updatedAt: number;
  /** Epoch milliseconds of the soft delete, or `null`. */
  readonly deletedAt: number | null;
  /** Optimistic-concurrency version; starts at 1 and grows by one on every write. */
  readonly version: number;
}

/**
 * Whether a member may act in a tenant. Roles are not here: they belong to @tenantkit/rbac.
 *
 * @example
 * ```ts
 * const status: MembershipStatus = 'invited';
 * ```
 */
export type MembershipStatus = 'invited' | 'active' | 'suspended';

/**
 * A global user's membership in one tenant.
 *
 * @example
 * ```ts
 * const membership = await memberships.getMembership('tnt_abc', 'usr_1');
 * ```
 */
export interface Membership {
  readonly tenantId: string;
  readonly userId: string;
  readonly status: MembershipStatus;
  /** Who invited or added the member, if known. */
  readonly invitedBy: string | null;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  /** Epoch milliseconds. */
  readonly updatedAt: number;
}

/**
 * Verification state of a custom domain. Only `verified` domains resolve to their tenant.
 *
 * @example
 * ```ts
 * const status: DomainStatus = 'pending';
 * ```
 */
export type DomainStatus = 'pending' | 'verified';

/**
 * A custom domain claimed by a tenant.
 *
 * @example
 * ```ts
 * const domain = await domains.addDomain('tnt_abc', 'app.acme.com');
 * ```
 */
export interface TenantDomain {
  /** Lower-case ASCII (punycode) host name without a trailing dot; globally unique. */
  readonly hostname: string;
  readonly tenantId: string;
  readonly status: DomainStatus;
  /** The value the tenant must publish in a DNS TXT record. */
  readonly verificationToken: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  /** Epoch milliseconds, or `null` while pending. */
  readonly verifiedAt: number | null;
}
