import { TenantContextError } from '../errors.js';
import type { LifecycleRun } from '../lifecycle/lifecycle-run.js';
import type {
  LifecycleRunQuery,
  LifecycleRunStore,
  MembershipListQuery,
  MembershipPage,
  MembershipStore,
  TenantContextStores,
  TenantListQuery,
  TenantPage,
  TenantStore,
  UsageCounterStore,
  UsageIncrementResult,
} from '../store.js';
import type { Membership, Tenant, TenantDomain } from '../tenant.js';
import { decodeMembershipCursor, decodeTenantCursor, encodeMembershipCursor, encodeTenantCursor } from './keyset-cursor.js';
import {
  assertCounterLimit,
  assertCounterValue,
  assertExpectedVersion,
  assertLeaseExpiredBefore,
  assertPageLimit,
  assertPositiveAmount,
  assertTenantSearch,
  counterOverflowError,
} from './store-argument-guards.js';
import { toStoredJson } from './stored-json.js';

/*
 * The reference implementation of every store contract in `store.ts`. It lives in one process,
 * so each method is trivially atomic: it runs to completion between two awaits. Records are
 * stored as deep-frozen JSON copies, so what a caller passed in or got back can never change
 * what is stored, and reads can hand out the stored snapshot without copying it again.
 */

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/**
 * A deep-frozen copy that keeps exactly what a JSON column or document would keep, so code
 * tested against the memory stores cannot rely on values a persistent store would lose.
 */
function frozenJsonCopy<T>(record: T, what: string): T {
  return deepFreeze(toStoredJson(record, what));
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareCreatedAtThenId(a: { createdAt: number; id: string }, b: { createdAt: number; id: string }): number {
  return a.createdAt - b.createdAt || compareStrings(a.id, b.id);
}

function tenantMatches(tenant: Tenant, query: TenantListQuery, search: string | undefined): boolean {
  if (query.status === undefined ? tenant.status === 'deleted' : !query.status.includes(tenant.status)) return false;
  if (query.plan !== undefined && tenant.plan !== query.plan) return false;
  if (search !== undefined && !tenant.slug.toLowerCase().includes(search) && !tenant.name.toLowerCase().includes(search)) {
    return false;
  }
  return true;
}

/**
 * An in-process {@link TenantStore}: tenants and custom domains in maps, with O(1) lookups by
 * id, slug and host name. For tests, examples and single-process tools; state is lost on exit
 * and is not shared between processes.
 *
 * @example
 * ```ts
 * import { createTenantRegistry, memoryTenantStore } from '@tenantkit/tenant-context';
 *
 * const registry = createTenantRegistry({ store: memoryTenantStore() });
 * await registry.createTenant({ slug: 'acme', name: 'Acme' });
 * ```
 */
export function memoryTenantStore(): TenantStore {
  const tenantsById = new Map<string, Tenant>();
  const tenantIdsBySlug = new Map<string, string>();
  const domainsByHostname = new Map<string, TenantDomain>();
  const hostnamesByTenantId = new Map<string, Set<string>>();

  function slugTaken(slug: string, exceptTenantId?: string): TenantContextError | null {
    const owner = tenantIdsBySlug.get(slug);
    if (owner === undefined || owner === exceptTenantId) return null;
    return new TenantContextError('TENANT_ALREADY_EXISTS', 'A tenant with this slug already exists', { details: { slug } });
  }

  return {
    async insertTenant(tenant) {
      const stored = frozenJsonCopy(tenant, 'tenant');
      if (tenantsById.has(stored.id)) {
        throw new TenantContextError('TENANT_ALREADY_EXISTS', 'A tenant with this id already exists', {
          details: { tenantId: stored.id },
        });
      }
      const conflict = slugTaken(stored.slug);
      if (conflict !== null) throw conflict;
      tenantsById.set(stored.id, stored);
      tenantIdsBySlug.set(stored.slug, stored.id);
    },

    async getTenantById(id) {
      return tenantsById.get(id) ?? null;
    },

    async getTenantBySlug(slug) {
      const id = tenantIdsBySlug.get(slug);
      return id === undefined ? null : (tenantsById.get(id) ?? null);
    },

    async updateTenant(tenant, expectedVersion) {
      assertExpectedVersion(tenant.version, expectedVersion);
      const current = tenantsById.get(tenant.id);
      if (current === undefined || current.version !== expectedVersion) return false;
      const conflict = slugTaken(tenant.slug, tenant.id);
      if (conflict !== null) throw conflict;
      const stored = frozenJsonCopy(tenant, 'tenant');
      if (current.slug !== stored.slug) tenantIdsBySlug.delete(current.slug);
      tenantsById.set(stored.id, stored);
      tenantIdsBySlug.set(stored.slug, stored.id);
      return true;
    },

    async purgeTenant(id, expected) {
      const tenant = tenantsById.get(id);
      if (tenant === undefined || tenant.status !== expected.status || tenant.version !== expected.version) return false;
      tenantsById.delete(id);
      tenantIdsBySlug.delete(tenant.slug);
      for (const hostname of hostnamesByTenantId.get(id) ?? []) domainsByHostname.delete(hostname);
      hostnamesByTenantId.delete(id);
      return true;
    },

    async listTenants(query): Promise<TenantPage> {
      assertPageLimit(query.limit);
      if (query.search !== undefined) assertTenantSearch(query.search);
      const after = query.cursor === undefined ? null : decodeTenantCursor(query.cursor);
      const search = query.search?.toLowerCase();
      const matches: Tenant[] = [];
      for (const tenant of tenantsById.values()) {
        if (after !== null && compareCreatedAtThenId(tenant, after) <= 0) continue;
        if (tenantMatches(tenant, query, search)) matches.push(tenant);
      }
      matches.sort(compareCreatedAtThenId);
      const items = matches.slice(0, query.limit);
      const last = items.at(-1);
      const nextCursor = matches.length > query.limit && last !== undefined ? encodeTenantCursor(last) : null;
      return { items, nextCursor };
    },

    async insertDomain(domain) {
      const stored = frozenJsonCopy(domain, 'domain');
      if (domainsByHostname.has(stored.hostname)) {
        throw new TenantContextError('DOMAIN_TAKEN', 'This host name is already claimed', { details: { hostname: stored.hostname } });
      }
      domainsByHostname.set(stored.hostname, stored);
      let hostnames = hostnamesByTenantId.get(stored.tenantId);
      if (hostnames === undefined) {
        hostnames = new Set();
        hostnamesByTenantId.set(stored.tenantId, hostnames);
      }
      hostnames.add(stored.hostname);
    },

    async getDomain(hostname) {
      return domainsByHostname.get(hostname) ?? null;
    },

    async listDomains(tenantId) {
      const hostnames = [...(hostnamesByTenantId.get(tenantId) ?? [])].sort(compareStrings);
      return hostnames.flatMap((hostname) => {
        const domain = domainsByHostname.get(hostname);
        return domain === undefined ? [] : [domain];
      });
    },

    async updateDomain(domain) {
      const current = domainsByHostname.get(domain.hostname);
      if (current === undefined || current.tenantId !== domain.tenantId) return false;
      const stored = frozenJsonCopy<TenantDomain>(
        { ...current, status: domain.status, verificationToken: domain.verificationToken, verifiedAt: domain.verifiedAt },
        'domain',
      );
      domainsByHostname.set(stored.hostname, stored);
      return true;
    },

    async deleteDomain(tenantId, hostname, expected) {
      const domain = domainsByHostname.get(hostname);
      if (domain?.tenantId !== tenantId) return false;
      if (expected !== undefined && (domain.status !== expected.status || domain.createdAt !== expected.createdAt)) return false;
      domainsByHostname.delete(hostname);
      const hostnames = hostnamesByTenantId.get(tenantId);
      hostnames?.delete(hostname);
      if (hostnames?.size === 0) hostnamesByTenantId.delete(tenantId);
      return true;
    },
  };
}

/**
 * An in-process {@link MembershipStore}, indexed both by tenant and by user so either listing
 * touches only that tenant's or that user's memberships.
 *
 * @example
 * ```ts
 * import { createMembershipService, memoryMembershipStore } from '@tenantkit/tenant-context';
 *
 * const memberships = createMembershipService({ store: memoryMembershipStore(), registry });
 * ```
 */
export function memoryMembershipStore(): MembershipStore {
  const byTenant = new Map<string, Map<string, Membership>>();
  const byUser = new Map<string, Map<string, Membership>>();

  function put(index: Map<string, Map<string, Membership>>, outerKey: string, innerKey: string, membership: Membership): void {
    let inner = index.get(outerKey);
    if (inner === undefined) {
      inner = new Map();
      index.set(outerKey, inner);
    }
    inner.set(innerKey, membership);
  }

  function remove(index: Map<string, Map<string, Membership>>, outerKey: string, innerKey: string): void {
    const inner = index.get(outerKey);
    inner?.delete(innerKey);
    if (inner?.size === 0) index.delete(outerKey);
  }

  return {
    async insertMembership(membership) {
      const stored = frozenJsonCopy(membership, 'membership');
      if (byTenant.get(stored.tenantId)?.has(stored.userId) === true) {
        throw new TenantContextError('MEMBERSHIP_ALREADY_EXISTS', 'This user is already a member of this tenant', {
          details: { tenantId: stored.tenantId },
        });
      }
      put(byTenant, stored.tenantId, stored.userId, stored);
      put(byUser, stored.userId, stored.tenantId, stored);
    },

    async updateMembership(membership, expected) {
      const current = byTenant.get(membership.tenantId)?.get(membership.userId);
      if (current === undefined || current.status !== expected.status || current.updatedAt !== expected.updatedAt) return false;
      const stored = frozenJsonCopy<Membership>(
        { ...current, status: membership.status, invitedBy: membership.invitedBy, updatedAt: membership.updatedAt },
        'membership',
      );
      put(byTenant, stored.tenantId, stored.userId, stored);
      put(byUser, stored.userId, stored.tenantId, stored);
      return true;
    },

    async getMembership(tenantId, userId) {
      return byTenant.get(tenantId)?.get(userId) ?? null;
    },

    async listMembershipsByUser(userId) {
      return [...(byUser.get(userId)?.values() ?? [])].sort((a, b) => compareStrings(a.tenantId, b.tenantId));
    },

    async listMembershipsByTenant(tenantId, query: MembershipListQuery): Promise<MembershipPage> {
      assertPageLimit(query.limit);
      const afterUserId = query.cursor === undefined ? null : decodeMembershipCursor(query.cursor);
      const matches: Membership[] = [];
      for (const membership of byTenant.get(tenantId)?.values() ?? []) {
        if (afterUserId !== null && membership.userId <= afterUserId) continue;
        if (query.status !== undefined && !query.status.includes(membership.status)) continue;
        matches.push(membership);
      }
      matches.sort((a, b) => compareStrings(a.userId, b.userId));
      const items = matches.slice(0, query.limit);
      const last = items.at(-1);
      const nextCursor = matches.length > query.limit && last !== undefined ? encodeMembershipCursor(last.userId) : null;
      return { items, nextCursor };
    },

    async deleteMembership(tenantId, userId) {
      if (byTenant.get(tenantId)?.has(userId) !== true) return false;
      remove(byTenant, tenantId, userId);
      remove(byUser, userId, tenantId);
      return true;
    },

    async deleteMembershipsOfTenant(tenantId) {
      const members = byTenant.get(tenantId);
      if (members === undefined) return 0;
      byTenant.delete(tenantId);
      for (const userId of members.keys()) remove(byUser, userId, tenantId);
      return members.size;
    },
  };
}

/**
 * An in-process {@link LifecycleRunStore}.
 *
 * @example
 * ```ts
 * import { memoryLifecycleRunStore } from '@tenantkit/tenant-context';
 *
 * const runs = memoryLifecycleRunStore();
 * const stuck = await runs.listRuns({ state: ['running', 'compensating'], limit: 100 });
 * ```
 */
export function memoryLifecycleRunStore(): LifecycleRunStore {
  const runsById = new Map<string, LifecycleRun>();

  return {
    async insertRun(run) {
      const stored = frozenJsonCopy(run, 'lifecycle run');
      if (runsById.has(stored.id)) {
        throw new TenantContextError('STORE_CONFLICT', 'A lifecycle run with this id already exists', { details: { runId: stored.id } });
      }
      runsById.set(stored.id, stored);
    },

    async getRun(id) {
      return runsById.get(id) ?? null;
    },

    async updateRun(run, expectedVersion) {
      assertExpectedVersion(run.version, expectedVersion);
      if (runsById.get(run.id)?.version !== expectedVersion) return false;
      runsById.set(run.id, frozenJsonCopy(run, 'lifecycle run'));
      return true;
    },

    async listRuns(query: LifecycleRunQuery) {
      assertPageLimit(query.limit);
      const { leaseExpiredBefore } = query;
      if (leaseExpiredBefore !== undefined) assertLeaseExpiredBefore(leaseExpiredBefore);
      const matches = [...runsById.values()].filter(
        (run) =>
          (query.kind === undefined || run.kind === query.kind) &&
          (query.state === undefined || query.state.includes(run.state)) &&
          (query.tenantId === undefined || run.tenantId === query.tenantId) &&
          (leaseExpiredBefore === undefined || run.leaseExpiresAt === null || run.leaseExpiresAt < leaseExpiredBefore),
      );
      return matches.sort(compareCreatedAtThenId).slice(0, query.limit);
    },
  };
}

/**
 * An in-process {@link UsageCounterStore}. Admission is atomic because each call completes
 * without yielding; that holds only within one process, so use a shared store (Redis, SQL)
 * when several processes admit against the same quota.
 *
 * @example
 * ```ts
 * import { memoryUsageCounterStore } from '@tenantkit/tenant-context';
 *
 * const counters = memoryUsageCounterStore();
 * const { applied } = await counters.increment('tnt_1', 'projects', 1, 10);
 * ```
 */
export function memoryUsageCounterStore(): UsageCounterStore {
  const countersByTenant = new Map<string, Map<string, number>>();

  function countersOf(tenantId: string): Map<string, number> {
    let counters = countersByTenant.get(tenantId);
    if (counters === undefined) {
      counters = new Map();
      countersByTenant.set(tenantId, counters);
    }
    return counters;
  }

  return {
    async increment(tenantId, resource, amount, limit): Promise<UsageIncrementResult> {
      assertPositiveAmount(amount);
      assertCounterLimit(limit);
      const current = countersByTenant.get(tenantId)?.get(resource) ?? 0;
      if (limit !== -1 && current + amount > limit) return { applied: false, value: current };
      const value = current + amount;
      if (!Number.isSafeInteger(value)) throw counterOverflowError(resource);
      countersOf(tenantId).set(resource, value);
      return { applied: true, value };
    },

    async decrement(tenantId, resource, amount) {
      assertPositiveAmount(amount);
      const counters = countersByTenant.get(tenantId);
      const current = counters?.get(resource);
      if (counters === undefined || current === undefined) return 0;
      const value = Math.max(0, current - amount);
      counters.set(resource, value);
      return value;
    },

    async get(tenantId, resource) {
      return countersByTenant.get(tenantId)?.get(resource) ?? 0;
    },

    async getAll(tenantId) {
      // A fresh object each call, so callers may change it freely.
      return Object.fromEntries(countersByTenant.get(tenantId) ?? []);
    },

    async set(tenantId, resource, value) {
      assertCounterValue(value);
      countersOf(tenantId).set(resource, value);
    },

    async deleteAll(tenantId) {
      countersByTenant.delete(tenantId);
    },
  };
}

/**
 * All four tenant-context stores, in memory: the quickest way to wire the registry,
 * memberships, lifecycle and quotas together in tests and examples.
 *
 * @example
 * ```ts
 * import { createTenantRegistry, memoryTenantContextStores } from '@tenantkit/tenant-context';
 *
 * const stores = memoryTenantContextStores();
 * const registry = createTenantRegistry({ store: stores.tenants });
 * ```
 */
export function memoryTenantContextStores(): TenantContextStores {
  return {
    tenants: memoryTenantStore(),
    memberships: memoryMembershipStore(),
    lifecycleRuns: memoryLifecycleRunStore(),
    usageCounters: memoryUsageCounterStore(),
  };
}
