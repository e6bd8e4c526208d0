import { codedErrorFactory, type Clock } from '@tenantkit/core';
import { resolveKyselyStoreTarget, tablePrefixPattern, tablePrefixRequirement, type SqlDialect } from '@tenantkit/core/kysely';
import { detectSqlDialect } from '@tenantkit/tenant-context/kysely';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { AuthError } from '../../errors.js';
import { authConstraintNames, authTableNames, defaultAuthTablePrefix, type AuthDatabase, type AuthTableNames } from './schema.js';
import { parseAuthInput as parseOrThrow } from '../../parse-auth-input.js';

/**
 * Options of {@link kyselyAuthStores} and of `migrateAuthSchema`.
 *
 * @example
 * ```ts
 * const options: KyselyAuthStoresOptions = { dialect: 'mysql', tablePrefix: 'acme_' };
 * ```
 */
export interface KyselyAuthStoresOptions {
  /**
   * The SQL dialect of `db` (`'postgres'` covers PGlite, `'mysql'` MariaDB). Detected from its
   * dialect adapter when omitted; pass it when a custom dialect cannot be recognized.
   */
  dialect?: SqlDialect;
  /**
   * Prefix of every table, constraint and index name: 1 to 31 characters of `a-z`, `0-9` and
   * `_`, not starting with a digit. Default `tenantkit_` (tables `tenantkit_auth_accounts`, ...).
   * The stores and the migrations must use the same prefix.
   */
  tablePrefix?: string;
  /**
   * The clock of the background sweeps: revocation entries past their `until` are deleted now
   * and then (by this clock, default the system clock), so the revocation tables stay bounded;
   * when a clock is given, sessions expired by it are deleted now and then on `create` too.
   * Pass the clock your services use. Reads never consult it: they take `now` from the caller.
   */
  clock?: Clock;
}

const tablePrefixSchema = z.string().regex(tablePrefixPattern, tablePrefixRequirement);

const sqlDialectSchema = z.enum(['postgres', 'mysql', 'sqlite']);

const clockSchema = z.custom<Clock>(
  (value) => typeof value === 'object' && value !== null && typeof (value as { now?: unknown }).now === 'function',
  'must be a Clock (an object with now())',
);

const kyselyAuthStoresOptionsSchema = z
  .strictObject({ dialect: sqlDialectSchema.optional(), tablePrefix: tablePrefixSchema.optional(), clock: clockSchema.optional() })
  .optional();

/**
 * Everything the stores need, resolved once when the factory is called.
 *
 * @example
 * ```ts
 * const context = resolveKyselyAuthContext(db, { tablePrefix: 'acme_' }, 'kyselyAuthStores');
 * context.tables.auth_accounts; // 'acme_auth_accounts'
 * ```
 */
export interface KyselyAuthContext {
  readonly db: Kysely<AuthDatabase>;
  readonly dialect: SqlDialect;
  readonly tablePrefix: string;
  readonly tables: AuthTableNames;
  readonly constraints: ReturnType<typeof authConstraintNames>;
  /** The clock the caller gave for the sweeps, `null` when none was given. */
  readonly sweepClock: Clock | null;
}


function parseOptions<Output>(schema: z.ZodType<Output>, value: unknown, caller: string): Output {
  return parseOrThrow(schema, value, 'CONFIGURATION_INVALID', `${caller}() options`);
}

/**
 * Validates a table prefix.
 *
 * @throws AuthError `CONFIGURATION_INVALID` for anything but 1-31 characters of `a-z 0-9 _`.
 *
 * @example
 * ```ts
 * parseTablePrefix(undefined, 'authMigrations'); // 'tenantkit_'
 * ```
 */
export function parseTablePrefix(tablePrefix: unknown, caller: string): string {
  if (tablePrefix === undefined) return defaultAuthTablePrefix;
  return parseOptions(tablePrefixSchema, tablePrefix, caller);
}

/**
 * Validates a dialect name.
 *
 * @throws AuthError `CONFIGURATION_INVALID` for anything but `'postgres'`, `'mysql'`, `'sqlite'`.
 *
 * @example
 * ```ts
 * parseSqlDialect('sqlite', 'authMigrations'); // 'sqlite'
 * ```
 */
export function parseSqlDialect(dialect: unknown, caller: string): SqlDialect {
  return parseOptions(sqlDialectSchema, dialect, caller);
}

/**
 * Validates a factory's arguments and resolves dialect, table names and the Kysely instance
 * the stores query.
 *
 * @throws AuthError `CONFIGURATION_INVALID` for anything but a Kysely instance, for invalid
 *   options, or when the dialect cannot be detected.
 *
 * @example
 * ```ts
 * const { db, dialect, tables } = resolveKyselyAuthContext(userDb, undefined, 'kyselyAuthStores');
 * ```
 */
export function resolveKyselyAuthContext(db: unknown, options: unknown, caller: string): KyselyAuthContext {
  let sweepClock: Clock | null = null;
  const target = resolveKyselyStoreTarget(db, caller, {
    errors: codedErrorFactory(AuthError),
    parseOptions: () => {
      const parsed = parseOptions(kyselyAuthStoresOptionsSchema, options, caller);
      sweepClock = parsed?.clock ?? null;
      return parsed;
    },
    detectDialect: (kysely) => {
      try {
        return detectSqlDialect(kysely);
      } catch (cause) {
        const message = cause instanceof Error ? cause.message : 'Cannot tell which SQL dialect this Kysely instance speaks';
        throw new AuthError('CONFIGURATION_INVALID', message, { cause });
      }
    },
    defaultTablePrefix: defaultAuthTablePrefix,
  });
  return Object.freeze({
    db: target.db as unknown as Kysely<AuthDatabase>,
    dialect: target.dialect,
    tablePrefix: target.tablePrefix,
    tables: authTableNames(target.tablePrefix),
    constraints: authConstraintNames(target.tablePrefix),
    sweepClock,
  });
}
