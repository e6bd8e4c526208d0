import { sql, type Kysely } from 'kysely';
import { detectSqlDialect } from '../../adapters/kysely/sql-dialect.js';
import { TenantContextError } from '../../errors.js';
import { assertIdentifier, assertSettingName, qualifiedTableName, quoteIdentifier, rowLevelSecurityDefaults } from './row-level-security-names.js';

/**
 * Options of {@link assertRowLevelSecurityEnforced}.
 *
 * @example
 * ```ts
 * const options: RowLevelSecurityEnforcementOptions = { tables: ['projects', 'tasks'], schema: 'public' };
 * ```
 */
export interface RowLevelSecurityEnforcementOptions {
  /** The tenant tables, by their exact names. */
  tables: readonly string[];
  /** Their schema; default: whatever `search_path` resolves each name to. */
  schema?: string;
  /** The setting the tenant policies read; default `'app.tenant_id'`. */
  tenantSetting?: string;
  /** The setting the bypass policies read; default `'app.tenantkit_bypass'`. */
  bypassSetting?: string;
}

/**
 * What {@link assertRowLevelSecurityEnforced} checked, when everything held.
 *
 * @example
 * ```ts
 * const { role, tables } = await assertRowLevelSecurityEnforced(appDb, { tables: ['projects'] });
 * log.info({ role, tables }, 'row-level security enforced');
 * ```
 */
export interface RowLevelSecurityEnforcementReport {
  /** The role the connection's queries run as (`current_user`). */
  readonly role: string;
  /** The checked tables, schema-qualified as Postgres resolved them. */
  readonly tables: readonly string[];
}

interface RoleRow {
  rolname: string;
  rolsuper: boolean;
  rolbypassrls: boolean;
  is_current: boolean;
  is_session: boolean;
}

interface TableRow {
  schema_name: string;
  table_name: string;
  relkind: string;
  relrowsecurity: boolean;
  relforcerowsecurity: boolean;
  owner: string;
  owned_by_role: boolean;
}

interface PolicyRow {
  polname: string;
  polpermissive: boolean;
  qual: string | null;
  with_check: string | null;
  applies: boolean;
}

const MAX_TABLES = 1000;

/**
 * The startup check: refuses to go on unless row-level security really binds the role this
 * Kysely instance connects as. Run it once at startup with the application's own (unwrapped)
 * Kysely instance, before serving requests. It reads the catalogs only and reports every problem
 * at once, in one `CONFIGURATION_INVALID` error whose message names each:
 *
 * - the role (`current_user`) is a superuser or has `BYPASSRLS`, or can `SET ROLE` to a role that
 *   is or has; or the session user is or has while `SET ROLE` switched away from it (`RESET ROLE`
 *   would lift isolation — how PGlite and single-user setups fail this check);
 * - a table is missing, is not a table (views carry no policies), or does not have row level
 *   security enabled;
 * - a table does not `FORCE ROW LEVEL SECURITY` — named as "owned ... without FORCE" when the
 *   role owns it (or belongs to its owner), since owners bypass their tables' policies;
 * - no policy that applies to the role reads the tenant setting (the table would show nothing);
 * - a permissive policy that applies to the role reads neither the tenant nor the bypass setting
 *   (permissive policies are OR-ed: `USING (true)` next to the tenant policy opens every row).
 *
 * Owning a table with `FORCE` passes, as it binds the owner, but an owner can still turn row
 * level security off with `ALTER TABLE`; prefer a separate owner role.
 *
 * @throws TenantContextError `CONFIGURATION_INVALID` listing the problems, or for invalid
 *   options or a dialect other than Postgres (before any SQL).
 * @example
 * ```ts
 * const appDb = new Kysely<Database>({ dialect: new PostgresDialect({ pool: appPool }) });
 * await assertRowLevelSecurityEnforced(appDb, { tables: ['projects', 'tasks'] });
 * const rls = createRowLevelSecurityDatabase(appDb);
 * ```
 */
export async function assertRowLevelSecurityEnforced(
  db: Kysely<any>,
  options: RowLevelSecurityEnforcementOptions,
): Promise<RowLevelSecurityEnforcementReport> {
  if (typeof db !== 'object' || db === null || typeof (db as { getExecutor?: unknown }).getExecutor !== 'function') {
    throw new TenantContextError('CONFIGURATION_INVALID', 'assertRowLevelSecurityEnforced() needs a Kysely instance');
  }
  if (detectSqlDialect(db) !== 'postgres') {
    throw new TenantContextError('CONFIGURATION_INVALID', 'assertRowLevelSecurityEnforced() needs PostgreSQL (or PGlite)');
  }
  if (typeof options !== 'object' || options === null || !Array.isArray(options.tables)) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'assertRowLevelSecurityEnforced() needs { tables: [...] }');
  }
  const { tables, schema } = options;
  if (tables.length === 0 || tables.length > MAX_TABLES) {
    throw new TenantContextError('CONFIGURATION_INVALID', `tables must list 1 to ${MAX_TABLES} tables`);
  }
  for (const table of tables) assertIdentifier(table, 'each of tables');
  if (schema !== undefined) assertIdentifier(schema, 'schema');
  const tenantSetting = options.tenantSetting ?? rowLevelSecurityDefaults.tenantSetting;
  assertSettingName(tenantSetting, 'tenantSetting');
  const bypassSetting = options.bypassSetting ?? rowLevelSecurityDefaults.bypassSetting;
  assertSettingName(bypassSetting, 'bypassSetting');

  const problems: string[] = [];
  const { rows: roles } = await sql<RoleRow>`
    select r.rolname, r.rolsuper, r.rolbypassrls,
      r.rolname = current_user as is_current,
      r.rolname = session_user as is_session
    from pg_catalog.pg_roles r
    where r.rolname = current_user or r.rolname = session_user or pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER')
    order by r.rolname`.execute(db);
  const current = roles.find((row) => row.is_current);
  const role = current?.rolname ?? '(unknown)';
  if (current?.rolsuper === true) problems.push(`role "${role}" is a superuser: superusers bypass row-level security`);
  if (current?.rolbypassrls === true) problems.push(`role "${role}" has BYPASSRLS: it bypasses row-level security`);
  if (current?.rolsuper !== true) {
    for (const other of roles) {
      if (other.is_current) continue;
      const lifts = other.rolsuper ? 'is a superuser' : other.rolbypassrls ? 'has BYPASSRLS' : undefined;
      if (lifts === undefined) continue;
      problems.push(
        other.is_session
          ? `the session user "${other.rolname}" ${lifts}: RESET ROLE would lift row-level security for role "${role}"`
          : `role "${role}" can SET ROLE to "${other.rolname}", which ${lifts}`,
      );
    }
  }

  const checkedTables: string[] = [];
  for (const table of tables) {
    const name = qualifiedTableName(table, schema);
    const { rows } = await sql<TableRow>`
      select n.nspname as schema_name, c.relname as table_name, c.relkind::text as relkind,
        c.relrowsecurity, c.relforcerowsecurity,
        pg_catalog.pg_get_userbyid(c.relowner) as owner,
        pg_catalog.pg_has_role(current_user, c.relowner, 'MEMBER') as owned_by_role
      from pg_catalog.pg_class c
      join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where c.oid = pg_catalog.to_regclass(${name})`.execute(db);
    const found = rows[0];
    if (found === undefined) {
      problems.push(`table ${name} does not exist (or role "${role}" cannot see it)`);
      continue;
    }
    const label = `${quoteIdentifier(found.schema_name)}.${quoteIdentifier(found.table_name)}`;
    checkedTables.push(label);
    if (found.relkind !== 'r' && found.relkind !== 'p') {
      problems.push(`${label} is not a table (views and other relations carry no row-level security policies)`);
      continue;
    }
    if (!found.relrowsecurity) problems.push(`${label} does not have row level security enabled`);
    if (!found.relforcerowsecurity) {
      problems.push(
        found.owned_by_role
          ? `${label} is owned by "${found.owner}" (role "${role}" or a role it belongs to) without FORCE ROW LEVEL SECURITY: the owner bypasses every policy`
          : `${label} does not FORCE ROW LEVEL SECURITY: its owner "${found.owner}" bypasses every policy`,
      );
    }
    const { rows: policies } = await sql<PolicyRow>`
      select p.polname, p.polpermissive,
        pg_catalog.pg_get_expr(p.polqual, p.polrelid) as qual,
        pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) as with_check,
        (0::oid = any(p.polroles) or exists (
          select 1 from unnest(p.polroles) as granted(oid) where pg_catalog.pg_has_role(current_user, granted.oid, 'MEMBER')
        )) as applies
      from pg_catalog.pg_policy p
      where p.polrelid = pg_catalog.to_regclass(${name})
      order by p.polname`.execute(db);
    const applying = policies.filter((policy) => policy.applies);
    if (!applying.some((policy) => readsSetting(policy.qual, tenantSetting))) {
      problems.push(`${label} has no policy for role "${role}" that reads current_setting('${tenantSetting}'): it shows no rows`);
    }
    for (const policy of applying) {
      if (!policy.polpermissive) continue;
      const scoped = [policy.qual, policy.with_check].every(
        (expression) => expression === null || readsSetting(expression, tenantSetting) || readsSetting(expression, bypassSetting),
      );
      if (!scoped) {
        problems.push(
          `policy "${policy.polname}" on ${label} is permissive and reads neither current_setting('${tenantSetting}') nor current_setting('${bypassSetting}'): it opens rows of every tenant`,
        );
      }
    }
  }

  if (problems.length > 0) {
    throw new TenantContextError(
      'CONFIGURATION_INVALID',
      `Row-level security is not enforced for role "${role}":\n- ${problems.join('\n- ')}`,
      { details: { role, problems } },
    );
  }
  return { role, tables: checkedTables };
}

function readsSetting(expression: string | null, setting: string): boolean {
  // pg_get_expr prints the call as current_setting('app.tenant_id'::text, true); the setting
  // name is validated to letters, digits, "_" and ".", so the text match is exact.
  return expression !== null && expression.includes(`current_setting('${setting}'`);
}
