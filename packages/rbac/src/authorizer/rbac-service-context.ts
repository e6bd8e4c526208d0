import type { Clock } from '@tenantkit/core';
import { z } from 'zod';
import type { RbacEventActor, RbacEventBus } from '../events/rbac-events.js';
import type { RbacPrincipal } from '../principal.js';
import { parseOrThrow } from '../rules/parse-or-throw.js';
import type { RbacStore } from '../store.js';
import type { CachedAuthorizer } from './cached-authorizer.js';

/**
 * What the role, group and assignment services share: the store, the clock, the checks, the
 * event bus, and `afterChange`, which every mutation calls once its write is stored.
 *
 * @example
 * ```ts
 * const roles = createRoleService(context);
 * ```
 */
export interface RbacServiceContext {
  readonly store: RbacStore;
  readonly clock: Clock;
  readonly authorizer: CachedAuthorizer;
  readonly events: RbacEventBus;
  /** Drops this process's cached matchers of the tenant at once and tells other processes. */
  afterChange(tenantId: string | null): Promise<void>;
}

/**
 * Who performs an `...AsSystem` operation: no principal, but a reason the events carry (for
 * the audit log), e.g. `{ reason: 'tenant onboarding' }`.
 *
 * @example
 * ```ts
 * await rbac.assignments.assignAsSystem({ reason: 'bootstrap first admin' }, { subject, roleKey: 'tenant_admin' });
 * ```
 */
export interface SystemActor {
  /** 1-500 characters. */
  readonly reason: string;
}

const systemActorSchema = z.object({ reason: z.string().trim().min(1, 'must not be empty').max(500) });

/**
 * Validates a {@link SystemActor} and turns it into the actor events carry.
 *
 * @throws `VALIDATION_FAILED` without a reason.
 * @example
 * ```ts
 * const actor = systemEventActor({ reason: 'seed' }); // { type: 'system', reason: 'seed' }
 * ```
 */
export function systemEventActor(system: SystemActor): RbacEventActor {
  const { reason } = parseOrThrow(systemActorSchema, system, 'VALIDATION_FAILED', 'system actor');
  return { type: 'system', reason };
}

/**
 * The actor events carry for a principal acting through a service.
 *
 * @example
 * ```ts
 * principalEventActor({ id: 'usr_1' }); // { type: 'principal', id: 'usr_1', kind: 'user' }
 * ```
 */
export function principalEventActor(principal: RbacPrincipal): RbacEventActor {
  return { type: 'principal', id: principal.id, kind: principal.kind ?? 'user' };
}

/**
 * An optional explicit tenant, as every service call takes it (default: the tenant in scope).
 *
 * @example
 * ```ts
 * await rbac.roles.list(actor, { tenantId: 'tnt_1' });
 * ```
 */
export interface TenantOption {
  readonly tenantId?: string;
}
