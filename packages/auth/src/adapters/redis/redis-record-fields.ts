import { AuthError } from '../../errors.js';
import type { OneTimeTokenPurpose, OneTimeTokenRecord, RefreshFamilyRecord, RefreshTokenRecord, SessionRecord } from '../../store.js';
import { corruptRedisData } from './redis-store-errors.js';

/*
 * The records as Redis hashes: one field per record field, every number as the decimal text
 * JavaScript writes (`String(n)`, which `Number()` and Lua's `tonumber` read back exactly), a
 * nullable field left out when it is `null`, and the structured fields (`amr`, `device`, `data`)
 * as JSON. Lua compares and copies these texts but never formats a number, so no precision is
 * lost on the way. Reading a hash back checks every field, so a hash of another shape is an
 * error (`STORE_CONFLICT`), never a record of the wrong shape.
 */

/** A hash as field → value, from the flat `[field, value, ...]` reply of HGETALL. */
export type RedisHashFields = ReadonlyMap<string, string>;

// With the `u` flag, \p{Cs} only matches surrogates that are not part of a pair.
const LONE_SURROGATE = /\p{Cs}/u;
const purposes: ReadonlySet<string> = new Set<OneTimeTokenPurpose>(['password-reset', 'email-verification', 'invitation']);

function invalid(what: string, field: string, problem: string): AuthError {
  return new AuthError('VALIDATION_FAILED', `The ${what}'s ${field} ${problem}`, { details: { field } });
}

function text(value: unknown, what: string, field: string, options: { nonEmpty?: boolean } = {}): string {
  if (typeof value !== 'string') throw invalid(what, field, 'must be a string');
  if (options.nonEmpty === true && value.length === 0) throw invalid(what, field, 'must not be empty');
  // Redis stores UTF-8: a lone surrogate would come back as U+FFFD.
  if (LONE_SURROGATE.test(value)) throw invalid(what, field, 'must not hold a lone UTF-16 surrogate');
  return value;
}

function nullableText(value: unknown, what: string, field: string): string | null {
  return value === null ? null : text(value, what, field);
}

function time(value: unknown, what: string, field: string): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(what, field, 'must be a finite number (epoch ms)');
  return String(value);
}

function json(value: unknown, what: string, field: string): string {
  let serialized: string | undefined;
  try {
    serialized = JSON.stringify(value);
  } catch (cause) {
    throw new AuthError('VALIDATION_FAILED', `The ${what}'s ${field} is not JSON-serializable`, { cause, details: { field } });
  }
  if (serialized === undefined) throw invalid(what, field, 'is not JSON-serializable');
  return serialized;
}

function push(fields: string[], name: string, value: string | null): void {
  if (value !== null) fields.push(name, value);
}

/**
 * Turns an HGETALL reply (ioredis's object, or the flat list a script returns) into a field
 * map; `null` for an empty hash (the key does not exist).
 *
 * @example
 * ```ts
 * const fields = hashFieldsOf(await client.hgetall(key));
 * ```
 */
export function hashFieldsOf(reply: unknown, what: string): RedisHashFields | null {
  // ioredis turns HGETALL into an object; a script's reply stays the flat list.
  if (typeof reply === 'object' && reply !== null && !Array.isArray(reply)) return hashFieldsOf(Object.entries(reply).flat(), what);
  if (!Array.isArray(reply) || reply.length % 2 !== 0) throw corruptRedisData(what, 'the reply is not a field list');
  if (reply.length === 0) return null;
  const fields = new Map<string, string>();
  for (let index = 0; index < reply.length; index += 2) {
    const name: unknown = reply[index];
    const value: unknown = reply[index + 1];
    if (typeof name !== 'string' || typeof value !== 'string') throw corruptRedisData(what, 'a field is not text');
    fields.set(name, value);
  }
  return fields;
}

function readText(fields: RedisHashFields, name: string, what: string): string {
  const value = fields.get(name);
  if (value === undefined) throw corruptRedisData(what, `${name} is missing`);
  return value;
}

function readNullableText(fields: RedisHashFields, name: string): string | null {
  return fields.get(name) ?? null;
}

function readTime(fields: RedisHashFields, name: string, what: string): number {
  const raw = readText(fields, name, what);
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) throw corruptRedisData(what, `${name} is not a number`);
  return value;
}

function readNullableTime(fields: RedisHashFields, name: string, what: string): number | null {
  return fields.has(name) ? readTime(fields, name, what) : null;
}

function readJson(fields: RedisHashFields, name: string, what: string): unknown {
  try {
    return JSON.parse(readText(fields, name, what));
  } catch (error) {
    if (error instanceof AuthError) throw error;
    throw corruptRedisData(what, `${name} is not JSON`);
  }
}

function readStringArray(fields: RedisHashFields, name: string, what: string): string[] {
  const value = readJson(fields, name, what);
  if (!Array.isArray(value) || !value.every((entry) => typeof entry === 'string')) throw corruptRedisData(what, `${name} is not a list of strings`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------------------------

/**
 * The hash fields of a session, after checking every field.
 *
 * @throws AuthError `VALIDATION_FAILED` for a field of the wrong type.
 * @example
 * ```ts
 * await client.hset(key, ...sessionToFields(session));
 * ```
 */
export function sessionToFields(session: SessionRecord): string[] {
  const what = 'session';
  if (typeof session !== 'object' || session === null) throw new AuthError('VALIDATION_FAILED', 'The session must be a SessionRecord');
  const device: unknown = session.device;
  if (typeof device !== 'object' || device === null) throw invalid(what, 'device', 'must be an object');
  const { userAgent, ip, label } = device as Record<string, unknown>;
  if (!Array.isArray(session.amr)) throw invalid(what, 'amr', 'must be a list of strings');
  const amr = session.amr.map((method, index) => text(method, what, `amr[${index}]`));
  const fields = [
    'id', text(session.id, what, 'id', { nonEmpty: true }),
    'tokenHash', text(session.tokenHash, what, 'tokenHash', { nonEmpty: true }),
    'userId', text(session.userId, what, 'userId', { nonEmpty: true }),
    'amr', json(amr, what, 'amr'),
    'device', json({ userAgent: nullableText(userAgent, what, 'device.userAgent'), ip: nullableText(ip, what, 'device.ip'), label: nullableText(label, what, 'device.label') }, what, 'device'),
    'createdAt', time(session.createdAt, what, 'createdAt'),
    'lastSeenAt', time(session.lastSeenAt, what, 'lastSeenAt'),
    'expiresAt', time(session.expiresAt, what, 'expiresAt'),
    'absoluteExpiresAt', time(session.absoluteExpiresAt, what, 'absoluteExpiresAt'),
  ];
  push(fields, 'tenantId', nullableText(session.tenantId, what, 'tenantId'));
  return fields;
}

/**
 * The session a hash holds.
 *
 * @throws AuthError `STORE_CONFLICT` for a hash of another shape.
 * @example
 * ```ts
 * const session = sessionFromFields(hashFieldsOf(reply, 'session')!);
 * ```
 */
export function sessionFromFields(fields: RedisHashFields): SessionRecord {
  const what = 'session';
  const device = readJson(fields, 'device', what);
  if (typeof device !== 'object' || device === null || Array.isArray(device)) throw corruptRedisData(what, 'device is not an object');
  const { userAgent = null, ip = null, label = null } = device as Record<string, unknown>;
  for (const value of [userAgent, ip, label]) {
    if (value !== null && typeof value !== 'string') throw corruptRedisData(what, 'a device field is not text');
  }
  return {
    id: readText(fields, 'id', what),
    tokenHash: readText(fields, 'tokenHash', what),
    userId: readText(fields, 'userId', what),
    tenantId: readNullableText(fields, 'tenantId'),
    amr: readStringArray(fields, 'amr', what),
    device: { userAgent: userAgent as string | null, ip: ip as string | null, label: label as string | null },
    createdAt: readTime(fields, 'createdAt', what),
    lastSeenAt: readTime(fields, 'lastSeenAt', what),
    expiresAt: readTime(fields, 'expiresAt', what),
    absoluteExpiresAt: readTime(fields, 'absoluteExpiresAt', what),
  };
}

// ---------------------------------------------------------------------------------------------
// Refresh families and tokens
// ---------------------------------------------------------------------------------------------

/**
 * The hash fields of a refresh family, after checking every field.
 *
 * @throws AuthError `VALIDATION_FAILED` for a field of the wrong type.
 * @example
 * ```ts
 * const fields = refreshFamilyToFields(family);
 * ```
 */
export function refreshFamilyToFields(family: RefreshFamilyRecord): string[] {
  const what = 'refresh family';
  if (typeof family !== 'object' || family === null) throw new AuthError('VALIDATION_FAILED', 'The family must be a RefreshFamilyRecord');
  const fields = [
    'id', text(family.id, what, 'id', { nonEmpty: true }),
    'userId', text(family.userId, what, 'userId', { nonEmpty: true }),
    'createdAt', time(family.createdAt, what, 'createdAt'),
    'expiresAt', time(family.expiresAt, what, 'expiresAt'),
  ];
  push(fields, 'tenantId', nullableText(family.tenantId, what, 'tenantId'));
  push(fields, 'sessionId', nullableText(family.sessionId, what, 'sessionId'));
  push(fields, 'revokedAt', family.revokedAt === null ? null : time(family.revokedAt, what, 'revokedAt'));
  push(fields, 'revokedReason', nullableText(family.revokedReason, what, 'revokedReason'));
  return fields;
}

/**
 * The refresh family a hash holds.
 *
 * @throws AuthError `STORE_CONFLICT` for a hash of another shape.
 * @example
 * ```ts
 * const family = refreshFamilyFromFields(fields);
 * ```
 */
export function refreshFamilyFromFields(fields: RedisHashFields): RefreshFamilyRecord {
  const what = 'refresh family';
  return {
    id: readText(fields, 'id', what),
    userId: readText(fields, 'userId', what),
    tenantId: readNullableText(fields, 'tenantId'),
    sessionId: readNullableText(fields, 'sessionId'),
    createdAt: readTime(fields, 'createdAt', what),
    expiresAt: readTime(fields, 'expiresAt', what),
    revokedAt: readNullableTime(fields, 'revokedAt', what),
    revokedReason: readNullableText(fields, 'revokedReason'),
  };
}

/**
 * The hash fields of a refresh token, after checking every field.
 *
 * @throws AuthError `VALIDATION_FAILED` for a field of the wrong type.
 * @example
 * ```ts
 * const fields = refreshTokenToFields(token);
 * ```
 */
export function refreshTokenToFields(token: RefreshTokenRecord): string[] {
  const what = 'refresh token';
  if (typeof token !== 'object' || token === null) throw new AuthError('VALIDATION_FAILED', 'The token must be a RefreshTokenRecord');
  if (typeof token.generation !== 'number' || !Number.isSafeInteger(token.generation) || token.generation < 0) {
    throw invalid(what, 'generation', 'must be a non-negative safe integer');
  }
  const fields = [
    'tokenHash', text(token.tokenHash, what, 'tokenHash', { nonEmpty: true }),
    'familyId', text(token.familyId, what, 'familyId', { nonEmpty: true }),
    'generation', String(token.generation),
    'issuedAt', time(token.issuedAt, what, 'issuedAt'),
    'expiresAt', time(token.expiresAt, what, 'expiresAt'),
  ];
  push(fields, 'rotatedAt', token.rotatedAt === null ? null : time(token.rotatedAt, what, 'rotatedAt'));
  push(fields, 'successorSealed', nullableText(token.successorSealed, what, 'successorSealed'));
  return fields;
}

/**
 * The refresh token a hash holds.
 *
 * @throws AuthError `STORE_CONFLICT` for a hash of another shape.
 * @example
 * ```ts
 * const token = refreshTokenFromFields(fields);
 * ```
 */
export function refreshTokenFromFields(fields: RedisHashFields): RefreshTokenRecord {
  const what = 'refresh token';
  const generation = readTime(fields, 'generation', what);
  if (!Number.isSafeInteger(generation) || generation < 0) throw corruptRedisData(what, 'generation is not a count');
  return {
    tokenHash: readText(fields, 'tokenHash', what),
    familyId: readText(fields, 'familyId', what),
    generation,
    issuedAt: readTime(fields, 'issuedAt', what),
    expiresAt: readTime(fields, 'expiresAt', what),
    rotatedAt: readNullableTime(fields, 'rotatedAt', what),
    successorSealed: readNullableText(fields, 'successorSealed'),
  };
}

// ---------------------------------------------------------------------------------------------
// One-time tokens
// ---------------------------------------------------------------------------------------------

/**
 * Checks a purpose argument.
 *
 * @throws AuthError `VALIDATION_FAILED` for anything but the three purposes.
 * @example
 * ```ts
 * assertOneTimeTokenPurpose('password-reset');
 * ```
 */
export function assertOneTimeTokenPurpose(value: unknown): asserts value is OneTimeTokenPurpose {
  if (typeof value !== 'string' || !purposes.has(value)) {
    throw new AuthError('VALIDATION_FAILED', "purpose must be 'password-reset', 'email-verification' or 'invitation'", { details: { field: 'purpose' } });
  }
}

/**
 * The hash fields of a one-time token, after checking every field.
 *
 * @throws AuthError `VALIDATION_FAILED` for a field of the wrong type, or `data` that is not a
 *   JSON object.
 * @example
 * ```ts
 * const fields = oneTimeTokenToFields(token);
 * ```
 */
export function oneTimeTokenToFields(token: OneTimeTokenRecord): string[] {
  const what = 'one-time token';
  if (typeof token !== 'object' || token === null) throw new AuthError('VALIDATION_FAILED', 'The token must be a OneTimeTokenRecord');
  assertOneTimeTokenPurpose(token.purpose);
  if (typeof token.data !== 'object' || token.data === null || Array.isArray(token.data)) throw invalid(what, 'data', 'must be a JSON object');
  const fields = [
    'tokenHash', text(token.tokenHash, what, 'tokenHash', { nonEmpty: true }),
    'purpose', token.purpose,
    'subject', text(token.subject, what, 'subject', { nonEmpty: true }),
    'data', json(token.data, what, 'data'),
    'createdAt', time(token.createdAt, what, 'createdAt'),
    'expiresAt', time(token.expiresAt, what, 'expiresAt'),
  ];
  push(fields, 'tenantId', nullableText(token.tenantId, what, 'tenantId'));
  return fields;
}

/**
 * The one-time token a hash holds.
 *
 * @throws AuthError `STORE_CONFLICT` for a hash of another shape.
 * @example
 * ```ts
 * const token = oneTimeTokenFromFields(fields);
 * ```
 */
export function oneTimeTokenFromFields(fields: RedisHashFields): OneTimeTokenRecord {
  const what = 'one-time token';
  const purpose = readText(fields, 'purpose', what);
  if (!purposes.has(purpose)) throw corruptRedisData(what, 'purpose is unknown');
  const data = readJson(fields, 'data', what);
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw corruptRedisData(what, 'data is not an object');
  return {
    tokenHash: readText(fields, 'tokenHash', what),
    purpose: purpose as OneTimeTokenPurpose,
    subject: readText(fields, 'subject', what),
    tenantId: readNullableText(fields, 'tenantId'),
    data: data as Record<string, unknown>,
    createdAt: readTime(fields, 'createdAt', what),
    expiresAt: readTime(fields, 'expiresAt', what),
  };
}

/**
 * Checks a `now` (or other epoch-ms) argument and returns its decimal text for a script.
 *
 * @throws AuthError `VALIDATION_FAILED` for anything but a finite number.
 * @example
 * ```ts
 * const nowText = timeArgument(now, 'now');
 * ```
 */
export function timeArgument(value: unknown, name: string): string {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new AuthError('VALIDATION_FAILED', `\`${name}\` must be a finite number (epoch ms)`, { details: { field: name } });
  }
  return String(value);
}

/**
 * The shortest TTL these stores give a key: a record written already expired (or measured from
 * a caller's clock a little behind Redis's) still reads back, as absent, for this long, the way
 * the memory store keeps it until it is swept.
 *
 * @example
 * ```ts
 * ttlMs(now - 1, now); // String(minimumTtlMs)
 * ```
 */
export const minimumTtlMs = 60_000;

/**
 * The PX (milliseconds to live) of a key whose data stops mattering at `until`, measured from
 * `now`: rounded up so a key never dies before its time, at least {@link minimumTtlMs}, at most
 * the largest safe integer. Reads still compare the record's own times with their `now`.
 *
 * @example
 * ```ts
 * ttlMs(session.expiresAt, now); // '86400000'
 * ```
 */
export function ttlMs(until: number, now: number): string {
  const remaining = Math.ceil(until - now);
  return String(Math.min(Math.max(remaining, minimumTtlMs), Number.MAX_SAFE_INTEGER));
}
