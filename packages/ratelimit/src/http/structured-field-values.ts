import { RateLimitError } from '../errors.js';

// RFC 9651 §3.3.1: Integers have at most 15 decimal digits.
const MAX_SF_INTEGER = 999_999_999_999_999;
// RFC 9651 §4.1.6: a String holds printable ASCII only (%x20-7E).
const SF_STRING_CHARS = /^[\x20-\x7e]*$/;

/**
 * Serializes a Structured Field String (RFC 9651 §4.1.6): quoted, with `\` and `"` escaped.
 *
 * @throws `VALIDATION_FAILED` for characters outside printable ASCII, which a String cannot
 *   carry (the serialization algorithm fails there too).
 * @example
 * ```ts
 * serializeSfString('tenant "a"'); // '"tenant \\"a\\""'
 * ```
 */
export function serializeSfString(value: string): string {
  if (typeof value !== 'string' || !SF_STRING_CHARS.test(value)) {
    throw new RateLimitError('VALIDATION_FAILED', 'A structured-field string must be printable ASCII', {
      details: { value: String(value).slice(0, 64) },
    });
  }
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

/**
 * Serializes a non-negative Structured Field Integer (RFC 9651 §4.1.4): fractions are
 * dropped, negatives and NaN become 0, values past the 15-digit limit are capped, because a
 * header with an out-of-range number is dropped by a conforming parser altogether.
 *
 * @example
 * ```ts
 * serializeSfNonNegativeInteger(12.7); // '12'
 * serializeSfNonNegativeInteger(-3);   // '0'
 * ```
 */
export function serializeSfNonNegativeInteger(value: number): string {
  if (!(value > 0)) return '0';
  return String(Math.min(Math.floor(value), MAX_SF_INTEGER));
}

/**
 * Serializes a Structured Field Byte Sequence (RFC 9651 §4.1.8): base64 with padding
 * between colons.
 *
 * @example
 * ```ts
 * serializeSfByteSequence(Buffer.from('hi')); // ':aGk=:'
 * ```
 */
export function serializeSfByteSequence(bytes: Uint8Array): string {
  return `:${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}:`;
}
