import { createHash } from 'node:crypto';
import { TenantContextError } from '../../errors.js';
import { assertTenantId } from '../../identifiers.js';

/** Postgres keeps 63 bytes of an identifier (NAMEDATALEN - 1) and silently cuts the rest. */
const MAX_SCHEMA_NAME_BYTES = 63;

// Conservative on purpose: names that are safe to quote in hand-written SQL, with no
// characters a log line or a psql session could misread. Tenant ids fit it verbatim.
const SCHEMA_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_$-]*$/;

/** Tenant ids this long still fit `t_` + the id in 63 bytes. */
const MAX_VERBATIM_TENANT_ID_LENGTH = MAX_SCHEMA_NAME_BYTES - 't_'.length;

/**
 * The schema name {@link createSchemaPerTenant} gives a tenant unless told otherwise: `t_`
 * followed by the tenant id, unchanged (case included: ids are case-sensitive, so `Acme` and
 * `acme` get different schemas). The mapping is injective: two tenants never share a schema.
 *
 * Tenant ids longer than 61 characters do not fit Postgres's 63-byte identifiers; they become
 * `t_` + their first 38 characters + `$` + 22 hex digits of their SHA-256. `$` never occurs in
 * a tenant id, so such a name never equals the name of a shorter id, and two long ids share a
 * name only if their hashes collide in 88 bits (the ownership table refuses that case anyway).
 *
 * @throws `TENANT_IDENTIFIER_INVALID` for a malformed tenant id.
 * @example
 * ```ts
 * defaultTenantSchemaName('tnt_7k2m9q'); // 't_tnt_7k2m9q'
 * ```
 */
export function defaultTenantSchemaName(tenantId: string): string {
  assertTenantId(tenantId);
  if (tenantId.length <= MAX_VERBATIM_TENANT_ID_LENGTH) return `t_${tenantId}`;
  const digest = createHash('sha256').update(tenantId, 'utf8').digest('hex').slice(0, 22);
  return `t_${tenantId.slice(0, 38)}$${digest}`;
}

/** Schemas that exist in every Postgres database and must never hold one tenant's data. */
const SYSTEM_SCHEMAS: ReadonlySet<string> = new Set(['public', 'information_schema']);

/**
 * Why a schema name cannot hold a tenant (or the control table), or `undefined` when it can.
 */
export function schemaNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'it is not a string';
  if (Buffer.byteLength(name, 'utf8') > MAX_SCHEMA_NAME_BYTES) {
    return `it is longer than ${MAX_SCHEMA_NAME_BYTES} bytes, and Postgres would silently cut it (two tenants could meet in the cut name)`;
  }
  if (!SCHEMA_NAME_PATTERN.test(name)) {
    return 'it must start with a letter or "_" and contain only letters, digits, "_", "$" and "-"';
  }
  if (/^pg_/i.test(name)) return 'names starting with "pg_" are reserved by Postgres';
  if (SYSTEM_SCHEMAS.has(name.toLowerCase())) return `"${name}" is a system schema every connection can see`;
  return undefined;
}

/**
 * Checks the name a `schemaName` function returned for one tenant.
 * @throws `CONFIGURATION_INVALID` naming the problem.
 */
export function assertTenantSchemaName(name: unknown, tenantId: string, controlSchema: string): asserts name is string {
  const problem = schemaNameProblem(name);
  if (problem !== undefined) {
    throw new TenantContextError('CONFIGURATION_INVALID', `schemaName() gave an unusable schema for tenant "${tenantId}": ${problem}`, {
      details: { tenantId },
    });
  }
  if (name === controlSchema) {
    throw new TenantContextError(
      'CONFIGURATION_INVALID',
      `schemaName() gave tenant "${tenantId}" the control schema "${controlSchema}", which holds every tenant's ownership records`,
      { details: { tenantId } },
    );
  }
}
