import { TenantContextError } from '../../errors.js';
import { assertTenantId, isValidTenantId } from '../../identifiers.js';

/**
 * One part of a Redis key below the tenant's hash tag: a string, or a safe integer (written in
 * decimal).
 *
 * @example
 * ```ts
 * const segments: RedisKeySegment[] = ['cache', 'user', 42];
 * ```
 */
export type RedisKeySegment = string | number;

/**
 * Longest segment accepted, in UTF-16 code units before encoding.
 *
 * @example
 * ```ts
 * if (id.length > maxRedisKeySegmentLength) id = sha256(id);
 * ```
 */
export const maxRedisKeySegmentLength = 1024;

/**
 * Most segments one key may have.
 *
 * @example
 * ```ts
 * tenantRedisKey('app:', 'tnt_a', ...path.slice(0, maxRedisKeySegments));
 * ```
 */
export const maxRedisKeySegments = 32;

/*
 * Characters a segment may not carry as they are, written as %XX (their UTF-8 bytes) instead:
 * `%` (the escape itself), `:` (the separator), `{` `}` (Cluster hash tags), `*` `?` `[` `]`
 * `\` (SCAN/KEYS glob syntax), whitespace and control characters (they break redis-cli,
 * MONITOR and log lines), and the Unicode line and paragraph separators. Everything else,
 * non-ASCII letters included, is kept, so keys stay readable.
 */
const ESCAPED_CHARACTER = /[%:{}*?[\]\\\s\u0000-\u001f\u007f-\u009f\u2028\u2029]/gu;
/** A UTF-16 surrogate that is not part of a pair: UTF-8 cannot carry it (it would become U+FFFD). */
const LONE_SURROGATE = /\p{Cs}/u;
/** Glob metacharacters of Redis `SCAN ... MATCH` (stringmatchlen). */
const GLOB_METACHARACTER = /[*?[\]\\]/g;

function percentEncode(character: string): string {
  let encoded = '';
  for (const byte of Buffer.from(character, 'utf8')) encoded += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  return encoded;
}

/**
 * Encodes one key segment so it can never end the segment, move a Cluster hash tag or act as a
 * glob in a SCAN pattern: `%`, `:`, `{`, `}`, `*`, `?`, `[`, `]`, `\`, whitespace and control
 * characters become `%XX`. The encoding is one-to-one, so distinct segments give distinct keys
 * (`['a:b']` and `['a', 'b']` differ) and {@link decodeRedisKeySegment} reverses it.
 *
 * @throws TenantContextError `VALIDATION_FAILED` for an empty segment, one longer than
 *   {@link maxRedisKeySegmentLength}, a lone UTF-16 surrogate, a number that is not a safe
 *   integer, or anything that is neither a string nor a number.
 * @example
 * ```ts
 * encodeRedisKeySegment('x}:{tnt_other'); // 'x%7D%3A%7Btnt_other'
 * encodeRedisKeySegment(42);              // '42'
 * ```
 */
export function encodeRedisKeySegment(segment: RedisKeySegment): string {
  if (typeof segment === 'number') {
    if (!Number.isSafeInteger(segment)) {
      throw new TenantContextError('VALIDATION_FAILED', 'A numeric Redis key segment must be a safe integer');
    }
    return String(segment);
  }
  if (typeof segment !== 'string') {
    throw new TenantContextError('VALIDATION_FAILED', 'A Redis key segment must be a string or a safe integer');
  }
  if (segment.length === 0 || segment.length > maxRedisKeySegmentLength) {
    throw new TenantContextError('VALIDATION_FAILED', `A Redis key segment must be 1 to ${maxRedisKeySegmentLength} characters`);
  }
  if (LONE_SURROGATE.test(segment)) {
    throw new TenantContextError('VALIDATION_FAILED', 'A Redis key segment may not contain a lone UTF-16 surrogate');
  }
  return segment.replace(ESCAPED_CHARACTER, percentEncode);
}

/**
 * Reverses {@link encodeRedisKeySegment}; `undefined` for text it cannot have produced
 * (a raw reserved character, a malformed or needless `%XX`).
 *
 * @example
 * ```ts
 * decodeRedisKeySegment('a%3Ab'); // 'a:b'
 * decodeRedisKeySegment('a%41');  // undefined: 'A' is never escaped
 * ```
 */
export function decodeRedisKeySegment(encoded: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(encoded);
  } catch {
    return undefined;
  }
  if (decoded.length === 0 || decoded.length > maxRedisKeySegmentLength || LONE_SURROGATE.test(decoded)) return undefined;
  // Only the canonical spelling is accepted, so one segment has exactly one encoded form.
  return decoded.replace(ESCAPED_CHARACTER, percentEncode) === encoded ? decoded : undefined;
}

/**
 * Escapes Redis glob metacharacters (`*`, `?`, `[`, `]`, `\`) so `text` matches itself only in
 * `SCAN ... MATCH`.
 *
 * @example
 * ```ts
 * escapeRedisGlob('a*b'); // 'a\\*b'
 * ```
 */
export function escapeRedisGlob(text: string): string {
  return text.replace(GLOB_METACHARACTER, (character) => `\\${character}`);
}

function encodeSegments(parts: readonly RedisKeySegment[]): string {
  if (parts.length > maxRedisKeySegments) {
    throw new TenantContextError('VALIDATION_FAILED', `A Redis key may have at most ${maxRedisKeySegments} segments`);
  }
  return parts.map(encodeRedisKeySegment).join(':');
}

/**
 * The Redis key of one of a tenant's structures: `<prefix>{<tenantId>}:<part>:<part>...`.
 *
 * The tenant id sits in a `{...}` hash tag, so Redis Cluster puts every key of a tenant in the
 * same slot: multi-key commands and scripts over one tenant's keys stay legal, and a tenant's
 * data can be found and purged by SCAN over `<prefix>{<tenantId>}:*`
 * ({@link tenantRedisKeyPattern}). Tenant ids are checked (`[A-Za-z0-9_-]{1,64}`), so an id can
 * never hold a `}` that would end the tag early or a `*` that would widen such a pattern; each
 * part is encoded with {@link encodeRedisKeySegment}, so a part cannot forge another tenant's
 * tag or another key's boundary either. The prefix (separator included, e.g. `'tk:'`) must hold
 * no brace; callers check it when they are configured.
 *
 * @throws TenantContextError `TENANT_IDENTIFIER_INVALID` for a malformed tenant id;
 *   `VALIDATION_FAILED` for a part {@link encodeRedisKeySegment} refuses, or more than
 *   {@link maxRedisKeySegments} parts.
 * @example
 * ```ts
 * tenantRedisKey('tk:', 'tnt_a', 'usage');         // 'tk:{tnt_a}:usage'
 * tenantRedisKey('app:', 'tnt_a', 'user', 'a:b');  // 'app:{tnt_a}:user:a%3Ab'
 * ```
 */
export function tenantRedisKey(prefix: string, tenantId: string, ...parts: readonly RedisKeySegment[]): string {
  assertTenantId(tenantId);
  return `${prefix}{${tenantId}}:${encodeSegments(parts)}`;
}

/**
 * The `SCAN ... MATCH` pattern of every key {@link tenantRedisKey} builds for this prefix and
 * tenant whose parts start with `parts`: `<prefix>{<tenantId>}:<part>:...:*`, glob
 * metacharacters escaped. It never matches another tenant's keys, even one whose id starts with
 * this one's (`tnt_a` vs `tnt_ab`): the tag's closing brace is part of the pattern.
 *
 * @throws TenantContextError as {@link tenantRedisKey}.
 * @example
 * ```ts
 * tenantRedisKeyPattern('app:', 'tnt_a');          // 'app:{tnt_a}:*'
 * tenantRedisKeyPattern('app:', 'tnt_a', 'cache'); // 'app:{tnt_a}:cache:*'
 * ```
 */
export function tenantRedisKeyPattern(prefix: string, tenantId: string, ...parts: readonly RedisKeySegment[]): string {
  assertTenantId(tenantId);
  const below = parts.length === 0 ? '' : `${encodeSegments(parts)}:`;
  return `${escapeRedisGlob(`${prefix}{${tenantId}}:${below}`)}*`;
}

/**
 * A tenant key (`<prefix>{<tenantId>}:<segment>:...`) taken apart.
 *
 * @example
 * ```ts
 * const parsed: ParsedTenantRedisKey = { tenantId: 'tnt_a', segments: ['user', '42'] };
 * ```
 */
export interface ParsedTenantRedisKey {
  readonly tenantId: string;
  /** The decoded parts (numbers come back as their decimal strings). */
  readonly segments: readonly string[];
}

/**
 * Takes a key built by {@link tenantRedisKey} with this prefix apart; `undefined` for any key
 * it cannot have built (another prefix, a malformed tag or tenant id, a non-canonical segment).
 *
 * @example
 * ```ts
 * parseTenantRedisKey('app:', 'app:{tnt_a}:user:a%3Ab'); // { tenantId: 'tnt_a', segments: ['user', 'a:b'] }
 * parseTenantRedisKey('app:', 'other:{tnt_a}:user');     // undefined
 * ```
 */
export function parseTenantRedisKey(prefix: string, key: string): ParsedTenantRedisKey | undefined {
  if (typeof key !== 'string' || !key.startsWith(`${prefix}{`)) return undefined;
  const tagStart = prefix.length + 1;
  const tagEnd = key.indexOf('}', tagStart);
  if (tagEnd === -1 || key[tagEnd + 1] !== ':') return undefined;
  const tenantId = key.slice(tagStart, tagEnd);
  if (!isValidTenantId(tenantId)) return undefined;
  const rest = key.slice(tagEnd + 2);
  const encoded = rest.split(':');
  if (encoded.length > maxRedisKeySegments) return undefined;
  const segments: string[] = [];
  for (const part of encoded) {
    const decoded = decodeRedisKeySegment(part);
    if (decoded === undefined) return undefined;
    segments.push(decoded);
  }
  return { tenantId, segments };
}
