import { codedErrorFactory } from '@tenantkit/core';
import { resolveKyselyStoreTarget, tablePrefixPattern, tablePrefixRequirement } from '@tenantkit/core/kysely';
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
  tablePrefix: z.string().regex(tablePrefixPattern, tablePrefixRequirement).optional(),
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
  const target = resolveKyselyStoreTarget(db, caller, {
    errors: codedErrorFactory(TenantContextError),
    parseOptions: () => parseOrThrow(kyselyTenantContextOptionsSchema.optional(), options, 'CONFIGURATION_INVALID', `${caller}() options`),
    detectDialect: detectSqlDialect,
    defaultTablePrefix: defaultTablePrefix,
  });
  return Object.freeze({
    db: target.db as unknown as Kysely<TenantContextDatabase>,
    dialect: target.dialect,
    tablePrefix: target.tablePrefix,
    tables: tenantContextTableNames(target.tablePrefix),
    constraints: tenantContextConstraintNames(target.tablePrefix),
  });
}
