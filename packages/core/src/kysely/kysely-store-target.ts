import type { Kysely } from 'kysely';
import type { CodedErrorFactory, SharedErrorCode } from '../coded-error-factory.js';
import type { SqlDialect } from './sql-dialect.js';

/**
 * What a table prefix must look like: 1 to 31 characters of `a-z`, `0-9` and `_`, not starting
 * with a digit, so every table, constraint and index name it starts stays a plain identifier
 * within the 63 characters Postgres allows.
 *
 * @example
 * ```ts
 * z.string().regex(tablePrefixPattern, tablePrefixRequirement);
 * ```
 */
export const tablePrefixPattern = /^[a-z_][a-z0-9_]{0,30}$/;

/**
 * The validation message of {@link tablePrefixPattern}.
 *
 * @example
 * ```ts
 * z.string().regex(tablePrefixPattern, tablePrefixRequirement);
 * ```
 */
export const tablePrefixRequirement = 'must be 1-31 characters of a-z, 0-9 and _, not starting with a digit';

/**
 * Whether `value` looks like a Kysely instance (or transaction). Checked by shape, never with
 * `instanceof`, so a second copy of kysely in node_modules works.
 *
 * @example
 * ```ts
 * if (!isKysely(db)) throw errors.create('CONFIGURATION_INVALID', 'kyselyRbacStore() needs a Kysely instance');
 * ```
 */
export function isKysely(value: unknown): value is Kysely<any> {
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
 * How {@link resolveKyselyStoreTarget} validates one package's factory arguments.
 *
 * @example
 * ```ts
 * const settings: KyselyStoreTargetSettings = {
 *   errors: codedErrorFactory(RbacError),
 *   parseOptions: () => parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'kyselyRbacStore() options'),
 *   detectDialect: detectSqlDialect,
 *   defaultTablePrefix: 'tenantkit_',
 * };
 * ```
 */
export interface KyselyStoreTargetSettings {
  /** Makes the package's `CONFIGURATION_INVALID` for a `db` that is not a Kysely instance. */
  errors: CodedErrorFactory<Error, SharedErrorCode>;
  /** Validates the factory's options (called only once `db` is known to be a Kysely instance). */
  parseOptions: () => { readonly dialect?: SqlDialect | undefined; readonly tablePrefix?: string | undefined } | undefined;
  /** Tells the dialect of `db` when the options name none. */
  detectDialect: (db: Kysely<any>) => SqlDialect;
  /** The table prefix when the options name none. */
  defaultTablePrefix: string;
}

/**
 * The Kysely instance, dialect and table prefix a store queries with, resolved once when its
 * factory is called.
 *
 * @example
 * ```ts
 * const { db, dialect, tablePrefix } = resolveKyselyStoreTarget(userDb, 'kyselyRbacStore', settings);
 * ```
 */
export interface KyselyStoreTarget {
  /** The caller's instance without its plugins. */
  readonly db: Kysely<any>;
  readonly dialect: SqlDialect;
  readonly tablePrefix: string;
}

/**
 * Validates a store factory's arguments in order (a Kysely instance, then the options, then
 * the dialect) and resolves what the store queries with.
 *
 * @throws The package's `CONFIGURATION_INVALID` for anything but a Kysely instance, and what
 *   `parseOptions` or `detectDialect` throw.
 *
 * @example
 * ```ts
 * const { db, dialect, tablePrefix } = resolveKyselyStoreTarget(userDb, 'kyselyTenantStore', settings);
 * ```
 */
export function resolveKyselyStoreTarget(db: unknown, caller: string, settings: KyselyStoreTargetSettings): KyselyStoreTarget {
  if (!isKysely(db)) {
    throw settings.errors.create('CONFIGURATION_INVALID', `${caller}() needs a Kysely instance (kysely 0.28 or later)`);
  }
  const parsed = settings.parseOptions();
  const dialect = parsed?.dialect ?? settings.detectDialect(db);
  const tablePrefix = parsed?.tablePrefix ?? settings.defaultTablePrefix;
  return Object.freeze({
    // The stores read rows by their snake_case column names and parse JSON text themselves, so
    // plugins of the caller's instance (CamelCasePlugin, ParseJSONResultsPlugin, withSchema)
    // must not rewrite their queries or results.
    db: db.withoutPlugins(),
    dialect,
    tablePrefix,
  });
}
