import { TenantContextError } from '../../errors.js';

// Exact (case-sensitive) Postgres identifiers, quoted wherever they are used. The pattern keeps
// to names that never need quoting tricks and fit Postgres' 63-byte limit.
const IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
// Custom settings need a dotted prefix (`app.tenant_id`). Postgres folds setting names to lower
// case; requiring lower case keeps the name in a policy and in set_config() textually equal, which
// the enforcement check relies on when it reads policies back.
const SETTING_PATTERN = /^[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+$/;

/**
 * The names the row-level security helpers use unless told otherwise: the setting that carries
 * the tenant id, the setting that marks an audited system bypass, and the policies the migration
 * helpers create on each table.
 *
 * @example
 * ```ts
 * sql`select current_setting(${rowLevelSecurityDefaults.tenantSetting}, true) as tenant`.execute(trx);
 * ```
 */
export const rowLevelSecurityDefaults = Object.freeze({
  /** Read by the tenant policy with `current_setting('app.tenant_id', true)`. */
  tenantSetting: 'app.tenant_id',
  /** `'on'` only inside a system unit of work, where the bypass policy lets every row through. */
  bypassSetting: 'app.tenantkit_bypass',
  /** The policy that limits rows to the tenant in scope. */
  tenantPolicy: 'tenantkit_tenant_isolation',
  /** The policy that lets system units of work through. */
  bypassPolicy: 'tenantkit_system_bypass',
  /** The tenant column the migration helpers assume. */
  tenantColumn: 'tenant_id',
});

/** Throws `CONFIGURATION_INVALID` unless `value` is a plain identifier (or undefined when optional). */
export function assertIdentifier(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string' || !IDENTIFIER_PATTERN.test(value)) {
    throw new TenantContextError(
      'CONFIGURATION_INVALID',
      `${what} must be 1-63 characters of A-Z, a-z, 0-9 and "_", not starting with a digit (got ${describeValue(value)})`,
    );
  }
}

/** Throws `CONFIGURATION_INVALID` unless `value` is a lower-case dotted setting name such as `app.tenant_id`. */
export function assertSettingName(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string' || value.length > 63 || !SETTING_PATTERN.test(value)) {
    throw new TenantContextError(
      'CONFIGURATION_INVALID',
      `${what} must be a lower-case custom setting name with a prefix, such as "app.tenant_id" (got ${describeValue(value)})`,
    );
  }
}

/** Validates a list of role names for a policy's `TO` clause; `PUBLIC` is what omitting the list means. */
export function assertRoleNames(value: unknown, what: string): asserts value is readonly string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new TenantContextError('CONFIGURATION_INVALID', `${what} must be a non-empty array of role names (omit it for PUBLIC)`);
  }
  for (const role of value) {
    assertIdentifier(role, `each of ${what}`);
    if (role.toLowerCase() === 'public') {
      throw new TenantContextError('CONFIGURATION_INVALID', `${what} cannot name "public"; omit it for PUBLIC`);
    }
  }
}

/** A double-quoted identifier; the validated names carry no quote, the doubling is for safety. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `"schema"."table"` or `"table"` (resolved through search_path). */
export function qualifiedTableName(table: string, schema: string | undefined): string {
  return schema === undefined ? quoteIdentifier(table) : `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`;
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
  return value === null ? 'null' : typeof value;
}
