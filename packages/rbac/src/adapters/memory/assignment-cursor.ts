import { decodeKeysetCursor, encodeKeysetCursor } from '@tenantkit/core';
import { RbacError } from '../../errors.js';

/*
 * The page cursor of `listAssignments`: the id of a page's last assignment, as base64url JSON
 * tagged `'a'`. Opaque to callers but not secret: it holds nothing the caller has not just been
 * shown. It comes back from untrusted query strings, so decoding checks every part before any
 * of it is used, and refuses, as `VALIDATION_FAILED`, anything the store did not issue.
 */

function invalidCursorError(): RbacError {
  return new RbacError('VALIDATION_FAILED', 'The cursor is not one this store issued');
}

/**
 * The cursor of the assignment page that ends with assignment `lastId`.
 *
 * @example
 * ```ts
 * const nextCursor = hasMore ? encodeAssignmentCursor(page.at(-1)!.id) : null;
 * ```
 */
export function encodeAssignmentCursor(lastId: string): string {
  return encodeKeysetCursor(['a', lastId]);
}

/**
 * The assignment id a cursor points after.
 *
 * @throws RbacError `VALIDATION_FAILED` for anything {@link encodeAssignmentCursor} did not make.
 *
 * @example
 * ```ts
 * const afterId = query.cursor === undefined ? null : decodeAssignmentCursor(query.cursor);
 * ```
 */
export function decodeAssignmentCursor(cursor: unknown): string {
  const parsed = decodeKeysetCursor(cursor);
  if (parsed === null || parsed.length !== 2 || parsed[0] !== 'a' || typeof parsed[1] !== 'string') {
    throw invalidCursorError();
  }
  return parsed[1];
}
