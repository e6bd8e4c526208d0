import { detectSqlDialect, type SqlDialect } from '@tenantkit/tenant-context/kysely';
import { codedErrorFactory } from '@tenantkit/core';
import { resolveKyselyStoreTarget, tablePrefixPattern, tablePrefixRequirement } from '@tenantkit/core/kysely';
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

const tablePrefixSchema = z.string().regex(tablePrefixPattern, tablePrefixRequirement);

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
  const target = resolveKyselyStoreTarget(db, caller, {
    errors: codedErrorFactory(RbacError),
    parseOptions: () => {
      const parsed = kyselyRbacStoreOptionsSchema.safeParse(options);
      if (!parsed.success) throw invalidOptions(caller, parsed.error);
      return parsed.data;
    },
    detectDialect: (kysely) => {
      try {
        return detectSqlDialect(kysely);
      } catch (cause) {
        const message = cause instanceof Error ? cause.message : 'Cannot tell which SQL dialect this Kysely instance speaks';
        throw new RbacError('CONFIGURATION_INVALID', message, { cause });
      }
    },
    defaultTablePrefix: defaultRbacTablePrefix,
  });
  return Object.freeze({
    db: target.db as unknown as Kysely<RbacDatabase>,
    dialect: target.dialect,
    tablePrefix: target.tablePrefix,
    tables: rbacTableNames(target.tablePrefix),
    constraints: rbacConstraintNames(target.tablePrefix),
  });
}
