import { type Clock, systemClock } from '@tenantkit/core';
import { z } from 'zod';
import { TenantContextError } from '../errors.js';
import { createTenantEventBus, type TenantEventBus } from '../events.js';
import type { TenantRegistry } from '../registry/tenant-registry.js';
import { tenantIdSchema } from '../registry/tenant-input-schemas.js';
import type { MembershipListQuery, MembershipPage, MembershipStore } from '../store.js';
import type { Membership, MembershipStatus, Tenant } from '../tenant.js';
import { hasMethods, parseOrThrow } from '../validation.js';

/**
 * A user id as tenantkit accepts it: 1 to 128 characters of `A-Z a-z 0-9 _ - . : @ |`.
 *
 * @example
 * ```ts
 * userIdSchema.parse('auth0|65f1c'); // ok
 * ```
 */
export const userIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_.:@|-]{1,128}$/, 'must be 1-128 characters of A-Z a-z 0-9 _ - . : @ |');

/** Compare-and-set rounds before `setMemberStatus` gives up with `STORE_CONFLICT`. */
const MEMBERSHIP_WRITE_ATTEMPTS = 8;

const membershipStatusSchema = z.enum(['invited', 'active', 'suspended']);

const membershipListQuerySchema = z.strictObject({
  status: z.array(membershipStatusSchema).max(3).optional(),
  limit: z.number().int().min(1).max(500).optional(),
  cursor: z.string().min(1).max(1024).optional(),
});

const membershipStoreMethods = [
  'insertMembership',
  'updateMembership',
  'getMembership',
  'listMembershipsByUser',
  'listMembershipsByTenant',
  'deleteMembership',
  'deleteMembershipsOfTenant',
] as const satisfies ReadonlyArray<keyof MembershipStore>;

const optionsSchema = z.object({
  store: z.custom<MembershipStore>((value) => hasMethods(value, membershipStoreMethods), 'must be a MembershipStore'),
  registry: z.custom<TenantRegistry<unknown>>((value) => hasMethods(value, ['getTenant']), 'must be a TenantRegistry'),
  events: z.custom<TenantEventBus>((value) => hasMethods(value, ['on', 'emit']), 'must be a TenantEventBus').optional(),
  clock: z.custom<Clock>((value) => hasMethods(value, ['now']), 'must have now()').optional(),
});

/**
 * Options of {@link createMembershipService}.
 *
 * @example
 * ```ts
 * createMembershipService({ store: memoryMembershipStore(), registry, events });
 * ```
 */
export interface MembershipServiceOptions {
  store: MembershipStore;
  registry: TenantRegistry<unknown>;
  /** Use the registry's bus (default) so all tenant events flow through one place. */
  events?: TenantEventBus;
  clock?: Clock;
}

/**
 * Options of {@link MembershipService.addMember}.
 *
 * @example
 * ```ts
 * await memberships.addMember('tnt_1', 'usr_2', { status: 'invited', invitedBy: 'usr_1' });
 * ```
 */
export interface AddMemberOptions {
  /** Default: `'invited'`. */
  status?: 'invited' | 'active';
  invitedBy?: string | null;
}

/**
 * A tenant a user belongs to, with the membership that says so.
 *
 * @example
 * ```ts
 * const [first] = await memberships.listUserTenants('usr_1');
 * first?.tenant.slug;
 * ```
 */
export interface UserTenant<Settings = unknown> {
  tenant: Tenant<Settings>;
  membership: Membership;
}

/**
 * Who belongs to which tenant. Global users belong to many tenants; a membership says only
 * that (and its status) — roles live in @tenantkit/rbac, which listens to
 * `membership.removed` to drop the member's grants.
 *
 * @example
 * ```ts
 * await memberships.addMember(tenant.id, 'usr_1', { status: 'active' });
 * const tenant = await memberships.selectActiveTenant('usr_1', requestedTenantId);
 * ```
 */
export interface MembershipService {
  /** @throws `MEMBERSHIP_ALREADY_EXISTS`, `TENANT_NOT_FOUND` (also for deleted tenants), `VALIDATION_FAILED` */
  addMember(tenantId: string, userId: string, options?: AddMemberOptions): Promise<Membership>;
  getMembership(tenantId: string, userId: string): Promise<Membership | null>;
  /** @throws `MEMBERSHIP_NOT_FOUND` */
  setMemberStatus(tenantId: string, userId: string, status: MembershipStatus): Promise<Membership>;
  /** Removes the membership; @returns whether one existed. */
  removeMember(tenantId: string, userId: string): Promise<boolean>;
  listMembers(tenantId: string, query?: Partial<MembershipListQuery>): Promise<MembershipPage>;
  /**
   * The tenants a user belongs to, skipping deleted tenants. By default only active
   * memberships of active tenants; `includeInactive` lists invited/suspended ones too.
   */
  listUserTenants(userId: string, options?: { includeInactive?: boolean }): Promise<UserTenant[]>;
  /**
   * Checks a per-request choice of tenant against the user's memberships (switching tenants
   * needs no new login). Answers the same `MEMBERSHIP_NOT_FOUND` for "no such tenant" and
   * "not a member", so tenants cannot be enumerated.
   * @throws `MEMBERSHIP_NOT_FOUND`, `MEMBERSHIP_INACTIVE` (invited or suspended member),
   *   `TENANT_SUSPENDED`, `TENANT_NOT_READY`
   */
  selectActiveTenant(userId: string, tenantId: string): Promise<Tenant>;
  /**
   * The same check as `selectActiveTenant`, returning the membership.
   * @throws `MEMBERSHIP_NOT_FOUND`, `MEMBERSHIP_INACTIVE`, `TENANT_SUSPENDED`, `TENANT_NOT_READY`
   */
  requireActiveMembership(tenantId: string, userId: string): Promise<Membership>;
}

/**
 * Creates a {@link MembershipService}.
 *
 * @example
 * ```ts
 * const memberships = createMembershipService({ store: stores.memberships, registry });
 * ```
 */
export function createMembershipService(options: MembershipServiceOptions): MembershipService {
  // `typeof null === 'object'`, so a shape check, not a typeof check, catches a missing store.
  parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'membership service options');
  const { store, registry } = options;
  const events = options.events ?? registry.events ?? createTenantEventBus();
  const clock = options.clock ?? systemClock;

  const checkIds = (tenantId: string, userId: string) => {
    parseOrThrow(tenantIdSchema, tenantId, 'TENANT_IDENTIFIER_INVALID', 'tenant id');
    parseOrThrow(userIdSchema, userId, 'VALIDATION_FAILED', 'user id');
  };

  async function requireMembership(tenantId: string, userId: string): Promise<Membership> {
    const membership = await store.getMembership(tenantId, userId);
    if (membership === null) {
      throw new TenantContextError('MEMBERSHIP_NOT_FOUND', 'No membership for this user in this tenant');
    }
    return membership;
  }

  /**
   * The one access check behind `selectActiveTenant` and `requireActiveMembership`: an active
   * membership of a tenant that serves requests. A missing and a deleted tenant answer exactly
   * like a missing membership, so tenants cannot be enumerated.
   */
  async function requireActiveAccess(tenantId: string, userId: string): Promise<{ tenant: Tenant; membership: Membership }> {
    checkIds(tenantId, userId);
    const membership = await requireMembership(tenantId, userId);
    if (membership.status !== 'active') {
      throw new TenantContextError('MEMBERSHIP_INACTIVE', `The membership is ${membership.status}`, {
        details: { status: membership.status },
      });
    }
    const tenant = await registry.getTenant(tenantId);
    if (tenant === null || tenant.status === 'deleted') {
      throw new TenantContextError('MEMBERSHIP_NOT_FOUND', 'No membership for this user in this tenant');
    }
    if (tenant.status === 'provisioning') {
      throw new TenantContextError('TENANT_NOT_READY', 'The tenant is still being set up');
    }
    if (tenant.status !== 'active') {
      throw new TenantContextError('TENANT_SUSPENDED', 'The tenant is not active', { details: { status: tenant.status } });
    }
    return { tenant: tenant as Tenant, membership };
  }

  return {
    async addMember(tenantId, userId, addOptionsOrNull) {
      const addOptions = addOptionsOrNull ?? {};
      checkIds(tenantId, userId);
      const status = addOptions.status ?? 'invited';
      if (status !== 'invited' && status !== 'active') {
        throw new TenantContextError('VALIDATION_FAILED', 'A new member is "invited" or "active"');
      }
      const invitedBy =
        addOptions.invitedBy == null ? null : parseOrThrow(userIdSchema, addOptions.invitedBy, 'VALIDATION_FAILED', 'invitedBy');
      const tenant = await registry.getTenant(tenantId);
      if (tenant === null || tenant.status === 'deleted') {
        throw new TenantContextError('TENANT_NOT_FOUND', 'Tenant not found', { details: { tenantId } });
      }
      const now = clock.now();
      const membership: Membership = { tenantId, userId, status, invitedBy, createdAt: now, updatedAt: now };
      await store.insertMembership(membership);
      events.emit('membership.added', { membership });
      return membership;
    },

    async getMembership(tenantId, userId) {
      checkIds(tenantId, userId);
      return store.getMembership(tenantId, userId);
    },

    async setMemberStatus(tenantId, userId, status) {
      checkIds(tenantId, userId);
      const next = parseOrThrow(membershipStatusSchema, status, 'VALIDATION_FAILED', 'membership status');
      // Compare-and-set on (status, updatedAt): a concurrent change makes the write miss, and
      // the change is re-applied to what is stored now instead of overwriting it.
      for (let attempt = 0; attempt < MEMBERSHIP_WRITE_ATTEMPTS; attempt += 1) {
        const previous = await requireMembership(tenantId, userId);
        if (previous.status === next) return previous;
        // updatedAt must move on every write, or a second writer's condition could still match.
        const updatedAt = Math.max(clock.now(), previous.updatedAt + 1);
        const membership: Membership = { ...previous, status: next, updatedAt };
        if (await store.updateMembership(membership, { status: previous.status, updatedAt: previous.updatedAt })) {
          events.emit('membership.updated', { membership, previous });
          return membership;
        }
      }
      throw new TenantContextError('STORE_CONFLICT', 'The membership kept changing while it was being updated', {
        details: { tenantId },
      });
    },

    async removeMember(tenantId, userId) {
      checkIds(tenantId, userId);
      const membership = await store.getMembership(tenantId, userId);
      if (membership === null) return false;
      const removed = await store.deleteMembership(tenantId, userId);
      if (removed) events.emit('membership.removed', { membership });
      return removed;
    },

    async listMembers(tenantId, query = {}) {
      parseOrThrow(tenantIdSchema, tenantId, 'TENANT_IDENTIFIER_INVALID', 'tenant id');
      // Checked here because stores trust the query they are given.
      const checked = parseOrThrow(membershipListQuerySchema, query, 'VALIDATION_FAILED', 'membership list query');
      return store.listMembershipsByTenant(tenantId, { ...checked, limit: checked.limit ?? 50 });
    },

    async listUserTenants(userId, listOptions = {}) {
      parseOrThrow(userIdSchema, userId, 'VALIDATION_FAILED', 'user id');
      const memberships = await store.listMembershipsByUser(userId);
      const rows = await Promise.all(
        memberships.map(async (membership) => ({ membership, tenant: await registry.getTenant(membership.tenantId) })),
      );
      const result: UserTenant[] = [];
      for (const { membership, tenant } of rows) {
        if (tenant === null || tenant.status === 'deleted') continue;
        if (!listOptions.includeInactive && (membership.status !== 'active' || tenant.status !== 'active')) continue;
        result.push({ membership, tenant: tenant as Tenant });
      }
      return result;
    },

    async selectActiveTenant(userId, tenantId) {
      return (await requireActiveAccess(tenantId, userId)).tenant;
    },

    // Documented as "like selectActiveTenant": before, it checked only the membership and let
    // an active member act in a suspended or deleted tenant.
    async requireActiveMembership(tenantId, userId) {
      return (await requireActiveAccess(tenantId, userId)).membership;
    },
  };
}
