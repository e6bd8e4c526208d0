import { sql, type Kysely, type RawBuilder } from 'kysely';
import { detectSqlDialect } from '../../adapters/kysely/sql-dialect.js';
import { TenantContextError } from '../../errors.js';
import {
  assertIdentifier,
  assertRoleNames,
  assertSettingName,
  qualifiedTableName,
  rowLevelSecurityDefaults,
} from './row-level-security-names.js';

/**
 * The SQL types a tenant column may have. The setting is text; for other types the policy casts
 * it, so with `'uuid'` every tenant id must be a UUID.
 *
 * @example
 * ```ts
 * const type: TenantColumnType = 'uuid';
 * ```
 */
export type TenantColumnType = 'text' | 'uuid' | 'bigint' | 'integer';

const tenantColumnTypes: ReadonlySet<string> = new Set<TenantColumnType>(['text', 'uuid', 'bigint', 'integer']);

/**
 * Options of {@link enableTenantRowLevelSecurity}.
 *
 * @example
 * ```ts
 * const options: TenantRowLevelSecurityOptions = { table: 'projects', tenantColumn: 'tenant_id', bypass: true };
 * ```
 */
export interface TenantRowLevelSecurityOptions {
  /** The table, by its exact name. */
  table: string;
  /** Its schema; default: whatever `search_path` resolves the name to. */
  schema?: string;
  /** The column holding the tenant id; default `'tenant_id'`. */
  tenantColumn?: string;
  /** The column's type, so the policy casts the text setting to it; default `'text'`. */
  tenantColumnType?: TenantColumnType;
  /** The setting the policy reads; default `'app.tenant_id'` (the handle's `tenantSetting`). */
  tenantSetting?: string;
  /**
   * Also make the tenant column default to the tenant in scope, so inserts need not name it:
   * `DEFAULT nullif(current_setting('app.tenant_id', true), '')`. Outside a tenant scope the
   * default is NULL, which a `NOT NULL` column refuses. Default `false`.
   */
  tenantColumnDefault?: boolean;
  /** The roles the tenant policy applies to; default PUBLIC (every role that is not exempt). */
  roles?: readonly string[];
  /**
   * Also create the bypass policy for system units of work (`true` for the defaults). It passes
   * every row while the bypass setting is `'on'`, which only `systemUnitOfWork()` sets. Any
   * statement of a role the policy applies to can set it too, so for defence against SQL
   * injection limit it to a separate jobs role with `roles`. Default `false`; running the helper
   * again without it drops an existing bypass policy.
   */
  bypass?: boolean | { setting?: string; roles?: readonly string[] };
}

/**
 * Options of {@link disableTenantRowLevelSecurity}.
 *
 * @example
 * ```ts
 * const options: DisableTenantRowLevelSecurityOptions = { table: 'projects', tenantColumnDefault: true };
 * ```
 */
export interface DisableTenantRowLevelSecurityOptions {
  /** The table, by its exact name. */
  table: string;
  /** Its schema; default: whatever `search_path` resolves the name to. */
  schema?: string;
  /** The tenant column, whose default is dropped when `tenantColumnDefault` is `true`; default `'tenant_id'`. */
  tenantColumn?: string;
  /** Drop the tenant column's default as well (undo `tenantColumnDefault`). Default `false`. */
  tenantColumnDefault?: boolean;
}

interface ResolvedEnableOptions {
  readonly target: RawBuilder<unknown>;
  readonly label: string;
  readonly tenantColumn: string;
  readonly tenantColumnType: TenantColumnType;
  readonly tenantSetting: string;
  readonly tenantColumnDefault: boolean;
  readonly roles: readonly string[] | undefined;
  readonly bypass: { readonly setting: string; readonly roles: readonly string[] | undefined } | undefined;
}

/**
 * Turns on row-level security for one tenant table, for use inside a Kysely migration (run as
 * the role that owns the table, never as the application role):
 *
 * ```sql
 * ALTER TABLE projects ENABLE ROW LEVEL SECURITY;
 * ALTER TABLE projects FORCE ROW LEVEL SECURITY;   -- the owner is subject to it too
 * CREATE POLICY tenantkit_tenant_isolation ON projects AS PERMISSIVE FOR ALL TO PUBLIC
 *   USING (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')))
 *   WITH CHECK (tenant_id = (SELECT nullif(current_setting('app.tenant_id', true), '')));
 * -- with { bypass: true }:
 * CREATE POLICY tenantkit_system_bypass ON projects AS PERMISSIVE FOR ALL TO PUBLIC
 *   USING (current_setting('app.tenantkit_bypass', true) = 'on') WITH CHECK (...same...);
 * ```
 *
 * Without a tenant set, `current_setting(..., true)` is NULL (or empty after an earlier
 * transaction on the session), which matches no row: the table fails closed. `WITH CHECK` makes
 * inserts and updates that would write another tenant's id fail (`TENANT_ISOLATION_VIOLATION`
 * through the row-level security handle). The setting sits in a scalar subquery so Postgres
 * evaluates it once per statement, and an index on the tenant column still applies.
 *
 * The helper is idempotent: it replaces its own policies, so running it again with other options
 * updates them. It runs in the migration's transaction, or in one of its own when given a root
 * Kysely instance, so a failure leaves the table as it was. Grant the application role its table
 * privileges yourself (and no `TRUNCATE`, which row-level security does not cover).
 *
 * @throws TenantContextError `CONFIGURATION_INVALID` for invalid options or a dialect other than
 *   Postgres (before any SQL); `TENANT_MIGRATION_FAILED` when Postgres refuses a statement
 *   (a missing table or column, not the owner), with the driver error as `cause`.
 * @example
 * ```ts
 * export const migration: Migration = {
 *   async up(db) {
 *     await db.schema.createTable('projects')
 *       .addColumn('tenant_id', 'text', (col) => col.notNull())
 *       .addColumn('id', 'text', (col) => col.notNull())
 *       .addColumn('name', 'text', (col) => col.notNull())
 *       .addPrimaryKeyConstraint('projects_pkey', ['tenant_id', 'id'])
 *       .execute();
 *     await enableTenantRowLevelSecurity(db, { table: 'projects', tenantColumnDefault: true, bypass: true });
 *     await sql`grant select, insert, update, delete on projects to app_user`.execute(db);
 *   },
 *   async down(db) {
 *     await disableTenantRowLevelSecurity(db, { table: 'projects', tenantColumnDefault: true });
 *   },
 * };
 * ```
 */
export async function enableTenantRowLevelSecurity(db: Kysely<any>, options: TenantRowLevelSecurityOptions): Promise<void> {
  assertPostgresKysely(db, 'enableTenantRowLevelSecurity()');
  const resolved = resolveEnableOptions(options);
  const { target, tenantColumn, tenantSetting, tenantColumnType } = resolved;
  const settingValue = sql`nullif(current_setting(${sql.lit(tenantSetting)}, true), '')`;
  const typedSetting = tenantColumnType === 'text' ? settingValue : sql`${settingValue}::${sql.raw(tenantColumnType)}`;
  const tenantPredicate = sql`${sql.id(tenantColumn)} = (select ${typedSetting})`;
  const tenantPolicy = sql.id(rowLevelSecurityDefaults.tenantPolicy);
  const bypassPolicy = sql.id(rowLevelSecurityDefaults.bypassPolicy);

  await runDdl(db, `Enabling row-level security on ${resolved.label}`, async (trx) => {
    await sql`alter table ${target} enable row level security`.execute(trx);
    await sql`alter table ${target} force row level security`.execute(trx);
    await sql`drop policy if exists ${tenantPolicy} on ${target}`.execute(trx);
    await sql`create policy ${tenantPolicy} on ${target} as permissive for all to ${policyRoles(resolved.roles)} using (${tenantPredicate}) with check (${tenantPredicate})`.execute(
      trx,
    );
    await sql`comment on policy ${tenantPolicy} on ${target} is ${sql.lit(
      `@tenantkit/tenant-context: rows of the tenant in ${tenantSetting} only`,
    )}`.execute(trx);
    await sql`drop policy if exists ${bypassPolicy} on ${target}`.execute(trx);
    if (resolved.bypass !== undefined) {
      const bypassPredicate = sql`current_setting(${sql.lit(resolved.bypass.setting)}, true) = 'on'`;
      await sql`create policy ${bypassPolicy} on ${target} as permissive for all to ${policyRoles(resolved.bypass.roles)} using (${bypassPredicate}) with check (${bypassPredicate})`.execute(
        trx,
      );
      await sql`comment on policy ${bypassPolicy} on ${target} is ${sql.lit(
        `@tenantkit/tenant-context: every row while ${resolved.bypass.setting} is on (audited system units of work)`,
      )}`.execute(trx);
    }
    if (resolved.tenantColumnDefault) {
      await sql`alter table ${target} alter column ${sql.id(tenantColumn)} set default ${typedSetting}`.execute(trx);
    }
  });
}

/**
 * The inverse of {@link enableTenantRowLevelSecurity}, for a migration's `down`: drops the
 * tenant and bypass policies, then `NO FORCE` and `DISABLE ROW LEVEL SECURITY`, so the table is
 * no longer filtered for anybody (other policies stay defined but unenforced). With
 * `tenantColumnDefault: true` it also drops the tenant column's default.
 *
 * @throws TenantContextError `CONFIGURATION_INVALID` for invalid options; `TENANT_MIGRATION_FAILED`
 *   when Postgres refuses a statement.
 * @example
 * ```ts
 * async down(db) {
 *   await disableTenantRowLevelSecurity(db, { table: 'projects' });
 * }
 * ```
 */
export async function disableTenantRowLevelSecurity(db: Kysely<any>, options: DisableTenantRowLevelSecurityOptions): Promise<void> {
  assertPostgresKysely(db, 'disableTenantRowLevelSecurity()');
  if (typeof options !== 'object' || options === null) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'disableTenantRowLevelSecurity() needs options with a table');
  }
  assertIdentifier(options.table, 'table');
  if (options.schema !== undefined) assertIdentifier(options.schema, 'schema');
  const tenantColumn = options.tenantColumn ?? rowLevelSecurityDefaults.tenantColumn;
  assertIdentifier(tenantColumn, 'tenantColumn');
  const tenantColumnDefault = options.tenantColumnDefault ?? false;
  assertBoolean(tenantColumnDefault, 'tenantColumnDefault');
  const target = tableIdentifier(options.table, options.schema);
  const label = qualifiedTableName(options.table, options.schema);

  await runDdl(db, `Disabling row-level security on ${label}`, async (trx) => {
    await sql`drop policy if exists ${sql.id(rowLevelSecurityDefaults.tenantPolicy)} on ${target}`.execute(trx);
    await sql`drop policy if exists ${sql.id(rowLevelSecurityDefaults.bypassPolicy)} on ${target}`.execute(trx);
    await sql`alter table ${target} no force row level security`.execute(trx);
    await sql`alter table ${target} disable row level security`.execute(trx);
    if (tenantColumnDefault) {
      await sql`alter table ${target} alter column ${sql.id(tenantColumn)} drop default`.execute(trx);
    }
  });
}

function resolveEnableOptions(options: TenantRowLevelSecurityOptions): ResolvedEnableOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'enableTenantRowLevelSecurity() needs options with a table');
  }
  assertIdentifier(options.table, 'table');
  if (options.schema !== undefined) assertIdentifier(options.schema, 'schema');
  const tenantColumn = options.tenantColumn ?? rowLevelSecurityDefaults.tenantColumn;
  assertIdentifier(tenantColumn, 'tenantColumn');
  const tenantColumnType = options.tenantColumnType ?? 'text';
  if (typeof tenantColumnType !== 'string' || !tenantColumnTypes.has(tenantColumnType)) {
    throw new TenantContextError('CONFIGURATION_INVALID', `tenantColumnType must be one of ${[...tenantColumnTypes].join(', ')}`);
  }
  const tenantSetting = options.tenantSetting ?? rowLevelSecurityDefaults.tenantSetting;
  assertSettingName(tenantSetting, 'tenantSetting');
  const tenantColumnDefault = options.tenantColumnDefault ?? false;
  assertBoolean(tenantColumnDefault, 'tenantColumnDefault');
  if (options.roles !== undefined) assertRoleNames(options.roles, 'roles');

  let bypass: ResolvedEnableOptions['bypass'];
  const requested = options.bypass ?? false;
  if (requested === true) {
    bypass = { setting: rowLevelSecurityDefaults.bypassSetting, roles: undefined };
  } else if (typeof requested === 'object' && requested !== null) {
    const setting = requested.setting ?? rowLevelSecurityDefaults.bypassSetting;
    assertSettingName(setting, 'bypass.setting');
    if (requested.roles !== undefined) assertRoleNames(requested.roles, 'bypass.roles');
    bypass = { setting, roles: requested.roles };
  } else if (requested !== false) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'bypass must be a boolean or { setting?, roles? }');
  }
  if (bypass !== undefined && bypass.setting === tenantSetting) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'bypass.setting must differ from tenantSetting');
  }
  return {
    target: tableIdentifier(options.table, options.schema),
    label: qualifiedTableName(options.table, options.schema),
    tenantColumn,
    tenantColumnType: tenantColumnType as TenantColumnType,
    tenantSetting,
    tenantColumnDefault,
    roles: options.roles,
    bypass,
  };
}

function tableIdentifier(table: string, schema: string | undefined): RawBuilder<unknown> {
  return schema === undefined ? sql.id(table) : sql.id(schema, table);
}

function policyRoles(roles: readonly string[] | undefined): RawBuilder<unknown> {
  return roles === undefined ? sql`public` : sql.join(roles.map((role) => sql.id(role)));
}

function assertBoolean(value: unknown, what: string): asserts value is boolean {
  if (typeof value !== 'boolean') {
    throw new TenantContextError('CONFIGURATION_INVALID', `${what} must be a boolean`);
  }
}

function assertPostgresKysely(db: unknown, what: string): asserts db is Kysely<any> {
  if (typeof db !== 'object' || db === null || typeof (db as { getExecutor?: unknown }).getExecutor !== 'function') {
    throw new TenantContextError('CONFIGURATION_INVALID', `${what} needs a Kysely instance (or the migration's transaction)`);
  }
  if (detectSqlDialect(db as Kysely<any>) !== 'postgres') {
    throw new TenantContextError('CONFIGURATION_INVALID', `${what} needs PostgreSQL (or PGlite): row-level security is a Postgres feature`);
  }
}

async function runDdl(db: Kysely<any>, what: string, body: (trx: Kysely<any>) => Promise<void>): Promise<void> {
  try {
    if (db.isTransaction) await body(db);
    else await db.transaction().execute(body);
  } catch (error) {
    if (error instanceof TenantContextError) throw error;
    const detail = error instanceof Error ? error.message : String(error);
    throw new TenantContextError('TENANT_MIGRATION_FAILED', `${what} failed: ${detail}`, { cause: error });
  }
}
