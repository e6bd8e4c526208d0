import type { Clock } from '@tenantkit/core';
import { compilePermissions } from '../compiler/compile-permissions.js';
import type { CompiledPermissions } from '../compiler/compiled-permissions.js';
import { RbacError } from '../errors.js';
import type { RbacPrincipal } from '../principal.js';
import type { Role } from '../roles/role.js';
import { normalizePermissionRules } from '../rules/normalize-permission-rules.js';
import type { PermissionRule, PermissionRuleInput } from '../rules/permission-rule.js';
import type { RbacStore } from '../store.js';
import type { PermissionChecker } from './authorizer-contract.js';
import { loadGrants } from './grant-loader.js';
import { createLruCache } from './lru-cache.js';
import { checkPrincipal, grantingUserId, principalCacheKey, snapshotPrincipal } from './principal-identity.js';
import { resolveTenantId } from './tenant-target.js';

/**
 * Settings of {@link createCachedAuthorizer}.
 *
 * @example
 * ```ts
 * const options: CachedAuthorizerOptions = { store, clock: systemClock, maxEntries: 10_000, maxStalenessMs: 5_000 };
 * ```
 */
export interface CachedAuthorizerOptions {
  readonly store: RbacStore;
  readonly clock: Clock;
  /** Compiled matchers (and, separately, tenants) kept at most. */
  readonly maxEntries: number;
  /** The longest a cached matcher is served without re-reading the tenant's policy version. */
  readonly maxStalenessMs: number;
  /** The tenant plan's rules, a ceiling on every principal of the tenant (`null`: no ceiling). */
  readonly planRules?: (tenantId: string) => Promise<readonly PermissionRuleInput[] | null>;
}

/**
 * The checks of `createRbac`, plus what the services and the invalidation channel call.
 *
 * @example
 * ```ts
 * const authorizer = createCachedAuthorizer({ store, clock, maxEntries: 10_000, maxStalenessMs: 5_000 });
 * await authorizer.can(principal, 'docs:read', undefined, { tenantId: 'tnt_1' });
 * authorizer.invalidateTenant('tnt_1');
 * ```
 */
export interface CachedAuthorizer extends PermissionChecker {
  /** Drops every cached matcher and the cached roles of a tenant, and re-reads its version on the next check. */
  invalidateTenant(tenantId: string): void;
  /** Drops everything cached. */
  clear(): void;
}

/** What the cache knows of one tenant's policy, re-read at most every `maxStalenessMs`. */
interface TenantPolicyState {
  /** Unique per authorizer; a new value on every invalidation, so older entries stop matching. */
  generation: number;
  version: number;
  planRules: readonly PermissionRule[] | null;
  planKey: string;
  /** When the version now held was read (`-Infinity`: read it before the next check). */
  checkedAt: number;
  refreshing: Promise<void> | null;
  roles: { readonly generation: number; readonly version: number; readonly map: ReadonlyMap<string, Role> } | null;
}

interface MatcherEntry {
  readonly compiled: CompiledPermissions;
  readonly generation: number;
  readonly version: number;
  readonly planRules: readonly PermissionRule[] | null;
  readonly validUntil: number;
}

/**
 * Creates the caching {@link PermissionChecker} behind `createRbac`.
 *
 * A matcher is compiled per (tenant, principal identity) and served from a bounded LRU while
 * all of these hold:
 * - no grant it used has expired (`validUntil`, the earliest `expiresAt`);
 * - the tenant was not invalidated since (own mutations and channel messages invalidate at once);
 * - the tenant's policy version, re-read at most every `maxStalenessMs` (one read in flight per
 *   tenant however many checks wait on it), is the one it was compiled at — the backstop when
 *   an invalidation message is lost, so a revoked role denies within `maxStalenessMs`;
 * - the plan's rules, re-read with the version, are unchanged.
 *
 * The version is read before the data a matcher is compiled from, so a matcher is never
 * labelled newer than what it saw. A store failure fails the check (closed), never serves stale.
 *
 * @example
 * ```ts
 * const authorizer = createCachedAuthorizer({ store, clock: systemClock, maxEntries: 10_000, maxStalenessMs: 5_000 });
 * const compiled = await authorizer.forPrincipal(principal, { tenantId: 'tnt_1' });
 * ```
 */
export function createCachedAuthorizer(options: CachedAuthorizerOptions): CachedAuthorizer {
  const { store, clock, maxEntries, maxStalenessMs, planRules: loadPlanRules } = options;
  const matchers = createLruCache<string, MatcherEntry>(maxEntries);
  const tenants = createLruCache<string, TenantPolicyState>(maxEntries);
  const compiling = new Map<string, Promise<CompiledPermissions>>();
  let generations = 0;

  function stateOf(tenantId: string): TenantPolicyState {
    let state = tenants.get(tenantId);
    if (state === undefined) {
      state = { generation: ++generations, version: -1, planRules: null, planKey: 'null', checkedAt: -Infinity, refreshing: null, roles: null };
      tenants.set(tenantId, state);
    }
    return state;
  }

  async function readPlanRules(tenantId: string): Promise<readonly PermissionRule[] | null> {
    if (loadPlanRules === undefined) return null;
    const inputs = await loadPlanRules(tenantId);
    return inputs === null || inputs === undefined ? null : Object.freeze(normalizePermissionRules(inputs));
  }

  function ensureFresh(tenantId: string, state: TenantPolicyState): Promise<void> | undefined {
    const startedAt = clock.now();
    if (startedAt - state.checkedAt < maxStalenessMs) return undefined;
    if (state.refreshing !== null) return state.refreshing;
    const generation = state.generation;
    const refreshing = (async () => {
      try {
        const [version, plan] = await Promise.all([store.getPolicyVersion(tenantId), readPlanRules(tenantId)]);
        state.version = version;
        const planKey = JSON.stringify(plan);
        // Same rules keep the same object, so matchers compiled under them stay valid.
        if (planKey !== state.planKey) {
          state.planRules = plan;
          state.planKey = planKey;
        }
        // Invalidated meanwhile: what was read may predate the change; read again next time.
        if (state.generation === generation) state.checkedAt = startedAt;
      } finally {
        state.refreshing = null;
      }
    })();
    state.refreshing = refreshing;
    return refreshing;
  }

  async function tenantRoles(tenantId: string, state: TenantPolicyState, generation: number, version: number) {
    const cached = state.roles;
    if (cached !== null && cached.generation === generation && cached.version === version) return cached.map;
    const map = new Map<string, Role>();
    for (const role of await store.listRoles(tenantId)) {
      if (role.tenantId === tenantId) map.set(role.key, role);
    }
    if (state.generation === generation) state.roles = { generation, version, map };
    return map;
  }

  async function compile(tenantId: string, state: TenantPolicyState, principal: RbacPrincipal, key: string | null) {
    // Captured before any data is read: see the function's TSDoc.
    const { generation, version, planRules } = state;
    const roles = await tenantRoles(tenantId, state, generation, version);
    const now = clock.now();
    const grants = await loadGrants(store, tenantId, grantingUserId(principal), now);
    const compiled = compilePermissions({ tenantId, principal, grants, roles, planRules, clock });
    if (key !== null && state.generation === generation) {
      let validUntil = compiled.validUntil;
      for (const grant of grants) {
        if (grant.expiresAt !== null && grant.expiresAt < validUntil) validUntil = grant.expiresAt;
      }
      matchers.set(key, { compiled, generation, version, planRules, validUntil });
    }
    return compiled;
  }

  async function forPrincipal(principal: RbacPrincipal, target?: { readonly tenantId?: string }): Promise<CompiledPermissions> {
    const tenantId = resolveTenantId(target?.tenantId);
    const checked = checkPrincipal(principal);
    const state = stateOf(tenantId);
    const refreshing = ensureFresh(tenantId, state);
    if (refreshing !== undefined) await refreshing;
    const key = principalCacheKey(tenantId, checked);
    if (key === null) return compile(tenantId, state, checked, null);

    const entry = matchers.get(key);
    if (
      entry !== undefined &&
      entry.generation === state.generation &&
      entry.version === state.version &&
      entry.planRules === state.planRules &&
      clock.now() < entry.validUntil
    ) {
      return entry.compiled;
    }
    // Concurrent misses share one compile, but never across an invalidation.
    const flightKey = `${state.generation}:${key}`;
    const inFlight = compiling.get(flightKey);
    if (inFlight !== undefined) return inFlight;
    const promise = compile(tenantId, state, snapshotPrincipal(checked), key).finally(() => {
      compiling.delete(flightKey);
    });
    compiling.set(flightKey, promise);
    return promise;
  }

  return {
    forPrincipal,
    async can(principal, permission, resource, context) {
      const compiled = await forPrincipal(principal, { tenantId: context?.tenantId });
      return compiled.can(permission, resource, context);
    },
    async require(principal, permission, resource, context) {
      const compiled = await forPrincipal(principal, { tenantId: context?.tenantId });
      if (!compiled.can(permission, resource, context)) {
        throw new RbacError('PERMISSION_DENIED', `Permission "${permission}" is required`, { details: { permission } });
      }
    },
    async explain(principal, permission, resource, context) {
      const compiled = await forPrincipal(principal, { tenantId: context?.tenantId });
      return compiled.explain(permission, resource, context);
    },
    invalidateTenant(tenantId) {
      const state = tenants.get(tenantId);
      if (state === undefined) return;
      state.generation = ++generations;
      state.checkedAt = -Infinity;
      state.roles = null;
    },
    clear() {
      matchers.clear();
      tenants.clear();
    },
  };
}
