import {
  decodeMembershipCursor,
  decodeTenantCursor,
  invalidCursorError,
  type TenantCursorPosition,
} from '../keyset-cursor.js';

/*
 * What the SQL stores check on top of the shared cursor decoding in `../keyset-cursor.ts`:
 * - a length bound, checked before any decoding work. Their key columns bound every id they
 *   hold (`columnLengths`), so a longer cursor is hostile; the registry and the membership
 *   service cap cursors at the same length.
 * - a safe-integer `createdAt`: `created_at` is an integer column, so any other number would
 *   reach the database and fail there as a driver error instead of `VALIDATION_FAILED`.
 */

const MAX_CURSOR_LENGTH = 1024;

function assertCursorLength(cursor: unknown): void {
  if (typeof cursor === 'string' && cursor.length > MAX_CURSOR_LENGTH) throw invalidCursorError();
}

/**
 * The position a tenant cursor points after, as a SQL store may bind it.
 *
 * @throws TenantContextError `VALIDATION_FAILED` for a cursor these stores did not issue.
 *
 * @example
 * ```ts
 * const after = query.cursor === undefined ? null : decodeSqlTenantCursor(query.cursor);
 * ```
 */
export function decodeSqlTenantCursor(cursor: unknown): TenantCursorPosition {
  assertCursorLength(cursor);
  const position = decodeTenantCursor(cursor);
  if (!Number.isSafeInteger(position.createdAt)) throw invalidCursorError();
  return position;
}

/**
 * The user id a membership cursor points after, for a SQL store.
 *
 * @throws TenantContextError `VALIDATION_FAILED` for a cursor these stores did not issue.
 *
 * @example
 * ```ts
 * const afterUserId = query.cursor === undefined ? null : decodeSqlMembershipCursor(query.cursor);
 * ```
 */
export function decodeSqlMembershipCursor(cursor: unknown): string {
  assertCursorLength(cursor);
  return decodeMembershipCursor(cursor);
}
