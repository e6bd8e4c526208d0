import { decodeKeysetCursor, encodeKeysetCursor } from '@tenantkit/core';
import { TenantContextError } from '../errors.js';

/*
 * The page cursors of every store adapter: the sort key of a page's last row, as base64url
 * JSON tagged with the listing it belongs to (`['t', createdAt, id]` for tenants,
 * `['m', userId]` for memberships), so a cursor of one listing is refused by another. They are
 * opaque to callers but not secret: they hold nothing the caller has not just been shown.
 * They arrive back from untrusted query strings, so decoding checks every part's type before
 * any of it reaches a query, and refuses, as `VALIDATION_FAILED`, anything no store issued.
 * Stores whose columns bound what they can issue add their own tighter checks on top.
 */

/**
 * Where a tenant listing resumes: after this `(createdAt, id)`.
 *
 * @example
 * ```ts
 * const position: TenantCursorPosition = { createdAt: 1767225600123, id: 'tnt_a' };
 * ```
 */
export interface TenantCursorPosition {
  createdAt: number;
  id: string;
}

/**
 * The error for a cursor that is not one this store issued.
 *
 * @example
 * ```ts
 * if (!Number.isSafeInteger(position.createdAt)) throw invalidCursorError();
 * ```
 */
export function invalidCursorError(): TenantContextError {
  return new TenantContextError('VALIDATION_FAILED', 'The cursor is not one this store issued');
}

function decodeCursor(cursor: unknown): unknown[] {
  const parts = decodeKeysetCursor(cursor);
  if (parts === null) throw invalidCursorError();
  return parts;
}

/**
 * The cursor of the tenant page that ends with the tenant at `position`.
 *
 * @example
 * ```ts
 * encodeTenantCursor({ createdAt: 1, id: 'tnt_1' }); // 'WyJ0IiwxLCJ0bnRfMSJd'
 * ```
 */
export function encodeTenantCursor(position: TenantCursorPosition): string {
  return encodeKeysetCursor(['t', position.createdAt, position.id]);
}

/**
 * The position a tenant cursor points after.
 *
 * @throws TenantContextError `VALIDATION_FAILED` for anything {@link encodeTenantCursor} did not make.
 *
 * @example
 * ```ts
 * const after = query.cursor === undefined ? null : decodeTenantCursor(query.cursor);
 * ```
 */
export function decodeTenantCursor(cursor: unknown): TenantCursorPosition {
  const [tag, createdAt, id, ...rest] = decodeCursor(cursor);
  if (tag !== 't' || typeof createdAt !== 'number' || !Number.isFinite(createdAt) || typeof id !== 'string' || rest.length > 0) {
    throw invalidCursorError();
  }
  return { createdAt, id };
}

/**
 * The cursor of the membership page that ends with the membership of `userId`.
 *
 * @example
 * ```ts
 * encodeMembershipCursor(last.userId);
 * ```
 */
export function encodeMembershipCursor(userId: string): string {
  return encodeKeysetCursor(['m', userId]);
}

/**
 * The user id a membership cursor points after.
 *
 * @throws TenantContextError `VALIDATION_FAILED` for anything {@link encodeMembershipCursor} did not make.
 *
 * @example
 * ```ts
 * const afterUserId = query.cursor === undefined ? null : decodeMembershipCursor(query.cursor);
 * ```
 */
export function decodeMembershipCursor(cursor: unknown): string {
  const [tag, userId, ...rest] = decodeCursor(cursor);
  if (tag !== 'm' || typeof userId !== 'string' || rest.length > 0) throw invalidCursorError();
  return userId;
}
