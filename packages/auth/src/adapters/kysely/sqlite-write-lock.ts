import { withSqliteWriteLock as withCoreSqliteWriteLock } from '@tenantkit/core/kysely';
import type { Kysely } from 'kysely';

/**
 * Runs `body` on one connection of a SQLite-backed Kysely instance inside a transaction that
 * holds SQLite's write lock from its first statement (see `withSqliteWriteLock` in
 * `@tenantkit/core/kysely`), so a check and the write that depends on it are one step no other
 * connection can interleave. The stores' steps are short, so it retries the lock sooner (5 ms
 * first) than the migrations of tenant-context do.
 *
 * @example
 * ```ts
 * const outcome = await withSqliteWriteLock(db, (connection) => rotateRefreshToken(connection));
 * ```
 */
export function withSqliteWriteLock<Result>(
  db: Kysely<any>,
  body: (connection: Kysely<any>) => Promise<Result>,
  shouldCommit?: (result: Result) => boolean,
): Promise<Result> {
  return withCoreSqliteWriteLock(db, body, shouldCommit, { firstRetryDelayMs: 5 });
}
