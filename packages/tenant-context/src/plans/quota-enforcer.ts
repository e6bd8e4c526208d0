import { z } from 'zod';
import { TenantContextError } from '../errors.js';
import { createTenantEventBus, type TenantEventBus } from '../events.js';
import { assertTenantId } from '../identifiers.js';
import type { TenantRegistry } from '../registry/tenant-registry.js';
import { currentTenantId, requireTenantId } from '../scope/tenant-scope.js';
import type { UsageCounterStore } from '../store.js';
import type { Tenant } from '../tenant.js';
import { parseOrThrow } from '../validation.js';
import { entitlementKeySchema } from './entitlement-keys.js';
import type { PlanCatalog } from './plan-catalog.js';

/**
 * Options of {@link createQuotaEnforcer}. Give either `registry` or `getTenant`.
 *
 * @example
 * ```ts
 * createQuotaEnforcer({ plans, counters: stores.usageCounters, registry, thresholds: [0.5, 0.8, 1] });
 * ```
 */
export interface QuotaEnforcerOptions {
  plans: PlanCatalog;
  counters: UsageCounterStore;
  /** Where tenants are read from on every call, so plan changes apply at once. */
  registry?: TenantRegistry<unknown>;
  /** Alternative to `registry`: returns the tenant (deleted ones included) or `null`. */
  getTenant?: (tenantId: string) => Promise<Tenant<unknown> | null>;
  /** Bus for `quota.threshold_crossed`. Default: the registry's bus, else a private one. */
  events?: TenantEventBus;
  /**
   * Usage fractions that emit `quota.threshold_crossed` when an increment reaches them, each
   * in `(0, 1]`. Default: `[0.8, 1]`.
   */
  thresholds?: readonly number[];
}

/**
 * Which tenant a quota call is for. Without `tenantId`, the tenant in scope
 * (`TENANT_SCOPE_REQUIRED` outside one). An explicit `tenantId` that differs from the tenant
 * in scope throws `TENANT_SCOPE_CONFLICT`: acting on another tenant from inside a request is
 * how one tenant's usage ends up on another's bill. Cross-tenant jobs run outside a tenant
 * scope (for example in `runAsSystem`) and pass `tenantId`.
 *
 * @example
 * ```ts
 * await runAsSystem({ reason: 'storage-reconcile' }, () => quotas.setUsage('storageBytes', bytes, { tenantId }));
 * ```
 */
export interface QuotaTarget {
  tenantId?: string;
}

/**
 * One resource's usage against the tenant's current limit.
 *
 * @example
 * ```ts
 * const usage: QuotaUsage = { resource: 'projects', used: 2, limit: 3, unlimited: false, remaining: 1, percent: 66.67 };
 * ```
 */
export interface QuotaUsage {
  readonly resource: string;
  readonly used: number;
  /** Whole units; `-1` when unlimited; `0` when nothing defines the resource. */
  readonly limit: number;
  readonly unlimited: boolean;
  /** `max(0, limit - used)`, or `null` when unlimited. */
  readonly remaining: number | null;
  /**
   * `used / limit` in percent, rounded to two decimals; `null` when unlimited; `100` when the
   * limit is `0`. It can exceed 100 after a limit is lowered or usage reconciled upwards.
   */
  readonly percent: number | null;
}

/**
 * The answer of {@link QuotaEnforcer.check}: the usage now, and whether `requested` more
 * would be admitted now.
 *
 * @example
 * ```ts
 * const { allowed, remaining } = await quotas.check('users', 3);
 * ```
 */
export interface QuotaCheck extends QuotaUsage {
  readonly requested: number;
  readonly allowed: boolean;
}

/**
 * Enforces plan quotas on per-tenant usage counters. Admission is one atomic
 * `counters.increment(…, limit)`, so concurrent consumers across processes never push a
 * counter past the limit. Limits are read from the tenant record and the plan catalog on
 * every call.
 *
 * @example
 * ```ts
 * await runWithTenant(tenantId, async () => {
 *   await quotas.consume('projects');          // throws QUOTA_EXCEEDED at the limit
 *   await db.insertInto('projects').values(row).execute();
 * });
 * ```
 */
export interface QuotaEnforcer {
  /** The bus `quota.threshold_crossed` is emitted on. */
  readonly events: TenantEventBus;
  /**
   * Adds `amount` (a positive whole number, default 1) to the tenant's usage if it stays
   * within the limit. Emits `quota.threshold_crossed` once for every threshold this increment
   * moved usage across. Provisioning tenants may consume (onboarding seeds resources).
   * @throws `QUOTA_EXCEEDED` (details `{ resource, limit, used, requested, limitDefined }`,
   *   counter unchanged), `TENANT_SUSPENDED` (suspended or offboarding), `TENANT_NOT_FOUND`
   *   (missing or deleted), `PLAN_NOT_FOUND`, `VALIDATION_FAILED`, scope codes.
   */
  consume(resource: string, amount?: number, target?: QuotaTarget): Promise<QuotaUsage>;
  /**
   * Subtracts `amount` (default 1), never below 0, in any tenant status (offboarding frees
   * resources too).
   * @throws `TENANT_NOT_FOUND` (missing), `VALIDATION_FAILED`, scope codes.
   */
  release(resource: string, amount?: number, target?: QuotaTarget): Promise<QuotaUsage>;
  /**
   * Whether `amount` (default 1) would be admitted now, changing nothing. Only `consume` is
   * authoritative: another request may take the last unit in between.
   * @throws like `consume`, except `QUOTA_EXCEEDED`.
   */
  check(resource: string, amount?: number, target?: QuotaTarget): Promise<QuotaCheck>;
  /**
   * Sets the counter outright, to reconcile it with the source of truth (for example after
   * counting rows). Emits no threshold events: it corrects drift, it is not new usage.
   * @throws `TENANT_NOT_FOUND` (missing), `VALIDATION_FAILED`, scope codes.
   */
  setUsage(resource: string, used: number, target?: QuotaTarget): Promise<QuotaUsage>;
  /**
   * One row per resource the tenant's plan or overrides define or a counter exists for,
   * sorted by resource name. Works in any tenant status.
   * @throws `TENANT_NOT_FOUND` (missing), `PLAN_NOT_FOUND`, scope codes.
   */
  usageReport(target?: QuotaTarget): Promise<QuotaUsage[]>;
}

const thresholdsSchema = z
  .array(z.number().gt(0).lte(1))
  .max(20)
  .refine((values) => new Set(values).size === values.length, 'must not repeat a threshold');

const optionsSchema = z
  .object({
    plans: z.custom<PlanCatalog>(
      (value) => typeof (value as PlanCatalog | undefined)?.resolveLimit === 'function',
      'must be a PlanCatalog from definePlans()',
    ),
    counters: z.custom<UsageCounterStore>(
      (value) =>
        typeof value === 'object' &&
        value !== null &&
        (['increment', 'decrement', 'get', 'getAll', 'set'] as const).every(
          (method) => typeof (value as UsageCounterStore)[method] === 'function',
        ),
      'must be a UsageCounterStore',
    ),
    registry: z
      .custom<TenantRegistry<unknown>>(
        (value) => typeof (value as TenantRegistry<unknown> | undefined)?.getTenant === 'function',
        'must be a TenantRegistry',
      )
      .optional(),
    getTenant: z.custom<QuotaEnforcerOptions['getTenant']>((value) => typeof value === 'function').optional(),
    events: z
      .custom<TenantEventBus>((value) => typeof (value as TenantEventBus | undefined)?.emit === 'function', 'must be a TenantEventBus')
      .optional(),
    thresholds: thresholdsSchema.optional(),
  })
  .refine((options) => (options.registry === undefined) !== (options.getTenant === undefined), {
    message: 'give exactly one of registry or getTenant',
  });

const amountSchema = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const usageValueSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/** Builds a usage row from a counter value and a limit. */
function describeUsage(resource: string, used: number, limit: number): QuotaUsage {
  const unlimited = limit === -1;
  let percent: number | null = null;
  if (!unlimited) percent = limit === 0 ? 100 : Math.round((used / limit) * 10_000) / 100;
  return Object.freeze({
    resource,
    used,
    limit,
    unlimited,
    remaining: unlimited ? null : Math.max(0, limit - used),
    percent,
  });
}

/**
 * Creates a {@link QuotaEnforcer}. Options are validated now (`CONFIGURATION_INVALID`).
 *
 * A resource that neither the tenant's plan nor its overrides name has limit `0`, so
 * consuming it throws `QUOTA_EXCEEDED` with `details.limitDefined === false` — a forgotten plan
 * entry denies instead of granting unlimited use.
 *
 * @example
 * ```ts
 * const plans = definePlans({ free: { limits: { projects: 3 } }, pro: { limits: { projects: -1 } } });
 * const quotas = createQuotaEnforcer({ plans, counters: stores.usageCounters, registry });
 * registry.events.on('quota.threshold_crossed', ({ tenantId, resource, threshold }) =>
 *   mailer.send(tenantId, `You have used ${threshold * 100}% of your ${resource}`));
 * await quotas.consume('projects', 1, { tenantId: 'tnt_acme' });
 * ```
 */
export function createQuotaEnforcer(options: QuotaEnforcerOptions): QuotaEnforcer {
  const parsed = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'quota enforcer options');
  const { plans, counters } = parsed;
  const registry = parsed.registry;
  const getTenant = parsed.getTenant ?? ((tenantId: string) => registry!.getTenant(tenantId));
  const events = parsed.events ?? registry?.events ?? createTenantEventBus();
  const thresholds = Object.freeze([...(parsed.thresholds ?? [0.8, 1])].sort((a, b) => a - b));

  function resolveTenantId(target: QuotaTarget | undefined): string {
    const explicit: unknown = target?.tenantId;
    if (explicit === undefined) return requireTenantId();
    assertTenantId(explicit);
    const scoped = currentTenantId();
    if (scoped !== undefined && scoped !== explicit) {
      throw new TenantContextError(
        'TENANT_SCOPE_CONFLICT',
        'A quota call names a tenant other than the one in scope; cross-tenant work runs outside tenant scopes',
      );
    }
    return explicit;
  }

  async function loadTenant(tenantId: string): Promise<Tenant<unknown>> {
    const tenant = await getTenant(tenantId);
    if (tenant === null || tenant === undefined) {
      throw new TenantContextError('TENANT_NOT_FOUND', 'Tenant not found', { details: { tenantId } });
    }
    return tenant;
  }

  /** A tenant that may take on more usage: provisioning or active. */
  async function loadTenantThatMayConsume(tenantId: string): Promise<Tenant<unknown>> {
    const tenant = await loadTenant(tenantId);
    if (tenant.status === 'deleted') {
      throw new TenantContextError('TENANT_NOT_FOUND', 'Tenant not found', { details: { tenantId } });
    }
    // An allow-list, so a status added later is refused until someone decides otherwise.
    if (tenant.status !== 'active' && tenant.status !== 'provisioning') {
      throw new TenantContextError('TENANT_SUSPENDED', `The tenant is ${tenant.status}`, {
        details: { status: tenant.status },
      });
    }
    return tenant;
  }

  function checkResource(resource: string): void {
    parseOrThrow(entitlementKeySchema, resource, 'VALIDATION_FAILED', 'resource name');
  }

  function checkAmount(amount: number): void {
    parseOrThrow(amountSchema, amount, 'VALIDATION_FAILED', 'amount (a positive whole number)');
  }

  function emitCrossedThresholds(tenantId: string, resource: string, before: number, after: number, limit: number) {
    // Each atomic increment owns the interval (before, after]; the intervals of concurrent
    // increments never overlap, so exactly one of them sees a given threshold crossed.
    if (limit <= 0) return;
    for (const threshold of thresholds) {
      if (before / limit < threshold && after / limit >= threshold) {
        events.emit('quota.threshold_crossed', { tenantId, resource, used: after, limit, threshold });
      }
    }
  }

  return Object.freeze({
    events,

    async consume(resource: string, amount = 1, target?: QuotaTarget) {
      const tenantId = resolveTenantId(target);
      checkResource(resource);
      checkAmount(amount);
      const tenant = await loadTenantThatMayConsume(tenantId);
      const { limit, source } = plans.resolveLimit(tenant, resource);
      const result = await counters.increment(tenantId, resource, amount, limit);
      if (!result.applied) {
        throw new TenantContextError(
          'QUOTA_EXCEEDED',
          source === 'undefined'
            ? `The plan allows no "${resource}"`
            : `Quota exceeded for "${resource}": ${result.value} of ${limit} used, ${amount} requested`,
          { details: { resource, limit, used: result.value, requested: amount, limitDefined: source !== 'undefined' } },
        );
      }
      emitCrossedThresholds(tenantId, resource, result.value - amount, result.value, limit);
      return describeUsage(resource, result.value, limit);
    },

    async release(resource: string, amount = 1, target?: QuotaTarget) {
      const tenantId = resolveTenantId(target);
      checkResource(resource);
      checkAmount(amount);
      const tenant = await loadTenant(tenantId);
      const { limit } = plans.resolveLimit(tenant, resource);
      const used = await counters.decrement(tenantId, resource, amount);
      return describeUsage(resource, used, limit);
    },

    async check(resource: string, amount = 1, target?: QuotaTarget) {
      const tenantId = resolveTenantId(target);
      checkResource(resource);
      checkAmount(amount);
      const tenant = await loadTenantThatMayConsume(tenantId);
      const { limit } = plans.resolveLimit(tenant, resource);
      const used = await counters.get(tenantId, resource);
      return Object.freeze({
        ...describeUsage(resource, used, limit),
        requested: amount,
        allowed: limit === -1 || used + amount <= limit,
      });
    },

    async setUsage(resource: string, used: number, target?: QuotaTarget) {
      const tenantId = resolveTenantId(target);
      checkResource(resource);
      parseOrThrow(usageValueSchema, used, 'VALIDATION_FAILED', 'usage (a whole number >= 0)');
      const tenant = await loadTenant(tenantId);
      const { limit } = plans.resolveLimit(tenant, resource);
      await counters.set(tenantId, resource, used);
      return describeUsage(resource, used, limit);
    },

    async usageReport(target?: QuotaTarget) {
      const tenantId = resolveTenantId(target);
      const tenant = await loadTenant(tenantId);
      const limits = plans.effectiveLimits(tenant);
      const usage = await counters.getAll(tenantId);
      const resources = [...new Set([...Object.keys(limits), ...Object.keys(usage)])].sort();
      return resources.map((resource) =>
        describeUsage(
          resource,
          Object.hasOwn(usage, resource) ? (usage[resource] ?? 0) : 0,
          Object.hasOwn(limits, resource) ? (limits[resource] ?? 0) : 0,
        ),
      );
    },
  } satisfies QuotaEnforcer);
}
