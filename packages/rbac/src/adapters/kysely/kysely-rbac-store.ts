import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { RoleAssignment } from '../../assignments/role-assignment.js';
import { RbacError } from '../../errors.js';
import type { Group } from '../../groups/group.js';
import type { AssignmentPage, DeleteGroupOutcome, InsertAssignmentOutcome, MoveGroupOutcome, RbacStore } from '../../store.js';
import { decodeAssignmentCursor, encodeAssignmentCursor } from './assignment-cursor.js';
import { readSafeInteger } from './column-values.js';
import { runStoreOperation } from './database-errors.js';
import { resolveKyselyRbacContext, type KyselyRbacContext, type KyselyRbacStoreOptions } from './kysely-rbac-store-context.js';
import {
  assertAssignmentLimits,
  assertSafeIntegerArgument,
  assertStorableApprover,
  assertStorableAssignment,
  assertStorableGroup,
  assertStorableGroupMember,
  assertStorableGroupName,
  assertStorableRole,
  assertStringArgument,
  assertSubjects,
  roleTenantKey,
  tenantKey,
} from './record-schemas.js';
import { assignmentFromRow, assignmentToRow, groupFromRow, groupMemberFromRow, roleFromRow, roleToRow } from './row-mappers.js';
import { rbacColumnLengths, type RbacDatabase } from './schema.js';
import { runLockedTenantOperation, runTenantMutation } from './tenant-mutation.js';

type RbacKysely = Kysely<RbacDatabase>;

/** The largest page `listAssignments` returns. */
const MAX_PAGE_SIZE = 500;

/** What `parent_id` holds for a root group (see `RbacGroupsTable`). */
const ROOT_PARENT = '';

/**
 * The exclusive upper end of the paths in the subtree under `path` (which ends with `/`): with
 * byte-wise ordering, exactly the strings starting with `/a/b/` sort in [`/a/b/`, `/a/b0`).
 * A range rather than LIKE, because SQLite's LIKE ignores ASCII case and ids may hold `%`/`_`.
 */
function subtreeUpperBound(path: string): string {
  return `${path.slice(0, -1)}0`;
}

/** Characters as SQL's `length`/`substr` count them (code points, not UTF-16 units). */
function codePointLength(text: string): number {
  return [...text].length;
}

/**
 * The {@link RbacStore} over an already resolved context.
 *
 * @example
 * ```ts
 * const store = createKyselyRbacStore(resolveKyselyRbacContext(db, undefined, 'kyselyRbacStore'));
 * ```
 */
export function createKyselyRbacStore(context: KyselyRbacContext): RbacStore {
  const { db, dialect, tables } = context;
  const roles = tables.rbac_roles;
  const groups = tables.rbac_groups;
  const members = tables.rbac_group_members;
  const assignments = tables.rbac_assignments;
  const versions = tables.rbac_policy_versions;

  async function findGroup(executor: RbacKysely, tenant: string, groupId: string): Promise<Group | null> {
    const row = await executor.selectFrom(groups).selectAll().where('tenant_id', '=', tenant).where('group_id', '=', groupId).executeTakeFirst();
    return row === undefined ? null : groupFromRow(row);
  }

  /** Whether another group under the same parent has `name`. */
  async function siblingNameTaken(executor: RbacKysely, tenant: string, parentId: string | null, name: string, groupId: string): Promise<boolean> {
    const row = await executor
      .selectFrom(groups)
      .select('group_id')
      .where('tenant_id', '=', tenant)
      .where('parent_id', '=', parentId ?? ROOT_PARENT)
      .where('name', '=', name)
      .where('group_id', '<>', groupId)
      .executeTakeFirst();
    return row !== undefined;
  }

  async function findAssignment(executor: RbacKysely, tenant: string, assignmentId: string): Promise<RoleAssignment | null> {
    const row = await executor
      .selectFrom(assignments)
      .selectAll()
      .where('tenant_id', '=', tenant)
      .where('assignment_id', '=', assignmentId)
      .executeTakeFirst();
    return row === undefined ? null : assignmentFromRow(row);
  }

  function replacePathPrefix(oldPath: string, newPath: string) {
    const rest = sql`substr(${sql.ref('path')}, ${codePointLength(oldPath) + 1})`;
    return dialect === 'mysql' ? sql<string>`concat(${newPath}, ${rest})` : sql<string>`${newPath} || ${rest}`;
  }

  return {
    async getRole(tenantId, key) {
      const tenant = roleTenantKey(tenantId);
      assertStringArgument(key, 'key');
      const row = await runStoreOperation('getRole', () =>
        db.selectFrom(roles).selectAll().where('tenant_id', '=', tenant).where('role_key', '=', key).executeTakeFirst(),
      );
      return row === undefined ? null : roleFromRow(row);
    },

    async listRoles(tenantId) {
      const tenant = roleTenantKey(tenantId);
      const rows = await runStoreOperation('listRoles', () =>
        db.selectFrom(roles).selectAll().where('tenant_id', '=', tenant).orderBy('role_key').execute(),
      );
      return rows.map(roleFromRow);
    },

    async insertRole(role) {
      assertStorableRole(role);
      const row = roleToRow(role);
      return runTenantMutation(context, row.tenant_id, 'insertRole', async (trx) => {
        const existing = await trx
          .selectFrom(roles)
          .select('role_key')
          .where('tenant_id', '=', row.tenant_id)
          .where('role_key', '=', row.role_key)
          .executeTakeFirst();
        if (existing !== undefined) return { changed: false, result: false };
        await trx.insertInto(roles).values(row).execute();
        return { changed: true, result: true };
      });
    },

    async updateRole(role, expectedVersion) {
      assertStorableRole(role);
      assertSafeIntegerArgument(expectedVersion, 'expectedVersion');
      // Every update moves the version by exactly one; anything else would break
      // compare-and-set for every other writer.
      if (role.version !== expectedVersion + 1) {
        throw new RbacError('VALIDATION_FAILED', 'The new version must be the expected version plus one', {
          details: { version: role.version, expectedVersion },
        });
      }
      const { tenant_id, role_key, created_at: _createdAt, ...columns } = roleToRow(role);
      return runTenantMutation(context, tenant_id, 'updateRole', async (trx) => {
        // Decided by this read under the tenant's lock, not by the affected-row count, which a
        // MySQL client without FOUND_ROWS reports as 0 for an update that rewrites equal values.
        const current = await trx
          .selectFrom(roles)
          .select('version')
          .where('tenant_id', '=', tenant_id)
          .where('role_key', '=', role_key)
          .executeTakeFirst();
        if (current === undefined || readSafeInteger(current.version, 'version') !== expectedVersion) {
          return { changed: false, result: false };
        }
        await trx
          .updateTable(roles)
          .set(columns)
          .where('tenant_id', '=', tenant_id)
          .where('role_key', '=', role_key)
          .where('version', '=', expectedVersion)
          .execute();
        return { changed: true, result: true };
      });
    },

    async deleteRole(tenantId, key) {
      const tenant = roleTenantKey(tenantId);
      assertStringArgument(key, 'key');
      return runTenantMutation(context, tenant, 'deleteRole', async (trx) => {
        const removed = await trx.deleteFrom(roles).where('tenant_id', '=', tenant).where('role_key', '=', key).executeTakeFirst();
        if (removed.numDeletedRows === 0n) return { changed: false, result: false };
        await trx.deleteFrom(assignments).where('tenant_id', '=', tenant).where('role_key', '=', key).execute();
        return { changed: true, result: true };
      });
    },

    async insertGroup(group) {
      assertStorableGroup(group);
      const tenant = tenantKey(group.tenantId);
      return runTenantMutation(context, tenant, 'insertGroup', async (trx) => {
        if ((await findGroup(trx, tenant, group.id)) !== null) return { changed: false, result: false };
        if (await siblingNameTaken(trx, tenant, group.parentId, group.name, group.id)) return { changed: false, result: false };
        await trx
          .insertInto(groups)
          .values({
            tenant_id: tenant,
            group_id: group.id,
            name: group.name,
            parent_id: group.parentId ?? ROOT_PARENT,
            path: group.path,
            created_at: group.createdAt,
            updated_at: group.updatedAt,
          })
          .execute();
        return { changed: true, result: true };
      });
    },

    async getGroup(tenantId, groupId) {
      const tenant = tenantKey(tenantId);
      assertStringArgument(groupId, 'groupId');
      return runStoreOperation('getGroup', () => findGroup(db, tenant, groupId));
    },

    async listGroups(tenantId) {
      const tenant = tenantKey(tenantId);
      const rows = await runStoreOperation('listGroups', () =>
        db.selectFrom(groups).selectAll().where('tenant_id', '=', tenant).orderBy('path').orderBy('group_id').execute(),
      );
      return rows.map(groupFromRow);
    },

    async renameGroup(tenantId, groupId, name, updatedAt) {
      const tenant = tenantKey(tenantId);
      assertStringArgument(groupId, 'groupId');
      assertStorableGroupName(name);
      assertSafeIntegerArgument(updatedAt, 'updatedAt');
      return runTenantMutation(context, tenant, 'renameGroup', async (trx) => {
        const group = await findGroup(trx, tenant, groupId);
        if (group === null || (await siblingNameTaken(trx, tenant, group.parentId, name, groupId))) return { changed: false, result: false };
        await trx
          .updateTable(groups)
          .set({ name, updated_at: updatedAt })
          .where('tenant_id', '=', tenant)
          .where('group_id', '=', groupId)
          .execute();
        return { changed: true, result: true };
      });
    },

    async moveGroup(tenantId, groupId, newParentId, updatedAt): Promise<MoveGroupOutcome> {
      const tenant = tenantKey(tenantId);
      assertStringArgument(groupId, 'groupId');
      if (newParentId !== null) assertStringArgument(newParentId, 'newParentId');
      assertSafeIntegerArgument(updatedAt, 'updatedAt');
      return runTenantMutation(context, tenant, 'moveGroup', async (trx) => {
        const unchanged = (result: MoveGroupOutcome) => ({ changed: false, result });
        const group = await findGroup(trx, tenant, groupId);
        if (group === null) return unchanged('not-found');
        let parentPath = '/';
        if (newParentId !== null) {
          const parent = await findGroup(trx, tenant, newParentId);
          if (parent === null) return unchanged('parent-not-found');
          // The group itself, or anything below it, as the new parent would close a loop.
          if (parent.path.startsWith(group.path)) return unchanged('cycle');
          parentPath = parent.path;
        }
        if (await siblingNameTaken(trx, tenant, newParentId, group.name, groupId)) return unchanged('name-taken');

        const oldPath = group.path;
        const newPath = `${parentPath}${groupId}/`;
        if (newPath !== oldPath) {
          const subtree = await trx
            .selectFrom(groups)
            .select('path')
            .where('tenant_id', '=', tenant)
            .where('path', '>=', oldPath)
            .where('path', '<', subtreeUpperBound(oldPath))
            .execute();
          const growth = codePointLength(newPath) - codePointLength(oldPath);
          const longest = subtree.reduce((length, row) => Math.max(length, codePointLength(String(row.path))), 0);
          if (longest + growth > rbacColumnLengths.groupPath) {
            throw new RbacError(
              'VALIDATION_FAILED',
              `Moving the group would make a path longer than ${rbacColumnLengths.groupPath} characters`,
              { details: { groupId } },
            );
          }
          // One statement rewrites the whole subtree, the group's own path included.
          await trx
            .updateTable(groups)
            .set({ path: replacePathPrefix(oldPath, newPath) })
            .where('tenant_id', '=', tenant)
            .where('path', '>=', oldPath)
            .where('path', '<', subtreeUpperBound(oldPath))
            .execute();
        }
        await trx
          .updateTable(groups)
          .set({ parent_id: newParentId ?? ROOT_PARENT, updated_at: updatedAt })
          .where('tenant_id', '=', tenant)
          .where('group_id', '=', groupId)
          .execute();
        return { changed: true, result: 'moved' as const };
      });
    },

    async deleteGroup(tenantId, groupId): Promise<DeleteGroupOutcome> {
      const tenant = tenantKey(tenantId);
      assertStringArgument(groupId, 'groupId');
      return runTenantMutation(context, tenant, 'deleteGroup', async (trx) => {
        if ((await findGroup(trx, tenant, groupId)) === null) return { changed: false, result: 'not-found' as const };
        const child = await trx
          .selectFrom(groups)
          .select('group_id')
          .where('tenant_id', '=', tenant)
          .where('parent_id', '=', groupId)
          .limit(1)
          .executeTakeFirst();
        if (child !== undefined) return { changed: false, result: 'has-children' as const };
        await trx.deleteFrom(members).where('tenant_id', '=', tenant).where('group_id', '=', groupId).execute();
        await trx
          .deleteFrom(assignments)
          .where('tenant_id', '=', tenant)
          .where('subject_type', '=', 'group')
          .where('subject_id', '=', groupId)
          .execute();
        await trx.deleteFrom(groups).where('tenant_id', '=', tenant).where('group_id', '=', groupId).execute();
        return { changed: true, result: 'deleted' as const };
      });
    },

    async addGroupMember(member) {
      assertStorableGroupMember(member);
      const tenant = tenantKey(member.tenantId);
      return runTenantMutation(context, tenant, 'addGroupMember', async (trx) => {
        if ((await findGroup(trx, tenant, member.groupId)) === null) return { changed: false, result: false };
        const existing = await trx
          .selectFrom(members)
          .select('user_id')
          .where('tenant_id', '=', tenant)
          .where('group_id', '=', member.groupId)
          .where('user_id', '=', member.userId)
          .executeTakeFirst();
        if (existing !== undefined) return { changed: false, result: false };
        await trx
          .insertInto(members)
          .values({ tenant_id: tenant, group_id: member.groupId, user_id: member.userId, created_at: member.createdAt })
          .execute();
        return { changed: true, result: true };
      });
    },

    async removeGroupMember(tenantId, groupId, userId) {
      const tenant = tenantKey(tenantId);
      assertStringArgument(groupId, 'groupId');
      assertStringArgument(userId, 'userId');
      return runTenantMutation(context, tenant, 'removeGroupMember', async (trx) => {
        const removed = await trx
          .deleteFrom(members)
          .where('tenant_id', '=', tenant)
          .where('group_id', '=', groupId)
          .where('user_id', '=', userId)
          .executeTakeFirst();
        const existed = removed.numDeletedRows > 0n;
        return { changed: existed, result: existed };
      });
    },

    async listGroupMembers(tenantId, groupId) {
      const tenant = tenantKey(tenantId);
      assertStringArgument(groupId, 'groupId');
      const rows = await runStoreOperation('listGroupMembers', () =>
        db.selectFrom(members).selectAll().where('tenant_id', '=', tenant).where('group_id', '=', groupId).orderBy('user_id').execute(),
      );
      return rows.map(groupMemberFromRow);
    },

    async listUserGroups(tenantId, userId) {
      const tenant = tenantKey(tenantId);
      assertStringArgument(userId, 'userId');
      const rows = await runStoreOperation('listUserGroups', () =>
        db
          .selectFrom(groups)
          .selectAll(groups)
          .where('tenant_id', '=', tenant)
          .where('group_id', 'in', (eb) =>
            eb.selectFrom(members).select('group_id').where('tenant_id', '=', tenant).where('user_id', '=', userId),
          )
          .orderBy('path')
          .orderBy('group_id')
          .execute(),
      );
      return rows.map(groupFromRow);
    },

    async insertAssignment(assignment, limits): Promise<InsertAssignmentOutcome> {
      assertStorableAssignment(assignment);
      assertAssignmentLimits(limits);
      const tenant = tenantKey(assignment.tenantId);
      const { maxAssignments, now } = limits;
      return runTenantMutation(context, tenant, 'insertAssignment', async (trx) => {
        const unchanged = (result: InsertAssignmentOutcome) => ({ changed: false, result });
        const sameGrant = await trx
          .selectFrom(assignments)
          .select(['assignment_id', 'expires_at'])
          .where('tenant_id', '=', tenant)
          .where('subject_type', '=', assignment.subjectType)
          .where('subject_id', '=', assignment.subjectId)
          .where('role_key', '=', assignment.roleKey)
          .executeTakeFirst();
        const expiresAt = sameGrant === undefined ? null : sameGrant.expires_at === null ? null : readSafeInteger(sameGrant.expires_at, 'expires_at');
        if (sameGrant !== undefined && (expiresAt === null || expiresAt > now)) return unchanged('duplicate');
        const replaced = sameGrant?.assignment_id ?? null;
        // An id that is taken by any other assignment is a duplicate too (ids are never reused).
        if (replaced !== assignment.id && (await findAssignment(trx, tenant, assignment.id)) !== null) return unchanged('duplicate');
        if (maxAssignments !== null) {
          const counted = await trx
            .selectFrom(assignments)
            .select((eb) => eb.fn.countAll().as('count'))
            .where('tenant_id', '=', tenant)
            .where('role_key', '=', assignment.roleKey)
            .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
            .executeTakeFirstOrThrow();
          if (readSafeInteger(counted.count, 'count') >= maxAssignments) return unchanged('limit-reached');
        }
        if (replaced !== null) {
          await trx.deleteFrom(assignments).where('tenant_id', '=', tenant).where('assignment_id', '=', replaced).execute();
        }
        await trx.insertInto(assignments).values(assignmentToRow(assignment)).execute();
        return { changed: true, result: 'inserted' as const };
      });
    },

    async getAssignment(tenantId, assignmentId) {
      const tenant = tenantKey(tenantId);
      assertStringArgument(assignmentId, 'assignmentId');
      return runStoreOperation('getAssignment', () => findAssignment(db, tenant, assignmentId));
    },

    async approveAssignment(tenantId, assignmentId, approvedBy, updatedAt) {
      const tenant = tenantKey(tenantId);
      assertStringArgument(assignmentId, 'assignmentId');
      assertStorableApprover(approvedBy);
      assertSafeIntegerArgument(updatedAt, 'updatedAt');
      return runTenantMutation(context, tenant, 'approveAssignment', async (trx) => {
        const current = await findAssignment(trx, tenant, assignmentId);
        if (current === null || current.status !== 'pending') return { changed: false, result: null };
        await trx
          .updateTable(assignments)
          .set({ status: 'active', approved_by: approvedBy, updated_at: updatedAt })
          .where('tenant_id', '=', tenant)
          .where('assignment_id', '=', assignmentId)
          .execute();
        const approved: RoleAssignment = { ...current, status: 'active', approvedBy, updatedAt };
        return { changed: true, result: approved };
      });
    },

    async deleteAssignment(tenantId, assignmentId) {
      const tenant = tenantKey(tenantId);
      assertStringArgument(assignmentId, 'assignmentId');
      return runTenantMutation(context, tenant, 'deleteAssignment', async (trx) => {
        const current = await findAssignment(trx, tenant, assignmentId);
        if (current === null) return { changed: false, result: null };
        await trx.deleteFrom(assignments).where('tenant_id', '=', tenant).where('assignment_id', '=', assignmentId).execute();
        return { changed: true, result: current };
      });
    },

    async listAssignmentsForSubjects(tenantId, subjects) {
      const tenant = tenantKey(tenantId);
      assertSubjects(subjects);
      const userIds = [...new Set(subjects.filter((subject) => subject.type === 'user').map((subject) => subject.id))];
      const groupIds = [...new Set(subjects.filter((subject) => subject.type === 'group').map((subject) => subject.id))];
      if (userIds.length === 0 && groupIds.length === 0) return [];
      const rows = await runStoreOperation('listAssignmentsForSubjects', () =>
        db
          .selectFrom(assignments)
          .selectAll()
          .where('tenant_id', '=', tenant)
          .where(({ eb, or, and }) =>
            or([
              ...(userIds.length > 0 ? [and([eb('subject_type', '=', 'user'), eb('subject_id', 'in', userIds)])] : []),
              ...(groupIds.length > 0 ? [and([eb('subject_type', '=', 'group'), eb('subject_id', 'in', groupIds)])] : []),
            ]),
          )
          .orderBy('assignment_id')
          .execute(),
      );
      return rows.map(assignmentFromRow);
    },

    async listAssignments(tenantId, query): Promise<AssignmentPage> {
      const tenant = tenantKey(tenantId);
      if (typeof query !== 'object' || query === null || !Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_PAGE_SIZE) {
        throw new RbacError('VALIDATION_FAILED', `A page size must be a whole number from 1 to ${MAX_PAGE_SIZE}`, {
          details: { limit: String((query as { limit?: unknown } | null)?.limit) },
        });
      }
      const afterId = query.cursor === undefined ? null : decodeAssignmentCursor(query.cursor);
      if (query.roleKey !== undefined) assertStringArgument(query.roleKey, 'roleKey');
      if (query.subject !== undefined) assertSubjects([query.subject]);
      if (query.status !== undefined && query.status !== 'active' && query.status !== 'pending') {
        throw new RbacError('VALIDATION_FAILED', "status must be 'active' or 'pending'", { details: { argument: 'status' } });
      }
      const rows = await runStoreOperation('listAssignments', () => {
        let select = db.selectFrom(assignments).selectAll().where('tenant_id', '=', tenant);
        if (query.roleKey !== undefined) select = select.where('role_key', '=', query.roleKey);
        if (query.subject !== undefined) {
          select = select.where('subject_type', '=', query.subject.type).where('subject_id', '=', query.subject.id);
        }
        if (query.status !== undefined) select = select.where('status', '=', query.status);
        if (afterId !== null) select = select.where('assignment_id', '>', afterId);
        // One row more than asked tells whether another page follows.
        return select.orderBy('assignment_id').limit(query.limit + 1).execute();
      });
      const items = rows.slice(0, query.limit).map(assignmentFromRow);
      const last = items.at(-1);
      return { items, nextCursor: rows.length > query.limit && last !== undefined ? encodeAssignmentCursor(last.id) : null };
    },

    async deleteUserGrants(tenantId, userId) {
      const tenant = tenantKey(tenantId);
      assertStringArgument(userId, 'userId');
      return runTenantMutation(context, tenant, 'deleteUserGrants', async (trx) => {
        const removedAssignments = await trx
          .deleteFrom(assignments)
          .where('tenant_id', '=', tenant)
          .where('subject_type', '=', 'user')
          .where('subject_id', '=', userId)
          .executeTakeFirst();
        const removedMemberships = await trx.deleteFrom(members).where('tenant_id', '=', tenant).where('user_id', '=', userId).executeTakeFirst();
        const result = { assignments: Number(removedAssignments.numDeletedRows), groupMemberships: Number(removedMemberships.numDeletedRows) };
        return { changed: result.assignments + result.groupMemberships > 0, result };
      });
    },

    async deleteTenantData(tenantId) {
      const tenant = tenantKey(tenantId);
      await runLockedTenantOperation(context, tenant, 'deleteTenantData', async (trx) => {
        for (const table of [members, assignments, groups, roles] as const) {
          await trx.deleteFrom(table).where('tenant_id', '=', tenant).execute();
        }
        await trx.deleteFrom(versions).where('tenant_id', '=', tenant).execute();
      });
    },

    async getPolicyVersion(tenantId) {
      const tenant = roleTenantKey(tenantId);
      const row = await runStoreOperation('getPolicyVersion', () =>
        db.selectFrom(versions).select('version').where('tenant_id', '=', tenant).executeTakeFirst(),
      );
      return row === undefined ? 0 : readSafeInteger(row.version, 'version');
    },
  };
}

/**
 * An {@link RbacStore} on a Kysely instance: roles, groups, memberships and assignments in SQL
 * tables (PostgreSQL, PGlite, MySQL/MariaDB, SQLite through better-sqlite3), with `tenant_id`
 * leading every key. Create the tables first with `migrateRbacSchema(db)` (or run
 * `rbacMigrations(dialect)` with your own Kysely `Migrator`).
 *
 * Every mutation is one transaction that first locks the tenant's row of the policy versions
 * table, so the store's check-then-write operations (assignment duplicates and limits,
 * compare-and-set role updates, moves with their cycle check, sibling names) hold across any
 * number of processes, and the version moves in the same transaction when something changed.
 * Global roles (`tenantId: null`) are stored under the tenant id `''`, which the store refuses
 * as a real tenant id. Queries run without the plugins of `db`; use `tablePrefix` (or the
 * connection's `search_path`) to place the tables. Pass a Kysely transaction to make the
 * store's writes part of it.
 *
 * @throws RbacError `CONFIGURATION_INVALID` for invalid options or an unrecognized dialect.
 *
 * @example
 * ```ts
 * import { Kysely, PostgresDialect } from 'kysely';
 * import pg from 'pg';
 * import { kyselyRbacStore, migrateRbacSchema } from '@tenantkit/rbac/kysely';
 *
 * const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString }) }) });
 * await migrateRbacSchema(db);
 * const store = kyselyRbacStore(db);
 * await store.getPolicyVersion('tnt_1'); // 0
 * ```
 */
export function kyselyRbacStore(db: Kysely<any>, options?: KyselyRbacStoreOptions): RbacStore {
  return createKyselyRbacStore(resolveKyselyRbacContext(db, options, 'kyselyRbacStore'));
}
