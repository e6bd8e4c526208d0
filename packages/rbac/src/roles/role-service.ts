import { currentTenantId } from '@tenantkit/tenant-context';
import { z } from 'zod';
import { effectiveRoleRules, grantRefusal, managementPermissions, requireActorPermission, throwRefusal } from '../assignments/assignment-policy.js';
import { principalEventActor, systemEventActor, type RbacServiceContext, type SystemActor, type TenantOption } from '../authorizer/rbac-service-context.js';
import { resolveTenantId } from '../authorizer/tenant-target.js';
import { checkPrincipal } from '../authorizer/principal-identity.js';
import { RbacError } from '../errors.js';
import type { RbacEventActor } from '../events/rbac-events.js';
import type { RbacPrincipal } from '../principal.js';
import { parseOrThrow } from '../rules/parse-or-throw.js';
import { parseRoleDefinition, roleKeySchema, type ParsedRoleDefinition } from './role-definition.js';
import { assertAcyclic } from './role-graph.js';
import type { Role, RoleDefinition } from './role.js';

/**
 * The fields of a role an update may change; omitted fields keep their value. `assignment` is
 * merged into the current policy.
 *
 * @example
 * ```ts
 * const changes: RoleChanges = { permissions: ['docs:*', '!docs:delete'], assignment: { requiresApproval: true } };
 * ```
 */
export type RoleChanges = Partial<Omit<RoleDefinition, 'key'>>;

/**
 * Options of a role update or deletion: the tenant, and the version the caller last read
 * (compare-and-set: `STORE_CONFLICT` when the role changed since).
 *
 * @example
 * ```ts
 * await rbac.roles.update(actor, 'editor', changes, { expectedVersion: role.version });
 * ```
 */
export interface RoleWriteOptions extends TenantOption {
  readonly expectedVersion?: number;
}

/**
 * The tenant of a system role operation: a tenant id, or `null` for the global roles (the
 * templates `rbac.syncGlobalRoles` copies into tenants).
 *
 * @example
 * ```ts
 * await rbac.roles.createAsSystem({ reason: 'policy sync' }, definition, { tenantId: null });
 * ```
 */
export interface SystemRoleOptions {
  readonly tenantId?: string | null;
  readonly expectedVersion?: number;
}

/**
 * Roles of a tenant. Every operation with an actor checks the actor's permissions in that
 * tenant: `roles:read` to read, `roles:manage` to write — and an actor can only write a role
 * within their own power: they must hold every allow rule the role grants (inherited ones
 * included) before and after the change, so nobody creates, widens or strips a role carrying
 * permissions they lack, not even one they hold themselves. Touching a restricted role also
 * needs `roles:assign-restricted`. Editing a seeded (`system`) or synced (`global`) role marks it
 * `customized`, so later seeding and syncs leave it alone.
 *
 * @example
 * ```ts
 * const editor = await rbac.roles.create(admin, { key: 'editor', name: 'Editor', permissions: ['docs:*'] });
 * await rbac.roles.update(admin, 'editor', { permissions: ['docs:*', '!docs:delete'] }, { expectedVersion: editor.version });
 * ```
 */
export interface RoleService {
  /** @throws `PERMISSION_DENIED` without `roles:read` */
  get(actor: RbacPrincipal, key: string, options?: TenantOption): Promise<Role | null>;
  /** Every role of the tenant, by key. @throws `PERMISSION_DENIED` without `roles:read` */
  list(actor: RbacPrincipal, options?: TenantOption): Promise<Role[]>;
  /**
   * @throws `PERMISSION_DENIED` (without `roles:manage`, or with `details.permission` a rule the
   *   actor does not hold), `ROLE_INVALID`, `ROLE_ALREADY_EXISTS`, `ROLE_INHERITANCE_CYCLE`,
   *   `PERMISSION_INVALID`, `CONDITION_INVALID`
   */
  create(actor: RbacPrincipal, definition: RoleDefinition, options?: TenantOption): Promise<Role>;
  /** @throws as `create`, plus `ROLE_NOT_FOUND` and `STORE_CONFLICT` (the version moved) */
  update(actor: RbacPrincipal, key: string, changes: RoleChanges, options?: RoleWriteOptions): Promise<Role>;
  /**
   * Deletes a role and every assignment of it. A role other roles inherit cannot be deleted
   * (`ROLE_INVALID` with `details.inheritedBy`).
   * @throws `PERMISSION_DENIED`, `ROLE_NOT_FOUND`, `ROLE_INVALID`, `STORE_CONFLICT`
   */
  delete(actor: RbacPrincipal, key: string, options?: RoleWriteOptions): Promise<Role>;
  /** `create` without an actor (no permission checks); `tenantId: null` writes a global role. */
  createAsSystem(system: SystemActor, definition: RoleDefinition, options?: SystemRoleOptions): Promise<Role>;
  /** `update` without an actor. */
  updateAsSystem(system: SystemActor, key: string, changes: RoleChanges, options?: SystemRoleOptions): Promise<Role>;
  /** `delete` without an actor. */
  deleteAsSystem(system: SystemActor, key: string, options?: SystemRoleOptions): Promise<Role>;
}

type RoleActor =
  | { readonly type: 'principal'; readonly principal: RbacPrincipal; readonly event: RbacEventActor }
  | { readonly type: 'system'; readonly event: RbacEventActor };

const changesSchema = z.strictObject({
  name: z.unknown().optional(),
  description: z.unknown().optional(),
  permissions: z.unknown().optional(),
  inherits: z.unknown().optional(),
  assignment: z.record(z.string(), z.unknown()).optional(),
});
const expectedVersionSchema = z.int().min(1).optional();

/**
 * Creates the {@link RoleService} of `createRbac`.
 *
 * @example
 * ```ts
 * const roles = createRoleService(context);
 * ```
 */
export function createRoleService(context: RbacServiceContext): RoleService {
  const { store, clock, authorizer, events } = context;

  function checkKey(key: unknown): string {
    return parseOrThrow(roleKeySchema, key, 'ROLE_INVALID', 'role key');
  }

  function checkExpectedVersion(options: { readonly expectedVersion?: number } | undefined): number | undefined {
    return parseOrThrow(expectedVersionSchema, options?.expectedVersion, 'VALIDATION_FAILED', 'expectedVersion');
  }

  function systemTenant(options: SystemRoleOptions | undefined): string | null {
    if (options?.tenantId !== null) return resolveTenantId(options?.tenantId);
    if (currentTenantId() !== undefined) {
      throw new RbacError('TENANT_SCOPE_CONFLICT', 'Global roles are not written from inside a tenant scope');
    }
    return null;
  }

  function principalActor(actor: RbacPrincipal): RoleActor {
    const principal = checkPrincipal(actor);
    return { type: 'principal', principal, event: principalEventActor(principal) };
  }

  async function rolesByKey(tenantId: string | null): Promise<Map<string, Role>> {
    return new Map((await store.listRoles(tenantId)).map((role) => [role.key, role]));
  }

  /** Refuses a write the actor could not have made: see {@link RoleService}. */
  async function guardWrite(actor: RoleActor, tenantId: string | null, touched: readonly { role: Role; roles: ReadonlyMap<string, Role> }[]) {
    if (actor.type === 'system') return;
    // Principals only ever act within a tenant; resolveTenantId made sure of it.
    const permissions = await requireActorPermission(authorizer, actor.principal, tenantId as string, managementPermissions.manageRoles);
    for (const { role, roles } of touched) {
      const refusal = grantRefusal(permissions, role, effectiveRoleRules(roles, role.key), { toSelf: false });
      if (refusal !== null) throwRefusal('PERMISSION_DENIED', refusal);
    }
  }

  function checkInherited(parsed: ParsedRoleDefinition, roles: ReadonlyMap<string, Role>): void {
    const unknown = parsed.inherits.filter((key) => !roles.has(key));
    if (unknown.length > 0) {
      throw new RbacError('ROLE_INVALID', `Role "${parsed.key}" inherits unknown roles: ${unknown.join(', ')}`, {
        details: { unknownInherits: unknown },
      });
    }
  }

  async function createRole(actor: RoleActor, tenantId: string | null, definition: RoleDefinition): Promise<Role> {
    const parsed = parseRoleDefinition(definition);
    if (actor.type === 'principal') await requireActorPermission(authorizer, actor.principal, tenantId as string, managementPermissions.manageRoles);
    const roles = await rolesByKey(tenantId);
    if (roles.has(parsed.key)) throw new RbacError('ROLE_ALREADY_EXISTS', `Role "${parsed.key}" exists`, { details: { key: parsed.key } });
    checkInherited(parsed, roles);
    const now = clock.now();
    const role: Role = { tenantId, ...parsed, origin: 'custom', customized: false, version: 1, createdAt: now, updatedAt: now };
    roles.set(role.key, role);
    assertAcyclic(roles);
    await guardWrite(actor, tenantId, [{ role, roles }]);
    if (!(await store.insertRole(role))) {
      throw new RbacError('ROLE_ALREADY_EXISTS', `Role "${parsed.key}" exists`, { details: { key: parsed.key } });
    }
    await context.afterChange(tenantId);
    events.emit('role.created', { role, actor: actor.event });
    return role;
  }

  async function loadForWrite(tenantId: string | null, key: string, expectedVersion: number | undefined) {
    const roles = await rolesByKey(tenantId);
    const stored = roles.get(key);
    if (stored === undefined) throw new RbacError('ROLE_NOT_FOUND', `Role "${key}" does not exist`, { details: { key } });
    if (expectedVersion !== undefined && stored.version !== expectedVersion) {
      throw new RbacError('STORE_CONFLICT', `Role "${key}" changed since version ${expectedVersion}`, {
        details: { key, expectedVersion, version: stored.version },
      });
    }
    return { roles, stored };
  }

  async function updateRole(actor: RoleActor, tenantId: string | null, rawKey: string, changes: RoleChanges, options: SystemRoleOptions | undefined) {
    const key = checkKey(rawKey);
    const expectedVersion = checkExpectedVersion(options);
    const checked = parseOrThrow(changesSchema, changes, 'ROLE_INVALID', 'role changes');
    if (actor.type === 'principal') await requireActorPermission(authorizer, actor.principal, tenantId as string, managementPermissions.manageRoles);
    const { roles, stored } = await loadForWrite(tenantId, key, expectedVersion);
    const parsed = parseRoleDefinition({
      key,
      name: (checked.name ?? stored.name) as string,
      description: (checked.description ?? stored.description) as string,
      permissions: (checked.permissions ?? stored.rules) as RoleDefinition['permissions'],
      inherits: (checked.inherits ?? stored.inherits) as string[],
      assignment: { ...stored.assignment, ...checked.assignment },
    });
    checkInherited(parsed, roles);
    const role: Role = {
      ...stored,
      ...parsed,
      customized: stored.customized || stored.origin !== 'custom',
      version: stored.version + 1,
      updatedAt: clock.now(),
    };
    const after = new Map(roles).set(key, role);
    assertAcyclic(after);
    await guardWrite(actor, tenantId, [
      { role: stored, roles },
      { role, roles: after },
    ]);
    if (!(await store.updateRole(role, stored.version))) {
      throw new RbacError('STORE_CONFLICT', `Role "${key}" changed meanwhile; read it again`, { details: { key } });
    }
    await context.afterChange(tenantId);
    events.emit('role.updated', { role, previous: stored, actor: actor.event });
    return role;
  }

  async function deleteRole(actor: RoleActor, tenantId: string | null, rawKey: string, options: SystemRoleOptions | undefined) {
    const key = checkKey(rawKey);
    const expectedVersion = checkExpectedVersion(options);
    if (actor.type === 'principal') await requireActorPermission(authorizer, actor.principal, tenantId as string, managementPermissions.manageRoles);
    const { roles, stored } = await loadForWrite(tenantId, key, expectedVersion);
    const inheritedBy = [...roles.values()].filter((role) => role.inherits.includes(key)).map((role) => role.key);
    if (inheritedBy.length > 0) {
      throw new RbacError('ROLE_INVALID', `Role "${key}" is inherited by ${inheritedBy.join(', ')}; change those first`, {
        details: { key, inheritedBy },
      });
    }
    await guardWrite(actor, tenantId, [{ role: stored, roles }]);
    if (!(await store.deleteRole(tenantId, key))) throw new RbacError('ROLE_NOT_FOUND', `Role "${key}" does not exist`, { details: { key } });
    await context.afterChange(tenantId);
    events.emit('role.deleted', { role: stored, actor: actor.event });
    return stored;
  }

  return {
    async get(actor, key, options) {
      const tenantId = resolveTenantId(options?.tenantId);
      const checkedKey = checkKey(key);
      await requireActorPermission(authorizer, checkPrincipal(actor), tenantId, managementPermissions.readRoles);
      return store.getRole(tenantId, checkedKey);
    },
    async list(actor, options) {
      const tenantId = resolveTenantId(options?.tenantId);
      await requireActorPermission(authorizer, checkPrincipal(actor), tenantId, managementPermissions.readRoles);
      return store.listRoles(tenantId);
    },
    async create(actor, definition, options) {
      return createRole(principalActor(actor), resolveTenantId(options?.tenantId), definition);
    },
    async update(actor, key, changes, options) {
      return updateRole(principalActor(actor), resolveTenantId(options?.tenantId), key, changes, options);
    },
    async delete(actor, key, options) {
      return deleteRole(principalActor(actor), resolveTenantId(options?.tenantId), key, options);
    },
    async createAsSystem(system, definition, options) {
      return createRole({ type: 'system', event: systemEventActor(system) }, systemTenant(options), definition);
    },
    async updateAsSystem(system, key, changes, options) {
      return updateRole({ type: 'system', event: systemEventActor(system) }, systemTenant(options), key, changes, options);
    },
    async deleteAsSystem(system, key, options) {
      return deleteRole({ type: 'system', event: systemEventActor(system) }, systemTenant(options), key, options);
    },
  };
}
