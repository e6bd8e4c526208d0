import { createTypedEventBus } from '@tenantkit/core';
import type { RoleAssignment, AssignmentSubject } from '../assignments/role-assignment.js';
import type { Group, GroupMember } from '../groups/group.js';
import type { PolicySyncReport } from '../policy/sync-policy.js';
import type { Role } from '../roles/role.js';
import type { RbacErrorCode } from '../errors.js';

/**
 * Who caused an event: a principal acting through a service, or the system (seeding, global
 * role sync, membership cleanup, `...AsSystem` calls) with the reason it gave.
 *
 * @example
 * ```ts
 * const actor: RbacEventActor = { type: 'system', reason: 'tenant onboarding' };
 * ```
 */
export type RbacEventActor =
  | { readonly type: 'principal'; readonly id: string; readonly kind: 'user' | 'api-key' | 'service' }
  | { readonly type: 'system'; readonly reason: string };

/**
 * Every event @tenantkit/rbac emits, by name, with its payload. Each payload names its tenant
 * (`null`: global roles) and, for changes, who made them — what an audit log records.
 *
 * @example
 * ```ts
 * rbac.events.on('assignment.created', ({ assignment, actor }) => audit.record(assignment.tenantId, 'grant', actor));
 * ```
 */
export interface RbacEventMap {
  'role.created': { role: Role; actor: RbacEventActor };
  'role.updated': { role: Role; previous: Role; actor: RbacEventActor };
  'role.deleted': { role: Role; actor: RbacEventActor };
  'group.created': { group: Group; actor: RbacEventActor };
  'group.renamed': { group: Group; previous: Group; actor: RbacEventActor };
  'group.moved': { group: Group; previous: Group; actor: RbacEventActor };
  'group.deleted': { group: Group; actor: RbacEventActor };
  'group.member_added': { member: GroupMember; actor: RbacEventActor };
  'group.member_removed': { tenantId: string; groupId: string; userId: string; actor: RbacEventActor };
  /** `assignment.status` is `pending` when the role requires approval. */
  'assignment.created': { assignment: RoleAssignment; actor: RbacEventActor; reason: string | null };
  'assignment.approved': { assignment: RoleAssignment; actor: RbacEventActor };
  'assignment.revoked': { assignment: RoleAssignment; actor: RbacEventActor; reason: string | null };
  /** An assignment or approval was refused by the assignment policy (an attempted escalation is worth recording). */
  'assignment.denied': {
    tenantId: string;
    actor: RbacEventActor;
    roleKey: string;
    subject: AssignmentSubject | null;
    assignmentId: string | null;
    code: RbacErrorCode;
    details: Readonly<Record<string, unknown>>;
  };
  /** A member left the tenant (`membership.removed`) and their direct grants and group memberships went with them. */
  'user_grants.removed': { tenantId: string; userId: string; assignments: number; groupMemberships: number };
  /** Every role, group and assignment of a tenant was deleted (offboarding or purge). */
  'tenant_data.deleted': { tenantId: string };
  /** `rbac.syncPolicy` brought a tenant's roles (`tenantId: null`: the global roles) to a policy; `report` says what changed. Not emitted for a dry run. */
  'policy.synced': { tenantId: string | null; report: PolicySyncReport; actor: RbacEventActor };
}

/**
 * The name of an rbac event.
 *
 * @example
 * ```ts
 * const name: RbacEventName = 'role.updated';
 * ```
 */
export type RbacEventName = keyof RbacEventMap;

/**
 * A listener for one event. Its errors (thrown or rejected) go to the bus's
 * `onListenerError` and never fail the operation that emitted.
 *
 * @example
 * ```ts
 * const listener: RbacEventListener<'role.deleted'> = ({ role }) => console.log(role.key);
 * ```
 */
export type RbacEventListener<Name extends RbacEventName> = (payload: RbacEventMap[Name]) => void | Promise<void>;

/**
 * A small typed event bus. Listeners run synchronously in registration order after the change
 * is stored; a listener's failure is isolated.
 *
 * @example
 * ```ts
 * const events = createRbacEventBus();
 * const off = events.on('role.created', ({ role }) => console.log(role.key));
 * off();
 * ```
 */
export interface RbacEventBus {
  /** Subscribes; returns the unsubscribe function. */
  on<Name extends RbacEventName>(name: Name, listener: RbacEventListener<Name>): () => void;
  /** Delivers an event to its listeners. */
  emit<Name extends RbacEventName>(name: Name, payload: RbacEventMap[Name]): void;
}

/**
 * Options of {@link createRbacEventBus}.
 *
 * @example
 * ```ts
 * createRbacEventBus({ onListenerError: (err, name) => log.error({ err, name }) });
 * ```
 */
export interface RbacEventBusOptions {
  /** Called when a listener throws or rejects. Default: `console.error`. */
  onListenerError?: (error: unknown, eventName: RbacEventName) => void;
}

/**
 * Creates an {@link RbacEventBus}.
 *
 * @example
 * ```ts
 * const events = createRbacEventBus();
 * const rbac = createRbac({ store, events });
 * ```
 */
export function createRbacEventBus(options: RbacEventBusOptions = {}): RbacEventBus {
  return createTypedEventBus<RbacEventMap>(options);
}
