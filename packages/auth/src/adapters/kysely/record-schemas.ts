import { createParseOrThrow } from '@tenantkit/core';
import { z } from 'zod';
import { AuthError } from '../../errors.js';
import type {
  AccountRecord,
  ApiKeyRecord,
  OneTimeTokenPurpose,
  OneTimeTokenRecord,
  RefreshFamilyRecord,
  RefreshTokenRecord,
  SessionRecord,
} from '../../store.js';
import { readJson } from './column-values.js';
import { authColumnLengths as lengths } from './schema.js';
import { parseAuthInput as parseOrThrow } from '../../parse-auth-input.js';

/*
 * What a record must look like before it is written, and what a JSON column must hold when it
 * is read back. The stores do not check business rules (the services do); the write schemas
 * only keep out what a column would store differently from what was given: strings longer
 * than their column (silently truncated by a non-strict MySQL), NUL characters (refused by
 * Postgres, kept by MySQL), lone UTF-16 surrogates (replaced by U+FFFD on the way to UTF-8),
 * numbers that are not safe integers, and the empty string where it is the stores' own marker
 * (a one-time token of no tenant). The read schemas make a JSON column written by something
 * else (a hand-edited row, another schema) an error instead of a record of the wrong shape.
 */

// With the `u` flag, \p{Cs} only matches surrogates that are not part of a pair.
const UNSTORABLE_CHARACTERS = /[\u0000\p{Cs}]/u;

function storableText(maxLength?: number) {
  const text = maxLength === undefined ? z.string() : z.string().max(maxLength);
  return text.refine((value) => !UNSTORABLE_CHARACTERS.test(value), 'must not contain NUL or unpaired surrogate characters');
}

function storableKey(maxLength: number) {
  return storableText(maxLength).refine((value) => value.length > 0, 'must not be empty');
}

const safeInteger = z.number().refine(Number.isSafeInteger, 'must be a safe integer');
const id = storableKey(lengths.id);
const tenantId = storableKey(lengths.tenantId);
const tokenHash = storableKey(lengths.tokenHash);
const oneTimeTokenPurposes = ['password-reset', 'email-verification', 'invitation'] as const satisfies readonly OneTimeTokenPurpose[];
const purpose = z.enum(oneTimeTokenPurposes);

const accountRecordSchema = z.object({
  id,
  email: storableKey(lengths.email),
  passwordHash: storableText().nullable(),
  passwordHistory: z.array(storableText()),
  passwordChangedAt: safeInteger.nullable(),
  emailVerifiedAt: safeInteger.nullable(),
  disabledAt: safeInteger.nullable(),
  createdAt: safeInteger,
  updatedAt: safeInteger,
});

const sessionRecordSchema = z.object({
  id,
  tokenHash,
  userId: id,
  tenantId: tenantId.nullable(),
  amr: z.array(storableText()),
  device: z.object({
    userAgent: storableText().nullable(),
    ip: storableText().nullable(),
    label: storableText().nullable(),
  }),
  createdAt: safeInteger,
  lastSeenAt: safeInteger,
  expiresAt: safeInteger,
  absoluteExpiresAt: safeInteger,
});

const refreshFamilyRecordSchema = z.object({
  id,
  userId: id,
  tenantId: tenantId.nullable(),
  sessionId: id.nullable(),
  createdAt: safeInteger,
  expiresAt: safeInteger,
  revokedAt: safeInteger.nullable(),
  revokedReason: storableText().nullable(),
});

const refreshTokenRecordSchema = z.object({
  tokenHash,
  familyId: id,
  generation: safeInteger,
  issuedAt: safeInteger,
  expiresAt: safeInteger,
  rotatedAt: safeInteger.nullable(),
  successorSealed: storableText().nullable(),
});

const oneTimeTokenRecordSchema = z.object({
  tokenHash,
  purpose,
  subject: storableKey(lengths.email),
  tenantId: tenantId.nullable(),
  data: z.record(z.string(), z.unknown()),
  createdAt: safeInteger,
  expiresAt: safeInteger,
});

const apiKeyRecordSchema = z.object({
  id,
  tenantId,
  name: storableText(),
  secretHash: storableText(),
  hashKeyId: storableKey(lengths.hashKeyId),
  scopes: z.array(storableText()),
  createdBy: id.nullable(),
  createdAt: safeInteger,
  expiresAt: safeInteger.nullable(),
  revokedAt: safeInteger.nullable(),
  lastUsedAt: safeInteger.nullable(),
});


// Paths and messages only (see `createParseOrThrow`): the offending values may be secrets or
// anything a caller passed.
function parseStorable(schema: z.ZodType, value: unknown, what: string): void {
  parseOrThrow(schema, value, 'VALIDATION_FAILED', what);
}

/**
 * Throws `VALIDATION_FAILED` unless the account's columns can be stored exactly.
 *
 * @example
 * ```ts
 * assertStorableAccount(account);
 * ```
 */
export function assertStorableAccount(account: AccountRecord): void {
  parseStorable(accountRecordSchema, account, 'account record');
}

/**
 * Throws `VALIDATION_FAILED` unless `passwordHash` can be stored as an account's password.
 *
 * @example
 * ```ts
 * assertStorablePasswordHash(next);
 * ```
 */
export function assertStorablePasswordHash(passwordHash: unknown): void {
  parseStorable(accountRecordSchema.shape.passwordHash.unwrap(), passwordHash, 'password hash');
}

/**
 * Throws `VALIDATION_FAILED` unless the session's columns can be stored exactly.
 *
 * @example
 * ```ts
 * assertStorableSession(session);
 * ```
 */
export function assertStorableSession(session: SessionRecord): void {
  parseStorable(sessionRecordSchema, session, 'session record');
}

/**
 * Throws `VALIDATION_FAILED` unless the family's columns can be stored exactly.
 *
 * @example
 * ```ts
 * assertStorableRefreshFamily(family);
 * ```
 */
export function assertStorableRefreshFamily(family: RefreshFamilyRecord): void {
  parseStorable(refreshFamilyRecordSchema, family, 'refresh family record');
}

/**
 * Throws `VALIDATION_FAILED` unless the refresh token's columns can be stored exactly.
 *
 * @example
 * ```ts
 * assertStorableRefreshToken(token);
 * ```
 */
export function assertStorableRefreshToken(token: RefreshTokenRecord): void {
  parseStorable(refreshTokenRecordSchema, token, 'refresh token record');
}

/**
 * Throws `VALIDATION_FAILED` unless the one-time token's columns can be stored exactly.
 *
 * @example
 * ```ts
 * assertStorableOneTimeToken(token);
 * ```
 */
export function assertStorableOneTimeToken(token: OneTimeTokenRecord): void {
  parseStorable(oneTimeTokenRecordSchema, token, 'one-time token record');
}

/**
 * Throws `VALIDATION_FAILED` unless `value` is a one-time token purpose.
 *
 * @example
 * ```ts
 * assertPurpose('password-reset');
 * ```
 */
export function assertPurpose(value: unknown): asserts value is OneTimeTokenPurpose {
  parseStorable(purpose, value, 'one-time token purpose');
}

/**
 * Throws `VALIDATION_FAILED` unless the API key's columns can be stored exactly.
 *
 * @example
 * ```ts
 * assertStorableApiKey(key);
 * ```
 */
export function assertStorableApiKey(key: ApiKeyRecord): void {
  parseStorable(apiKeyRecordSchema, key, 'API key record');
}

/**
 * Throws `VALIDATION_FAILED` unless `value` is a string that fits a key column of `maxLength`
 * (an id written as a separate argument: a revoked jti, a tenant whose epoch is raised).
 *
 * @example
 * ```ts
 * assertStorableKeyArgument(jti, authColumnLengths.id, 'jti');
 * ```
 */
export function assertStorableKeyArgument(value: unknown, maxLength: number, what: string): asserts value is string {
  parseStorable(storableKey(maxLength), value, what);
}

/**
 * Throws `VALIDATION_FAILED` unless `value` is a non-empty string a text column stores exactly
 * (a revocation reason, a sealed successor pair).
 *
 * @example
 * ```ts
 * assertNonEmptyTextArgument(reason, 'reason');
 * ```
 */
export function assertNonEmptyTextArgument(value: unknown, what: string): asserts value is string {
  parseStorable(storableText().refine((text) => text.length > 0, 'must not be empty'), value, what);
}

/**
 * A safe integer for a column or a comparison, or `VALIDATION_FAILED` (epoch ms passed as
 * separate arguments).
 *
 * @example
 * ```ts
 * assertSafeIntegerArgument(now, 'now');
 * ```
 */
export function assertSafeIntegerArgument(value: unknown, what: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new AuthError('VALIDATION_FAILED', `${what} must be a safe integer`, { details: { argument: what } });
  }
}

/**
 * A non-negative safe integer (a history limit, a grace window), or `VALIDATION_FAILED`.
 *
 * @example
 * ```ts
 * assertCountArgument(historyLimit, 'historyLimit');
 * ```
 */
export function assertCountArgument(value: unknown, what: string): asserts value is number {
  assertSafeIntegerArgument(value, what);
  if (value < 0) throw new AuthError('VALIDATION_FAILED', `${what} must not be negative`, { details: { argument: what } });
}

/**
 * Whether a lookup argument could be stored at all. Any string is a valid lookup; one that no
 * column can hold (NUL, an unpaired surrogate, which Postgres refuses or UTF-8 alters) matches
 * nothing, so the stores answer "absent" without asking the database. Anything but a string is
 * `VALIDATION_FAILED`.
 *
 * @example
 * ```ts
 * if (!isStorableLookup(email, 'email')) return null;
 * ```
 */
export function isStorableLookup(value: unknown, what: string): value is string {
  if (typeof value !== 'string') {
    throw new AuthError('VALIDATION_FAILED', `${what} must be a string`, { details: { argument: what } });
  }
  return value.length > 0 && !UNSTORABLE_CHARACTERS.test(value);
}

const stringArraySchema = z.array(z.string());
const jsonObjectSchema = z.record(z.string(), z.unknown());

function storedValue<Schema extends z.ZodType>(schema: Schema, value: unknown, column: string): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new AuthError('CONFIGURATION_INVALID', `The database returned a value of the wrong shape for column "${column}"`, {
    details: { column },
  });
}

/**
 * A JSON column holding an array of strings (`amr`, `scopes`, `password_history`), parsed and
 * checked.
 *
 * @throws AuthError `CONFIGURATION_INVALID` (details `{ column }`) for anything else.
 *
 * @example
 * ```ts
 * readStringArrayColumn('["pwd"]', 'amr'); // ['pwd']
 * ```
 */
export function readStringArrayColumn(value: unknown, column: string): string[] {
  return storedValue(stringArraySchema, readJson<unknown>(value, column), column);
}

/**
 * A JSON column holding an object (a one-time token's `data`), parsed and checked.
 *
 * @throws AuthError `CONFIGURATION_INVALID` (details `{ column }`) for anything else.
 *
 * @example
 * ```ts
 * readJsonObjectColumn('{"roles":["member"]}', 'data'); // { roles: ['member'] }
 * ```
 */
export function readJsonObjectColumn(value: unknown, column: string): Record<string, unknown> {
  return storedValue(jsonObjectSchema, readJson<unknown>(value, column), column);
}

/**
 * A `purpose` column, checked to be a known purpose.
 *
 * @throws AuthError `CONFIGURATION_INVALID` (details `{ column }`) for anything else.
 *
 * @example
 * ```ts
 * readPurposeColumn('invitation', 'purpose'); // 'invitation'
 * ```
 */
export function readPurposeColumn(value: unknown, column: string): OneTimeTokenPurpose {
  return storedValue(purpose, value, column);
}

/**
 * A boolean an SQL expression returned: `true`/`false` (Postgres), `1`/`0` as a number,
 * string or bigint (MySQL, SQLite).
 *
 * @throws AuthError `CONFIGURATION_INVALID` (details `{ column }`) for anything else.
 *
 * @example
 * ```ts
 * readFlagColumn(1, 'jti_revoked'); // true
 * ```
 */
export function readFlagColumn(value: unknown, column: string): boolean {
  if (value === true || value === 1 || value === '1' || value === 1n) return true;
  if (value === false || value === 0 || value === '0' || value === 0n) return false;
  throw new AuthError('CONFIGURATION_INVALID', `The database returned a value of the wrong shape for column "${column}"`, {
    details: { column },
  });
}
