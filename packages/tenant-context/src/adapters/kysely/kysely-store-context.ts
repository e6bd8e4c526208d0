import type { Kysely } from 'kysely';
import { z } from 'zod';
import { TenantContextError } from '../../errors.js';
import { parseOrThrow } from '../../validation.js';
import {
  defaultTablePrefix,
  tenantContextConstraintNames,
  tenantContextTableNames,
  type TenantContextDatabase,
  type TenantContextTableNames,
} from './schema.js';
import { detectSqlDialect, sqlDialects, type SqlDialect } from './sql-dialect.js';

/**
 * Options shared by every Kysely store factory and by the migrations.
 *
 * @example
 * ```ts
 * const options: KyselyTenantContextOptions = { dialect: 'mysql', tablePrefix: 'acme_' };
 * ```
 */
export interface KyselyTenantContextOptions {
  /**
   * The SQL dialect of `db`. Detected from its dialect adapter when omitted; pass it when a
   * custom dialect cannot be recognized.
   */
  dialect?: SqlDialect;
  /**
   * Prefix of every table, constraint and index name: 1 to 31 characters of `a-z`, `0-9`
   * and `_`, not starting with a digit. Default `tenantkit_`. Stores and migrations must use
   * the same prefix.
   */
  tablePrefix?: string;
}

const kyselyTenantContextOptionsSchema = z.strictObject({
  dialect: z.enum(sqlDialects as [SqlDialect, ...SqlDialect[]]).optional(),
  tablePrefix: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,30}$/, 'must be 1-31 characters of a-z, 0-9 and _, not starting with a digit')
    .optional(),
});

/**
 * Everything a Kysely store needs, resolved once when the factory is called.
 *
 * @example
 * ```ts
 * const context = resolveKyselyStoreContext(db, { tablePrefix: 'acme_' }, 'kyselyTenantStore');
 * context.tables.tenants; // 'acme_tenants'
 * ```
 */
export interface KyselyStoreContext {
  readonly db: Kysely<TenantContextDatabase>;
  readonly dialect: SqlDialect;
  readonly tablePrefix: string;
  readonly tables: TenantContextTableNames;
  readonly constraints: ReturnType<typeof tenantContextConstraintNames>;
}

function isKysely(value: unknown): value is Kysely<any> {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<Record<'selectFrom' | 'withoutPlugins' | 'transaction' | 'getExecutor', unknown>>;
  return (
    typeof candidate.selectFrom === 'function' &&
    typeof candidate.withoutPlugins === 'function' &&
    typeof candidate.transaction === 'function' &&
    typeof candidate.getExecutor === 'function'
  );
}

/**
 * Validates a factory's arguments and resolves dialect, table names and the Kysely instance
 * the stores query.
 *
 * @throws TenantContextError `CONFIGURATION_INVALID` for anything but a Kysely instance, for
 *   invalid options, or when the dialect cannot be detected.
 *
 * @example
 * ```ts
 * const { db, dialect, tables } = resolveKyselyStoreContext(userDb, undefined, 'kyselyTenantStore');
 * ```
 */
export function resolveKyselyStoreContext(db: unknown, options: unknown, caller: string): KyselyStoreContext {
  if (!isKysely(db)) {
    throw new TenantContextError('CONFIGURATION_INVALID', `${caller}() needs a Kysely instance (kysely 0.28 or later)`);
  }
  const parsed = parseOrThrow(kyselyTenantContextOptionsSchema.optional(), options, 'CONFIGURATION_INVALID', `${caller}() options`);
  const dialect = parsed?.dialect ?? detectSqlDialect(db);
  const tablePrefix = parsed?.tablePrefix ?? defaultTablePrefix;
  return Object.freeze({
    // The stores read rows by their snake_case column names and parse JSON text themselves, so
    // plugins of the caller's instance (CamelCasePlugin, ParseJSONResultsPlugin, withSchema)
    // must not rewrite their queries or results.
    db: db.withoutPlugins() as unknown as Kysely<TenantContextDatabase>,
    dialect,
    tablePrefix,
    tables: tenantContextTableNames(tablePrefix),
    constraints: tenantContextConstraintNames(tablePrefix),
  });
}
