import { createManualClock } from '@tenantkit/core';
import { memoryRbacStore } from '../../src/adapters/memory.js';
import { createRbac, type RbacOptions } from '../../src/create-rbac.js';
import { createRbacEventBus, type RbacEventMap, type RbacEventName } from '../../src/events/rbac-events.js';
import type { RbacPrincipal } from '../../src/principal.js';
import type { RoleDefinition } from '../../src/roles/role.js';
import type { RbacStore } from '../../src/store.js';

export const T1 = 'tnt_1';
export const T2 = 'tnt_2';
export const START = Date.UTC(2026, 0, 1);

export const admin: RbacPrincipal = { kind: 'user', id: 'usr_admin' };

/** An rbac over a memory store with a manual clock; listener failures fail the test. */
export function setup(options: Partial<RbacOptions> = {}) {
  const clock = createManualClock(START);
  const store: RbacStore = options.store ?? memoryRbacStore();
  const events = createRbacEventBus({
    onListenerError: (error) => {
      throw error;
    },
  });
  const recorded: Array<{ name: RbacEventName; payload: unknown }> = [];
  const names: RbacEventName[] = [
    'role.created',
    'role.updated',
    'role.deleted',
    'group.created',
    'group.renamed',
    'group.moved',
    'group.deleted',
    'group.member_added',
    'group.member_removed',
    'assignment.created',
    'assignment.approved',
    'assignment.revoked',
    'assignment.denied',
    'user_grants.removed',
    'tenant_data.deleted',
    'policy.synced',
  ];
  for (const name of names) events.on(name, (payload) => void recorded.push({ name, payload }));
  const rbac = createRbac({ store, clock, events, ...options });
  function eventsNamed<Name extends RbacEventName>(name: Name): RbacEventMap[Name][] {
    return recorded.filter((event) => event.name === name).map((event) => event.payload as RbacEventMap[Name]);
  }
  return { clock, store, rbac, events, recorded, eventsNamed };
}

export type Fixture = ReturnType<typeof setup>;

/** Seeds the default roles in `tenantId` and makes `principal` its tenant_admin. */
export async function bootstrapTenant(fixture: Fixture, tenantId: string, principal: RbacPrincipal = admin) {
  await fixture.rbac.seedDefaultRoles(tenantId);
  await grant(fixture, tenantId, principal.grantsFrom ?? principal.id, 'tenant_admin');
}

/** Assigns a role to a user without an actor. */
export function grant(fixture: Fixture, tenantId: string, userId: string, roleKey: string, expiresAt?: number) {
  return fixture.rbac.assignments.assignAsSystem(
    { reason: 'test setup' },
    { subject: { type: 'user', id: userId }, roleKey, ...(expiresAt === undefined ? {} : { expiresAt }) },
    { tenantId },
  );
}

/** Creates a role without an actor. */
export function role(fixture: Fixture, tenantId: string, definition: RoleDefinition) {
  return fixture.rbac.roles.createAsSystem({ reason: 'test setup' }, definition, { tenantId });
}

/** A store whose policy-version reads are counted. */
export function countingStore(inner: RbacStore = memoryRbacStore()) {
  const counts = { getPolicyVersion: 0, listRoles: 0, listAssignmentsForSubjects: 0 };
  const store: RbacStore = {
    ...inner,
    async getPolicyVersion(tenantId) {
      counts.getPolicyVersion += 1;
      return inner.getPolicyVersion(tenantId);
    },
    async listRoles(tenantId) {
      counts.listRoles += 1;
      return inner.listRoles(tenantId);
    },
    async listAssignmentsForSubjects(tenantId, subjects) {
      counts.listAssignmentsForSubjects += 1;
      return inner.listAssignmentsForSubjects(tenantId, subjects);
    },
  };
  return { store, counts };
}

/** Resolves with the error a promise rejects with (fails when it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<{ code?: string; details?: Record<string, unknown>; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; details?: Record<string, unknown>; message: string };
  }
  throw new Error('expected the promise to reject');
}
