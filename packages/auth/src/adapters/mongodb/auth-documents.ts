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
import { parseAuthInput as parseOrThrow } from '../../parse-auth-input.js';

/*
 * The documents the MongoDB auth stores keep: the record itself, field by field, under a natural
 * `_id` (the account, session, family or API key id; the token hash of a refresh or one-time
 * token), plus an `expireAt` Date where a TTL index lets the server delete what can no longer
 * matter (reads still compare the record's own epoch-ms times with their `now`). A one-time
 * token's `data` is stored as its JSON text, so any key (`$where`, `a.b`) round-trips exactly.
 *
 * Records are checked on the way in (`VALIDATION_FAILED`: a wrong type, a non-finite time, a
 * lone UTF-16 surrogate, which BSON's UTF-8 would turn into U+FFFD) and documents on the way out
 * (`STORE_CONFLICT`: a document of another shape, written by something else).
 */


// With the `u` flag, \p{Cs} only matches surrogates that are not part of a pair.
const LONE_SURROGATE = /\p{Cs}/u;
const text = z.string().refine((value) => !LONE_SURROGATE.test(value), 'must not contain an unpaired surrogate');
const key = text.refine((value) => value.length > 0, 'must not be empty');
// zod 4 numbers are finite: NaN and ±Infinity are refused.
const time = z.number();
const purposes = ['password-reset', 'email-verification', 'invitation'] as const satisfies readonly OneTimeTokenPurpose[];
const purpose = z.enum(purposes);
const jsonObject = z.record(z.string(), z.unknown());

const accountRecordSchema = z.object({
  id: key,
  email: key,
  passwordHash: text.nullable(),
  passwordHistory: z.array(text),
  passwordChangedAt: time.nullable(),
  emailVerifiedAt: time.nullable(),
  disabledAt: time.nullable(),
  createdAt: time,
  updatedAt: time,
});

const deviceSchema = z.object({ userAgent: text.nullable(), ip: text.nullable(), label: text.nullable() });

const sessionRecordSchema = z.object({
  id: key,
  tokenHash: key,
  userId: key,
  tenantId: text.nullable(),
  amr: z.array(text),
  device: deviceSchema,
  createdAt: time,
  lastSeenAt: time,
  expiresAt: time,
  absoluteExpiresAt: time,
});

const refreshFamilyRecordSchema = z.object({
  id: key,
  userId: key,
  tenantId: text.nullable(),
  sessionId: text.nullable(),
  createdAt: time,
  expiresAt: time,
  revokedAt: time.nullable(),
  revokedReason: text.nullable(),
});

const refreshTokenRecordSchema = z.object({
  tokenHash: key,
  familyId: key,
  generation: z.number().int().nonnegative(),
  issuedAt: time,
  expiresAt: time,
  rotatedAt: time.nullable(),
  successorSealed: text.nullable(),
});

const oneTimeTokenRecordSchema = z.object({
  tokenHash: key,
  purpose,
  subject: key,
  tenantId: text.nullable(),
  data: jsonObject,
  createdAt: time,
  expiresAt: time,
});

const apiKeyRecordSchema = z.object({
  id: key,
  tenantId: key,
  name: text,
  secretHash: text,
  hashKeyId: text,
  scopes: z.array(text),
  createdBy: text.nullable(),
  createdAt: time,
  expiresAt: time.nullable(),
  revokedAt: time.nullable(),
  lastUsedAt: time.nullable(),
});

const expireAt = z.date();

/** The largest time a JavaScript `Date` (and so a TTL field) can hold. */
const maxDateMs = 8.64e15;

/**
 * The `expireAt` Date of a TTL index for an epoch-ms end (clamped to what a `Date` can hold).
 *
 * @example
 * ```ts
 * ttlDate(session.expiresAt); // new Date(session.expiresAt)
 * ```
 */
export function ttlDate(epochMs: number): Date {
  return new Date(Math.max(Math.min(epochMs, maxDateMs), -maxDateMs));
}

function storedJson(value: Record<string, unknown>, what: string): string {
  let serialized: string | undefined;
  try {
    serialized = JSON.stringify(value);
  } catch (cause) {
    throw new AuthError('VALIDATION_FAILED', `The ${what} is not JSON-serializable`, { cause });
  }
  if (serialized === undefined) throw new AuthError('VALIDATION_FAILED', `The ${what} is not JSON-serializable`);
  return serialized;
}

// ---------------------------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------------------------

/**
 * An account as stored; `_id` is the account id.
 *
 * @example
 * ```ts
 * const document: AccountDocument = accountToDocument(account);
 * ```
 */
export type AccountDocument = Omit<AccountRecord, 'id' | 'passwordHistory'> & { _id: string; passwordHistory: string[] };

const accountDocumentSchema = accountRecordSchema.omit({ id: true }).extend({ _id: key });

/**
 * The document stored for an account.
 *
 * @throws AuthError `VALIDATION_FAILED` for a record of the wrong shape.
 * @example
 * ```ts
 * await accounts.insertOne(accountToDocument(account));
 * ```
 */
export function accountToDocument(account: AccountRecord): AccountDocument {
  const { id, ...fields } = parseOrThrow(accountRecordSchema, account, 'VALIDATION_FAILED', 'account');
  return { _id: id, ...fields };
}

/**
 * The account of a stored document.
 *
 * @throws AuthError `STORE_CONFLICT` for a document of another shape.
 * @example
 * ```ts
 * const account = accountFromDocument(await accounts.findOne({ _id: id }));
 * ```
 */
export function accountFromDocument(document: unknown): AccountRecord {
  const { _id, ...fields } = parseOrThrow(accountDocumentSchema, document, 'STORE_CONFLICT', 'account document');
  return {
    id: _id,
    email: fields.email,
    passwordHash: fields.passwordHash,
    passwordHistory: fields.passwordHistory,
    passwordChangedAt: fields.passwordChangedAt,
    emailVerifiedAt: fields.emailVerifiedAt,
    disabledAt: fields.disabledAt,
    createdAt: fields.createdAt,
    updatedAt: fields.updatedAt,
  };
}

// ---------------------------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------------------------

/**
 * A session as stored; `_id` is the session id, `expireAt` its idle end (capped by the absolute one).
 *
 * @example
 * ```ts
 * const document: SessionDocument = sessionToDocument(session);
 * ```
 */
export type SessionDocument = Omit<SessionRecord, 'id' | 'amr' | 'device'> & {
  _id: string;
  amr: string[];
  device: { userAgent: string | null; ip: string | null; label: string | null };
  expireAt: Date;
};

const sessionDocumentSchema = sessionRecordSchema.omit({ id: true }).extend({ _id: key, expireAt });

/**
 * The document stored for a session.
 *
 * @throws AuthError `VALIDATION_FAILED` for a record of the wrong shape.
 * @example
 * ```ts
 * await sessions.insertOne(sessionToDocument(session));
 * ```
 */
export function sessionToDocument(session: SessionRecord): SessionDocument {
  const { id, ...fields } = parseOrThrow(sessionRecordSchema, session, 'VALIDATION_FAILED', 'session');
  return { _id: id, ...fields, expireAt: ttlDate(Math.min(fields.expiresAt, fields.absoluteExpiresAt)) };
}

/**
 * The session of a stored document.
 *
 * @throws AuthError `STORE_CONFLICT` for a document of another shape.
 * @example
 * ```ts
 * const session = sessionFromDocument(document);
 * ```
 */
export function sessionFromDocument(document: unknown): SessionRecord {
  const fields = parseOrThrow(sessionDocumentSchema, document, 'STORE_CONFLICT', 'session document');
  return {
    id: fields._id,
    tokenHash: fields.tokenHash,
    userId: fields.userId,
    tenantId: fields.tenantId,
    amr: fields.amr,
    device: { userAgent: fields.device.userAgent, ip: fields.device.ip, label: fields.device.label },
    createdAt: fields.createdAt,
    lastSeenAt: fields.lastSeenAt,
    expiresAt: fields.expiresAt,
    absoluteExpiresAt: fields.absoluteExpiresAt,
  };
}

// ---------------------------------------------------------------------------------------------
// Refresh families and tokens
// ---------------------------------------------------------------------------------------------

/**
 * A refresh family as stored; `_id` is the family id, `expireAt` its absolute end.
 *
 * @example
 * ```ts
 * const document: RefreshFamilyDocument = refreshFamilyToDocument(family);
 * ```
 */
export type RefreshFamilyDocument = Omit<RefreshFamilyRecord, 'id'> & { _id: string; expireAt: Date };

const refreshFamilyDocumentSchema = refreshFamilyRecordSchema.omit({ id: true }).extend({ _id: key, expireAt });

/**
 * The document stored for a refresh family.
 *
 * @throws AuthError `VALIDATION_FAILED` for a record of the wrong shape.
 * @example
 * ```ts
 * await families.insertOne(refreshFamilyToDocument(family));
 * ```
 */
export function refreshFamilyToDocument(family: RefreshFamilyRecord): RefreshFamilyDocument {
  const { id, ...fields } = parseOrThrow(refreshFamilyRecordSchema, family, 'VALIDATION_FAILED', 'refresh family');
  return { _id: id, ...fields, expireAt: ttlDate(fields.expiresAt) };
}

/**
 * The refresh family of a stored document.
 *
 * @throws AuthError `STORE_CONFLICT` for a document of another shape.
 * @example
 * ```ts
 * const family = refreshFamilyFromDocument(document);
 * ```
 */
export function refreshFamilyFromDocument(document: unknown): RefreshFamilyRecord {
  const fields = parseOrThrow(refreshFamilyDocumentSchema, document, 'STORE_CONFLICT', 'refresh family document');
  return {
    id: fields._id,
    userId: fields.userId,
    tenantId: fields.tenantId,
    sessionId: fields.sessionId,
    createdAt: fields.createdAt,
    expiresAt: fields.expiresAt,
    revokedAt: fields.revokedAt,
    revokedReason: fields.revokedReason,
  };
}

/**
 * A refresh token as stored; `_id` is its hash, `expireAt` its own end (a rotated token is kept
 * until then, to recognise its reuse).
 *
 * @example
 * ```ts
 * const document: RefreshTokenDocument = refreshTokenToDocument(token);
 * ```
 */
export type RefreshTokenDocument = Omit<RefreshTokenRecord, 'tokenHash'> & { _id: string; expireAt: Date };

const refreshTokenDocumentSchema = refreshTokenRecordSchema.omit({ tokenHash: true }).extend({ _id: key, expireAt });

/**
 * The document stored for a refresh token.
 *
 * @throws AuthError `VALIDATION_FAILED` for a record of the wrong shape.
 * @example
 * ```ts
 * await tokens.insertOne(refreshTokenToDocument(next));
 * ```
 */
export function refreshTokenToDocument(token: RefreshTokenRecord): RefreshTokenDocument {
  const { tokenHash, ...fields } = parseOrThrow(refreshTokenRecordSchema, token, 'VALIDATION_FAILED', 'refresh token');
  return { _id: tokenHash, ...fields, expireAt: ttlDate(fields.expiresAt) };
}

/**
 * The refresh token of a stored document.
 *
 * @throws AuthError `STORE_CONFLICT` for a document of another shape.
 * @example
 * ```ts
 * const token = refreshTokenFromDocument(document);
 * ```
 */
export function refreshTokenFromDocument(document: unknown): RefreshTokenRecord {
  const fields = parseOrThrow(refreshTokenDocumentSchema, document, 'STORE_CONFLICT', 'refresh token document');
  return {
    tokenHash: fields._id,
    familyId: fields.familyId,
    generation: fields.generation,
    issuedAt: fields.issuedAt,
    expiresAt: fields.expiresAt,
    rotatedAt: fields.rotatedAt,
    successorSealed: fields.successorSealed,
  };
}

// ---------------------------------------------------------------------------------------------
// Revocations and epochs
// ---------------------------------------------------------------------------------------------

/**
 * What a revocation document is about.
 *
 * @example
 * ```ts
 * const kind: RevocationDocumentKind = 'user-epoch';
 * ```
 */
export type RevocationDocumentKind = 'jti' | 'session' | 'user-epoch' | 'tenant-epoch';

/**
 * A revocation entry (`until`, with an `expireAt` for the TTL index) or an epoch (`epoch`, no
 * TTL), in one collection so `check` reads all of a query with one `find`. `_id` is
 * `{ kind, id }`, always built in that field order ({@link revocationDocumentId}).
 *
 * @example
 * ```ts
 * const entry: RevocationDocument = { _id: { kind: 'jti', id: 'jti_1' }, until: 1767225600000, expireAt: new Date(1767225600000) };
 * ```
 */
export interface RevocationDocument {
  _id: { kind: RevocationDocumentKind; id: string };
  until?: number;
  expireAt?: Date;
  epoch?: number;
}

/**
 * The `_id` of a revocation document (an embedded `_id` matches only field for field, in order).
 *
 * @throws AuthError `VALIDATION_FAILED` for an id that is not a non-empty string.
 * @example
 * ```ts
 * revocationDocumentId('session', 'ses_1'); // { kind: 'session', id: 'ses_1' }
 * ```
 */
export function revocationDocumentId(kind: RevocationDocumentKind, id: string): RevocationDocument['_id'] {
  return { kind, id: parseOrThrow(key, id, 'VALIDATION_FAILED', `${kind} id`) };
}

const revocationDocumentSchema = z.object({
  _id: z.object({ kind: z.enum(['jti', 'session', 'user-epoch', 'tenant-epoch']), id: z.string() }),
  until: time.optional(),
  epoch: time.optional(),
});

/**
 * The kind, id and time (`until` of an entry, `epoch` of an epoch) of a stored revocation document.
 *
 * @throws AuthError `STORE_CONFLICT` for a document of another shape.
 * @example
 * ```ts
 * revocationFromDocument({ _id: { kind: 'jti', id: 'j' }, until: 5 }); // { kind: 'jti', id: 'j', time: 5 }
 * ```
 */
export function revocationFromDocument(document: unknown): { kind: RevocationDocumentKind; id: string; time: number } {
  const fields = parseOrThrow(revocationDocumentSchema, document, 'STORE_CONFLICT', 'revocation document');
  const isEpoch = fields._id.kind === 'user-epoch' || fields._id.kind === 'tenant-epoch';
  const value = isEpoch ? fields.epoch : fields.until;
  if (value === undefined) {
    throw new AuthError('STORE_CONFLICT', `Invalid revocation document: ${isEpoch ? 'epoch' : 'until'} is missing`);
  }
  return { kind: fields._id.kind, id: fields._id.id, time: value };
}

// ---------------------------------------------------------------------------------------------
// One-time tokens
// ---------------------------------------------------------------------------------------------

/**
 * A one-time token as stored; `_id` is its hash, `data` its JSON text, `seq` its place among
 * the issues of its purpose, subject and tenant (see `mongoOneTimeTokenStore`).
 *
 * @example
 * ```ts
 * const document: OneTimeTokenDocument = oneTimeTokenToDocument(token, 3);
 * ```
 */
export type OneTimeTokenDocument = Omit<OneTimeTokenRecord, 'tokenHash' | 'data'> & { _id: string; data: string; seq: number; expireAt: Date };

const oneTimeTokenDocumentSchema = oneTimeTokenRecordSchema
  .omit({ tokenHash: true, data: true })
  .extend({ _id: key, data: z.string(), seq: z.number().int(), expireAt });

/**
 * The document stored for a one-time token issued as number `seq` of its owner.
 *
 * @throws AuthError `VALIDATION_FAILED` for a record of the wrong shape or `data` that is not a JSON object.
 * @example
 * ```ts
 * await tokens.replaceOne({ _id: token.tokenHash }, oneTimeTokenToDocument(token, seq), { upsert: true });
 * ```
 */
export function oneTimeTokenToDocument(token: OneTimeTokenRecord, seq: number): OneTimeTokenDocument {
  const { tokenHash, data: _checked, ...fields } = parseOrThrow(oneTimeTokenRecordSchema, token, 'VALIDATION_FAILED', 'one-time token');
  // The caller's object, not zod's copy: the copy loses an own `__proto__` key.
  return { _id: tokenHash, ...fields, data: storedJson(token.data, 'one-time token data'), seq, expireAt: ttlDate(fields.expiresAt) };
}

/**
 * The one-time token of a stored document.
 *
 * @throws AuthError `STORE_CONFLICT` for a document of another shape (or `data` that is not a JSON object).
 * @example
 * ```ts
 * const token = oneTimeTokenFromDocument(document);
 * ```
 */
export function oneTimeTokenFromDocument(document: unknown): OneTimeTokenRecord {
  const fields = parseOrThrow(oneTimeTokenDocumentSchema, document, 'STORE_CONFLICT', 'one-time token document');
  let data: unknown;
  try {
    data = JSON.parse(fields.data);
  } catch (cause) {
    throw new AuthError('STORE_CONFLICT', 'Invalid one-time token document: data is not JSON', { cause });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new AuthError('STORE_CONFLICT', 'Invalid one-time token document: data is not a JSON object');
  }
  return {
    tokenHash: fields._id,
    purpose: fields.purpose,
    subject: fields.subject,
    tenantId: fields.tenantId,
    data: data as Record<string, unknown>,
    createdAt: fields.createdAt,
    expiresAt: fields.expiresAt,
  };
}

/**
 * The counter of one purpose, subject and tenant whose `seq` orders their issues.
 *
 * @example
 * ```ts
 * const owner: OneTimeTokenOwnerDocument = { _id: { purpose: 'invitation', subject: 'a@example.com', tenantId: 'tnt_1' }, seq: 4, expireAt };
 * ```
 */
export interface OneTimeTokenOwnerDocument {
  _id: { purpose: OneTimeTokenPurpose; subject: string; tenantId: string | null };
  seq: number;
  expireAt: Date;
}

// ---------------------------------------------------------------------------------------------
// API keys
// ---------------------------------------------------------------------------------------------

/**
 * An API key as stored; `_id` is the key id (no TTL: expired and revoked keys stay findable).
 *
 * @example
 * ```ts
 * const document: ApiKeyDocument = apiKeyToDocument(key);
 * ```
 */
export type ApiKeyDocument = Omit<ApiKeyRecord, 'id' | 'scopes'> & { _id: string; scopes: string[] };

const apiKeyDocumentSchema = apiKeyRecordSchema.omit({ id: true }).extend({ _id: key });

/**
 * The document stored for an API key.
 *
 * @throws AuthError `VALIDATION_FAILED` for a record of the wrong shape.
 * @example
 * ```ts
 * await apiKeys.insertOne(apiKeyToDocument(key));
 * ```
 */
export function apiKeyToDocument(key: ApiKeyRecord): ApiKeyDocument {
  const { id, ...fields } = parseOrThrow(apiKeyRecordSchema, key, 'VALIDATION_FAILED', 'API key');
  return { _id: id, ...fields };
}

/**
 * The API key of a stored document.
 *
 * @throws AuthError `STORE_CONFLICT` for a document of another shape.
 * @example
 * ```ts
 * const key = apiKeyFromDocument(document);
 * ```
 */
export function apiKeyFromDocument(document: unknown): ApiKeyRecord {
  const fields = parseOrThrow(apiKeyDocumentSchema, document, 'STORE_CONFLICT', 'API key document');
  return {
    id: fields._id,
    tenantId: fields.tenantId,
    name: fields.name,
    secretHash: fields.secretHash,
    hashKeyId: fields.hashKeyId,
    scopes: fields.scopes,
    createdBy: fields.createdBy,
    createdAt: fields.createdAt,
    expiresAt: fields.expiresAt,
    revokedAt: fields.revokedAt,
    lastUsedAt: fields.lastUsedAt,
  };
}
