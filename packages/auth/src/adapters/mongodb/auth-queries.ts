import type { AnyBulkWriteOperation, Document, Filter, Sort, UpdateFilter } from 'mongodb';
import { AuthError } from '../../errors.js';
import type { OneTimeTokenPurpose, RevocationQuery } from '../../store.js';
import {
  ttlDate,
  type AccountDocument,
  type ApiKeyDocument,
  type OneTimeTokenDocument,
  type OneTimeTokenOwnerDocument,
  type RefreshFamilyDocument,
  type RefreshTokenDocument,
  type RevocationDocument,
  type SessionDocument,
  revocationDocumentId,
} from './auth-documents.js';

/*
 * Pure builders of every filter and update the MongoDB auth stores send. Caller-supplied ids are
 * checked to be strings before they enter a filter, so none can smuggle in an operator
 * (`{ $ne: null }` as a token hash would otherwise match any token). Aggregation-pipeline
 * updates wrap caller strings in `$literal`: a password hash starts with `$`, which a pipeline
 * would read as a field path.
 */

function assertString(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string') throw new AuthError('VALIDATION_FAILED', `${field} must be a string`, { details: { field } });
}

function assertTime(value: unknown, field: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new AuthError('VALIDATION_FAILED', `${field} must be a finite number (epoch ms)`, { details: { field } });
  }
}

function assertNullableString(value: unknown, field: string): asserts value is string | null {
  if (value !== null) assertString(value, field);
}

/**
 * The filter of one document by its natural `_id`.
 *
 * @throws AuthError `VALIDATION_FAILED` when the id is not a string.
 * @example
 * ```ts
 * idFilter('usr_1', 'id'); // { _id: 'usr_1' }
 * ```
 */
export function idFilter(id: string, field: string): { _id: string } {
  assertString(id, field);
  return { _id: id };
}

// ---------------------------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------------------------

/**
 * The filter of the account with a (normalized) email.
 *
 * @example
 * ```ts
 * accountByEmailFilter('alice@example.com'); // { email: 'alice@example.com' }
 * ```
 */
export function accountByEmailFilter(email: string): Filter<AccountDocument> {
  assertString(email, 'email');
  return { email };
}

/**
 * The filter of `setPassword`: the account, and when `expectedPasswordHash` is given (`null`
 * included), only while it still holds that hash (compare-and-set).
 *
 * @example
 * ```ts
 * setPasswordFilter('usr_1', '$scrypt$...'); // { _id: 'usr_1', passwordHash: '$scrypt$...' }
 * ```
 */
export function setPasswordFilter(id: string, expectedPasswordHash?: string | null): Filter<AccountDocument> {
  const filter: Filter<AccountDocument> = idFilter(id, 'id');
  if (expectedPasswordHash === undefined) return filter;
  assertNullableString(expectedPasswordHash, 'expectedPasswordHash');
  return { ...filter, passwordHash: expectedPasswordHash };
}

/**
 * The pipeline update of `setPassword`: pushes the stored hash (when not null) to the front of
 * the history, cuts it to `historyLimit`, sets the new hash and both times — all computed from
 * the document as it is when the server applies it, so it is one atomic step.
 *
 * @throws AuthError `VALIDATION_FAILED` for a hash that is not a string, a non-finite `now` or a
 *   limit that is not a whole number.
 * @example
 * ```ts
 * await accounts.findOneAndUpdate(filter, setPasswordUpdate({ passwordHash, historyLimit: 5, now }), { returnDocument: 'after' });
 * ```
 */
export function setPasswordUpdate(change: { readonly passwordHash: string; readonly historyLimit: number; readonly now: number }): Document[] {
  assertString(change.passwordHash, 'passwordHash');
  assertTime(change.now, 'now');
  if (!Number.isSafeInteger(change.historyLimit) || change.historyLimit < 0) {
    throw new AuthError('VALIDATION_FAILED', 'historyLimit must be a whole number >= 0', { details: { field: 'historyLimit' } });
  }
  const withPrevious = {
    $cond: {
      if: { $eq: [{ $ifNull: ['$passwordHash', null] }, null] },
      then: '$passwordHistory',
      else: { $concatArrays: [['$passwordHash'], '$passwordHistory'] },
    },
  };
  return [
    {
      $set: {
        passwordHistory: change.historyLimit === 0 ? { $literal: [] } : { $slice: [withPrevious, change.historyLimit] },
        passwordHash: { $literal: change.passwordHash },
        passwordChangedAt: { $literal: change.now },
        updatedAt: { $literal: change.now },
      },
    },
  ];
}

/**
 * The compare-and-set filter of `rehashPassword`.
 *
 * @example
 * ```ts
 * rehashFilter('usr_1', oldHash); // { _id: 'usr_1', passwordHash: oldHash }
 * ```
 */
export function rehashFilter(id: string, expectedPasswordHash: string): Filter<AccountDocument> {
  assertString(expectedPasswordHash, 'expectedPasswordHash');
  return { ...idFilter(id, 'id'), passwordHash: expectedPasswordHash };
}

/**
 * The update of `rehashPassword`: the new hash and `updatedAt`; history and `passwordChangedAt` stay.
 *
 * @example
 * ```ts
 * rehashUpdate(newHash, now); // { $set: { passwordHash: newHash, updatedAt: now } }
 * ```
 */
export function rehashUpdate(passwordHash: string, now: number): UpdateFilter<AccountDocument> {
  assertString(passwordHash, 'passwordHash');
  assertTime(now, 'now');
  return { $set: { passwordHash, updatedAt: now } };
}

/**
 * The update of `accounts.update`: the flag fields given (`null` clears) and `updatedAt`.
 *
 * @example
 * ```ts
 * accountFlagsUpdate({ emailVerifiedAt: now }, now); // { $set: { emailVerifiedAt: now, updatedAt: now } }
 * ```
 */
export function accountFlagsUpdate(
  patch: { readonly emailVerifiedAt?: number | null; readonly disabledAt?: number | null },
  now: number,
): UpdateFilter<AccountDocument> {
  if (typeof patch !== 'object' || patch === null) throw new AuthError('VALIDATION_FAILED', 'The patch must be an object');
  assertTime(now, 'now');
  const set: { -readonly [K in keyof AccountDocument]?: AccountDocument[K] } = { updatedAt: now };
  for (const field of ['emailVerifiedAt', 'disabledAt'] as const) {
    const value = patch[field];
    if (value === undefined) continue;
    if (value !== null) assertTime(value, field);
    set[field] = value;
  }
  return { $set: set };
}

// ---------------------------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------------------------

function liveSession(now: number): Filter<SessionDocument> {
  assertTime(now, 'now');
  return { expiresAt: { $gt: now }, absoluteExpiresAt: { $gt: now } };
}

/**
 * The filter of a session by id, live at `now` (`expiresAt` and `absoluteExpiresAt` after it).
 *
 * @example
 * ```ts
 * liveSessionByIdFilter('ses_1', now); // { _id: 'ses_1', expiresAt: { $gt: now }, absoluteExpiresAt: { $gt: now } }
 * ```
 */
export function liveSessionByIdFilter(id: string, now: number): Filter<SessionDocument> {
  return { ...idFilter(id, 'id'), ...liveSession(now) };
}

/**
 * The filter of a session by token hash, live at `now`.
 *
 * @example
 * ```ts
 * liveSessionByTokenHashFilter(hash, now); // { tokenHash: hash, expiresAt: { $gt: now }, ... }
 * ```
 */
export function liveSessionByTokenHashFilter(tokenHash: string, now: number): Filter<SessionDocument> {
  assertString(tokenHash, 'tokenHash');
  return { tokenHash, ...liveSession(now) };
}

/**
 * The pipeline update of `touch`: `lastSeenAt = now`, `expiresAt = max(expiresAt,
 * min(requested, absoluteExpiresAt))` computed on the server from the stored values, and the
 * TTL field following it.
 *
 * @example
 * ```ts
 * await sessions.findOneAndUpdate(liveSessionByIdFilter(id, now), touchSessionUpdate(now, now + idleMs), { returnDocument: 'after' });
 * ```
 */
export function touchSessionUpdate(now: number, expiresAt: number): Document[] {
  assertTime(now, 'now');
  assertTime(expiresAt, 'expiresAt');
  return [
    { $set: { lastSeenAt: { $literal: now }, expiresAt: { $max: ['$expiresAt', { $min: [{ $literal: expiresAt }, '$absoluteExpiresAt'] }] } } },
    { $set: { expireAt: { $toDate: { $min: ['$expiresAt', '$absoluteExpiresAt'] } } } },
  ];
}

/**
 * The filter of a user's sessions live at `now`, and their order (newest `createdAt` first,
 * then by id, as the memory store lists them).
 *
 * @example
 * ```ts
 * const { filter, sort } = userSessionsQuery('usr_1', now);
 * await sessions.find(filter).sort(sort).toArray();
 * ```
 */
export function userSessionsQuery(userId: string, now: number): { filter: Filter<SessionDocument>; sort: Sort } {
  assertString(userId, 'userId');
  return { filter: { userId, ...liveSession(now) }, sort: { createdAt: -1, _id: 1 } };
}

/**
 * The filter of a user's sessions but one (`deleteByUser`).
 *
 * @example
 * ```ts
 * otherUserSessionsFilter('usr_1', 'ses_keep'); // { userId: 'usr_1', _id: { $ne: 'ses_keep' } }
 * ```
 */
export function otherUserSessionsFilter(userId: string, exceptId?: string): Filter<SessionDocument> {
  assertString(userId, 'userId');
  if (exceptId === undefined) return { userId };
  assertString(exceptId, 'exceptId');
  return { userId, _id: { $ne: exceptId } };
}

// ---------------------------------------------------------------------------------------------
// Refresh families and tokens
// ---------------------------------------------------------------------------------------------

/**
 * The filter of a refresh token that is still current at `now`: not rotated, not expired. The
 * rotation marks the token through this filter, so of N concurrent rotations exactly one
 * matches.
 *
 * @example
 * ```ts
 * currentRefreshTokenFilter(hash, now); // { _id: hash, rotatedAt: null, expiresAt: { $gt: now } }
 * ```
 */
export function currentRefreshTokenFilter(tokenHash: string, now: number): Filter<RefreshTokenDocument> {
  assertTime(now, 'now');
  return { ...idFilter(tokenHash, 'presentedHash'), rotatedAt: null, expiresAt: { $gt: now } };
}

/**
 * The update that marks a refresh token rotated, with the sealed successor pair.
 *
 * @example
 * ```ts
 * markRotatedUpdate(now, sealed); // { $set: { rotatedAt: now, successorSealed: sealed } }
 * ```
 */
export function markRotatedUpdate(now: number, successorSealed: string): UpdateFilter<RefreshTokenDocument> {
  assertTime(now, 'now');
  assertString(successorSealed, 'successorSealed');
  return { $set: { rotatedAt: now, successorSealed } };
}

/**
 * The filter of a family live at `now` (not revoked, not ended).
 *
 * @example
 * ```ts
 * liveFamilyFilter('rtf_1', now); // { _id: 'rtf_1', revokedAt: null, expiresAt: { $gt: now } }
 * ```
 */
export function liveFamilyFilter(id: string, now: number): Filter<RefreshFamilyDocument> {
  assertTime(now, 'now');
  return { ...idFilter(id, 'id'), revokedAt: null, expiresAt: { $gt: now } };
}

/**
 * The update that revokes a family (applied through {@link liveFamilyFilter}, so the first
 * reason stays).
 *
 * @example
 * ```ts
 * revokeFamilyUpdate('logout', now); // { $set: { revokedAt: now, revokedReason: 'logout' } }
 * ```
 */
export function revokeFamilyUpdate(reason: string, now: number): UpdateFilter<RefreshFamilyDocument> {
  assertString(reason, 'reason');
  if (reason.length === 0) throw new AuthError('VALIDATION_FAILED', 'reason must be a non-empty string', { details: { field: 'reason' } });
  assertTime(now, 'now');
  return { $set: { revokedAt: now, revokedReason: reason } };
}

/**
 * The filter of a user's families live at `now`, optionally only those of one session.
 *
 * @example
 * ```ts
 * userLiveFamiliesFilter('usr_1', now, 'ses_1'); // { userId: 'usr_1', revokedAt: null, expiresAt: { $gt: now }, sessionId: 'ses_1' }
 * ```
 */
export function userLiveFamiliesFilter(userId: string, now: number, sessionId?: string): Filter<RefreshFamilyDocument> {
  assertString(userId, 'userId');
  assertTime(now, 'now');
  const filter: Filter<RefreshFamilyDocument> = { userId, revokedAt: null, expiresAt: { $gt: now } };
  if (sessionId === undefined) return filter;
  assertString(sessionId, 'sessionId');
  return { ...filter, sessionId };
}

// ---------------------------------------------------------------------------------------------
// Revocations
// ---------------------------------------------------------------------------------------------

/**
 * The upsert update of a revocation entry: `until` (and its TTL field) only move forward.
 *
 * @example
 * ```ts
 * await revocations.updateOne({ _id: revocationDocumentId('jti', jti) }, revokeUntilUpdate(until), { upsert: true });
 * ```
 */
export function revokeUntilUpdate(until: number): UpdateFilter<RevocationDocument> {
  assertTime(until, 'until');
  return { $max: { until, expireAt: ttlDate(until) } };
}

/**
 * The upsert update of an epoch: it only moves forward.
 *
 * @example
 * ```ts
 * raiseEpochUpdate(now); // { $max: { epoch: now } }
 * ```
 */
export function raiseEpochUpdate(epochMs: number): UpdateFilter<RevocationDocument> {
  assertTime(epochMs, 'epochMs');
  return { $max: { epoch: epochMs } };
}

/**
 * The ids `check` reads in one `find`: the jti entry, the user epoch, and the session entry and
 * tenant epoch when the query has them.
 *
 * @example
 * ```ts
 * await revocations.find({ _id: { $in: revocationCheckIds(query) } }).toArray();
 * ```
 */
export function revocationCheckIds(query: RevocationQuery): RevocationDocument['_id'][] {
  if (typeof query !== 'object' || query === null) throw new AuthError('VALIDATION_FAILED', 'check() takes a RevocationQuery');
  const ids = [revocationDocumentId('jti', query.jti), revocationDocumentId('user-epoch', query.userId)];
  if (query.sessionId !== null) ids.push(revocationDocumentId('session', query.sessionId));
  if (query.tenantId !== null) ids.push(revocationDocumentId('tenant-epoch', query.tenantId));
  return ids;
}

// ---------------------------------------------------------------------------------------------
// One-time tokens
// ---------------------------------------------------------------------------------------------

/**
 * The `_id` of an owner counter (field order fixed: an embedded `_id` matches field for field).
 *
 * @example
 * ```ts
 * oneTimeOwnerId('password-reset', 'usr_1', null); // { purpose: 'password-reset', subject: 'usr_1', tenantId: null }
 * ```
 */
export function oneTimeOwnerId(purpose: OneTimeTokenPurpose, subject: string, tenantId: string | null): OneTimeTokenOwnerDocument['_id'] {
  assertString(purpose, 'purpose');
  assertString(subject, 'subject');
  assertNullableString(tenantId, 'tenantId');
  return { purpose, subject, tenantId };
}

/**
 * The upsert update that takes the next issue number of an owner and keeps its counter as long
 * as its newest token.
 *
 * @example
 * ```ts
 * await owners.findOneAndUpdate({ _id: ownerId }, nextIssueUpdate(token.expiresAt), { upsert: true, returnDocument: 'after' });
 * ```
 */
export function nextIssueUpdate(expiresAt: number): UpdateFilter<OneTimeTokenOwnerDocument> {
  assertTime(expiresAt, 'expiresAt');
  return { $inc: { seq: 1 }, $max: { expireAt: ttlDate(expiresAt) } };
}

/**
 * The tokens of an owner issued before (`'earlier'`) or after (`'later'`) issue number `seq`.
 *
 * @example
 * ```ts
 * ownerIssuesFilter(ownerId, 4, 'earlier'); // { purpose, subject, tenantId, seq: { $lt: 4 } }
 * ```
 */
export function ownerIssuesFilter(owner: OneTimeTokenOwnerDocument['_id'], seq: number, relation: 'earlier' | 'later'): Filter<OneTimeTokenDocument> {
  const { purpose, subject, tenantId } = oneTimeOwnerId(owner.purpose, owner.subject, owner.tenantId);
  return { purpose, subject, tenantId, seq: relation === 'earlier' ? { $lt: seq } : { $gt: seq } };
}

/**
 * The filter of `consume`: the token, of this purpose, not expired at `now`.
 *
 * @example
 * ```ts
 * consumeFilter(hash, 'password-reset', now); // { _id: hash, purpose: 'password-reset', expiresAt: { $gt: now } }
 * ```
 */
export function consumeFilter(tokenHash: string, purpose: OneTimeTokenPurpose, now: number): Filter<OneTimeTokenDocument> {
  assertString(purpose, 'purpose');
  assertTime(now, 'now');
  return { ...idFilter(tokenHash, 'tokenHash'), purpose, expiresAt: { $gt: now } };
}

/**
 * The filter of `voidFor`: a purpose and subject, and one tenant (or none, `null`) when given.
 *
 * @example
 * ```ts
 * voidForFilter('invitation', 'a@example.com'); // { purpose: 'invitation', subject: 'a@example.com' }
 * ```
 */
export function voidForFilter(purpose: OneTimeTokenPurpose, subject: string, tenantId?: string | null): Filter<OneTimeTokenDocument> {
  assertString(purpose, 'purpose');
  assertString(subject, 'subject');
  if (tenantId === undefined) return { purpose, subject };
  assertNullableString(tenantId, 'tenantId');
  return { purpose, subject, tenantId };
}

// ---------------------------------------------------------------------------------------------
// API keys
// ---------------------------------------------------------------------------------------------

/**
 * A tenant's keys, newest first (ties by id, newest-looking first).
 *
 * @example
 * ```ts
 * const { filter, sort } = tenantApiKeysQuery('tnt_acme');
 * ```
 */
export function tenantApiKeysQuery(tenantId: string): { filter: Filter<ApiKeyDocument>; sort: Sort } {
  assertString(tenantId, 'tenantId');
  return { filter: { tenantId }, sort: { createdAt: -1, _id: -1 } };
}

/**
 * The filter of `revoke`: the key, owned by `tenantId`, not revoked yet.
 *
 * @example
 * ```ts
 * revokeApiKeyFilter('tnt_acme', 'k1'); // { _id: 'k1', tenantId: 'tnt_acme', revokedAt: null }
 * ```
 */
export function revokeApiKeyFilter(tenantId: string, id: string): Filter<ApiKeyDocument> {
  assertString(tenantId, 'tenantId');
  return { ...idFilter(id, 'id'), tenantId, revokedAt: null };
}

/**
 * The update of `revoke` (applied through {@link revokeApiKeyFilter}).
 *
 * @example
 * ```ts
 * revokeApiKeyUpdate(now); // { $set: { revokedAt: now } }
 * ```
 */
export function revokeApiKeyUpdate(now: number): UpdateFilter<ApiKeyDocument> {
  assertTime(now, 'now');
  return { $set: { revokedAt: now } };
}

/**
 * The writes of `recordUsage`: one `$max` per entry (a `null` lastUsedAt sorts below every
 * number, and a missing key matches nothing, so unknown ids are ignored), unordered.
 *
 * @example
 * ```ts
 * await apiKeys.bulkWrite(recordUsageWrites(usage), { ordered: false });
 * ```
 */
export function recordUsageWrites(usage: readonly { readonly id: string; readonly lastUsedAt: number }[]): AnyBulkWriteOperation<ApiKeyDocument>[] {
  if (!Array.isArray(usage)) throw new AuthError('VALIDATION_FAILED', 'recordUsage() takes a list of { id, lastUsedAt }');
  return usage.map((entry, index) => {
    if (typeof entry !== 'object' || entry === null) throw new AuthError('VALIDATION_FAILED', `usage[${index}] must be { id, lastUsedAt }`);
    assertTime(entry.lastUsedAt, `usage[${index}].lastUsedAt`);
    return { updateOne: { filter: idFilter(entry.id, `usage[${index}].id`), update: { $max: { lastUsedAt: entry.lastUsedAt } } } };
  });
}
