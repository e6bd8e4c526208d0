import type { SqlDialect } from '@tenantkit/tenant-context/kysely';
import { codedErrorFactory } from '@tenantkit/core';
import {
  createTables,
  dropTables,
  flagColumn as flag,
  integerColumn as integer,
  keyColumn as key,
  labelColumn,
  textColumn as text,
  type TableDefinition,
} from '@tenantkit/core/kysely';
import type { Kysely } from 'kysely';
import { RbacError } from '../../errors.js';
import { rbacColumnLengths as lengths, rbacConstraintNames, rbacTableNames } from './schema.js';

/*
 * The tables as migration 0001 creates them, written once as data and rendered per dialect by
 * `createTables` of @tenantkit/core/kysely (byte-wise keys, `bigint` epoch milliseconds, JSON as
 * text, re-runnable `if not exists` statements):
 * - Keys, group names and paths compare and sort byte-wise (`Editor` and `editor` are two keys),
 *   which is also what lets a subtree be selected as the path range [`/a/b/`, `/a/b0`).
 * - `tenant_id` leads every key and index, so the tables can be distributed by tenant (Citus)
 *   and every query is a range scan inside one tenant.
 */

const label = labelColumn(lengths.label);

function tableDefinitions(prefix: string): readonly TableDefinition[] {
  const tables = rbacTableNames(prefix);
  const names = rbacConstraintNames(prefix);
  return [
    {
      name: tables.rbac_roles,
      columns: [
        { name: 'tenant_id', type: key(lengths.tenantId) },
        { name: 'role_key', type: key(lengths.roleKey) },
        { name: 'name', type: text },
        { name: 'description', type: text },
        { name: 'rules', type: text },
        { name: 'inherits', type: text },
        { name: 'assignment_policy', type: text },
        { name: 'origin', type: label },
        { name: 'customized', type: flag },
        { name: 'version', type: integer },
        { name: 'created_at', type: integer },
        { name: 'updated_at', type: integer },
      ],
      primaryKey: { name: names.rolesPrimaryKey, columns: ['tenant_id', 'role_key'] },
      uniqueKeys: [],
      indexes: [],
    },
    {
      name: tables.rbac_groups,
      columns: [
        { name: 'tenant_id', type: key(lengths.tenantId) },
        { name: 'group_id', type: key(lengths.groupId) },
        { name: 'name', type: key(lengths.groupName) },
        { name: 'parent_id', type: key(lengths.groupId) },
        { name: 'path', type: key(lengths.groupPath) },
        { name: 'created_at', type: integer },
        { name: 'updated_at', type: integer },
      ],
      primaryKey: { name: names.groupsPrimaryKey, columns: ['tenant_id', 'group_id'] },
      uniqueKeys: [{ name: names.groupsSiblingNameKey, columns: ['tenant_id', 'parent_id', 'name'] }],
      indexes: [{ name: names.groupsPathIndex, columns: ['tenant_id', 'path'], mysqlPrefixLengths: { path: 700 } }],
    },
    {
      name: tables.rbac_group_members,
      columns: [
        { name: 'tenant_id', type: key(lengths.tenantId) },
        { name: 'group_id', type: key(lengths.groupId) },
        { name: 'user_id', type: key(lengths.userId) },
        { name: 'created_at', type: integer },
      ],
      primaryKey: { name: names.membersPrimaryKey, columns: ['tenant_id', 'group_id', 'user_id'] },
      uniqueKeys: [],
      indexes: [{ name: names.membersUserIndex, columns: ['tenant_id', 'user_id', 'group_id'] }],
    },
    {
      name: tables.rbac_assignments,
      columns: [
        { name: 'tenant_id', type: key(lengths.tenantId) },
        { name: 'assignment_id', type: key(lengths.assignmentId) },
        { name: 'subject_type', type: key(lengths.label) },
        { name: 'subject_id', type: key(lengths.subjectId) },
        { name: 'role_key', type: key(lengths.roleKey) },
        { name: 'status', type: label },
        { name: 'expires_at', type: integer, nullable: true },
        { name: 'granted_by', type: key(lengths.userId), nullable: true },
        { name: 'approved_by', type: key(lengths.userId), nullable: true },
        { name: 'created_at', type: integer },
        { name: 'updated_at', type: integer },
      ],
      primaryKey: { name: names.assignmentsPrimaryKey, columns: ['tenant_id', 'assignment_id'] },
      uniqueKeys: [{ name: names.assignmentsSubjectKey, columns: ['tenant_id', 'subject_type', 'subject_id', 'role_key'] }],
      indexes: [{ name: names.assignmentsRoleIndex, columns: ['tenant_id', 'role_key', 'assignment_id'] }],
    },
    {
      name: tables.rbac_policy_versions,
      columns: [
        { name: 'tenant_id', type: key(lengths.tenantId) },
        { name: 'version', type: integer },
      ],
      primaryKey: { name: names.policyVersionsPrimaryKey, columns: ['tenant_id'] },
      uniqueKeys: [],
      indexes: [],
    },
  ];
}

/**
 * Creates every RBAC table and index that does not exist yet.
 *
 * @throws RbacError `CONFIGURATION_INVALID` on a MySQL server without a NO PAD binary collation.
 *
 * @example
 * ```ts
 * await createRbacTables(db, 'postgres', 'tenantkit_');
 * ```
 */
export async function createRbacTables(db: Kysely<any>, dialect: SqlDialect, prefix: string): Promise<void> {
  await createTables(db, dialect, tableDefinitions(prefix), { errors: codedErrorFactory(RbacError), subject: 'RBAC' });
}

/**
 * Drops every RBAC table (and with them their indexes and data).
 *
 * @example
 * ```ts
 * await dropRbacTables(db, 'tenantkit_');
 * ```
 */
export async function dropRbacTables(db: Kysely<any>, prefix: string): Promise<void> {
  await dropTables(db, tableDefinitions(prefix));
}
