import type { SqliteWriteLockOptions } from '@tenantkit/core/kysely';

/**
 * How the auth stores and their migrations retry SQLite's write lock (see `withSqliteWriteLock`
 * in `@tenantkit/core/kysely`): the stores' steps are short, so the lock is retried sooner (5 ms
 * first) than the migrations of tenant-context do, and the migrations share that pace.
 *
 * @example
 * ```ts
 * const outcome = await withSqliteWriteLock(db, (connection) => rotateRefreshToken(connection), undefined, authSqliteWriteLock);
 * ```
 */
export const authSqliteWriteLock: SqliteWriteLockOptions = Object.freeze({ firstRetryDelayMs: 5 });
