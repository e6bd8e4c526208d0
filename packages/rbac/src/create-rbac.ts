import { type Clock, systemClock } from '@tenantkit/core';
import { userIdSchema, type OffboardingStepHook, type OnboardingStepHook, type TenantEventBus } from '@tenantkit/tenant-context';
import { z } from 'zod';
import { createAssignmentService, type AssignmentService } from './assignments/assignment-service.js';
import type { PermissionChecker } from './authorizer/authorizer-contract.js';
import { createCachedAuthorizer } from './authorizer/cached-authorizer.js';
import { hasMethods } from './authorizer/input-validation.js';
import { systemEventActor, type RbacServiceContext } from './authorizer/rbac-service-context.js';
import { assertRbacTenantId, resolveTenantId } from './authorizer/tenant-target.js';
import { RbacError } from './errors.js';
import { createRbacEventBus, type RbacEventBus } from './events/rbac-events.js';
import { createGroupService, type GroupService } from './groups/group-service.js';
import type { InvalidationChannel } from './invalidation/invalidation-channel.js';
import { listenToMembershipEvents, removeUserGrants, tenantDataCleanupStep } from './memberships/membership-grant-cleanup.js';
import type { Policy, PolicyDefinition } from './policy/policy-definition.js';
import { syncPolicy, type PolicySyncReport, type SyncPolicyOptions } from './policy/sync-policy.js';
import { seedDefaultRoles, type SeedDefaultRolesOptions } from './roles/default-system-roles.js';
import { syncGlobalRoles, type GlobalRoleSyncReport, type RoleSyncReport } from './roles/global-role-sync.js';
import { createRoleService, type RoleService } from './roles/role-service.js';
import { parseOrThrow } from './rules/parse-or-throw.js';
import type { PermissionRuleInput } from './rules/permission-rule.js';
import type { RbacStore } from './store.js';

/**
 * Cache settings of {@link createRbac}.
 *
 * @example
 * ```ts
 * createRbac({ store, cache: { maxEntries: 50_000, maxStalenessMs: 2_000 } });
 * ```
 */
export interface RbacCacheOptions {
  /** Compiled matchers kept (one per tenant and principal identity). Default 10 000. */
  readonly maxEntries?: number;
  /**
   * The longest a cached matcher is served without re-reading the tenant's policy version:
   * the bound on how long another process's change (a revoked role) can go unnoticed when an
   * invalidation message is lost. Default 5 000; `0` re-reads on every check.
   */
  readonly maxStalenessMs?: number;
}

/**
 * What a background failure was doing when {@link RbacOptions.onError} hears of it.
 *
 * @example
 * ```ts
 * const context: RbacBackgroundErrorContext = { operation: 'invalidation.publish', tenantId: 'tnt_1' };
 * ```
 */
export interface RbacBackgroundErrorContext {
  readonly operation: 'invalidation.subscribe' | 'invalidation.publish' | 'invalidation.unsubscribe';
  readonly tenantId?: string | null;
}

/**
 * Options of {@link createRbac}, validated when it is called (`CONFIGURATION_INVALID`).
 *
 * @example
 * ```ts
 * const rbac = createRbac({
 *   store: memoryRbacStore(),
 *   invalidation: redisInvalidationChannel({ publisher, subscriber }),
 *   planRules: async (tenantId) => plans.rulesOf(await tenants.planOf(tenantId)),
 * });
 * ```
 */
export interface RbacOptions {
  readonly store: RbacStore;
  readonly clock?: Clock;
  readonly cache?: RbacCacheOptions;
  /** Tells other processes about changes at once; without one they notice within `maxStalenessMs`. */
  readonly invalidation?: InvalidationChannel;
  /**
   * A tenant's plan ceiling: a permission must also be allowed by these rules (`null`: no
   * ceiling). Re-read with the policy version, at most every `maxStalenessMs`; call
   * `invalidateTenant` when a plan changes to apply it at once.
   */
  readonly planRules?: (tenantId: string) => Promise<readonly PermissionRuleInput[] | null>;
  /** The bus rbac announces its changes on (default: a new one, as `rbac.events`). */
  readonly events?: RbacEventBus;
  /** Failures that no caller can be told of (invalidation messages). Default: `console.error`. */
  readonly onError?: (error: unknown, context: RbacBackgroundErrorContext) => void;
}

/**
 * Options of `rbac.syncPolicy`: those of {@link syncPolicy} without `clock` and `invalidation`
 * (the rbac's own are used), plus the `reason` the `policy.synced` event carries — a sync has
 * no actor, like the other `...AsSystem` operations.
 *
 * @example
 * ```ts
 * const options: RbacSyncPolicyOptions = { tenantId: 'tnt_1', prune: true, reason: 'deploy 2026-01-01' };
 * ```
 */
export interface RbacSyncPolicyOptions extends Omit<SyncPolicyOptions, 'clock' | 'invalidation'> {
  /** 1-500 characters. */
  readonly reason: string;
}

/**
 * Roles, groups, assignments and cached permission checks for a multi-tenant app.
 *
 * @example
 * ```ts
 * const rbac = createRbac({ store: memoryRbacStore() });
 * await rbac.seedDefaultRoles('tnt_1');
 * await rbac.assignments.assignAsSystem({ reason: 'first admin' }, { subject: { type: 'user', id: 'usr_1' }, roleKey: 'tenant_admin' }, { tenantId: 'tnt_1' });
 * await runWithTenant('tnt_1', () => rbac.require({ id: 'usr_1' }, 'invoices:delete'));
 * ```
 */
export interface Rbac extends PermissionChecker {
  readonly roles: RoleService;
  readonly groups: GroupService;
  readonly assignments: AssignmentService;
  readonly events: RbacEventBus;
  /** Seeds the default system roles into a tenant (idempotent; see `defaultSystemRoles`). */
  seedDefaultRoles(tenantId: string, options?: SeedDefaultRolesOptions): Promise<RoleSyncReport>;
  /** Copies the global roles into tenants (idempotent; customized copies are never overwritten). */
  syncGlobalRoles(options: { readonly tenantIds: readonly string[] }): Promise<GlobalRoleSyncReport>;
  /**
   * {@link syncPolicy} through this rbac: with its store and clock; when the sync changed
   * something, the tenant's cached matchers are dropped here and, through the invalidation
   * channel, everywhere; and every sync that is not a `dryRun` announces `policy.synced` with
   * its report and reason. An explicit `tenantId` must match the tenant in scope, as for every
   * rbac call (`null`: the global roles).
   * @throws as {@link syncPolicy}, `VALIDATION_FAILED` (no reason), `TENANT_SCOPE_CONFLICT`
   */
  syncPolicy(policy: Policy | PolicyDefinition, options: RbacSyncPolicyOptions): Promise<PolicySyncReport>;
  /** Drops grants on `membership.removed` and all data on `tenant.purged`. @returns an unsubscribe function */
  listenToMembershipEvents(bus: TenantEventBus): () => void;
  /**
   * Deletes a user's direct assignments and group memberships in a tenant, awaited — for an app
   * that removes a member and wants the grants gone before it answers (the event listener above
   * runs in the background).
   * `tenantId` is required and, inside a tenant scope, must be that tenant (as for every rbac call).
   * @throws `TENANT_IDENTIFIER_INVALID`, `TENANT_SCOPE_CONFLICT`, `VALIDATION_FAILED`, `STORE_UNAVAILABLE`
   */
  removeUserGrants(tenantId: string, userId: string): Promise<{ readonly assignments: number; readonly groupMemberships: number }>;
  /** An onboarding step (`seed-defaults` phase) seeding the default roles; its compensation deletes the tenant's rbac data. */
  defaultRolesOnboardingStep(options?: SeedDefaultRolesOptions): OnboardingStepHook<unknown>;
  /** An offboarding step (`delete-data` phase) deleting every role, group and assignment of the tenant. */
  tenantDataCleanupStep(): OffboardingStepHook<unknown>;
  /** Drops cached matchers of a tenant here and, through the channel, in every process (after a plan change, say). */
  invalidateTenant(tenantId: string): Promise<void>;
  /** Stops listening to the invalidation channel and drops the caches. The channel itself stays open (its owner closes it). */
  close(): Promise<void>;
}

const storeMethods = [
  'getRole',
  'listRoles',
  'insertRole',
  'updateRole',
  'deleteRole',
  'insertGroup',
  'getGroup',
  'listGroups',
  'renameGroup',
  'moveGroup',
  'deleteGroup',
  'addGroupMember',
  'removeGroupMember',
  'listGroupMembers',
  'listUserGroups',
  'insertAssignment',
  'getAssignment',
  'approveAssignment',
  'deleteAssignment',
  'listAssignmentsForSubjects',
  'listAssignments',
  'deleteUserGrants',
  'deleteTenantData',
  'getPolicyVersion',
] as const satisfies ReadonlyArray<keyof RbacStore>;

const optionsSchema = z.object({
  store: z.custom<RbacStore>((value) => hasMethods(value, storeMethods), 'must be an RbacStore'),
  clock: z.custom<Clock>((value) => hasMethods(value, ['now']), 'must have now()').optional(),
  cache: z
    .strictObject({
      maxEntries: z.int().min(1).max(10_000_000).optional(),
      maxStalenessMs: z.int().min(0).max(86_400_000).optional(),
    })
    .optional(),
  invalidation: z
    .custom<InvalidationChannel>((value) => hasMethods(value, ['publish', 'subscribe', 'close']), 'must be an InvalidationChannel')
    .optional(),
  planRules: z.custom<RbacOptions['planRules']>((value) => typeof value === 'function', 'must be a function').optional(),
  events: z.custom<RbacEventBus>((value) => hasMethods(value, ['on', 'emit']), 'must be an RbacEventBus').optional(),
  onError: z.custom<RbacOptions['onError']>((value) => typeof value === 'function', 'must be a function').optional(),
});

/**
 * Creates an {@link Rbac}. Options are validated now, and the invalidation channel (if any)
 * is subscribed to at once.
 *
 * @throws `CONFIGURATION_INVALID` for invalid options.
 * @example
 * ```ts
 * const rbac = createRbac({ store: kyselyRbacStore(db), cache: { maxStalenessMs: 2_000 }, invalidation });
 * rbac.listenToMembershipEvents(tenantEvents);
 * lifecycle.useOffboardingStep('delete-data', rbac.tenantDataCleanupStep());
 * ```
 */
export function createRbac(options: RbacOptions): Rbac {
  parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'rbac options');
  const { store, invalidation, planRules } = options;
  const clock = options.clock ?? systemClock;
  const events = options.events ?? createRbacEventBus();
  const onError =
    options.onError ??
    ((error: unknown, errorContext: RbacBackgroundErrorContext) => {
      console.error(`[tenantkit] rbac ${errorContext.operation} failed`, error);
    });
  const report = (error: unknown, errorContext: RbacBackgroundErrorContext) => {
    try {
      onError(error, errorContext);
    } catch {
      // An error reporter that throws has nowhere left to report to.
    }
  };

  const authorizer = createCachedAuthorizer({
    store,
    clock,
    maxEntries: options.cache?.maxEntries ?? 10_000,
    maxStalenessMs: options.cache?.maxStalenessMs ?? 5_000,
    ...(planRules === undefined ? {} : { planRules }),
  });

  const onInvalidation = (tenantId: string | null) => {
    // Global roles are templates; checks only read tenant roles, which a sync changes (and announces) per tenant.
    if (typeof tenantId === 'string') authorizer.invalidateTenant(tenantId);
  };
  const subscription: Promise<(() => Promise<void>) | null> =
    invalidation === undefined
      ? Promise.resolve(null)
      : invalidation
          // A channel that may have dropped messages (its connection came back) asks for a full resync.
          .subscribe(onInvalidation, () => authorizer.clear())
          .catch((error: unknown) => {
          report(error, { operation: 'invalidation.subscribe' });
          return null;
        });

  async function afterChange(tenantId: string | null): Promise<void> {
    if (tenantId !== null) authorizer.invalidateTenant(tenantId);
    if (invalidation === undefined) return;
    try {
      await invalidation.publish(tenantId);
    } catch (error) {
      // The change is stored; other processes see it within maxStalenessMs anyway.
      report(error, { operation: 'invalidation.publish', tenantId });
    }
  }

  const context: RbacServiceContext = { store, clock, authorizer, events, afterChange };
  let closed = false;

  return {
    forPrincipal: authorizer.forPrincipal,
    can: authorizer.can,
    require: authorizer.require,
    explain: authorizer.explain,
    roles: createRoleService(context),
    groups: createGroupService(context),
    assignments: createAssignmentService(context),
    events,
    seedDefaultRoles: (tenantId, seedOptions) => seedDefaultRoles(context, tenantId, seedOptions),
    syncGlobalRoles: async (syncOptions) => syncGlobalRoles(context, syncOptions?.tenantIds),
    listenToMembershipEvents: (bus) => listenToMembershipEvents(context, bus),
    async syncPolicy(policy, syncOptions) {
      if (typeof syncOptions !== 'object' || syncOptions === null) {
        throw new RbacError('CONFIGURATION_INVALID', 'rbac.syncPolicy: options must name the tenant and give a reason');
      }
      const { reason, ...rest } = syncOptions;
      const actor = systemEventActor({ reason });
      const forbidden = ['clock', 'invalidation'].find((key) => key in rest);
      if (forbidden !== undefined) {
        throw new RbacError('CONFIGURATION_INVALID', `rbac.syncPolicy: "${forbidden}" is the rbac's own; pass it to createRbac`);
      }
      // A sync names its target rather than falling back to the tenant in scope (null: the global roles).
      if (rest.tenantId === undefined) {
        throw new RbacError('CONFIGURATION_INVALID', 'rbac.syncPolicy: options must name the tenant ({ tenantId }, null for the global roles)');
      }
      const tenantId = rest.tenantId === null ? null : resolveTenantId(rest.tenantId);
      const syncReport = await syncPolicy(store, policy, { ...rest, tenantId, clock });
      if (syncReport.dryRun) return syncReport;
      if (syncReport.created.length + syncReport.updated.length + syncReport.pruned.length > 0) await afterChange(tenantId);
      events.emit('policy.synced', { tenantId, report: syncReport, actor });
      return syncReport;
    },
    removeUserGrants: async (tenantId, userId) => {
      // Required even in a scope (a typo must not fall back to it), and the scope's tenant if in one.
      assertRbacTenantId(tenantId);
      resolveTenantId(tenantId);
      parseOrThrow(userIdSchema, userId, 'VALIDATION_FAILED', 'user id');
      return removeUserGrants(context, tenantId, userId);
    },
    defaultRolesOnboardingStep: (seedOptions) => ({
      name: 'rbac-roles',
      run: async ({ tenantId }) => {
        await seedDefaultRoles(context, tenantId, seedOptions);
      },
      // The tenant is being rolled back: nothing of it should stay behind.
      compensate: async ({ tenantId }) => {
        await store.deleteTenantData(tenantId);
        await afterChange(tenantId);
      },
    }),
    tenantDataCleanupStep: () => tenantDataCleanupStep(context),
    async invalidateTenant(tenantId) {
      await afterChange(resolveTenantId(tenantId));
    },
    async close() {
      if (closed) return;
      closed = true;
      const unsubscribe = await subscription;
      authorizer.clear();
      if (unsubscribe === null) return;
      try {
        await unsubscribe();
      } catch (error) {
        report(error, { operation: 'invalidation.unsubscribe' });
      }
    },
  };
}
