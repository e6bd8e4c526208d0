import type { ColumnType, Selectable } from 'kysely';

/*
 * Integer columns are spelled out as `ColumnType<number | string | bigint, number, number>`
 * (rather than through an alias the docs would not show): `pg` returns `bigint` columns as
 * strings, mysql2 and PGlite as numbers, safe-integer modes as `bigint`. The store converts
 * every one through `readSafeInteger`, never using it raw.
 */

/**
 * The roles table, keyed by `(tenant_id, role_key)`. `tenant_id` is {@link globalRolesTenantKey}
 * (the empty string) for global roles. `rules`, `inherits` and `assignment_policy` are JSON
 * text; `customized` is `0` or `1`.
 *
 * @example
 * ```ts
 * const column: keyof RbacRolesTable = 'assignment_policy';
 * ```
 */
export interface RbacRolesTable {
  tenant_id: string;
  role_key: string;
  name: string;
  description: string;
  rules: string;
  inherits: string;
  assignment_policy: string;
  origin: string;
  customized: ColumnType<number | string | bigint, number, number>;
  version: ColumnType<number | string | bigint, number, number>;
  created_at: ColumnType<number | string | bigint, number, number>;
  updated_at: ColumnType<number | string | bigint, number, number>;
}

/**
 * The groups table, keyed by `(tenant_id, group_id)`. `parent_id` is the empty string for a
 * root group (so `(tenant_id, parent_id, name)` can be a unique key: a `NULL` would make root
 * siblings escape it), and `path` the materialized path `/<rootId>/.../<id>/`.
 *
 * @example
 * ```ts
 * const column: keyof RbacGroupsTable = 'path';
 * ```
 */
export interface RbacGroupsTable {
  tenant_id: string;
  group_id: string;
  name: string;
  parent_id: string;
  path: string;
  created_at: ColumnType<number | string | bigint, number, number>;
  updated_at: ColumnType<number | string | bigint, number, number>;
}

/**
 * Direct group memberships, keyed by `(tenant_id, group_id, user_id)`.
 *
 * @example
 * ```ts
 * const column: keyof RbacGroupMembersTable = 'user_id';
 * ```
 */
export interface RbacGroupMembersTable {
  tenant_id: string;
  group_id: string;
  user_id: string;
  created_at: ColumnType<number | string | bigint, number, number>;
}

/**
 * Role assignments, keyed by `(tenant_id, assignment_id)`, with a unique key on
 * `(tenant_id, subject_type, subject_id, role_key)`: at most one per subject and role.
 *
 * @example
 * ```ts
 * const column: keyof RbacAssignmentsTable = 'expires_at';
 * ```
 */
export interface RbacAssignmentsTable {
  tenant_id: string;
  assignment_id: string;
  subject_type: string;
  subject_id: string;
  role_key: string;
  status: string;
  expires_at: ColumnType<number | string | bigint | null, number | null, number | null>;
  granted_by: string | null;
  approved_by: string | null;
  created_at: ColumnType<number | string | bigint, number, number>;
  updated_at: ColumnType<number | string | bigint, number, number>;
}

/**
 * One policy version per tenant (and one for the global roles, under
 * {@link globalRolesTenantKey}). Every mutation locks its tenant's row first, which
 * serializes a tenant's RBAC writes across processes, and increments it when it changed
 * something.
 *
 * @example
 * ```ts
 * const column: keyof RbacPolicyVersionsTable = 'version';
 * ```
 */
export interface RbacPolicyVersionsTable {
  tenant_id: string;
  version: ColumnType<number | string | bigint, number, number>;
}

/**
 * The Kysely database type of the RBAC tables, by unprefixed name. Use it to query the tables
 * yourself (reporting, admin tools); the real names carry the table prefix.
 *
 * @example
 * ```ts
 * import type { RbacDatabase } from '@tenantkit/rbac/kysely';
 *
 * const reporting = db as unknown as Kysely<RbacDatabase>;
 * ```
 */
export interface RbacDatabase {
  rbac_roles: RbacRolesTable;
  rbac_groups: RbacGroupsTable;
  rbac_group_members: RbacGroupMembersTable;
  rbac_assignments: RbacAssignmentsTable;
  rbac_policy_versions: RbacPolicyVersionsTable;
}

/**
 * A row of an RBAC table as selected.
 *
 * @example
 * ```ts
 * const row: RbacRow<'rbac_policy_versions'> = { tenant_id: 'tnt_1', version: '3' };
 * ```
 */
export type RbacRow<Table extends keyof RbacDatabase> = Selectable<RbacDatabase[Table]>;

/**
 * The real (prefixed) name of each table, typed as its unprefixed key so queries against
 * `Kysely<RbacDatabase>` keep their column types while naming the real table.
 *
 * @example
 * ```ts
 * rbacTableNames('app_').rbac_roles; // 'app_rbac_roles'
 * ```
 */
export type RbacTableNames = { readonly [Table in keyof RbacDatabase]: Table };

/**
 * The table prefix used when none is given (the same as tenant-context's, so all tenantkit
 * tables sort together).
 *
 * @example
 * ```ts
 * defaultRbacTablePrefix; // 'tenantkit_'
 * ```
 */
export const defaultRbacTablePrefix = 'tenantkit_';

/**
 * What `tenant_id` holds for the global roles and their policy version: the empty string,
 * which is no tenant id (every tenantkit tenant id has at least one character, and the store
 * refuses `''` as a tenant id with `VALIDATION_FAILED`). A reserved value rather than `NULL`
 * keeps `tenant_id` a `NOT NULL` column that leads every primary key (Postgres keys cannot
 * hold `NULL`, and unique keys do not make two `NULL`s collide on any dialect).
 *
 * @example
 * ```ts
 * const column = role.tenantId ?? globalRolesTenantKey;
 * ```
 */
export const globalRolesTenantKey = '';

/**
 * The real table names for a prefix.
 *
 * @example
 * ```ts
 * rbacTableNames('tenantkit_').rbac_assignments; // 'tenantkit_rbac_assignments'
 * ```
 */
export function rbacTableNames(prefix: string): RbacTableNames {
  // The one place a real name is typed as its unprefixed key; see RbacTableNames.
  return Object.freeze({
    rbac_roles: `${prefix}rbac_roles` as 'rbac_roles',
    rbac_groups: `${prefix}rbac_groups` as 'rbac_groups',
    rbac_group_members: `${prefix}rbac_group_members` as 'rbac_group_members',
    rbac_assignments: `${prefix}rbac_assignments` as 'rbac_assignments',
    rbac_policy_versions: `${prefix}rbac_policy_versions` as 'rbac_policy_versions',
  });
}

/**
 * Constraint and index names. They carry the prefix because Postgres and SQLite index names
 * share one namespace per schema; suffixes are short enough that a 31-character prefix still
 * fits Postgres' 63-character identifier limit.
 *
 * @example
 * ```ts
 * rbacConstraintNames('tenantkit_').assignmentsSubjectKey; // 'tenantkit_rbac_asg_subject_key'
 * ```
 */
export function rbacConstraintNames(prefix: string) {
  return Object.freeze({
    rolesPrimaryKey: `${prefix}rbac_roles_pkey`,
    groupsPrimaryKey: `${prefix}rbac_groups_pkey`,
    groupsSiblingNameKey: `${prefix}rbac_groups_sibling_key`,
    groupsPathIndex: `${prefix}rbac_groups_path_idx`,
    membersPrimaryKey: `${prefix}rbac_members_pkey`,
    membersUserIndex: `${prefix}rbac_members_user_idx`,
    assignmentsPrimaryKey: `${prefix}rbac_asg_pkey`,
    assignmentsSubjectKey: `${prefix}rbac_asg_subject_key`,
    assignmentsRoleIndex: `${prefix}rbac_asg_role_idx`,
    policyVersionsPrimaryKey: `${prefix}rbac_versions_pkey`,
  });
}

/**
 * The migration bookkeeping tables of `migrateRbacSchema`, apart from the application's own
 * and from tenant-context's.
 *
 * @example
 * ```ts
 * rbacMigrationTableNames('tenantkit_').migrationTable; // 'tenantkit_rbac_migrations'
 * ```
 */
export function rbacMigrationTableNames(prefix: string): { migrationTable: string; migrationLockTable: string } {
  return { migrationTable: `${prefix}rbac_migrations`, migrationLockTable: `${prefix}rbac_migrations_lock` };
}

/**
 * The longest value each bounded column holds, in characters. The store rejects longer values
 * with `VALIDATION_FAILED` before they reach the database, because a MySQL server without
 * strict mode would otherwise truncate them silently, which could merge two keys.
 *
 * @example
 * ```ts
 * rbacColumnLengths.roleKey; // 64
 * ```
 */
export const rbacColumnLengths = Object.freeze({
  tenantId: 64,
  roleKey: 64,
  groupId: 128,
  groupName: 128,
  groupPath: 1024,
  userId: 128,
  assignmentId: 128,
  subjectId: 128,
  label: 16,
});
