import { RbacError } from '../../errors.js';
import { rbacColumnLengths } from './schema.js';

/*
 * The page cursor of `listAssignments`: the id of a page's last assignment as base64url JSON
 * tagged `'a'`. Opaque to callers but not secret (it holds an id the caller was just shown).
 * It comes back from untrusted query strings, so decoding checks length and shape before any
 * of it reaches a query, and refuses anything this store did not issue as `VALIDATION_FAILED`.
 */

// An id fills at most 128 characters; a longer cursor is not one this store issued.
const MAX_CURSOR_LENGTH = 1024;

function invalidCursor(): RbacError {
  return new RbacError('VALIDATION_FAILED', 'The cursor is not one this store issued');
}

/**
 * The cursor of the assignment page that ends with `assignmentId`.
 *
 * @example
 * ```ts
 * encodeAssignmentCursor('asg_1'); // 'WyJhIiwiYXNnXzEiXQ'
 * ```
 */
export function encodeAssignmentCursor(assignmentId: string): string {
  return Buffer.from(JSON.stringify(['a', assignmentId]), 'utf8').toString('base64url');
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
  // Only unpadded base64url, all encodeAssignmentCursor writes: Node's decoder would otherwise
  // skip stray characters and accept a mangled cursor.
  if (typeof cursor !== 'string' || cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalidCursor();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) throw invalidCursor();
  const [tag, assignmentId] = parsed as unknown[];
  if (tag !== 'a' || typeof assignmentId !== 'string' || assignmentId.length > rbacColumnLengths.assignmentId) throw invalidCursor();
  return assignmentId;
}
