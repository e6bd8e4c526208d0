/*
 * Page cursors of the store adapters: the sort key of a page's last row as base64url JSON,
 * tagged by the listing it belongs to. Opaque to callers but not secret. They come back from
 * untrusted query strings, so decoding accepts only what the encoder writes and leaves the
 * checks of each part, and the package's own error, to the caller.
 */

/**
 * The cursor for a page that ends at `position` (a listing tag followed by the sort key).
 *
 * @example
 * ```ts
 * encodeKeysetCursor(['t', 1, 'tnt_1']); // 'WyJ0IiwxLCJ0bnRfMSJd'
 * ```
 */
export function encodeKeysetCursor(position: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

/**
 * The parts of a cursor {@link encodeKeysetCursor} made, or `null` for anything that is not
 * unpadded base64url of a JSON array. The caller checks each part's type and its tag.
 *
 * @example
 * ```ts
 * const parts = decodeKeysetCursor(query.cursor);
 * if (parts === null || parts[0] !== 't') throw invalidCursorError();
 * ```
 */
export function decodeKeysetCursor(cursor: unknown): unknown[] | null {
  // Only the characters of unpadded base64url, which is all the encoder writes: Node's decoder
  // would otherwise skip stray characters and accept a mangled cursor.
  if (typeof cursor !== 'string' || !/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  return Array.isArray(parsed) ? parsed : null;
}
