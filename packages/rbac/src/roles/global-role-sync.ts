import { RbacError } from '../errors.js';
import type { RbacEventActor } from '../events/rbac-events.js';
import type { RbacServiceContext } from '../authorizer/rbac-service-context.js';
import { resolveTenantId } from '../authorizer/tenant-target.js';
import { canonicalJson } from '../rules/canonical-json.js';
import { assertAcyclic } from './role-graph.js';
import type { ParsedRoleDefinition } from './role-definition.js';
import type { Role, RoleOrigin } from './role.js';

/**
 * What seeding or a global role sync did in one tenant, by role key: `created`, `updated` (the
 * tenant copy differed from its source), `unchanged`, and `skipped` — a role the tenant owns
 * (a `custom` role with the same key, or a seeded/synced role it has `customized`), which is
 * never overwritten.
 *
 * @example
 * ```ts
 * const report: RoleSyncReport = { tenantId: 'tnt_1', created: ['auditor'], updated: [], unchanged: ['viewer'], skipped: [] };
 * ```
 */
export interface RoleSyncReport {
  readonly tenantId: string;
  readonly created: readonly string[];
  readonly updated: readonly string[];
  readonly unchanged: readonly string[];
  readonly skipped: readonly string[];
}

/**
 * The outcome of `rbac.syncGlobalRoles`: one report per tenant, in the order given.
 *
 * @example
 * ```ts
 * const { tenants } = await rbac.syncGlobalRoles({ tenantIds: ['tnt_1', 'tnt_2'] });
 * tenants[0]?.created; // ['auditor']
 * ```
 */
export interface GlobalRoleSyncReport {
  readonly tenants: readonly RoleSyncReport[];
}

/** Compare-and-set rounds before a managed write gives up with `STORE_CONFLICT`. */
const MANAGED_WRITE_ATTEMPTS = 5;

function content(role: Pick<Role, 'name' | 'description' | 'rules' | 'inherits' | 'assignment'>): string {
  return canonicalJson({ name: role.name, description: role.description, rules: role.rules, inherits: role.inherits, assignment: role.assignment });
}

/**
 * Writes roles the library manages into a tenant — seeded defaults (`origin: 'system'`) or
 * copies of global roles (`origin: 'global'`) — idempotently: a missing role is created, an
 * uncustomized copy of the same origin is brought in line, anything else is left alone. The
 * inheritance of the result is checked first (every inherited key exists, no cycle), so a
 * failed write leaves the tenant as it was.
 *
 * @throws `ROLE_INVALID` (an inherited role missing), `ROLE_INHERITANCE_CYCLE`, `STORE_CONFLICT`
 *   when the tenant's roles keep changing underneath.
 * @example
 * ```ts
 * const report = await writeManagedRoles(context, 'tnt_1', definitions, 'system', actor);
 * ```
 */
export async function writeManagedRoles(
  context: RbacServiceContext,
  tenantId: string,
  definitions: readonly ParsedRoleDefinition[],
  origin: Exclude<RoleOrigin, 'custom'>,
  actor: RbacEventActor,
): Promise<RoleSyncReport> {
  const { store, clock, events } = context;
  const report = { tenantId, created: [] as string[], updated: [] as string[], unchanged: [] as string[], skipped: [] as string[] };
  const current = new Map((await store.listRoles(tenantId)).map((role) => [role.key, role]));

  // The tenant as it will be, for the inheritance checks.
  const planned = new Map(current);
  for (const definition of definitions) {
    const existing = current.get(definition.key);
    if (existing === undefined || (existing.origin === origin && !existing.customized)) {
      planned.set(definition.key, { ...(existing ?? ({} as Role)), ...definition });
    }
  }
  for (const definition of definitions) {
    const role = planned.get(definition.key) as Role;
    const unknown = role.inherits.filter((key) => !planned.has(key));
    if (unknown.length > 0) {
      throw new RbacError('ROLE_INVALID', `Role "${role.key}" inherits roles the tenant lacks: ${unknown.join(', ')}`, {
        details: { tenantId, key: role.key, unknownInherits: unknown },
      });
    }
  }
  assertAcyclic(planned);

  for (const definition of definitions) {
    for (let attempt = 1; ; attempt += 1) {
      const existing = attempt === 1 ? (current.get(definition.key) ?? null) : await store.getRole(tenantId, definition.key);
      const now = clock.now();
      if (existing === null) {
        const role: Role = { tenantId, ...definition, origin, customized: false, version: 1, createdAt: now, updatedAt: now };
        if (await store.insertRole(role)) {
          report.created.push(role.key);
          events.emit('role.created', { role, actor });
          break;
        }
      } else if (existing.origin !== origin || existing.customized) {
        report.skipped.push(existing.key);
        break;
      } else if (content(existing) === content(definition)) {
        report.unchanged.push(existing.key);
        break;
      } else {
        const role: Role = { ...existing, ...definition, version: existing.version + 1, updatedAt: now };
        if (await store.updateRole(role, existing.version)) {
          report.updated.push(role.key);
          events.emit('role.updated', { role, previous: existing, actor });
          break;
        }
      }
      if (attempt >= MANAGED_WRITE_ATTEMPTS) {
        throw new RbacError('STORE_CONFLICT', `Role "${definition.key}" kept changing while it was written; try again`, {
          details: { tenantId, key: definition.key },
        });
      }
    }
  }
  if (report.created.length > 0 || report.updated.length > 0) await context.afterChange(tenantId);
  return report;
}

/**
 * Copies every global role (`tenantId: null`) into each tenant as `origin: 'global'`: see
 * `writeManagedRoles` for what is created, updated, left unchanged or skipped. Safe to
 * run again at any time. Tenants are synced one after the other; a failure stops the sync with
 * the tenants before it done.
 *
 * @example
 * ```ts
 * const report = await syncGlobalRoles(context, ['tnt_1', 'tnt_2']);
 * ```
 */
export async function syncGlobalRoles(context: RbacServiceContext, tenantIds: readonly string[]): Promise<GlobalRoleSyncReport> {
  if (!Array.isArray(tenantIds)) throw new RbacError('VALIDATION_FAILED', 'syncGlobalRoles takes { tenantIds: string[] }');
  // Each id is checked against the scope too: a tenant's request must not rewrite other tenants.
  for (const tenantId of tenantIds) resolveTenantId(tenantId);
  const globals = await context.store.listRoles(null);
  const definitions: ParsedRoleDefinition[] = globals.map((role) => ({
    key: role.key,
    name: role.name,
    description: role.description,
    rules: [...role.rules],
    inherits: [...role.inherits],
    assignment: role.assignment,
  }));
  const actor: RbacEventActor = { type: 'system', reason: 'global role sync' };
  const tenants: RoleSyncReport[] = [];
  for (const tenantId of new Set(tenantIds)) tenants.push(await writeManagedRoles(context, tenantId, definitions, 'global', actor));
  return { tenants };
}
