import { TenantContextError } from '../../errors.js';

/**
 * What is stored for a cached "not found" (negative caching): the empty string, which no JSON
 * document is, so it can never be mistaken for a value.
 *
 * @example
 * ```ts
 * if (raw === negativeCacheEntry) return undefined;
 * ```
 */
export const negativeCacheEntry = '';

function rejectNonFiniteNumbers(_key: string, value: unknown): unknown {
  // JSON.stringify writes NaN and ±Infinity as null: the value read back would differ.
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new TenantContextError('VALIDATION_FAILED', 'A cached value may not contain NaN or Infinity');
  }
  return value;
}

/**
 * The JSON text of a value to cache, at most `maxBytes` bytes of UTF-8.
 *
 * @throws TenantContextError `VALIDATION_FAILED` for `undefined`, a value JSON cannot hold
 *   (BigInt, a cycle, a function, NaN, Infinity) or one larger than `maxBytes`.
 * @example
 * ```ts
 * serializeCacheValue({ name: 'Ada' }, 1024); // '{"name":"Ada"}'
 * ```
 */
export function serializeCacheValue(value: unknown, maxBytes: number): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value, rejectNonFiniteNumbers);
  } catch (error) {
    if (error instanceof TenantContextError) throw error;
    throw new TenantContextError('VALIDATION_FAILED', 'A cached value must be JSON-serialisable (no BigInt, no cycles)', { cause: error });
  }
  if (text === undefined) {
    throw new TenantContextError('VALIDATION_FAILED', 'A cached value must be JSON: undefined, functions and symbols cannot be cached');
  }
  // Cheap upper bound first: a UTF-16 code unit is at most 3 bytes of UTF-8.
  if (text.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > maxBytes) {
      throw new TenantContextError('VALIDATION_FAILED', `A cached value may be at most ${maxBytes} bytes of JSON`, {
        details: { bytes, maxBytes },
      });
    }
  }
  return text;
}

function rejectPrototypeKeys(key: string, value: unknown): unknown {
  // Own `__proto__` / `constructor.prototype` members are harmless until code merges the value
  // into another object; a cache should never hand them out.
  if (key === '__proto__' || (key === 'constructor' && typeof value === 'object' && value !== null && Object.hasOwn(value, 'prototype'))) {
    throw new SyntaxError('prototype key');
  }
  return value;
}

/**
 * The outcome of {@link parseCacheValue}.
 *
 * @example
 * ```ts
 * const parsed: ParsedCacheValue = { ok: true, value: { name: 'Ada' } };
 * ```
 */
export type ParsedCacheValue = { readonly ok: true; readonly value: unknown } | { readonly ok: false };

/**
 * Parses stored JSON; `{ ok: false }` for text that is not JSON or holds a `__proto__` or
 * `constructor.prototype` key (written by something else than the cache, or corrupted).
 *
 * @example
 * ```ts
 * parseCacheValue('{"a":1}'); // { ok: true, value: { a: 1 } }
 * parseCacheValue('{"a":');   // { ok: false }
 * ```
 */
export function parseCacheValue(text: string): ParsedCacheValue {
  try {
    const suspicious = text.includes('"__proto__"') || text.includes('"constructor"');
    return { ok: true, value: suspicious ? JSON.parse(text, rejectPrototypeKeys) : JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}
