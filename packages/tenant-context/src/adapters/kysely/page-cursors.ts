import { TenantContextError } from '../../errors.js';

/*
 * Keyset cursors: the sort key of the last row of a page, as base64url JSON with a tag naming
 * the list. They are opaque to callers and arrive back from untrusted query strings, so
 * decoding checks every part and anything else is `VALIDATION_FAILED`. A cursor reveals only
 * the sort key of a row the caller has already seen.
 */

// Far longer than any cursor these stores issue; bounds the work spent on hostile input.
const MAX_CURSOR_LENGTH = 1024;

function invalidCursor(): TenantContextError {
  return new TenantContextError('VALIDATION_FAILED', 'The cursor is not one this store issued');
}

function encodeCursor(position: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

function decodeCursor(cursor: unknown): unknown[] {
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) {
    throw invalidCursor();
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!Array.isArray(parsed)) throw invalidCursor();
  return parsed;
}

/**
 * Where a page of tenants ends: its last row's `createdAt` and `id`.
 *
 * @example
 * ```ts
 * const position: TenantCursorPosition = { createdAt: 1767268800123, id: 'tnt_1' };
 * ```
 */
export interface TenantCursorPosition {
  createdAt: number;
  id: string;
}

/**
 * The cursor of the page after the tenant at `position`.
 *
 * @example
 * ```ts
 * encodeTenantCursor({ createdAt: 1, id: 'tnt_1' }); // 'WyJ0IiwxLCJ0bnRfMSJd'
 * ```
 */
export function encodeTenantCursor(position: TenantCursorPosition): string {
  return encodeCursor(['t', position.createdAt, position.id]);
}

/**
 * The position a tenant cursor points after.
 *
 * @throws TenantContextError `VALIDATION_FAILED` for anything {@link encodeTenantCursor} did not make.
 *
 * @example
 * ```ts
 * decodeTenantCursor(page.nextCursor); // { createdAt: 1, id: 'tnt_1' }
 * ```
 */
export function decodeTenantCursor(cursor: unknown): TenantCursorPosition {
  const [tag, createdAt, id, ...rest] = decodeCursor(cursor);
  if (tag !== 't' || !Number.isSafeInteger(createdAt) || typeof id !== 'string' || rest.length > 0) throw invalidCursor();
  return { createdAt: createdAt as number, id };
}

/**
 * The cursor of the page after the membership of `userId`.
 *
 * @example
 * ```ts
 * encodeMembershipCursor('usr_1');
 * ```
 */
export function encodeMembershipCursor(userId: string): string {
  return encodeCursor(['m', userId]);
}

/**
 * The user id a membership cursor points after.
 *
 * @throws TenantContextError `VALIDATION_FAILED` for anything {@link encodeMembershipCursor} did not make.
 *
 * @example
 * ```ts
 * decodeMembershipCursor(page.nextCursor); // 'usr_1'
 * ```
 */
export function decodeMembershipCursor(cursor: unknown): string {
  const [tag, userId, ...rest] = decodeCursor(cursor);
  if (tag !== 'm' || typeof userId !== 'string' || rest.length > 0) throw invalidCursor();
  return userId;
}
