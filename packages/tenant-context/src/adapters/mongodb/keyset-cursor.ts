import { TenantContextError } from '../../errors.js';

/*
 * Page cursors are the sort key of a page's last row, as base64url JSON tagged with the
 * listing they belong to. They are opaque to callers but not secret: they hold nothing the
 * caller has not just been shown. They arrive back from untrusted query strings, so decoding
 * checks every part's type before any of it reaches a query document.
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

function invalidCursor(): TenantContextError {
  return new TenantContextError('VALIDATION_FAILED', 'The cursor is not one this store issued');
}

function decode(cursor: unknown): unknown[] {
  if (typeof cursor !== 'string') throw invalidCursor();
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
 * The cursor of the tenant page that ends with this tenant.
 *
 * @example
 * ```ts
 * encodeTenantCursor({ createdAt: last.createdAt, id: last.id });
 * ```
 */
export function encodeTenantCursor(position: TenantCursorPosition): string {
  return Buffer.from(JSON.stringify(['t', position.createdAt, position.id]), 'utf8').toString('base64url');
}

/**
 * The position in a tenant cursor.
 *
 * @throws TenantContextError `VALIDATION_FAILED` for a malformed cursor or one of another listing.
 *
 * @example
 * ```ts
 * const after = decodeTenantCursor(query.cursor);
 * ```
 */
export function decodeTenantCursor(cursor: unknown): TenantCursorPosition {
  const [tag, createdAt, id, ...rest] = decode(cursor);
  if (tag !== 't' || typeof createdAt !== 'number' || !Number.isFinite(createdAt) || typeof id !== 'string' || rest.length > 0) {
    throw invalidCursor();
  }
  return { createdAt, id };
}

/**
 * The cursor of the membership page that ends with this user id.
 *
 * @example
 * ```ts
 * encodeMembershipCursor(last.userId);
 * ```
 */
export function encodeMembershipCursor(userId: string): string {
  return Buffer.from(JSON.stringify(['m', userId]), 'utf8').toString('base64url');
}

/**
 * The user id in a membership cursor.
 *
 * @throws TenantContextError `VALIDATION_FAILED` for a malformed cursor or one of another listing.
 *
 * @example
 * ```ts
 * const afterUserId = decodeMembershipCursor(query.cursor);
 * ```
 */
export function decodeMembershipCursor(cursor: unknown): string {
  const [tag, userId, ...rest] = decode(cursor);
  if (tag !== 'm' || typeof userId !== 'string' || rest.length > 0) throw invalidCursor();
  return userId;
}
