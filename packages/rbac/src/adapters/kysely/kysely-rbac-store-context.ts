import { detectSqlDialect, type SqlDialect } from '@tenantkit/tenant-context/kysely';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { RbacError } from '../../errors.js';
import {
  defaultRbacTablePrefix,
  rbacConstraintNames,
  rbacTableNames,
  type RbacDatabase,
  type RbacTableNames,
} from './schema.js';

/**
 * Options of {@link kyselyRbacStore} and of the RBAC migrations.
 *
 * @example
 * ```ts
 * const options: KyselyRbacStoreOptions = { dialect: 'mysql', tablePrefix: 'acme_' };
 * ```
 */
export interface KyselyRbacStoreOptions {
  /**
   * The SQL dialect of `db` (`'postgres'` covers PGlite, `'mysql'` MariaDB). Detected from its
   * dialect adapter when omitted; pass it when a custom dialect cannot be recognized.
   */
  dialect?: SqlDialect;
  /**
   * Prefix of every table, constraint and index name: 1 to 31 characters of `a-z`, `0-9` and
   * `_`, not starting with a digit. Default `tenantkit_` (tables `tenantkit_rbac_roles`, ...).
   * The store and the migrations must use the same prefix.
   */
  tablePrefix?: string;
}

const tablePrefixSchema = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,30}$/, 'must be 1-31 characters of a-z, 0-9 and _, not starting with a digit');

const sqlDialectSchema = z.enum(['postgres', 'mysql', 'sqlite']);

const kyselyRbacStoreOptionsSchema = z
  .strictObject({ dialect: sqlDialectSchema.optional(), tablePrefix: tablePrefixSchema.optional() })
  .optional();

/**
 * Everything the store needs, resolved once when the factory is called.
 *
 * @example
 * ```ts
 * const context = resolveKyselyRbacContext(db, { tablePrefix: 'acme_' }, 'kyselyRbacStore');
 * context.tables.rbac_roles; // 'acme_rbac_roles'
 * ```
 */
export interface KyselyRbacContext {
  readonly db: Kysely<RbacDatabase>;
  readonly dialect: SqlDialect;
  readonly tablePrefix: string;
  readonly tables: RbacTableNames;
  readonly constraints: ReturnType<typeof rbacConstraintNames>;
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

function invalidOptions(caller: string, error: z.ZodError): RbacError {
  const issues = error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
  const summary = issues.map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message)).join('; ');
  return new RbacError('CONFIGURATION_INVALID', `Invalid ${caller}() options: ${summary}`, { details: { issues } });
}

/**
 * Validates a table prefix.
 *
 * @throws RbacError `CONFIGURATION_INVALID` for anything but 1-31 characters of `a-z 0-9 _`.
 *
 * @example
 * ```ts
 * parseTablePrefix(undefined, 'rbacMigrations'); // 'tenantkit_'
 * ```
 */
export function parseTablePrefix(tablePrefix: unknown, caller: string): string {
  if (tablePrefix === undefined) return defaultRbacTablePrefix;
  const result = tablePrefixSchema.safeParse(tablePrefix);
  if (!result.success) throw invalidOptions(caller, result.error);
  return result.data;
}

/**
 * Validates a dialect name.
 *
 * @throws RbacError `CONFIGURATION_INVALID` for anything but `'postgres'`, `'mysql'`, `'sqlite'`.
 *
 * @example
 * ```ts
 * parseSqlDialect('sqlite', 'rbacMigrations'); // 'sqlite'
 * ```
 */
export function parseSqlDialect(dialect: unknown, caller: string): SqlDialect {
  const result = sqlDialectSchema.safeParse(dialect);
  if (!result.success) throw invalidOptions(caller, result.error);
  return result.data;
}

/**
 * Validates a factory's arguments and resolves dialect, table names and the Kysely instance
 * the store queries.
 *
 * @throws RbacError `CONFIGURATION_INVALID` for anything but a Kysely instance, for invalid
 *   options, or when the dialect cannot be detected.
 *
 * @example
 * ```ts
 * const { db, dialect, tables } = resolveKyselyRbacContext(userDb, undefined, 'kyselyRbacStore');
 * ```
 */
export function resolveKyselyRbacContext(db: unknown, options: unknown, caller: string): KyselyRbacContext {
  if (!isKysely(db)) throw new RbacError('CONFIGURATION_INVALID', `${caller}() needs a Kysely instance (kysely 0.28 or later)`);
  const parsed = kyselyRbacStoreOptionsSchema.safeParse(options);
  if (!parsed.success) throw invalidOptions(caller, parsed.error);
  let dialect: SqlDialect;
  try {
    dialect = parsed.data?.dialect ?? detectSqlDialect(db);
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : 'Cannot tell which SQL dialect this Kysely instance speaks';
    throw new RbacError('CONFIGURATION_INVALID', message, { cause });
  }
  const tablePrefix = parsed.data?.tablePrefix ?? defaultRbacTablePrefix;
  return Object.freeze({
    // The store reads rows by their snake_case column names and parses JSON text itself, so
    // plugins of the caller's instance (CamelCasePlugin, ParseJSONResultsPlugin, withSchema)
    // must not rewrite its queries or results.
    db: db.withoutPlugins() as unknown as Kysely<RbacDatabase>,
    dialect,
    tablePrefix,
    tables: rbacTableNames(tablePrefix),
    constraints: rbacConstraintNames(tablePrefix),
  });
}
