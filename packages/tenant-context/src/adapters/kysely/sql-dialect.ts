import type { DialectAdapter, Kysely } from 'kysely';
import type { SqlDialect } from '@tenantkit/core/kysely';
import { TenantContextError } from '../../errors.js';

// The dialect names are shared by every package's Kysely stores.
export type { SqlDialect };

/**
 * Every value of {@link SqlDialect}, for validation.
 *
 * @example
 * ```ts
 * sqlDialects.includes('mysql'); // true
 * ```
 */
export const sqlDialects: readonly SqlDialect[] = Object.freeze(['postgres', 'mysql', 'sqlite']);

const adapterClassDialects: Readonly<Record<string, SqlDialect>> = {
  PostgresAdapter: 'postgres',
  MysqlAdapter: 'mysql',
  SqliteAdapter: 'sqlite',
};

function cannotDetect(reason: string): TenantContextError {
  return new TenantContextError(
    'CONFIGURATION_INVALID',
    `Cannot tell which SQL dialect this Kysely instance speaks (${reason}); pass { dialect: 'postgres' | 'mysql' | 'sqlite' }`,
  );
}

/**
 * Tells which dialect a Kysely instance speaks from its dialect adapter, without importing
 * kysely's classes (a second copy of kysely in node_modules would defeat `instanceof`).
 *
 * Third-party dialects reuse Kysely's adapters (PGlite returns a `PostgresAdapter`), so the
 * adapter's class chain is checked first; a minifier may have renamed those classes, so the
 * capability flags every adapter exposes decide otherwise.
 *
 * @throws TenantContextError `CONFIGURATION_INVALID` for an adapter that is none of the three
 *   (MSSQL, or a custom adapter with unusual capabilities).
 *
 * @example
 * ```ts
 * detectSqlDialect(db); // 'postgres' for a PGlite-backed Kysely
 * ```
 */
export function detectSqlDialect(db: Kysely<any>): SqlDialect {
  let adapter: DialectAdapter;
  try {
    adapter = db.getExecutor().adapter;
  } catch (cause) {
    throw new TenantContextError('CONFIGURATION_INVALID', 'Cannot read the dialect adapter of this Kysely instance; pass { dialect }', {
      cause,
    });
  }
  if (typeof adapter !== 'object' || adapter === null) throw cannotDetect('it has no dialect adapter');

  for (let prototype: unknown = Object.getPrototypeOf(adapter); prototype !== null && prototype !== Object.prototype; ) {
    const className = (prototype as { constructor?: { name?: unknown } }).constructor?.name;
    if (className === 'MssqlAdapter') throw cannotDetect('MSSQL is not supported');
    if (typeof className === 'string' && Object.hasOwn(adapterClassDialects, className)) {
      return adapterClassDialects[className] as SqlDialect;
    }
    prototype = Object.getPrototypeOf(prototype);
  }

  if (adapter.supportsOutput === true) throw cannotDetect('MSSQL is not supported');
  const returning = adapter.supportsReturning === true;
  const transactionalDdl = adapter.supportsTransactionalDdl === true;
  if (returning && transactionalDdl) return 'postgres';
  if (returning) return 'sqlite';
  if (!transactionalDdl) return 'mysql';
  throw cannotDetect('its adapter supports transactional DDL but not RETURNING');
}
