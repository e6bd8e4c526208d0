import { createTypedEventBus } from '@tenantkit/core';
import type { LifecycleRun, LifecycleRunState } from './lifecycle/lifecycle-run.js';
import type { Membership, Tenant, TenantDomain, TenantStatus } from './tenant.js';

/**
 * Every event tenant-context emits, by name, with its payload. Other packages subscribe
 * (rbac removes grants on `membership.removed`, audit records everything, mailer sends on
 * `onboarding.completed`).
 *
 * @example
 * ```ts
 * events.on('tenant.status_changed', ({ tenant, from, to }) => audit.record(tenant.id, `${from}->${to}`));
 * ```
 */
export interface TenantEventMap {
  'tenant.created': { tenant: Tenant };
  'tenant.updated': { tenant: Tenant; previous: Tenant };
  'tenant.status_changed': { tenant: Tenant; from: TenantStatus; to: TenantStatus; reason: string | null };
  'tenant.purged': { tenantId: string };
  'membership.added': { membership: Membership };
  'membership.updated': { membership: Membership; previous: Membership };
  'membership.removed': { membership: Membership };
  'domain.added': { domain: TenantDomain };
  'domain.verified': { domain: TenantDomain };
  'domain.removed': { domain: TenantDomain };
  'lifecycle.started': { run: LifecycleRun };
  'lifecycle.step_completed': { run: LifecycleRun; step: string };
  'lifecycle.step_failed': { run: LifecycleRun; step: string; error: unknown; willRetry: boolean };
  'lifecycle.step_compensated': { run: LifecycleRun; step: string };
  /** A step failed for good and onboarding starts undoing the completed steps (`running` → `compensating`). */
  'lifecycle.compensating': { run: LifecycleRun; step: string; error: unknown };
  /** A worker took over a stopped or crashed run (`run.leaseOwner` is the new owner). */
  'lifecycle.resumed': { run: LifecycleRun; previousState: LifecycleRunState; previousLeaseOwner: string | null };
  'lifecycle.completed': { run: LifecycleRun };
  'lifecycle.rolled_back': { run: LifecycleRun };
  'lifecycle.failed': { run: LifecycleRun; error: unknown };
  'quota.threshold_crossed': {
    tenantId: string;
    resource: string;
    used: number;
    limit: number;
    /** The threshold crossed, as a fraction (0.8 for 80 %). */
    threshold: number;
  };
}

/**
 * The name of a tenant-context event.
 *
 * @example
 * ```ts
 * const name: TenantEventName = 'tenant.created';
 * ```
 */
export type TenantEventName = keyof TenantEventMap;

/**
 * A listener for one event. Its errors (thrown or rejected) are reported to the bus's
 * `onListenerError` and never break the operation that emitted.
 *
 * @example
 * ```ts
 * const listener: TenantEventListener<'tenant.created'> = ({ tenant }) => console.log(tenant.slug);
 * ```
 */
export type TenantEventListener<Name extends TenantEventName> = (
  payload: TenantEventMap[Name],
) => void | Promise<void>;

/**
 * A small typed event bus shared by the registry, memberships, domains, lifecycle and quota
 * services. Listeners run synchronously in registration order; a listener's failure is
 * isolated.
 *
 * @example
 * ```ts
 * const events = createTenantEventBus();
 * const off = events.on('tenant.created', ({ tenant }) => console.log(tenant.id));
 * off();
 * ```
 */
export interface TenantEventBus {
  /** Subscribes; returns the unsubscribe function. */
  on<Name extends TenantEventName>(name: Name, listener: TenantEventListener<Name>): () => void;
  /** Delivers an event to its listeners. */
  emit<Name extends TenantEventName>(name: Name, payload: TenantEventMap[Name]): void;
}

/**
 * Options of {@link createTenantEventBus}.
 *
 * @example
 * ```ts
 * createTenantEventBus({ onListenerError: (err, name) => log.error({ err, name }) });
 * ```
 */
export interface TenantEventBusOptions {
  /** Called when a listener throws or rejects. Default: `console.error`. */
  onListenerError?: (error: unknown, eventName: TenantEventName) => void;
}

/**
 * Creates a {@link TenantEventBus}.
 *
 * @example
 * ```ts
 * const events = createTenantEventBus();
 * const registry = createTenantRegistry({ store, events });
 * ```
 */
export function createTenantEventBus(options: TenantEventBusOptions = {}): TenantEventBus {
  return createTypedEventBus<TenantEventMap>(options);
}
