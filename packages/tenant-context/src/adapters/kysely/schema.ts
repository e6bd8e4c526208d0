import type { ColumnType, Selectable } from 'kysely';

/**
 * An integer as a driver hands it back: `pg` returns `bigint` columns as strings, mysql2 as
 * numbers (or strings with `bigNumberStrings`), custom type parsers may return `bigint`.
 * Rows are always converted through `readSafeInteger`, never used raw.
 */
type DatabaseInteger = number | string | bigint;

/** A `bigint` column: epoch milliseconds, versions, counter values. */
type IntegerColumn = ColumnType<DatabaseInteger, number, number>;
type NullableIntegerColumn = ColumnType<DatabaseInteger | null, number | null, number | null>;

/**
 * The tenants table. `settings`, `features` and `limits` are JSON text, which every dialect
 * stores and returns byte for byte (a native JSON type would reorder keys on MySQL and need
 * driver-specific parsing).
 *
 * @example
 * ```ts
 * const row: TenantsTable['slug'] = 'acme';
 * ```
 */
export interface TenantsTable {
  id: string;
  slug: string;
  name: string;
  status: string;
  status_reason: string | null;
  plan: string;
  settings: string;
  features: string;
  limits: string;
  region: string | null;
  created_at: IntegerColumn;
  updated_at: IntegerColumn;
  deleted_at: NullableIntegerColumn;
  version: IntegerColumn;
}

/**
 * The custom domains table; `hostname` is the primary key because a host name belongs to at
 * most one tenant.
 *
 * @example
 * ```ts
 * const column: keyof TenantDomainsTable = 'verification_token';
 * ```
 */
export interface TenantDomainsTable {
  hostname: string;
  tenant_id: string;
  status: string;
  verification_token: string;
  created_at: IntegerColumn;
  verified_at: NullableIntegerColumn;
}

/**
 * The memberships table, keyed by (tenant_id, user_id).
 *
 * @example
 * ```ts
 * const column: keyof MembershipsTable = 'invited_by';
 * ```
 */
export interface MembershipsTable {
  tenant_id: string;
  user_id: string;
  status: string;
  invited_by: string | null;
  created_at: IntegerColumn;
  updated_at: IntegerColumn;
}

/**
 * The onboarding/offboarding runs table; step lists, input, error and artifacts are JSON text.
 * `artifacts` arrived with migration `0002_lifecycle_run_artifacts` and is `null` for a run
 * without artifacts (and for every run written before that migration).
 *
 * @example
 * ```ts
 * const column: keyof LifecycleRunsTable = 'lease_expires_at';
 * ```
 */
export interface LifecycleRunsTable {
  id: string;
  tenant_id: string;
  kind: string;
  state: string;
  completed_steps: string;
  compensated_steps: string;
  input: string;
  error: string | null;
  artifacts: string | null;
  lease_owner: string | null;
  lease_expires_at: NullableIntegerColumn;
  created_at: IntegerColumn;
  updated_at: IntegerColumn;
  version: IntegerColumn;
}

/**
 * The usage counters table, keyed by (tenant_id, resource).
 *
 * @example
 * ```ts
 * const column: keyof UsageCountersTable = 'value';
 * ```
 */
export interface UsageCountersTable {
  tenant_id: string;
  resource: string;
  value: IntegerColumn;
}

/**
 * The Kysely database type of the tenant-context tables, by unprefixed name. Use it to query
 * the tables yourself (reporting, admin tools); the real names carry the table prefix.
 *
 * @example
 * ```ts
 * import type { TenantContextDatabase } from '@tenantkit/tenant-context/kysely';
 *
 * const reporting = db as unknown as Kysely<TenantContextDatabase>;
 * ```
 */
export interface TenantContextDatabase {
  tenants: TenantsTable;
  tenant_domains: TenantDomainsTable;
  memberships: MembershipsTable;
  lifecycle_runs: LifecycleRunsTable;
  usage_counters: UsageCountersTable;
}

/**
 * A row of a tenant-context table as selected.
 *
 * @example
 * ```ts
 * const row: TenantContextRow<'memberships'> = { tenant_id: 't', user_id: 'u', status: 'active', invited_by: null, created_at: '1', updated_at: '1' };
 * ```
 */
export type TenantContextRow<Table extends keyof TenantContextDatabase> = Selectable<TenantContextDatabase[Table]>;

/**
 * The real (prefixed) name of each table, typed as its unprefixed key so queries against
 * `Kysely<TenantContextDatabase>` keep their column types while naming the real table.
 *
 * @example
 * ```ts
 * const tables: TenantContextTableNames = tenantContextTableNames('app_');
 * db.selectFrom(tables.tenants); // FROM "app_tenants"
 * ```
 */
export type TenantContextTableNames = { readonly [Table in keyof TenantContextDatabase]: Table };

/**
 * The table prefix used when none is given.
 *
 * @example
 * ```ts
 * defaultTablePrefix; // 'tenantkit_'
 * ```
 */
export const defaultTablePrefix = 'tenantkit_';

/**
 * The real table names for a prefix.
 *
 * @example
 * ```ts
 * tenantContextTableNames('tenantkit_').memberships; // 'tenantkit_memberships'
 * ```
 */
export function tenantContextTableNames(prefix: string): TenantContextTableNames {
  // The cast is the one place where a real name is typed as its unprefixed key; see the type.
  return Object.freeze({
    tenants: `${prefix}tenants` as 'tenants',
    tenant_domains: `${prefix}tenant_domains` as 'tenant_domains',
    memberships: `${prefix}memberships` as 'memberships',
    lifecycle_runs: `${prefix}lifecycle_runs` as 'lifecycle_runs',
    usage_counters: `${prefix}usage_counters` as 'usage_counters',
  });
}

/**
 * Constraint and index names. They carry the prefix too, because Postgres and SQLite index
 * names share one namespace per schema; suffixes stay short so that a 31-character prefix
 * still fits the 63-character identifier limit of Postgres.
 *
 * @example
 * ```ts
 * tenantContextConstraintNames('tenantkit_').tenantsSlugKey; // 'tenantkit_tenants_slug_key'
 * ```
 */
export function tenantContextConstraintNames(prefix: string) {
  return Object.freeze({
    tenantsPrimaryKey: `${prefix}tenants_pkey`,
    tenantsSlugKey: `${prefix}tenants_slug_key`,
    tenantsCreatedIndex: `${prefix}tenants_created_idx`,
    tenantsStatusIndex: `${prefix}tenants_status_idx`,
    tenantsPlanIndex: `${prefix}tenants_plan_idx`,
    domainsPrimaryKey: `${prefix}tenant_domains_pkey`,
    domainsTenantIndex: `${prefix}tenant_domains_tenant_idx`,
    membershipsPrimaryKey: `${prefix}memberships_pkey`,
    membershipsUserIndex: `${prefix}memberships_user_idx`,
    runsPrimaryKey: `${prefix}lifecycle_runs_pkey`,
    runsTenantIndex: `${prefix}lifecycle_runs_tenant_idx`,
    runsStateIndex: `${prefix}lifecycle_runs_state_idx`,
    runsCreatedIndex: `${prefix}lifecycle_runs_created_idx`,
    countersPrimaryKey: `${prefix}usage_counters_pkey`,
  });
}

/**
 * The migration bookkeeping tables of `migrateTenantContextSchema`, kept apart from the
 * application's own Kysely migration tables.
 *
 * @example
 * ```ts
 * tenantContextMigrationTableNames('tenantkit_').migrationTable; // 'tenantkit_tenant_context_migrations'
 * ```
 */
export function tenantContextMigrationTableNames(prefix: string): { migrationTable: string; migrationLockTable: string } {
  return {
    migrationTable: `${prefix}tenant_context_migrations`,
    migrationLockTable: `${prefix}tenant_context_migrations_lock`,
  };
}

/**
 * The longest value each key-like column holds, in characters. The stores reject longer
 * values with `VALIDATION_FAILED` before they reach the database, because a MySQL server
 * without strict mode would otherwise truncate them silently, which could merge two keys.
 *
 * @example
 * ```ts
 * columnLengths.userId; // 128
 * ```
 */
export const columnLengths = Object.freeze({
  tenantId: 64,
  slug: 64,
  plan: 64,
  region: 64,
  status: 32,
  hostname: 255,
  verificationToken: 255,
  userId: 128,
  runId: 128,
  leaseOwner: 255,
  resource: 64,
});
