import { isTenantkitError } from '@tenantkit/core';
import { createInProcessInvalidationChannel, createRbac, type InvalidationChannel } from '@tenantkit/rbac';
import { kyselyRbacStore, migrateRbacSchema } from '@tenantkit/rbac/kysely';
import { redisInvalidationChannel } from '@tenantkit/rbac/redis';
import type { TenantEventBus, TenantLifecycle } from '@tenantkit/tenant-context';
import type { Redis } from 'ioredis';
import type { Kysely } from 'kysely';

/**
 * Creating an API key and revoking the keys one created (an ownership condition on the key's
 * `createdBy`). A key never holds more than its creator (auth checks every scope against the
 * creator's permissions), so a viewer can mint read-only keys for a dashboard, never a key
 * that writes.
 */
const ownApiKeys = ['api-keys:create', { permission: 'api-keys:revoke', condition: { self: 'resource.createdBy' } }] as const;

/**
 * How the example changes the default system roles before seeding them into each new tenant:
 * its only content is projects, so `content_manager` reads and creates every project but may
 * rename or delete only the projects it created (an ownership condition on the project's
 * `createdBy`); `content_manager` and `viewer` may create API keys (within their own
 * permissions) and revoke the keys they created. `tenant_admin` (`*`) manages every key of the
 * tenant; `user_manager` is kept as it is.
 */
export const exampleRoleOverrides = {
  content_manager: {
    name: 'Content manager',
    description: 'Reads and creates projects; renames and deletes the projects they created; creates API keys and revokes their own.',
    permissions: [
      'projects:read',
      'projects:list',
      'projects:create',
      { permission: 'projects:update', condition: { self: 'resource.createdBy' } },
      { permission: 'projects:delete', condition: { self: 'resource.createdBy' } },
      'api-keys:list',
      ...ownApiKeys,
    ],
  },
  viewer: {
    name: 'Viewer',
    description: 'Reads and lists everything; creates read-only API keys and revokes their own.',
    permissions: ['*:read', '*:list', ...ownApiKeys],
  },
} as const;

/** What {@link createExampleRbac} wires rbac to. */
export interface ExampleRbacOptions {
  /** The plain (plugin-free) handle: the rbac store names its tenants itself. */
  db: Kysely<any>;
  /** With Redis, every process of the app hears of a policy change at once. */
  redis: Redis | undefined;
  /** The Redis key prefix of the example (`<prefix>rbac:invalidate` is the pub/sub channel). */
  redisKeyPrefix: string;
  events: TenantEventBus;
  lifecycle: TenantLifecycle<any>;
}

/**
 * Roles and permission checks on the example's own database: the rbac tables are migrated next
 * to tenant-context's and the projects table, every new tenant gets the default roles and its
 * creator `tenant_admin` during onboarding, offboarding deletes the tenant's rbac data, and a
 * removed member loses their grants.
 */
export async function createExampleRbac(options: ExampleRbacOptions) {
  const { db, redis, events, lifecycle } = options;
  await migrateRbacSchema(db);
  const store = kyselyRbacStore(db);
  // One app process holds one rbac instance, whose own changes already drop its cache; the
  // channel matters once several processes run, which needs Redis. The in-process channel
  // keeps the wiring the same without it (and serves several instances in one process, in tests).
  const invalidation: InvalidationChannel =
    redis === undefined
      ? createInProcessInvalidationChannel()
      : redisInvalidationChannel({ publisher: redis, channel: `${options.redisKeyPrefix}rbac:invalidate` });
  const rbac = createRbac({ store, invalidation });

  /**
   * Gives a user a role in a tenant as a system grant (no actor, so no assignment policy; the
   * reason is recorded in the `assignment.created` event). Idempotent: a grant that exists is
   * left as it is, so resumed onboarding runs and repeated demo seeding are safe.
   */
  async function grantRoleAsSystem(tenantId: string, userId: string, roleKey: string, reason: string): Promise<void> {
    try {
      await rbac.assignments.assignAsSystem({ reason }, { subject: { type: 'user', id: userId }, roleKey, reason }, { tenantId });
    } catch (error) {
      if (!isTenantkitError(error, 'ASSIGNMENT_ALREADY_EXISTS')) throw error;
    }
  }

  // Onboarding: the default roles first, then the creator's grant. Both run in the
  // seed-defaults phase (before the admin membership is created; a grant does not need it).
  // If onboarding rolls back, the roles step's compensation deletes all of the tenant's rbac
  // data, this grant included.
  lifecycle.useOnboardingStep('seed-defaults', rbac.defaultRolesOnboardingStep({ overrides: exampleRoleOverrides }));
  lifecycle.useOnboardingStep('seed-defaults', {
    name: 'rbac-tenant-admin',
    run: ({ tenantId, input }) =>
      grantRoleAsSystem(tenantId, input.adminUserId, 'tenant_admin', 'onboarding: the user who created the tenant is its first admin'),
  });
  lifecycle.useOffboardingStep('delete-data', rbac.tenantDataCleanupStep());
  const stopListening = rbac.listenToMembershipEvents(events);

  async function close(): Promise<void> {
    stopListening();
    await rbac.close();
    await invalidation.close();
  }

  return {
    rbac,
    /** The store itself, for seeding and for tests that check what is stored. */
    store,
    grantRoleAsSystem,
    /** Seeds (or brings up to date) the example's default roles in a tenant; idempotent. */
    seedRoles: (tenantId: string) => rbac.seedDefaultRoles(tenantId, { overrides: exampleRoleOverrides }),
    close,
  };
}

export type ExampleRbac = Awaited<ReturnType<typeof createExampleRbac>>;
