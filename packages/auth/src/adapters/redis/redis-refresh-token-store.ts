import { AuthError } from '../../errors.js';
import type { RefreshFamilyRecord, RefreshRotateOutcome, RefreshTokenStore } from '../../store.js';
import { encodeRedisKeySegment } from './redis-auth-keyspace.js';
import { claimParts, releaseClaim, type RedisAuthStoreContext } from './redis-auth-store-context.js';
import { claimLookupKeyScript, createClaimNonce } from './lookup-claim-scripts.js';
import { runAuthLuaScript } from './lua-script.js';
import { hashFieldsOf, refreshFamilyFromFields, refreshFamilyToFields, refreshTokenToFields, timeArgument, ttlMs } from './redis-record-fields.js';
import { corruptRedisData, runRedisStoreCommand } from './redis-store-errors.js';
import {
  addUserFamilyScript,
  createFamilyScript,
  listUserFamiliesScript,
  revokeFamilyScript,
  rotateRefreshTokenScript,
} from './refresh-token-scripts.js';

function assertNonEmptyString(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new AuthError('VALIDATION_FAILED', `${field} must be a non-empty string`, { details: { field } });
  }
}

function familyOf(reply: unknown): RefreshFamilyRecord {
  const fields = hashFieldsOf(reply, 'refresh family');
  if (fields === null) throw corruptRedisData('refresh family', 'the script replied an empty family');
  return refreshFamilyFromFields(fields);
}

/**
 * The {@link RefreshTokenStore} of {@link redisAuthStores}.
 *
 * Layout: a family and its tokens share the slot `{f:<family>}` (`family` hash, `token:<hash>`
 * hashes, each PX until its own end, a token never past its family's key). A token hash is
 * found through `{rth:<hash>}`, which names its family; it is written once, with
 * SET-if-absent semantics, *before* the token record exists, and never changed while the token
 * lives. The user's families are a sorted set in `{u:<user>}` (score: the family's end).
 *
 * Why `rotate` is atomic on a Cluster although the lookup key lives in another slot: the lookup
 * key of a token never changes, so every concurrent refresh of one token reads the same family,
 * and the decision — current, grace, reused, invalid — together with every write it leads to
 * (mark the presented token, insert `next`, revoke the family on reuse) is one script on that
 * family's slot, which re-reads the presented token there. Redis runs the scripts of a slot one
 * at a time, so the first script to run sees the token current and rotates it; every later one
 * sees `rotatedAt` and answers grace or reused. Exactly one of N concurrent calls gets
 * `rotated`. The lookup key of `next` is claimed before that script runs (and released when the
 * script did not store `next`), so `next` is findable the moment a client can hold it — also
 * for a concurrent refresh in the grace window that gets the successor from `successorSealed`.
 *
 * `revokeByUser` revokes family by family (each one script, re-checking the owner and the
 * session): a family created while it runs may survive it, as with a SQL store at read-committed.
 *
 * @example
 * ```ts
 * const refreshTokens = redisRefreshTokenStore({ client, keys: createRedisAuthKeyspace('tk:auth:'), clock: systemClock });
 * ```
 */
export function redisRefreshTokenStore(context: RedisAuthStoreContext): RefreshTokenStore {
  const { client, keys } = context;
  const run = <T>(command: () => Promise<T>) => runRedisStoreCommand(command);

  async function claim(key: string, value: string, ttl: string): Promise<boolean> {
    return (await run(() => runAuthLuaScript(client, claimLookupKeyScript, [key], [value, ttl, '']))) === 1;
  }

  async function revoke(familyId: string, reason: string, now: string, owner: { userId?: string; sessionId?: string } = {}): Promise<boolean> {
    const sessionCheck = owner.sessionId === undefined ? ['0', ''] : ['1', owner.sessionId];
    const reply = await run(() =>
      runAuthLuaScript(client, revokeFamilyScript, [keys.family(familyId)], [now, reason, owner.userId ?? '', ...sessionCheck]),
    );
    return reply === 1;
  }

  return {
    async createFamily(family, first) {
      const familyFields = refreshFamilyToFields(family);
      const tokenFields = refreshTokenToFields(first);
      if (first.familyId !== family.id) {
        throw new AuthError('VALIDATION_FAILED', "The first token's familyId must be the family's id", { details: { field: 'first.familyId' } });
      }
      const base = Math.min(family.createdAt, first.issuedAt);
      const familyTtl = ttlMs(family.expiresAt, base);
      const tokenTtl = String(Math.min(Number(ttlMs(first.expiresAt, base)), Number(familyTtl)));
      const indexKey = keys.refreshTokenIndex(first.tokenHash);
      const indexValue = `${encodeRedisKeySegment(family.id, 'family.id')} ${createClaimNonce()}`;
      // The user's set first: a family it does not list could escape revokeByUser. An entry
      // whose create then fails is harmless (revocation re-checks the owner) and expires.
      const [, claimed] = await Promise.all([
        run(() => runAuthLuaScript(client, addUserFamilyScript, [keys.userFamilies(family.userId)], [String(family.expiresAt), family.id, familyTtl])),
        claim(indexKey, indexValue, tokenTtl),
      ]);
      if (!claimed) return 'id-taken';
      const created = await run(() =>
        runAuthLuaScript(
          client,
          createFamilyScript,
          [keys.family(family.id), keys.refreshToken(family.id, first.tokenHash)],
          [familyTtl, tokenTtl, String(familyFields.length), ...familyFields, ...tokenFields],
        ),
      );
      if (created !== 1) {
        await releaseClaim(context, indexKey, indexValue, 'exact');
        return 'id-taken';
      }
      return 'created';
    },

    async rotate(input): Promise<RefreshRotateOutcome> {
      if (typeof input !== 'object' || input === null) throw new AuthError('VALIDATION_FAILED', 'rotate() takes an input object');
      const { presentedHash, next, successorSealed, graceMs } = input;
      assertNonEmptyString(presentedHash, 'presentedHash');
      const nextFields = refreshTokenToFields(next);
      assertNonEmptyString(successorSealed, 'successorSealed');
      const now = timeArgument(input.now, 'now');
      if (typeof graceMs !== 'number' || !Number.isFinite(graceMs) || graceMs < 0) {
        throw new AuthError('VALIDATION_FAILED', 'graceMs must be a non-negative number', { details: { field: 'graceMs' } });
      }
      const nextTtl = ttlMs(next.expiresAt, input.now);
      const nextIndexKey = keys.refreshTokenIndex(next.tokenHash);
      const nextIndexValue = `${encodeRedisKeySegment(next.familyId, 'next.familyId')} ${createClaimNonce()}`;
      const [presentedIndex, claimed] = await Promise.all([
        run(() => client.get(keys.refreshTokenIndex(presentedHash))),
        claim(nextIndexKey, nextIndexValue, nextTtl),
      ]);
      const releaseNextIndex = () => (claimed ? releaseClaim(context, nextIndexKey, nextIndexValue, 'exact') : undefined);
      if (presentedIndex === null) {
        await releaseNextIndex();
        return { outcome: 'invalid' };
      }
      const [familyId] = claimParts(presentedIndex, 1, 'refresh token lookup') as [string];
      const nextMode = next.familyId !== familyId ? 'other-family' : claimed ? 'ok' : 'taken';
      const reply = await run(() =>
        runAuthLuaScript(
          client,
          rotateRefreshTokenScript,
          [keys.family(familyId), keys.refreshToken(familyId, presentedHash), keys.refreshToken(familyId, next.tokenHash)],
          [now, String(graceMs), successorSealed, nextTtl, nextMode, String(next.generation), ...nextFields],
        ),
      );
      if (!Array.isArray(reply) || typeof reply[0] !== 'string') throw corruptRedisData('refresh token', 'the rotate script replied another shape');
      const outcome = reply[0];
      if (outcome !== 'rotated') await releaseNextIndex();
      switch (outcome) {
        case 'rotated':
          return { outcome: 'rotated', family: familyOf(reply[1]) };
        case 'grace':
          return { outcome: 'grace', family: familyOf(reply[1]), successorSealed: typeof reply[2] === 'string' ? reply[2] : null };
        case 'reused':
          return { outcome: 'reused', family: familyOf(reply[1]) };
        case 'invalid':
          return { outcome: 'invalid' };
        case 'mismatch':
          throw new AuthError('VALIDATION_FAILED', 'next must belong to the same family, one generation on', { details: { field: 'next' } });
        default:
          throw corruptRedisData('refresh token', `the rotate script replied '${outcome}'`);
      }
    },

    async findFamily(id) {
      const fields = hashFieldsOf(await run(() => client.hgetall(keys.family(id))), 'refresh family');
      return fields === null ? null : refreshFamilyFromFields(fields);
    },

    async revokeFamily(id, reason, now) {
      assertNonEmptyString(reason, 'reason');
      return revoke(id, reason, timeArgument(now, 'now'));
    },

    async revokeByUser(userId, reason, now, options) {
      assertNonEmptyString(reason, 'reason');
      const nowText = timeArgument(now, 'now');
      const sessionId = options?.sessionId;
      if (sessionId !== undefined && typeof sessionId !== 'string') {
        throw new AuthError('VALIDATION_FAILED', 'sessionId must be a string', { details: { field: 'sessionId' } });
      }
      const ids = await run(() => runAuthLuaScript(client, listUserFamiliesScript, [keys.userFamilies(userId)], [nowText]));
      if (!Array.isArray(ids) || !ids.every((id): id is string => typeof id === 'string')) {
        throw corruptRedisData('family list', 'the reply is not a list of ids');
      }
      const revoked = await Promise.all(
        ids.map((id) => revoke(id, reason, nowText, sessionId === undefined ? { userId } : { userId, sessionId })),
      );
      return ids.filter((_, index) => revoked[index]);
    },
  };
}
