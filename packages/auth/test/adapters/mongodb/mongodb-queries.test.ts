// The MongoDB auth stores' pure parts, tested without a server: document mapping and its
// validation both ways, every filter and update they send, the refresh decision, the index
// definitions and the driver-error mapping.
import {
  buildAccountRecord,
  buildApiKeyRecord,
  buildOneTimeTokenRecord,
  buildRefreshFamilyRecord,
  buildRefreshTokenRecord,
  buildSessionRecord,
} from '@tenantkit/test-utils';
import type { Db } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { authMongoIndexes, ensureAuthIndexes, mongoAuthStores } from '../../../src/adapters/mongodb.js';
import { resolveAuthCollections } from '../../../src/adapters/mongodb/auth-collections.js';
import {
  accountFromDocument,
  accountToDocument,
  apiKeyFromDocument,
  apiKeyToDocument,
  oneTimeTokenFromDocument,
  oneTimeTokenToDocument,
  refreshFamilyFromDocument,
  refreshFamilyToDocument,
  refreshTokenFromDocument,
  refreshTokenToDocument,
  revocationDocumentId,
  revocationFromDocument,
  sessionFromDocument,
  sessionToDocument,
  ttlDate,
} from '../../../src/adapters/mongodb/auth-documents.js';
import {
  accountByEmailFilter,
  accountFlagsUpdate,
  consumeFilter,
  currentRefreshTokenFilter,
  idFilter,
  liveFamilyFilter,
  liveSessionByIdFilter,
  liveSessionByTokenHashFilter,
  markRotatedUpdate,
  nextIssueUpdate,
  oneTimeOwnerId,
  otherUserSessionsFilter,
  ownerIssuesFilter,
  raiseEpochUpdate,
  recordUsageWrites,
  rehashFilter,
  rehashUpdate,
  revocationCheckIds,
  revokeApiKeyFilter,
  revokeFamilyUpdate,
  revokeUntilUpdate,
  setPasswordFilter,
  setPasswordUpdate,
  tenantApiKeysQuery,
  touchSessionUpdate,
  userLiveFamiliesFilter,
  userSessionsQuery,
  voidForFilter,
} from '../../../src/adapters/mongodb/auth-queries.js';
import { duplicateKeyTarget, insertOrDuplicate, translateMongoError } from '../../../src/adapters/mongodb/mongo-errors.js';
import { decideRefreshRotation } from '../../../src/adapters/mongodb/refresh-rotation-decision.js';

const code = (c: string) => expect.objectContaining({ code: c });
const hostile = { $ne: null } as unknown as string;
const t0 = Date.UTC(2026, 0, 1);

function driverError(name: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(fields.message as string | undefined), { name, ...fields });
}

describe('MongoDB auth documents', () => {
  it('round-trip every record exactly, under its natural _id', () => {
    const account = buildAccountRecord({ id: 'usr_1', email: 'a@example.com', createdAt: t0, passwordHistory: ['$scrypt$old'] });
    expect(accountToDocument(account)).toMatchObject({ _id: 'usr_1', email: 'a@example.com' });
    expect(accountFromDocument(accountToDocument(account))).toEqual(account);

    const session = buildSessionRecord({ id: 'ses_1', tokenHash: 'sth_1', userId: 'usr_1', createdAt: t0, tenantId: 'tnt_1' });
    expect(sessionToDocument(session)).toMatchObject({ _id: 'ses_1', tokenHash: 'sth_1' });
    expect(sessionFromDocument(sessionToDocument(session))).toEqual(session);

    const family = buildRefreshFamilyRecord({ id: 'rtf_1', userId: 'usr_1', createdAt: t0, sessionId: 'ses_1', revokedAt: t0 + 1, revokedReason: 'logout' });
    expect(refreshFamilyFromDocument(refreshFamilyToDocument(family))).toEqual(family);

    const token = buildRefreshTokenRecord({ tokenHash: 'rth_1', familyId: 'rtf_1', issuedAt: t0, generation: 3, rotatedAt: t0 + 5, successorSealed: 'sealed' });
    expect(refreshTokenToDocument(token)._id).toBe('rth_1');
    expect(refreshTokenFromDocument(refreshTokenToDocument(token))).toEqual(token);

    const invitation = buildOneTimeTokenRecord({ tokenHash: 'ott_1', purpose: 'invitation', subject: 'b@example.com', tenantId: 'tnt_1', createdAt: t0, data: { roles: ['editor'] } });
    expect(oneTimeTokenToDocument(invitation, 4)).toMatchObject({ _id: 'ott_1', seq: 4, data: '{"roles":["editor"]}' });
    expect(oneTimeTokenFromDocument(oneTimeTokenToDocument(invitation, 4))).toEqual(invitation);

    const key = buildApiKeyRecord({ id: 'key_1', tenantId: 'tnt_1', createdAt: t0, expiresAt: t0 + 10, lastUsedAt: t0 + 2 });
    expect(apiKeyFromDocument(apiKeyToDocument(key))).toEqual(key);
  });

  it('give every record with an end an expireAt Date for the TTL index (a session the earlier of its two ends)', () => {
    const session = buildSessionRecord({ id: 's', tokenHash: 'h', userId: 'u', createdAt: t0, expiresAt: t0 + 50, absoluteExpiresAt: t0 + 40 });
    expect(sessionToDocument(session).expireAt).toEqual(new Date(t0 + 40));
    expect(refreshFamilyToDocument(buildRefreshFamilyRecord({ id: 'f', userId: 'u', createdAt: t0, expiresAt: t0 + 9 })).expireAt).toEqual(new Date(t0 + 9));
    expect(refreshTokenToDocument(buildRefreshTokenRecord({ tokenHash: 'h', familyId: 'f', issuedAt: t0, expiresAt: t0 + 8 })).expireAt).toEqual(new Date(t0 + 8));
    expect(oneTimeTokenToDocument(buildOneTimeTokenRecord({ tokenHash: 'h', subject: 's', createdAt: t0, expiresAt: t0 + 7 }), 1).expireAt).toEqual(new Date(t0 + 7));
    expect(ttlDate(Number.MAX_SAFE_INTEGER).getTime()).toBe(8.64e15);
    expect(apiKeyToDocument(buildApiKeyRecord({ id: 'k', tenantId: 't', createdAt: t0 }))).not.toHaveProperty('expireAt');
  });

  it('keep one-time token data with any key exactly, as JSON text, and copy on the way in and out', () => {
    // JSON.parse makes `__proto__` an own key, as data read from a request would have it.
    const data = JSON.parse('{"$where":"sleep(1000)","a.b":{"c":[1,null]},"__proto__":"own"}') as Record<string, unknown>;
    const token = buildOneTimeTokenRecord({ tokenHash: 'h', subject: 's', createdAt: t0, data });
    const document = oneTimeTokenToDocument(token, 1);
    expect(typeof document.data).toBe('string');
    const back = oneTimeTokenFromDocument(document);
    expect(back.data).toEqual(token.data);
    expect(back.data).not.toBe(token.data);
    expect(Object.hasOwn(back.data, '__proto__')).toBe(true);
    const account = buildAccountRecord({ id: 'u', email: 'e', createdAt: t0, passwordHistory: ['x'] });
    expect(accountToDocument(account).passwordHistory).not.toBe(account.passwordHistory);
  });

  it('refuse records they could not store exactly (VALIDATION_FAILED)', () => {
    const session = buildSessionRecord({ id: 's', tokenHash: 'h', userId: 'u', createdAt: t0 });
    expect(() => sessionToDocument({ ...session, tenantId: '\ud800' })).toThrow(code('VALIDATION_FAILED'));
    expect(() => sessionToDocument({ ...session, expiresAt: Number.NaN })).toThrow(code('VALIDATION_FAILED'));
    expect(() => sessionToDocument({ ...session, id: '' })).toThrow(code('VALIDATION_FAILED'));
    expect(() => sessionToDocument({ ...session, userId: hostile })).toThrow(code('VALIDATION_FAILED'));
    expect(() => accountToDocument(buildAccountRecord({ id: 'u', email: 'e', createdAt: Number.POSITIVE_INFINITY }))).toThrow(code('VALIDATION_FAILED'));
    expect(() => refreshTokenToDocument(buildRefreshTokenRecord({ tokenHash: 'h', familyId: 'f', issuedAt: t0, generation: 1.5 }))).toThrow(code('VALIDATION_FAILED'));
    expect(() => oneTimeTokenToDocument(buildOneTimeTokenRecord({ tokenHash: 'h', subject: 's', createdAt: t0, purpose: 'login' as never }), 1)).toThrow(code('VALIDATION_FAILED'));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => oneTimeTokenToDocument(buildOneTimeTokenRecord({ tokenHash: 'h', subject: 's', createdAt: t0, data: cyclic }), 1)).toThrow(code('VALIDATION_FAILED'));
  });

  it('refuse documents of another shape on the way out (STORE_CONFLICT), never returning a wrong record', () => {
    const session = sessionToDocument(buildSessionRecord({ id: 's', tokenHash: 'h', userId: 'u', createdAt: t0 }));
    expect(() => sessionFromDocument({ ...session, expiresAt: '2026-01-01' })).toThrow(code('STORE_CONFLICT'));
    expect(() => sessionFromDocument({ ...session, amr: 'pwd' })).toThrow(code('STORE_CONFLICT'));
    const { tokenHash: _dropped, ...withoutHash } = session;
    expect(() => sessionFromDocument(withoutHash)).toThrow(code('STORE_CONFLICT'));
    expect(() => accountFromDocument({ _id: 'u', email: 'e' })).toThrow(code('STORE_CONFLICT'));
    const token = oneTimeTokenToDocument(buildOneTimeTokenRecord({ tokenHash: 'h', subject: 's', createdAt: t0 }), 1);
    expect(() => oneTimeTokenFromDocument({ ...token, data: '{not json' })).toThrow(code('STORE_CONFLICT'));
    expect(() => oneTimeTokenFromDocument({ ...token, data: '[1]' })).toThrow(code('STORE_CONFLICT'));
    expect(() => refreshFamilyFromDocument(null)).toThrow(code('STORE_CONFLICT'));
    expect(() => revocationFromDocument({ _id: { kind: 'jti', id: 'j' }, epoch: 5 })).toThrow(code('STORE_CONFLICT'));
    expect(revocationFromDocument({ _id: { kind: 'user-epoch', id: 'u' }, epoch: 5 })).toEqual({ kind: 'user-epoch', id: 'u', time: 5 });
  });
});

describe('MongoDB auth query builders', () => {
  it('refuse operator objects in place of ids, hashes and emails before they reach a filter', () => {
    const calls = [
      () => idFilter(hostile, 'id'),
      () => accountByEmailFilter(hostile),
      () => setPasswordFilter('u', hostile),
      () => rehashFilter('u', hostile),
      () => liveSessionByTokenHashFilter(hostile, t0),
      () => userSessionsQuery(hostile, t0),
      () => otherUserSessionsFilter('u', hostile),
      () => currentRefreshTokenFilter(hostile, t0),
      () => userLiveFamiliesFilter('u', t0, hostile),
      () => revocationCheckIds({ jti: hostile, sessionId: null, userId: 'u', tenantId: null }),
      () => consumeFilter(hostile, 'password-reset', t0),
      () => voidForFilter('invitation', 'e', hostile),
      () => oneTimeOwnerId('invitation', hostile, null),
      () => revokeApiKeyFilter(hostile, 'k'),
      () => tenantApiKeysQuery(hostile),
      () => recordUsageWrites([{ id: hostile, lastUsedAt: t0 }]),
    ];
    for (const call of calls) expect(call).toThrow(code('VALIDATION_FAILED'));
  });

  it('compare-and-set setPassword on the expected hash, null included, and not at all without one', () => {
    expect(setPasswordFilter('usr_1')).toEqual({ _id: 'usr_1' });
    expect(setPasswordFilter('usr_1', null)).toEqual({ _id: 'usr_1', passwordHash: null });
    expect(setPasswordFilter('usr_1', '$scrypt$h0')).toEqual({ _id: 'usr_1', passwordHash: '$scrypt$h0' });
  });

  it('push the stored hash into the history on the server, cut to the limit, with caller strings as literals', () => {
    const withPrevious = {
      $cond: {
        if: { $eq: [{ $ifNull: ['$passwordHash', null] }, null] },
        then: '$passwordHistory',
        else: { $concatArrays: [['$passwordHash'], '$passwordHistory'] },
      },
    };
    expect(setPasswordUpdate({ passwordHash: '$scrypt$new', historyLimit: 3, now: t0 })).toEqual([
      {
        $set: {
          passwordHistory: { $slice: [withPrevious, 3] },
          // A PHC string starts with `$`: bare, the pipeline would read it as a field path.
          passwordHash: { $literal: '$scrypt$new' },
          passwordChangedAt: { $literal: t0 },
          updatedAt: { $literal: t0 },
        },
      },
    ]);
    expect(setPasswordUpdate({ passwordHash: 'h', historyLimit: 0, now: t0 })[0]).toMatchObject({ $set: { passwordHistory: { $literal: [] } } });
    expect(() => setPasswordUpdate({ passwordHash: 'h', historyLimit: -1, now: t0 })).toThrow(code('VALIDATION_FAILED'));
    expect(() => setPasswordUpdate({ passwordHash: 'h', historyLimit: 1.5, now: t0 })).toThrow(code('VALIDATION_FAILED'));
  });

  it('rehash on the expected hash only, and update just the flags given', () => {
    expect(rehashFilter('u', 'old')).toEqual({ _id: 'u', passwordHash: 'old' });
    expect(rehashUpdate('new', t0)).toEqual({ $set: { passwordHash: 'new', updatedAt: t0 } });
    expect(accountFlagsUpdate({ emailVerifiedAt: t0 - 1 }, t0)).toEqual({ $set: { emailVerifiedAt: t0 - 1, updatedAt: t0 } });
    expect(accountFlagsUpdate({ disabledAt: null, emailVerifiedAt: undefined }, t0)).toEqual({ $set: { disabledAt: null, updatedAt: t0 } });
    expect(() => accountFlagsUpdate({ disabledAt: Number.NaN }, t0)).toThrow(code('VALIDATION_FAILED'));
  });

  it('find sessions live at now only, and list them newest first', () => {
    expect(liveSessionByIdFilter('s', t0)).toEqual({ _id: 's', expiresAt: { $gt: t0 }, absoluteExpiresAt: { $gt: t0 } });
    expect(liveSessionByTokenHashFilter('h', t0)).toEqual({ tokenHash: 'h', expiresAt: { $gt: t0 }, absoluteExpiresAt: { $gt: t0 } });
    expect(userSessionsQuery('u', t0)).toEqual({ filter: { userId: 'u', expiresAt: { $gt: t0 }, absoluteExpiresAt: { $gt: t0 } }, sort: { createdAt: -1, _id: 1 } });
    expect(otherUserSessionsFilter('u')).toEqual({ userId: 'u' });
    expect(otherUserSessionsFilter('u', 'keep')).toEqual({ userId: 'u', _id: { $ne: 'keep' } });
    expect(() => liveSessionByIdFilter('s', Number.NaN)).toThrow(code('VALIDATION_FAILED'));
  });

  it('slide a session on the server: never backwards, never past the absolute end, TTL field following', () => {
    expect(touchSessionUpdate(t0, t0 + 100)).toEqual([
      { $set: { lastSeenAt: { $literal: t0 }, expiresAt: { $max: ['$expiresAt', { $min: [{ $literal: t0 + 100 }, '$absoluteExpiresAt'] }] } } },
      { $set: { expireAt: { $toDate: { $min: ['$expiresAt', '$absoluteExpiresAt'] } } } },
    ]);
  });

  it('mark a refresh token only while it is current, and revoke only live families', () => {
    expect(currentRefreshTokenFilter('h', t0)).toEqual({ _id: 'h', rotatedAt: null, expiresAt: { $gt: t0 } });
    expect(markRotatedUpdate(t0, 'sealed')).toEqual({ $set: { rotatedAt: t0, successorSealed: 'sealed' } });
    expect(liveFamilyFilter('f', t0)).toEqual({ _id: 'f', revokedAt: null, expiresAt: { $gt: t0 } });
    expect(revokeFamilyUpdate('logout', t0)).toEqual({ $set: { revokedAt: t0, revokedReason: 'logout' } });
    expect(() => revokeFamilyUpdate('', t0)).toThrow(code('VALIDATION_FAILED'));
    expect(userLiveFamiliesFilter('u', t0)).toEqual({ userId: 'u', revokedAt: null, expiresAt: { $gt: t0 } });
    expect(userLiveFamiliesFilter('u', t0, 's')).toEqual({ userId: 'u', revokedAt: null, expiresAt: { $gt: t0 }, sessionId: 's' });
  });

  it('raise revocation ends and epochs with $max, and read a whole check with one $in of ids in a fixed field order', () => {
    expect(revokeUntilUpdate(t0)).toEqual({ $max: { until: t0, expireAt: new Date(t0) } });
    expect(raiseEpochUpdate(t0)).toEqual({ $max: { epoch: t0 } });
    const ids = revocationCheckIds({ jti: 'j', sessionId: 's', userId: 'u', tenantId: 't' });
    expect(ids).toEqual([
      { kind: 'jti', id: 'j' },
      { kind: 'user-epoch', id: 'u' },
      { kind: 'session', id: 's' },
      { kind: 'tenant-epoch', id: 't' },
    ]);
    for (const id of ids) expect(Object.keys(id)).toEqual(['kind', 'id']);
    expect(revocationCheckIds({ jti: 'j', sessionId: null, userId: 'u', tenantId: null })).toHaveLength(2);
    expect(() => revocationDocumentId('jti', '')).toThrow(code('VALIDATION_FAILED'));
  });

  it('number the issues of an owner and void earlier ones; consume by purpose and expiry; void per tenant or all', () => {
    const owner = oneTimeOwnerId('invitation', 'a@example.com', 'tnt_1');
    expect(Object.keys(owner)).toEqual(['purpose', 'subject', 'tenantId']);
    expect(nextIssueUpdate(t0)).toEqual({ $inc: { seq: 1 }, $max: { expireAt: new Date(t0) } });
    expect(ownerIssuesFilter(owner, 4, 'earlier')).toEqual({ purpose: 'invitation', subject: 'a@example.com', tenantId: 'tnt_1', seq: { $lt: 4 } });
    expect(ownerIssuesFilter(oneTimeOwnerId('password-reset', 'u', null), 4, 'later')).toEqual({ purpose: 'password-reset', subject: 'u', tenantId: null, seq: { $gt: 4 } });
    expect(consumeFilter('h', 'password-reset', t0)).toEqual({ _id: 'h', purpose: 'password-reset', expiresAt: { $gt: t0 } });
    expect(voidForFilter('invitation', 'e')).toEqual({ purpose: 'invitation', subject: 'e' });
    expect(voidForFilter('invitation', 'e', null)).toEqual({ purpose: 'invitation', subject: 'e', tenantId: null });
    expect(voidForFilter('invitation', 'e', 't')).toEqual({ purpose: 'invitation', subject: 'e', tenantId: 't' });
  });

  it("list a tenant's API keys newest first, revoke only the tenant's unrevoked key, and record usage with $max", () => {
    expect(tenantApiKeysQuery('t')).toEqual({ filter: { tenantId: 't' }, sort: { createdAt: -1, _id: -1 } });
    expect(revokeApiKeyFilter('t', 'k')).toEqual({ _id: 'k', tenantId: 't', revokedAt: null });
    expect(recordUsageWrites([{ id: 'k1', lastUsedAt: t0 }, { id: 'k1', lastUsedAt: t0 - 1 }])).toEqual([
      { updateOne: { filter: { _id: 'k1' }, update: { $max: { lastUsedAt: t0 } } } },
      { updateOne: { filter: { _id: 'k1' }, update: { $max: { lastUsedAt: t0 - 1 } } } },
    ]);
    expect(recordUsageWrites([])).toEqual([]);
    expect(() => recordUsageWrites([{ id: 'k', lastUsedAt: Number.NaN }])).toThrow(code('VALIDATION_FAILED'));
  });
});

describe('decideRefreshRotation', () => {
  const family = buildRefreshFamilyRecord({ id: 'rtf_1', userId: 'u', createdAt: t0, expiresAt: t0 + 1_000 });
  const current = buildRefreshTokenRecord({ tokenHash: 'h0', familyId: 'rtf_1', issuedAt: t0, expiresAt: t0 + 500, generation: 2 });
  const next = buildRefreshTokenRecord({ tokenHash: 'h1', familyId: 'rtf_1', issuedAt: t0, generation: 3 });
  const decide = (token = current, owner: typeof family | null = family, now = t0 + 10, successor = next) =>
    decideRefreshRotation(token, owner, { next: successor, now, graceMs: 100 });

  it('rotates a current token of a live family when next is its successor', () => {
    expect(decide()).toEqual({ step: 'rotate' });
    expect(decide(current, family, t0 + 499)).toEqual({ step: 'rotate' });
  });

  it('is invalid for an unknown or expired token (now = expiresAt) and a missing, revoked or ended family', () => {
    expect(decideRefreshRotation(null, family, { next, now: t0, graceMs: 100 })).toEqual({ step: 'invalid' });
    expect(decide(current, family, t0 + 500)).toEqual({ step: 'invalid' });
    expect(decide(current, null)).toEqual({ step: 'invalid' });
    expect(decide(current, { ...family, revokedAt: t0, revokedReason: 'logout' })).toEqual({ step: 'invalid' });
    expect(decide({ ...current, expiresAt: t0 + 5_000 }, family, t0 + 1_000)).toEqual({ step: 'invalid' });
    expect(decide(current, { ...family, id: 'rtf_other' })).toEqual({ step: 'invalid' });
  });

  it('answers grace inside the window (strictly less than graceMs), reuse from then on', () => {
    const rotated = { ...current, rotatedAt: t0 + 10, successorSealed: 'sealed' };
    expect(decide(rotated, family, t0 + 109)).toEqual({ step: 'grace', successorSealed: 'sealed' });
    expect(decide(rotated, family, t0 + 110)).toEqual({ step: 'reuse' });
    // A rotated token of a revoked family is just invalid.
    expect(decide(rotated, { ...family, revokedAt: t0 + 50, revokedReason: 'reuse' }, t0 + 200)).toEqual({ step: 'invalid' });
  });

  it("reports a successor of another family or generation as the caller's bug (mismatch)", () => {
    expect(decide(current, family, t0 + 10, { ...next, familyId: 'rtf_2' })).toEqual({ step: 'mismatch' });
    expect(decide(current, family, t0 + 10, { ...next, generation: 4 })).toEqual({ step: 'mismatch' });
  });
});

describe('MongoDB auth indexes, errors and configuration', () => {
  it('name each index once per collection, lead API keys with tenantId, expire on expireAt, keep email unique', () => {
    const seen = new Set(authMongoIndexes.map((index) => `${index.collection}.${index.name}`));
    expect(seen.size).toBe(authMongoIndexes.length);
    expect(authMongoIndexes.find((index) => index.collection === 'accounts' && index.name === 'email_unique')).toMatchObject({ key: { email: 1 }, unique: true });
    expect(authMongoIndexes.find((index) => index.collection === 'sessions' && index.unique)?.key).toEqual({ tokenHash: 1 });
    for (const index of authMongoIndexes.filter((candidate) => candidate.collection === 'apiKeys')) expect(Object.keys(index.key)[0]).toBe('tenantId');
    const ttl = authMongoIndexes.filter((index) => index.expireAfterSeconds !== undefined);
    expect(ttl.map((index) => index.collection).sort()).toEqual(['oneTimeTokenOwners', 'oneTimeTokens', 'refreshFamilies', 'refreshTokens', 'revocations', 'sessions']);
    for (const index of ttl) expect(index).toMatchObject({ key: { expireAt: 1 }, expireAfterSeconds: 0, unique: false });
    expect(Object.isFrozen(authMongoIndexes[0]!.key)).toBe(true);
  });

  it('create the indexes with one createIndexes per prefixed collection, a TTL only where defined', async () => {
    const calls: { collection: string; specs: unknown[] }[] = [];
    const db = { collection: (name: string) => ({ createIndexes: async (specs: unknown[]) => calls.push({ collection: name, specs }) }) } as unknown as Db;
    await ensureAuthIndexes(db, { collectionPrefix: 'app_' });
    expect(calls.map((call) => call.collection)).toEqual([
      'app_auth_accounts',
      'app_auth_sessions',
      'app_auth_refresh_families',
      'app_auth_refresh_tokens',
      'app_auth_revocations',
      'app_auth_one_time_tokens',
      'app_auth_one_time_token_owners',
      'app_auth_api_keys',
    ]);
    expect(calls[0]!.specs).toEqual([{ key: { email: 1 }, name: 'email_unique', unique: true }]);
    expect(calls[1]!.specs).toEqual([
      { key: { tokenHash: 1 }, name: 'tokenHash_unique', unique: true },
      { key: { userId: 1, createdAt: -1 }, name: 'userId_createdAt', unique: false },
      { key: { expireAt: 1 }, name: 'expireAt_ttl', unique: false, expireAfterSeconds: 0 },
    ]);
    expect(calls.flatMap((call) => call.specs)).toHaveLength(authMongoIndexes.length);
  });

  it('turn a failed index creation into STORE_UNAVAILABLE', async () => {
    const unreachable = Object.assign(new Error('down'), { name: 'MongoServerSelectionError' });
    const db = { collection: () => ({ createIndexes: async () => Promise.reject(unreachable) }) } as unknown as Db;
    await expect(ensureAuthIndexes(db)).rejects.toMatchObject({ name: 'AuthError', code: 'STORE_UNAVAILABLE', cause: unreachable });
  });

  it('map duplicate keys to the index they broke, unreachable servers to STORE_UNAVAILABLE, and let bugs through', async () => {
    const duplicate = (keyPattern?: Record<string, 1>) => driverError('MongoServerError', { code: 11000, keyPattern, message: 'E11000 duplicate key error' });
    expect(duplicateKeyTarget(duplicate({ _id: 1 }))).toBe('id');
    expect(duplicateKeyTarget(duplicate({ email: 1 }))).toBe('email');
    expect(duplicateKeyTarget(duplicate())).toBe('unknown');
    expect(duplicateKeyTarget(new Error('other'))).toBeNull();
    expect(await insertOrDuplicate(async () => undefined)).toBe('inserted');
    expect(await insertOrDuplicate(async () => Promise.reject(duplicate({ tokenHash: 1 })))).toBe('tokenHash');
    await expect(insertOrDuplicate(async () => Promise.reject(driverError('MongoServerSelectionError', {})))).rejects.toEqual(code('STORE_UNAVAILABLE'));
    expect(translateMongoError(driverError('MongoNetworkError', {}))).toMatchObject({ code: 'STORE_UNAVAILABLE' });
    const bug = driverError('MongoServerError', { code: 2 });
    expect(translateMongoError(bug)).toBe(bug);
  });

  it('refuse a missing Db and bad prefixes when the stores are created (CONFIGURATION_INVALID)', async () => {
    const db = { collection: () => ({}) } as unknown as Db;
    expect(resolveAuthCollections(db, { collectionPrefix: 'app_' }, 'x').refreshFamilies).toBe('app_auth_refresh_families');
    expect(Object.keys(mongoAuthStores(db)).sort()).toEqual(['accounts', 'apiKeys', 'oneTimeTokens', 'refreshTokens', 'revocations', 'sessions']);
    expect(() => mongoAuthStores(undefined as unknown as Db)).toThrow(code('CONFIGURATION_INVALID'));
    for (const collectionPrefix of ['system.x', 'a$b', 'x'.repeat(49)]) {
      expect(() => mongoAuthStores(db, { collectionPrefix })).toThrow(code('CONFIGURATION_INVALID'));
    }
    expect(() => mongoAuthStores(db, { prefix: 'x' } as never)).toThrow(code('CONFIGURATION_INVALID'));
    await expect(ensureAuthIndexes(undefined as unknown as Db)).rejects.toEqual(code('CONFIGURATION_INVALID'));
  });
});
