import { RbacError } from '../../errors.js';

/*
 * Conversions between record fields and column values. Reading is strict: a value the adapter
 * cannot represent exactly (an integer beyond 2^53, text that is not JSON) means a driver type
 * parser or a schema this adapter did not create, and is reported instead of being returned
 * approximately.
 */

function unreadable(column: string, reason: string): RbacError {
  return new RbacError('CONFIGURATION_INVALID', `The database returned ${reason} for column "${column}"`, { details: { column } });
}

/**
 * An integer column as a safe JavaScript integer, whether the driver returned a number
 * (mysql2, PGlite, better-sqlite3), a decimal string (pg) or a `bigint` (safe-integer modes).
 *
 * @throws RbacError `CONFIGURATION_INVALID` for anything else, or beyond 2^53 - 1.
 *
 * @example
 * ```ts
 * readSafeInteger('1767268800123', 'created_at'); // 1767268800123
 * ```
 */
export function readSafeInteger(value: unknown, column: string): number {
  let parsed: number;
  if (typeof value === 'number') {
    parsed = value;
  } else if (typeof value === 'bigint') {
    parsed = Number(value);
    if (BigInt(parsed) !== value) throw unreadable(column, 'an integer beyond the safe range');
  } else if (typeof value === 'string' && /^-?\d{1,16}$/.test(value)) {
    parsed = Number(value);
  } else {
    throw unreadable(column, `a ${value === null ? 'null' : typeof value} where an integer belongs`);
  }
  if (!Number.isSafeInteger(parsed)) throw unreadable(column, 'an integer beyond the safe range');
  return parsed;
}

/**
 * A nullable integer column (see {@link readSafeInteger}).
 *
 * @example
 * ```ts
 * readNullableSafeInteger(null, 'expires_at'); // null
 * ```
 */
export function readNullableSafeInteger(value: unknown, column: string): number | null {
  return value === null || value === undefined ? null : readSafeInteger(value, column);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A text column as a string; bytes (a driver returning binary-collated text as a Buffer) are
 * decoded as UTF-8.
 *
 * @example
 * ```ts
 * readText('editor', 'role_key'); // 'editor'
 * ```
 */
export function readText(value: unknown, column: string): string {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) {
    try {
      return utf8.decode(value);
    } catch {
      throw unreadable(column, 'bytes that are not UTF-8');
    }
  }
  throw unreadable(column, `a ${value === null ? 'null' : typeof value} where text belongs`);
}

/**
 * A nullable text column (see {@link readText}).
 *
 * @example
 * ```ts
 * readNullableText(null, 'granted_by'); // null
 * ```
 */
export function readNullableText(value: unknown, column: string): string | null {
  return value === null || value === undefined ? null : readText(value, column);
}

/**
 * A JSON text column, parsed into a fresh value.
 *
 * @example
 * ```ts
 * readJson<string[]>('["viewer"]', 'inherits'); // ['viewer']
 * ```
 */
export function readJson<Value>(value: unknown, column: string): Value {
  const text = readText(value, column);
  try {
    return JSON.parse(text) as Value;
  } catch {
    throw unreadable(column, 'text that is not JSON');
  }
}

/**
 * A value as JSON text, keeping exactly what a JSON round trip keeps (as the memory store does).
 *
 * @throws RbacError `VALIDATION_FAILED` when the value has no JSON form (`undefined`, a
 *   `bigint`, a cycle).
 *
 * @example
 * ```ts
 * writeJson(['viewer'], 'role inherits'); // '["viewer"]'
 * ```
 */
export function writeJson(value: unknown, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw new RbacError('VALIDATION_FAILED', `The ${what} is not JSON-serializable`, { cause });
  }
  if (typeof text !== 'string') throw new RbacError('VALIDATION_FAILED', `The ${what} is not JSON-serializable`);
  return text;
}
