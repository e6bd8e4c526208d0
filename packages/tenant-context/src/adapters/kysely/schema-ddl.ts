import { codedErrorFactory } from '@tenantkit/core';
import {
  createTables,
  dropTables,
  integerColumn as integer,
  keyColumn as key,
  labelColumn as label,
  textColumn as text,
  type TableDefinition,
} from '@tenantkit/core/kysely';
import type { Kysely } from 'kysely';
import { TenantContextError } from '../../errors.js';
import { columnLengths, tenantContextConstraintNames, tenantContextTableNames } from './schema.js';
import type { SqlDialect } from './sql-dialect.js';

/*
 * The tables as migration 0001 creates them (later migrations change them in place; 0002 adds
 * `lifecycle_runs.artifacts`, see lifecycle-run-artifacts-column.ts), written once as data and
 * rendered per dialect by `createTables` of @tenantkit/core/kysely (byte-wise keys, `bigint`
 * epoch milliseconds, JSON as text, re-runnable `if not exists` statements):
 * - `t_a` and `t_A` are two tenants; lists sort like JavaScript string comparison.
 * - `tenant_id` leads every key and index of the tenant-owned tables, so the tables can be
 *   distributed by tenant (Citus). Tenants, domains and runs are keyed by their own globally
 *   unique id or host name, which a distributed setup keeps as reference tables.
 */

function tableDefinitions(prefix: string): readonly TableDefinition[] {
  const tables = tenantContextTableNames(prefix);
  const names = tenantContextConstraintNames(prefix);
  return [
    {
      name: tables.tenants,
      columns: [
        { name: 'id', type: key(columnLengths.tenantId) },
        { name: 'slug', type: key(columnLengths.slug) },
        { name: 'name', type: text },
        { name: 'status', type: label(columnLengths.status) },
        { name: 'status_reason', type: text, nullable: true },
        { name: 'plan', type: key(columnLengths.plan) },
        { name: 'settings', type: text },
        { name: 'features', type: text },
        { name: 'limits', type: text },
        { name: 'region', type: label(columnLengths.region), nullable: true },
        { name: 'created_at', type: integer },
        { name: 'updated_at', type: integer },
        { name: 'deleted_at', type: integer, nullable: true },
        { name: 'version', type: integer },
      ],
      primaryKey: { name: names.tenantsPrimaryKey, columns: ['id'] },
      uniqueKeys: [{ name: names.tenantsSlugKey, columns: ['slug'] }],
      indexes: [
        { name: names.tenantsCreatedIndex, columns: ['created_at', 'id'] },
        { name: names.tenantsStatusIndex, columns: ['status', 'created_at', 'id'] },
        { name: names.tenantsPlanIndex, columns: ['plan', 'created_at', 'id'] },
      ],
    },
    {
      name: tables.tenant_domains,
      columns: [
        { name: 'hostname', type: key(columnLengths.hostname) },
        { name: 'tenant_id', type: key(columnLengths.tenantId) },
        { name: 'status', type: label(columnLengths.status) },
        { name: 'verification_token', type: label(columnLengths.verificationToken) },
        { name: 'created_at', type: integer },
        { name: 'verified_at', type: integer, nullable: true },
      ],
      primaryKey: { name: names.domainsPrimaryKey, columns: ['hostname'] },
      uniqueKeys: [],
      indexes: [{ name: names.domainsTenantIndex, columns: ['tenant_id', 'hostname'] }],
    },
    {
      name: tables.memberships,
      columns: [
        { name: 'tenant_id', type: key(columnLengths.tenantId) },
        { name: 'user_id', type: key(columnLengths.userId) },
        { name: 'status', type: label(columnLengths.status) },
        { name: 'invited_by', type: label(columnLengths.userId), nullable: true },
        { name: 'created_at', type: integer },
        { name: 'updated_at', type: integer },
      ],
      primaryKey: { name: names.membershipsPrimaryKey, columns: ['tenant_id', 'user_id'] },
      uniqueKeys: [],
      indexes: [{ name: names.membershipsUserIndex, columns: ['user_id', 'tenant_id'] }],
    },
    {
      name: tables.lifecycle_runs,
      columns: [
        { name: 'id', type: key(columnLengths.runId) },
        { name: 'tenant_id', type: key(columnLengths.tenantId) },
        { name: 'kind', type: label(columnLengths.status) },
        { name: 'state', type: label(columnLengths.status) },
        { name: 'completed_steps', type: text },
        { name: 'compensated_steps', type: text },
        { name: 'input', type: text },
        { name: 'error', type: text, nullable: true },
        { name: 'lease_owner', type: label(columnLengths.leaseOwner), nullable: true },
        { name: 'lease_expires_at', type: integer, nullable: true },
        { name: 'created_at', type: integer },
        { name: 'updated_at', type: integer },
        { name: 'version', type: integer },
      ],
      primaryKey: { name: names.runsPrimaryKey, columns: ['id'] },
      uniqueKeys: [],
      indexes: [
        { name: names.runsTenantIndex, columns: ['tenant_id', 'created_at', 'id'] },
        { name: names.runsStateIndex, columns: ['state', 'created_at', 'id'] },
        { name: names.runsCreatedIndex, columns: ['created_at', 'id'] },
      ],
    },
    {
      name: tables.usage_counters,
      columns: [
        { name: 'tenant_id', type: key(columnLengths.tenantId) },
        { name: 'resource', type: key(columnLengths.resource) },
        { name: 'value', type: integer },
      ],
      primaryKey: { name: names.countersPrimaryKey, columns: ['tenant_id', 'resource'] },
      uniqueKeys: [],
      indexes: [],
    },
  ];
}

export { sqliteVersionSupportsStores } from '@tenantkit/core/kysely';

/**
 * Creates every tenant-context table and index that does not exist yet.
 *
 * @throws TenantContextError `CONFIGURATION_INVALID` on a MySQL server without a NO PAD binary
 *   collation, or on SQLite older than 3.35.0.
 *
 * @example
 * ```ts
 * await createTenantContextTables(db, 'postgres', 'tenantkit_');
 * ```
 */
export async function createTenantContextTables(db: Kysely<any>, dialect: SqlDialect, prefix: string): Promise<void> {
  await createTables(db, dialect, tableDefinitions(prefix), {
    errors: codedErrorFactory(TenantContextError),
    subject: 'tenant-context',
    requireSqliteReturning: true,
  });
}

/**
 * Drops every tenant-context table (and with them their indexes and data).
 *
 * @example
 * ```ts
 * await dropTenantContextTables(db, 'tenantkit_');
 * ```
 */
export async function dropTenantContextTables(db: Kysely<any>, prefix: string): Promise<void> {
  await dropTables(db, tableDefinitions(prefix));
}
