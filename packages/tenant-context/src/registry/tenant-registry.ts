import { type Clock, createId, systemClock } from '@tenantkit/core';
import { z } from 'zod';
import { TenantContextError } from '../errors.js';
import { createTenantEventBus, type TenantEventBus } from '../events.js';
import { normalizeHostname } from '../domains/hostname.js';
import { defaultReservedSlugs } from '../identifiers.js';
import type { TenantListQuery, TenantPage, TenantStore } from '../store.js';
import type { JsonValue, Tenant, TenantStatus } from '../tenant.js';
import { hasMethods, parseOrThrow } from '../validation.js';
import {
  createTenantInputSchema,
  listTenantsQuerySchema,
  planKeySchema,
  statusReasonSchema,
  tenantIdSchema,
  tenantPatchSchema,
  tenantSlugSchema,
  tenantStatusSchema,
} from './tenant-input-schemas.js';
import { assertTenantStatusTransition } from './tenant-status-transitions.js';

/**
 * Options of {@link createTenantRegistry}.
 *
 * @example
 * ```ts
 * const registry = createTenantRegistry({
 *   store: memoryTenantStore(),
 *   settingsSchema: z.object({ theme: z.enum(['light', 'dark']).default('light') }),
 *   plans: ['free', 'pro', 'enterprise'],
 *   defaultPlan: 'free',
 * });
 * ```
 */
export interface TenantRegistryOptions<Settings> {
  store: TenantStore;
  /**
   * Validates (and may default) tenant settings on every create and update. Without it,
   * settings must be a plain JSON object.
   */
  settingsSchema?: z.ZodType<Settings>;
  /** Shared event bus; a private one is created when omitted. */
  events?: TenantEventBus;
  clock?: Clock;
  /** Plan keys a tenant may be on; any plan key is accepted when omitted. */
  plans?: readonly string[];
  /** Plan of new tenants that name none. Default: the first of `plans`, or `'free'` without a plan list. */
  defaultPlan?: string;
  /** Slugs nobody may take. Default: {@link defaultReservedSlugs}. */
  reservedSlugs?: readonly string[];
  /** Id generator for new tenants. Default: `createId('tnt')`. */
  createTenantId?: () => string;
}

/**
 * Input of {@link TenantRegistry.createTenant}.
 *
 * @example
 * ```ts
 * await registry.createTenant({ slug: 'acme', name: 'Acme Inc.', plan: 'pro' });
 * ```
 */
export interface CreateTenantInput<Settings> {
  /** A caller-chosen id (idempotent onboarding uses this); generated when omitted. */
  id?: string;
  slug: string;
  name: string;
  plan?: string;
  settings?: Settings | Record<string, unknown>;
  features?: Record<string, boolean>;
  limits?: Record<string, number>;
  region?: string | null;
  /** `'active'` (default) or `'provisioning'` (onboarding creates tenants this way). */
  status?: 'provisioning' | 'active';
}

/**
 * A partial update of a tenant. `settings` replaces the whole settings object (validated);
 * `features` and `limits` merge key by key, and a `null` value removes an override.
 *
 * @example
 * ```ts
 * await registry.updateTenant(id, { plan: 'pro', limits: { projects: 100, seats: null } });
 * ```
 */
export interface TenantPatch<Settings> {
  slug?: string;
  name?: string;
  plan?: string;
  settings?: Settings | Record<string, unknown>;
  features?: Record<string, boolean | null>;
  limits?: Record<string, number | null>;
  region?: string | null;
}

/**
 * Query of {@link TenantRegistry.listTenants}; every field is optional.
 *
 * @example
 * ```ts
 * await registry.listTenants({ status: ['suspended'], limit: 20 });
 * ```
 */
export type ListTenantsQuery = Partial<TenantListQuery>;

/**
 * The tenant registry: the source of truth for tenants, their plan, settings, feature and
 * limit overrides, and status. Writes are optimistic (compare-and-set with retry), validated
 * first, and announce themselves on the event bus.
 *
 * @example
 * ```ts
 * const tenant = await registry.createTenant({ slug: 'acme', name: 'Acme' });
 * await registry.suspendTenant(tenant.id, 'payment overdue');
 * ```
 */
export interface TenantRegistry<Settings = Record<string, JsonValue>> {
  readonly events: TenantEventBus;
  readonly store: TenantStore;
  /** @throws `TENANT_ALREADY_EXISTS`, `TENANT_IDENTIFIER_INVALID`, `VALIDATION_FAILED`, `TENANT_SETTINGS_INVALID`, `PLAN_NOT_FOUND` */
  createTenant(input: CreateTenantInput<Settings>): Promise<Tenant<Settings>>;
  /**
   * Checks create input exactly as {@link createTenant} would (format, reserved slugs, plan,
   * settings schema) and whether the slug is free right now, writing nothing. Onboarding calls
   * it so bad input is refused before a run is stored. The store's unique index still decides
   * a race between two creates of the same slug.
   * @throws the codes of `createTenant`
   */
  validateNewTenant(input: CreateTenantInput<Settings>): Promise<void>;
  /** The tenant, deleted ones included, or `null`. */
  getTenant(id: string): Promise<Tenant<Settings> | null>;
  /** @throws `TENANT_NOT_FOUND` when missing (deleted tenants are returned). */
  getTenantOrThrow(id: string): Promise<Tenant<Settings>>;
  getTenantBySlug(slug: string): Promise<Tenant<Settings> | null>;
  /** The tenant owning a **verified** custom domain, or `null`. */
  getTenantByVerifiedDomain(hostname: string): Promise<Tenant<Settings> | null>;
  /** @throws `TENANT_NOT_FOUND`, `TENANT_ALREADY_EXISTS` (slug), validation codes, `STORE_CONFLICT` after repeated races. */
  updateTenant(id: string, patch: TenantPatch<Settings>): Promise<Tenant<Settings>>;
  listTenants(query?: ListTenantsQuery): Promise<TenantPage<Settings>>;
  /** Moves an active tenant to `suspended`, keeping the reason. */
  suspendTenant(id: string, reason: string): Promise<Tenant<Settings>>;
  /** Moves a suspended tenant back to `active`. */
  reactivateTenant(id: string, reason?: string): Promise<Tenant<Settings>>;
  /** Soft delete: status `deleted`, `deletedAt` set; the record stays for audit. */
  deleteTenant(id: string, reason: string): Promise<Tenant<Settings>>;
  /** Any allowed status transition (lifecycle uses it). */
  setTenantStatus(id: string, status: TenantStatus, reason?: string | null): Promise<Tenant<Settings>>;
  /**
   * Removes a `provisioning` tenant for good (onboarding compensation). The removal is
   * conditional on the status and version read, so a tenant activated concurrently survives.
   * @throws `TENANT_STATUS_TRANSITION_INVALID` for a tenant in any other status (also when it
   * left `provisioning` during the call); `STORE_CONFLICT` when it kept changing.
   */
  purgeProvisioningTenant(id: string): Promise<boolean>;
}

/**
 * A compare-and-set only fails because another write won in between, so N writers racing on
 * one tenant all finish within N attempts. 32 lets a burst of that many concurrent writers
 * through (8 did not: the 9th of 20 parallel updates failed) while still ending a livelock.
 */
const MAX_WRITE_ATTEMPTS = 32;

const tenantStoreMethods = [
  'insertTenant',
  'getTenantById',
  'getTenantBySlug',
  'updateTenant',
  'purgeTenant',
  'listTenants',
  'insertDomain',
  'getDomain',
  'listDomains',
  'updateDomain',
  'deleteDomain',
] as const satisfies ReadonlyArray<keyof TenantStore>;

const optionsSchema = z.object({
  store: z.custom<TenantStore>((value) => hasMethods(value, tenantStoreMethods), 'must be a TenantStore'),
  settingsSchema: z
    .custom<z.ZodType>((value) => typeof (value as { safeParse?: unknown })?.safeParse === 'function', 'must be a zod schema')
    .optional(),
  events: z.custom<TenantEventBus>((value) => hasMethods(value, ['on', 'emit']), 'must be a TenantEventBus').optional(),
  clock: z.custom<Clock>((value) => typeof (value as Clock)?.now === 'function', 'must have now()').optional(),
  plans: z.array(planKeySchema).min(1).optional(),
  defaultPlan: planKeySchema.optional(),
  reservedSlugs: z.array(z.string()).optional(),
  createTenantId: z.custom<() => string>((value) => typeof value === 'function').optional(),
});

const plainJsonObjectSchema = z.record(z.string(), z.json());

/**
 * Creates a {@link TenantRegistry}. Options are validated now, not on first use.
 *
 * @example
 * ```ts
 * const events = createTenantEventBus();
 * const registry = createTenantRegistry({ store: memoryTenantStore(), events });
 * const acme = await registry.createTenant({ slug: 'acme', name: 'Acme Inc.' });
 * ```
 */
export function createTenantRegistry<Settings = Record<string, JsonValue>>(
  options: TenantRegistryOptions<Settings>,
): TenantRegistry<Settings> {
  const parsed = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'tenant registry options');
  const store = options.store;
  const events = options.events ?? createTenantEventBus();
  const clock = options.clock ?? systemClock;
  const plans = parsed.plans === undefined ? undefined : new Set(parsed.plans);
  const defaultPlan = parsed.defaultPlan ?? parsed.plans?.[0] ?? 'free';
  const reservedSlugs = new Set(options.reservedSlugs ?? defaultReservedSlugs);
  const createTenantId = options.createTenantId ?? (() => createId('tnt'));
  const settingsSchema: z.ZodType = options.settingsSchema ?? plainJsonObjectSchema;

  if (plans !== undefined && !plans.has(defaultPlan)) {
    throw new TenantContextError('CONFIGURATION_INVALID', `defaultPlan "${defaultPlan}" is not one of the plans`);
  }

  const cast = (tenant: Tenant): Tenant<Settings> => tenant as unknown as Tenant<Settings>;

  function validateSettings(settings: unknown): Record<string, JsonValue> {
    const value = parseOrThrow(settingsSchema, settings ?? {}, 'TENANT_SETTINGS_INVALID', 'tenant settings');
    // Settings are stored as JSON; anything that does not survive a round trip is refused here.
    const json = parseOrThrow(plainJsonObjectSchema, value, 'TENANT_SETTINGS_INVALID', 'tenant settings (JSON)');
    return json as Record<string, JsonValue>;
  }

  function assertPlan(plan: string): void {
    if (plans !== undefined && !plans.has(plan)) {
      throw new TenantContextError('PLAN_NOT_FOUND', `Unknown plan "${plan}"`, { details: { plan } });
    }
  }

  function assertSlugAllowed(slug: string): void {
    if (reservedSlugs.has(slug)) {
      throw new TenantContextError('TENANT_IDENTIFIER_INVALID', `The slug "${slug}" is reserved`, {
        details: { slug },
      });
    }
  }

  async function requireTenant(id: string): Promise<Tenant> {
    parseOrThrow(tenantIdSchema, id, 'TENANT_IDENTIFIER_INVALID', 'tenant id');
    const tenant = await store.getTenantById(id);
    if (tenant === null) throw new TenantContextError('TENANT_NOT_FOUND', 'Tenant not found', { details: { tenantId: id } });
    return tenant;
  }

  /** Re-reads and re-applies `change` until the compare-and-set wins. */
  async function writeTenant(id: string, change: (current: Tenant) => Tenant | null): Promise<{ before: Tenant; after: Tenant } | null> {
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt += 1) {
      const current = await requireTenant(id);
      const draft = change(current);
      if (draft === null) return null;
      const next: Tenant = { ...draft, updatedAt: clock.now(), version: current.version + 1 };
      if (await store.updateTenant(next, current.version)) return { before: current, after: next };
    }
    throw new TenantContextError('STORE_CONFLICT', 'The tenant kept changing concurrently; try again', {
      details: { tenantId: id },
    });
  }

  async function transition(id: string, to: TenantStatus, reason: string | null): Promise<Tenant<Settings>> {
    const result = await writeTenant(id, (current) => {
      if (current.status === to) return null;
      assertTenantStatusTransition(current.status, to);
      return {
        ...current,
        status: to,
        statusReason: reason,
        deletedAt: to === 'deleted' ? clock.now() : current.deletedAt,
      };
    });
    if (result === null) return cast(await requireTenant(id));
    events.emit('tenant.status_changed', { tenant: result.after, from: result.before.status, to, reason });
    return cast(result.after);
  }

  return {
    events,
    store,

    async validateNewTenant(input) {
      const data = parseOrThrow(createTenantInputSchema, input, 'VALIDATION_FAILED', 'tenant');
      assertSlugAllowed(data.slug);
      assertPlan(data.plan ?? defaultPlan);
      validateSettings(data.settings);
      if ((await store.getTenantBySlug(data.slug)) !== null) {
        throw new TenantContextError('TENANT_ALREADY_EXISTS', 'A tenant with this slug already exists', {
          details: { slug: data.slug },
        });
      }
    },

    async createTenant(input) {
      const data = parseOrThrow(createTenantInputSchema, input, 'VALIDATION_FAILED', 'tenant');
      assertSlugAllowed(data.slug);
      const plan = data.plan ?? defaultPlan;
      assertPlan(plan);
      const now = clock.now();
      const id = data.id ?? createTenantId();
      parseOrThrow(tenantIdSchema, id, 'TENANT_IDENTIFIER_INVALID', 'generated tenant id');
      const tenant: Tenant = {
        id,
        slug: data.slug,
        name: data.name,
        status: data.status ?? 'active',
        statusReason: null,
        plan,
        settings: validateSettings(data.settings),
        features: { ...data.features },
        limits: { ...data.limits },
        region: data.region ?? null,
        createdAt: now,
        updatedAt: now,
        deletedAt: null,
        version: 1,
      };
      await store.insertTenant(tenant);
      events.emit('tenant.created', { tenant });
      return cast(tenant);
    },

    async getTenant(id) {
      parseOrThrow(tenantIdSchema, id, 'TENANT_IDENTIFIER_INVALID', 'tenant id');
      const tenant = await store.getTenantById(id);
      return tenant === null ? null : cast(tenant);
    },

    async getTenantOrThrow(id) {
      return cast(await requireTenant(id));
    },

    async getTenantBySlug(slug) {
      parseOrThrow(tenantSlugSchema, slug, 'TENANT_IDENTIFIER_INVALID', 'tenant slug');
      const tenant = await store.getTenantBySlug(slug);
      return tenant === null ? null : cast(tenant);
    },

    async getTenantByVerifiedDomain(hostname) {
      // Domains are stored normalised (punycode, no trailing dot); a host that cannot be one
      // simply owns no tenant.
      const normalized = normalizeHostname(hostname);
      if (normalized === undefined) return null;
      const domain = await store.getDomain(normalized);
      if (domain === null || domain.status !== 'verified') return null;
      const tenant = await store.getTenantById(domain.tenantId);
      return tenant === null ? null : cast(tenant);
    },

    async updateTenant(id, patch) {
      const data = parseOrThrow(tenantPatchSchema, patch, 'VALIDATION_FAILED', 'tenant update');
      if (data.slug !== undefined) assertSlugAllowed(data.slug);
      if (data.plan !== undefined) assertPlan(data.plan);
      const settings = data.settings === undefined ? undefined : validateSettings(data.settings);
      const result = await writeTenant(id, (current) => {
        if (current.status === 'deleted') {
          throw new TenantContextError('TENANT_NOT_FOUND', 'Tenant not found', { details: { tenantId: id } });
        }
        return {
          ...current,
          slug: data.slug ?? current.slug,
          name: data.name ?? current.name,
          plan: data.plan ?? current.plan,
          settings: settings ?? current.settings,
          features: mergeOverrides(current.features, data.features),
          limits: mergeOverrides(current.limits, data.limits),
          region: data.region === undefined ? current.region : data.region,
        };
      });
      // writeTenant only returns null when `change` does; this change never does.
      const { before, after } = result!;
      events.emit('tenant.updated', { tenant: after, previous: before });
      return cast(after);
    },

    async listTenants(query = {}) {
      const checked = parseOrThrow(listTenantsQuerySchema, query, 'VALIDATION_FAILED', 'tenant list query');
      const page = await store.listTenants({ ...checked, limit: checked.limit ?? 50 });
      return page as TenantPage<Settings>;
    },

    // Every method is async so that bad input rejects the returned promise instead of
    // throwing synchronously out of a promise-returning call.
    async suspendTenant(id, reason) {
      return transition(id, 'suspended', parseOrThrow(statusReasonSchema, reason, 'VALIDATION_FAILED', 'reason'));
    },

    async reactivateTenant(id, reason) {
      const checked = reason === undefined ? null : parseOrThrow(statusReasonSchema, reason, 'VALIDATION_FAILED', 'reason');
      const tenant = await requireTenant(id);
      if (tenant.status !== 'suspended') {
        throw new TenantContextError(
          'TENANT_STATUS_TRANSITION_INVALID',
          `Only a suspended tenant can be reactivated (it is "${tenant.status}")`,
          { details: { from: tenant.status, to: 'active' } },
        );
      }
      return transition(id, 'active', checked);
    },

    async deleteTenant(id, reason) {
      return transition(id, 'deleted', parseOrThrow(statusReasonSchema, reason, 'VALIDATION_FAILED', 'reason'));
    },

    async setTenantStatus(id, status, reason = null) {
      const to = parseOrThrow(tenantStatusSchema, status, 'VALIDATION_FAILED', 'tenant status');
      const checked = reason === null ? null : parseOrThrow(statusReasonSchema, reason, 'VALIDATION_FAILED', 'reason');
      return transition(id, to, checked);
    },

    async purgeProvisioningTenant(id) {
      parseOrThrow(tenantIdSchema, id, 'TENANT_IDENTIFIER_INVALID', 'tenant id');
      // The store removes the tenant only if it still has the status and version read here, so
      // a tenant activated in between is never purged; a version bump re-checks and retries.
      for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt += 1) {
        const tenant = await store.getTenantById(id);
        if (tenant === null) return false;
        if (tenant.status !== 'provisioning') {
          throw new TenantContextError(
            'TENANT_STATUS_TRANSITION_INVALID',
            `Only a provisioning tenant can be purged (it is "${tenant.status}")`,
            { details: { from: tenant.status } },
          );
        }
        if (await store.purgeTenant(id, { status: tenant.status, version: tenant.version })) {
          events.emit('tenant.purged', { tenantId: id });
          return true;
        }
      }
      throw new TenantContextError('STORE_CONFLICT', 'The tenant kept changing while it was being purged', {
        details: { tenantId: id },
      });
    },
  };
}

function mergeOverrides<Value>(
  current: Readonly<Record<string, Value>>,
  patch: Record<string, Value | null> | undefined,
): Record<string, Value> {
  if (patch === undefined) return { ...current };
  const merged: Record<string, Value> = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}
