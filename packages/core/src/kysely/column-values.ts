import type { CodedErrorFactory, SharedErrorCode } from '../coded-error-factory.js';

/*
 * Conversions between record fields and column values. Reading is strict: a value the adapter
 * cannot represent exactly (an integer beyond 2^53, text that is not JSON) is a sign of a
 * driver type parser or a schema this adapter did not create, and is reported instead of
 * being returned approximately.
 */

/**
 * Strict conversions between record fields and column values, throwing one package's coded
 * errors (see {@link createColumnValues}).
 *
 * @example
 * ```ts
 * const { readSafeInteger, readText } = createColumnValues(codedErrorFactory(RbacError));
 * ```
 */
export interface ColumnValues {
  /**
   * An integer column as a safe JavaScript integer. Drivers return `bigint` columns as numbers
   * (mysql2, PGlite, better-sqlite3), decimal strings (pg) or `bigint`s (custom type parsers,
   * safe-integer modes); all are checked to be exact.
   *
   * @throws `CONFIGURATION_INVALID` for anything else, or beyond 2^53 - 1.
   *
   * @example
   * ```ts
   * readSafeInteger('1767268800123', 'created_at'); // 1767268800123
   * ```
   */
  readSafeInteger(value: unknown, column: string): number;
  /**
   * A nullable integer column (see `readSafeInteger`).
   *
   * @example
   * ```ts
   * readNullableSafeInteger(null, 'deleted_at'); // null
   * ```
   */
  readNullableSafeInteger(value: unknown, column: string): number | null;
  /**
   * A text column as a string; bytes (a driver that returns binary-collated text as a Buffer)
   * are decoded as UTF-8.
   *
   * @throws `CONFIGURATION_INVALID` for anything else, or bytes that are not UTF-8.
   *
   * @example
   * ```ts
   * readText('acme', 'slug'); // 'acme'
   * ```
   */
  readText(value: unknown, column: string): string;
  /**
   * A nullable text column (see `readText`).
   *
   * @example
   * ```ts
   * readNullableText(null, 'region'); // null
   * ```
   */
  readNullableText(value: unknown, column: string): string | null;
  /**
   * A JSON text column, parsed into a fresh value (so callers may change what they get).
   *
   * @throws `CONFIGURATION_INVALID` for text that is not JSON.
   *
   * @example
   * ```ts
   * readJson<Record<string, boolean>>('{"sso":true}', 'features'); // { sso: true }
   * ```
   */
  readJson<Value>(value: unknown, column: string): Value;
  /**
   * A value as JSON text, keeping exactly what a JSON round trip keeps (like the memory stores).
   *
   * @throws `VALIDATION_FAILED` when the value has no JSON form (`undefined`, a function, a
   *   `bigint`, a cycle).
   *
   * @example
   * ```ts
   * writeJson({ theme: 'dark' }, 'tenant settings'); // '{"theme":"dark"}'
   * ```
   */
  writeJson(value: unknown, what: string): string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The column conversions of a package's Kysely stores, throwing its coded errors:
 * `CONFIGURATION_INVALID` (details `{ column }`) for a value read that the adapter cannot
 * represent exactly, `VALIDATION_FAILED` for a value written that has no JSON form.
 *
 * @example
 * ```ts
 * export const { readSafeInteger, readText, readJson, writeJson } = createColumnValues(codedErrorFactory(TenantContextError));
 * ```
 */
export function createColumnValues(errors: CodedErrorFactory<Error, SharedErrorCode>): ColumnValues {
  function unreadable(column: string, reason: string): Error {
    return errors.create('CONFIGURATION_INVALID', `The database returned ${reason} for column "${column}"`, { details: { column } });
  }

  function readSafeInteger(value: unknown, column: string): number {
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

  function readText(value: unknown, column: string): string {
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

  return Object.freeze({
    readSafeInteger,
    readNullableSafeInteger: (value: unknown, column: string): number | null =>
      value === null || value === undefined ? null : readSafeInteger(value, column),
    readText,
    readNullableText: (value: unknown, column: string): string | null =>
      value === null || value === undefined ? null : readText(value, column),
    readJson<Value>(value: unknown, column: string): Value {
      const text = readText(value, column);
      try {
        return JSON.parse(text) as Value;
      } catch {
        throw unreadable(column, 'text that is not JSON');
      }
    },
    writeJson(value: unknown, what: string): string {
      let text: string | undefined;
      try {
        text = JSON.stringify(value);
      } catch (cause) {
        throw errors.create('VALIDATION_FAILED', `The ${what} is not JSON-serializable`, { cause });
      }
      if (typeof text !== 'string') throw errors.create('VALIDATION_FAILED', `The ${what} is not JSON-serializable`);
      return text;
    },
  });
}
