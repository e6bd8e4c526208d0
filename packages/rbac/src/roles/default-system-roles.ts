import { z } from 'zod';
import type { RbacServiceContext } from '../authorizer/rbac-service-context.js';
import { resolveTenantId } from '../authorizer/tenant-target.js';
import { parseOrThrow } from '../rules/parse-or-throw.js';
import { writeManagedRoles, type RoleSyncReport } from './global-role-sync.js';
import { parseRoleDefinition } from './role-definition.js';
import type { RoleChanges } from './role-service.js';
import type { RoleDefinition } from './role.js';

/**
 * The key of a default system role.
 *
 * @example
 * ```ts
 * const key: DefaultSystemRoleKey = 'viewer';
 * ```
 */
export type DefaultSystemRoleKey = 'tenant_admin' | 'user_manager' | 'content_manager' | 'viewer';

/**
 * The roles `rbac.seedDefaultRoles` seeds into a tenant as `origin: 'system'`:
 * - `tenant_admin`: everything (`*`);
 * - `user_manager`: members, groups, reading roles and assigning them (only roles within the
 *   manager's own permissions, as for everyone);
 * - `content_manager`: `content:*`;
 * - `viewer`: every `read` and `list` action.
 *
 * Nobody hands out (or takes away) a permission they lack, so as seeded a `user_manager` can
 * assign and revoke only `user_manager` itself: it holds neither `*:read` / `*:list` (`viewer`)
 * nor `content:*` (`content_manager`), and certainly not `*` (`tenant_admin`). That is on
 * purpose — a manager who may give out `viewer` must be able to read everything themselves.
 * Seed an override that says so (see the second example); the same goes for `content:*`.
 *
 * @example
 * ```ts
 * defaultSystemRoles.map((role) => role.key); // ['tenant_admin', 'user_manager', 'content_manager', 'viewer']
 * ```
 * @example
 * A user manager who may also hand out `viewer`:
 * ```ts
 * await rbac.seedDefaultRoles('tnt_1', {
 *   overrides: { user_manager: { permissions: ['members:*', 'roles:read', 'roles:assign', 'groups:*', '*:read', '*:list'] } },
 * });
 * ```
 */
export const defaultSystemRoles: readonly RoleDefinition[] = Object.freeze([
  Object.freeze({
    key: 'tenant_admin',
    name: 'Tenant admin',
    description: 'Every permission in the tenant.',
    permissions: Object.freeze(['*']),
  }),
  Object.freeze({
    key: 'user_manager',
    name: 'User manager',
    description: 'Manages members and groups and assigns roles within their own permissions.',
    permissions: Object.freeze(['members:*', 'roles:read', 'roles:assign', 'groups:*']),
  }),
  Object.freeze({
    key: 'content_manager',
    name: 'Content manager',
    description: 'Every action on content.',
    permissions: Object.freeze(['content:*']),
  }),
  Object.freeze({
    key: 'viewer',
    name: 'Viewer',
    description: 'Reads and lists everything.',
    permissions: Object.freeze(['*:read', '*:list']),
  }),
] satisfies readonly (RoleDefinition & { key: DefaultSystemRoleKey })[]);

/**
 * Options of `rbac.seedDefaultRoles`. `overrides` changes a default role before it is
 * seeded (fields as in {@link RoleChanges}; `assignment` merges) or, with `false`, leaves it out.
 *
 * @example
 * ```ts
 * await rbac.seedDefaultRoles('tnt_1', {
 *   overrides: { content_manager: { permissions: ['content:*', 'media:*'] }, user_manager: false },
 * });
 * ```
 */
export interface SeedDefaultRolesOptions {
  readonly overrides?: Partial<Record<DefaultSystemRoleKey, RoleChanges | false>>;
}

const overridesSchema = z
  .strictObject({
    overrides: z
      .strictObject({
        tenant_admin: z.union([z.literal(false), z.record(z.string(), z.unknown())]).optional(),
        user_manager: z.union([z.literal(false), z.record(z.string(), z.unknown())]).optional(),
        content_manager: z.union([z.literal(false), z.record(z.string(), z.unknown())]).optional(),
        viewer: z.union([z.literal(false), z.record(z.string(), z.unknown())]).optional(),
      })
      .optional(),
  })
  .optional();

/**
 * Seeds the {@link defaultSystemRoles} (with `overrides` applied) into a tenant. Idempotent: a
 * missing role is created, an uncustomized seeded role is brought in line with the
 * definitions, and a role the tenant created or customized under the same key is left alone
 * (`skipped`).
 *
 * @throws `VALIDATION_FAILED` for unknown override keys; `ROLE_INVALID`, `PERMISSION_INVALID`,
 *   `CONDITION_INVALID`, `ROLE_INHERITANCE_CYCLE` for invalid overrides.
 * @example
 * ```ts
 * const report = await seedDefaultRoles(context, 'tnt_1', {});
 * report.created; // ['tenant_admin', 'user_manager', 'content_manager', 'viewer']
 * ```
 */
export async function seedDefaultRoles(
  context: RbacServiceContext,
  tenantId: string,
  options: SeedDefaultRolesOptions | undefined,
): Promise<RoleSyncReport> {
  const target = resolveTenantId(tenantId);
  const overrides = (parseOrThrow(overridesSchema, options, 'VALIDATION_FAILED', 'seed options')?.overrides ?? {}) as Partial<
    Record<DefaultSystemRoleKey, RoleChanges | false>
  >;
  const definitions = [];
  for (const role of defaultSystemRoles) {
    const override = overrides[role.key as DefaultSystemRoleKey];
    if (override === false) continue;
    definitions.push(
      parseRoleDefinition(
        override === undefined
          ? role
          : ({
              ...role,
              ...override,
              key: role.key,
              assignment: { ...role.assignment, ...override.assignment },
            } as RoleDefinition),
      ),
    );
  }
  return writeManagedRoles(context, target, definitions, 'system', { type: 'system', reason: 'seed default roles' });
}
