import type { LifecycleRun, LifecycleRunKind, LifecycleRunState } from './lifecycle/lifecycle-run.js';
import type { DomainStatus, Membership, MembershipStatus, Tenant, TenantDomain, TenantStatus } from './tenant.js';

/**
 * Filter, search and keyset pagination for {@link TenantStore.listTenants}.
 *
 * @example
 * ```ts
 * await store.listTenants({ status: ['active'], search: 'acme', limit: 20 });
 * ```
 */
export interface TenantListQuery {
  /** Only these statuses. Without it, every status except `deleted`. */
  status?: readonly TenantStatus[];
  /** Only tenants on this plan. */
  plan?: string;
  /**
   * Case-insensitive substring match on slug or name. `%`, `_` and `\` match literally.
   * At most {@link maxTenantSearchLength} (200) characters, counted as JavaScript counts a
   * string's `length`; a longer search, or one that is not a string, fails with
   * `VALIDATION_FAILED` before it reaches the database.
   */
  search?: string;
  /** Page size, 1 to 500. */
  limit: number;
  /**
   * The `nextCursor` of the previous page. A malformed or foreign cursor (they arrive from
   * untrusted query strings) fails with `VALIDATION_FAILED`.
   */
  cursor?: string;
}

/**
 * The longest {@link TenantListQuery.search} a store accepts, in characters (UTF-16 code
 * units, JavaScript's `length`). A search is typed by a person into an admin screen; anything
 * longer is a mistake or an attack, and a very long pattern makes some databases fail outright
 * (SQLite refuses LIKE patterns over 50,000 bytes).
 *
 * @example
 * ```ts
 * const search = input.slice(0, maxTenantSearchLength);
 * await store.listTenants({ search, limit: 20 });
 * ```
 */
export const maxTenantSearchLength = 200;

/**
 * One page of tenants, ordered by `createdAt` then `id` (stable under concurrent inserts).
 *
 * @example
 * ```ts
 * let page = await store.listTenants({ limit: 50 });
 * while (page.nextCursor) page = await store.listTenants({ limit: 50, cursor: page.nextCursor });
 * ```
 */
export interface TenantPage<Settings = Tenant['settings']> {
  items: Tenant<Settings>[];
  /** Opaque cursor of the next page, or `null` on the last page. */
  nextCursor: string | null;
}

/**
 * What {@link TenantStore.purgeTenant} requires of the stored tenant before it removes it.
 *
 * @example
 * ```ts
 * const condition: TenantPurgeCondition = { status: 'provisioning', version: 1 };
 * ```
 */
export interface TenantPurgeCondition {
  status: TenantStatus;
  version: number;
}

/**
 * What {@link TenantStore.deleteDomain} may require of the stored domain before it removes it.
 *
 * @example
 * ```ts
 * const condition: DomainDeleteCondition = { status: 'pending', createdAt: claim.createdAt };
 * ```
 */
export interface DomainDeleteCondition {
  status: DomainStatus;
  createdAt: number;
}

/**
 * What {@link MembershipStore.updateMembership} requires of the stored membership (compare-and-set).
 *
 * @example
 * ```ts
 * const condition: MembershipUpdateCondition = { status: 'invited', updatedAt: 1767225600000 };
 * ```
 */
export interface MembershipUpdateCondition {
  status: MembershipStatus;
  updatedAt: number;
}

/**
 * Persistence of tenants and their custom domains.
 *
 * Every method is atomic on its own. Stores keep records as given (they do not validate
 * business rules; the registry does) but must enforce uniqueness themselves, because only the
 * store can do that atomically across processes. Ids, slugs and host names compare
 * case-sensitively (SQL adapters use binary collations), so `t_a` and `t_A` are two tenants.
 * An empty `status` filter matches nothing.
 *
 * @example
 * ```ts
 * const store: TenantStore = memoryTenantStore();
 * await store.insertTenant(tenant);
 * ```
 */
export interface TenantStore {
  /**
   * Inserts a new tenant.
   * @throws TenantContextError `TENANT_ALREADY_EXISTS` when the id or the slug is taken
   *   (by any tenant, deleted ones included), leaving the store unchanged.
   */
  insertTenant(tenant: Tenant): Promise<void>;
  /** The tenant with this id (deleted ones included), or `null`. */
  getTenantById(id: string): Promise<Tenant | null>;
  /** The tenant with this slug (deleted ones included), or `null`. */
  getTenantBySlug(slug: string): Promise<Tenant | null>;
  /**
   * Replaces the tenant if its stored `version` equals `expectedVersion`
   * (compare-and-set). `tenant.version` must be `expectedVersion + 1`, else `VALIDATION_FAILED`.
   * @returns `false`, changing nothing, when the version differs or the tenant is gone.
   * @throws TenantContextError `TENANT_ALREADY_EXISTS` when the new slug is taken.
   */
  updateTenant(tenant: Tenant, expectedVersion: number): Promise<boolean>;
  /**
   * Removes the tenant record and its domains for good, but only while the stored tenant still
   * has `expected.status` and `expected.version` (one conditional write, so a tenant activated
   * or changed since the caller read it is never purged). The domains are removed only when the
   * tenant row was, in the same transaction where the backend has one. Only onboarding
   * compensation uses it; applications soft-delete through the registry.
   * @returns whether a tenant was removed: `false` when it is gone or no longer matches.
   * @example
   * ```ts
   * await store.purgeTenant(tenant.id, { status: tenant.status, version: tenant.version });
   * ```
   */
  purgeTenant(id: string, expected: TenantPurgeCondition): Promise<boolean>;
  /** One page of tenants. */
  listTenants(query: TenantListQuery): Promise<TenantPage>;

  /**
   * Adds a custom domain.
   * @throws TenantContextError `DOMAIN_TAKEN` when the host name is already claimed.
   */
  insertDomain(domain: TenantDomain): Promise<void>;
  /** The domain with this host name, or `null`. */
  getDomain(hostname: string): Promise<TenantDomain | null>;
  /** A tenant's domains ordered by host name. */
  listDomains(tenantId: string): Promise<TenantDomain[]>;
  /**
   * Replaces a domain's status, token and `verifiedAt`, matched by host name and tenant.
   * @returns `false` when no such domain exists for that tenant.
   */
  updateDomain(domain: TenantDomain): Promise<boolean>;
  /**
   * Removes a tenant's domain. With `expected`, removes it only while its stored `status` and
   * `createdAt` still equal those values (one conditional write), so a claim verified or
   * re-created since the caller read it survives.
   * @returns whether one was removed.
   * @example
   * ```ts
   * await store.deleteDomain('tnt_1', 'app.acme.test', { status: 'pending', createdAt: claim.createdAt });
   * ```
   */
  deleteDomain(tenantId: string, hostname: string, expected?: DomainDeleteCondition): Promise<boolean>;
}

/**
 * Filter and keyset pagination for {@link MembershipStore.listMembershipsByTenant}.
 *
 * @example
 * ```ts
 * await store.listMembershipsByTenant('tnt_1', { status: ['active'], limit: 100 });
 * ```
 */
export interface MembershipListQuery {
  status?: readonly MembershipStatus[];
  /** Page size, 1 to 500. */
  limit: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

/**
 * One page of memberships ordered by user id.
 *
 * @example
 * ```ts
 * const { items, nextCursor } = await store.listMembershipsByTenant('tnt_1', { limit: 50 });
 * ```
 */
export interface MembershipPage {
  items: Membership[];
  nextCursor: string | null;
}

/**
 * Persistence of memberships: which global users belong to which tenants. It holds no roles.
 *
 * @example
 * ```ts
 * const store: MembershipStore = memoryMembershipStore();
 * ```
 */
export interface MembershipStore {
  /**
   * Inserts a membership.
   * @throws TenantContextError `MEMBERSHIP_ALREADY_EXISTS` when (tenantId, userId) exists.
   */
  insertMembership(membership: Membership): Promise<void>;
  /**
   * Replaces status, invitedBy and updatedAt, but only while the stored membership still has
   * `expected.status` and `expected.updatedAt` (compare-and-set). Callers must give every write
   * an `updatedAt` different from `expected.updatedAt`, so each write moves the condition on.
   * @returns `false`, changing nothing, when it does not exist or no longer matches.
   * @example
   * ```ts
   * await store.updateMembership({ ...current, status: 'suspended', updatedAt: now }, {
   *   status: current.status,
   *   updatedAt: current.updatedAt,
   * });
   * ```
   */
  updateMembership(membership: Membership, expected: MembershipUpdateCondition): Promise<boolean>;
  getMembership(tenantId: string, userId: string): Promise<Membership | null>;
  /** Every membership of a user, across tenants, ordered by tenant id. */
  listMembershipsByUser(userId: string): Promise<Membership[]>;
  listMembershipsByTenant(tenantId: string, query: MembershipListQuery): Promise<MembershipPage>;
  /** @returns whether one was removed. */
  deleteMembership(tenantId: string, userId: string): Promise<boolean>;
  /** Removes every membership of a tenant (offboarding). @returns how many were removed. */
  deleteMembershipsOfTenant(tenantId: string): Promise<number>;
}

/**
 * Filter for {@link LifecycleRunStore.listRuns}.
 *
 * @example
 * ```ts
 * await store.listRuns({ state: ['running', 'compensating'], leaseExpiredBefore: Date.now() + 1, limit: 100 });
 * ```
 */
export interface LifecycleRunQuery {
  kind?: LifecycleRunKind;
  state?: readonly LifecycleRunState[];
  tenantId?: string;
  /**
   * Epoch milliseconds: only runs whose lease is free (`leaseExpiresAt` null) or expired before
   * this time (`leaseExpiresAt < leaseExpiredBefore`). Crash recovery passes "now + 1", so runs
   * a live worker holds never take up the `limit` and hide a crashed run further back. A value
   * that is not a safe integer fails with `VALIDATION_FAILED`.
   */
  leaseExpiredBefore?: number;
  /** At most this many, oldest first; 1 to 500. */
  limit: number;
}

/**
 * Persistence of onboarding and offboarding runs. Every field of a run reads back as written,
 * `artifacts` included; a run written without `artifacts` reads back without the property (not
 * as `[]`), and an empty list reads back as `[]`.
 *
 * @example
 * ```ts
 * const store: LifecycleRunStore = memoryLifecycleRunStore();
 * ```
 */
export interface LifecycleRunStore {
  /** @throws TenantContextError `STORE_CONFLICT` when the id exists. */
  insertRun(run: LifecycleRun): Promise<void>;
  getRun(id: string): Promise<LifecycleRun | null>;
  /**
   * Compare-and-set on `version`; `run.version` must be `expectedVersion + 1`.
   * @returns `false`, changing nothing, when the stored version differs.
   */
  updateRun(run: LifecycleRun, expectedVersion: number): Promise<boolean>;
  /** Runs matching the query, oldest `createdAt` first. */
  listRuns(query: LifecycleRunQuery): Promise<LifecycleRun[]>;
}

/**
 * The outcome of {@link UsageCounterStore.increment}.
 *
 * @example
 * ```ts
 * const { applied, value } = await counters.increment('tnt_1', 'projects', 1, 10);
 * ```
 */
export interface UsageIncrementResult {
  /** Whether the amount was added. */
  applied: boolean;
  /** The counter after the call (unchanged when not applied). */
  value: number;
}

/**
 * Per-tenant resource usage counters (users, projects, storage bytes...). These are quotas of
 * things a tenant holds, not request rates.
 *
 * Counters are non-negative integers that start at 0. `increment` is the admission check and
 * must be atomic across processes: under any concurrency the counter never exceeds `limit`.
 *
 * @example
 * ```ts
 * const counters: UsageCounterStore = memoryUsageCounterStore();
 * await counters.increment('tnt_1', 'users', 1, 5);
 * ```
 */
export interface UsageCounterStore {
  /**
   * Adds `amount` (a positive safe integer) when `current + amount <= limit`, or always when
   * `limit` is `-1` (unlimited).
   */
  increment(tenantId: string, resource: string, amount: number, limit: number): Promise<UsageIncrementResult>;
  /** Atomically subtracts `amount`, never going below 0. @returns the new value. */
  decrement(tenantId: string, resource: string, amount: number): Promise<number>;
  /** The current value (0 when never set). */
  get(tenantId: string, resource: string): Promise<number>;
  /** Every counter of a tenant. */
  getAll(tenantId: string): Promise<Record<string, number>>;
  /** Sets a counter outright (reconciliation); `value` is a non-negative safe integer. */
  set(tenantId: string, resource: string, value: number): Promise<void>;
  /** Removes every counter of a tenant (offboarding). */
  deleteAll(tenantId: string): Promise<void>;
}

/**
 * The four stores tenant-context persists to, as every adapter family provides them.
 *
 * @example
 * ```ts
 * const stores: TenantContextStores = memoryTenantContextStores();
 * ```
 */
export interface TenantContextStores {
  tenants: TenantStore;
  memberships: MembershipStore;
  lifecycleRuns: LifecycleRunStore;
  usageCounters: UsageCounterStore;
}
