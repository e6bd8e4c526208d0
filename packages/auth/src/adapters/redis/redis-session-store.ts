import { AuthError } from '../../errors.js';
import type { SessionRecord, SessionStore } from '../../store.js';
import { encodeRedisKeySegment } from './redis-auth-keyspace.js';
import { claimParts, releaseClaim, type RedisAuthStoreContext } from './redis-auth-store-context.js';
import { claimLookupKeyScript, createClaimNonce } from './lookup-claim-scripts.js';
import { runAuthLuaScript } from './lua-script.js';
import { hashFieldsOf, sessionFromFields, sessionToFields, timeArgument, ttlMs } from './redis-record-fields.js';
import { corruptRedisData, runRedisStoreCommand } from './redis-store-errors.js';
import {
  createSessionScript,
  deleteSessionScript,
  deleteUserSessionsScript,
  listUserSessionsScript,
  rotateSessionScript,
  touchSessionScript,
} from './session-scripts.js';

function isLive(session: SessionRecord, now: number): boolean {
  return session.expiresAt > now && session.absoluteExpiresAt > now;
}

function byNewestFirst(a: SessionRecord, b: SessionRecord): number {
  return b.createdAt - a.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/**
 * The {@link SessionStore} of {@link redisAuthStores}.
 *
 * Layout: the session is a hash in its user's slot (`{u:<user>}:session:<id>`, PX until its idle
 * expiry, moved on `touch`), next to the user's sorted set of session ids by `createdAt`. Two
 * claims in their own slots say which user an id (`{sid:<id>}`) and a token hash
 * (`{sth:<hash>}`) belong to; each holds `<user> [<id>] <nonce>` and lives until the session's
 * absolute end. A claim is taken with SET-if-absent semantics before the session is written,
 * so it is what makes ids and token hashes unique across users; everything about the session
 * itself (liveness, the swap of `rotate`) is decided by one script on the user's slot, which
 * re-checks the hash. Lookups by id or token hash are therefore two round trips (claim, then
 * hash); `listByUser`, `touch`, `delete` and `deleteByUser` are one script on the user's slot.
 *
 * `rotate` keeps the user (`next.userId` must be the session's): the swap is atomic because both
 * sessions live in the user's slot.
 *
 * @example
 * ```ts
 * const sessions = redisSessionStore({ client, keys: createRedisAuthKeyspace('tk:auth:'), clock: systemClock });
 * ```
 */
export function redisSessionStore(context: RedisAuthStoreContext): SessionStore {
  const { client, keys } = context;
  const run = <T>(command: () => Promise<T>) => runRedisStoreCommand(command);

  /** The user a session id is claimed by, or null. */
  async function userOfSession(id: string): Promise<string | null> {
    const raw = await run(() => client.get(keys.sessionIdClaim(id)));
    return raw === null ? null : claimParts(raw, 1, 'session id claim')[0]!;
  }

  async function readSession(userId: string, id: string): Promise<SessionRecord | null> {
    const fields = hashFieldsOf(await run(() => client.hgetall(keys.session(userId, id))), 'session');
    return fields === null ? null : sessionFromFields(fields);
  }

  async function claim(key: string, value: string, ttl: string, allowedPrevious = ''): Promise<boolean> {
    return (await run(() => runAuthLuaScript(client, claimLookupKeyScript, [key], [value, ttl, allowedPrevious]))) === 1;
  }

  async function releaseSessionClaims(userId: string, id: string, tokenHash: string | null): Promise<void> {
    const user = encodeRedisKeySegment(userId, 'userId');
    await Promise.all([
      releaseClaim(context, keys.sessionIdClaim(id), `${user} `, 'prefix'),
      tokenHash === null || tokenHash === ''
        ? undefined
        : releaseClaim(context, keys.sessionTokenClaim(tokenHash), `${user} ${encodeRedisKeySegment(id, 'id')} `, 'prefix'),
    ]);
  }

  return {
    async create(session) {
      const fields = sessionToFields(session);
      const user = encodeRedisKeySegment(session.userId, 'userId');
      const id = encodeRedisKeySegment(session.id, 'id');
      const base = Math.min(session.createdAt, session.lastSeenAt);
      const claimTtl = ttlMs(session.absoluteExpiresAt, base);
      const nonce = createClaimNonce();
      const idClaim = `${user} ${nonce}`;
      const tokenClaim = `${user} ${id} ${nonce}`;
      const idKey = keys.sessionIdClaim(session.id);
      const tokenKey = keys.sessionTokenClaim(session.tokenHash);
      const [idClaimed, tokenClaimed] = await Promise.all([claim(idKey, idClaim, claimTtl), claim(tokenKey, tokenClaim, claimTtl)]);
      const releaseOwnClaims = () =>
        Promise.all([
          idClaimed ? releaseClaim(context, idKey, idClaim, 'exact') : undefined,
          tokenClaimed ? releaseClaim(context, tokenKey, tokenClaim, 'exact') : undefined,
        ]);
      if (!idClaimed || !tokenClaimed) {
        await releaseOwnClaims();
        return 'id-taken';
      }
      const created = await run(() =>
        runAuthLuaScript(
          client,
          createSessionScript,
          [keys.session(session.userId, session.id), keys.userSessions(session.userId)],
          [ttlMs(Math.min(session.expiresAt, session.absoluteExpiresAt), base), String(session.createdAt), id, ...fields],
        ),
      );
      if (created !== 1) {
        await releaseOwnClaims();
        return 'id-taken';
      }
      return 'created';
    },

    async findByTokenHash(tokenHash, now) {
      timeArgument(now, 'now');
      const raw = await run(() => client.get(keys.sessionTokenClaim(tokenHash)));
      if (raw === null) return null;
      const [userId, id] = claimParts(raw, 2, 'session token claim') as [string, string];
      const session = await readSession(userId, id);
      return session !== null && session.tokenHash === tokenHash && isLive(session, now) ? session : null;
    },

    async findById(id, now) {
      timeArgument(now, 'now');
      const userId = await userOfSession(id);
      if (userId === null) return null;
      const session = await readSession(userId, id);
      return session !== null && isLive(session, now) ? session : null;
    },

    async touch(id, change) {
      const now = timeArgument(change?.now, 'now');
      const expiresAt = timeArgument(change?.expiresAt, 'expiresAt');
      const userId = await userOfSession(id);
      if (userId === null) return null;
      const reply = await run(() =>
        runAuthLuaScript(client, touchSessionScript, [keys.session(userId, id), keys.userSessions(userId)], [now, expiresAt]),
      );
      if (reply === null) return null;
      const fields = hashFieldsOf(reply, 'session');
      return fields === null ? null : sessionFromFields(fields);
    },

    async rotate(id, next, now) {
      const nowText = timeArgument(now, 'now');
      const fields = sessionToFields(next);
      const userId = await userOfSession(id);
      if (userId === null) return 'not-found';
      if (next.userId !== userId) {
        throw new AuthError('VALIDATION_FAILED', 'A session rotates within its user: next.userId must be the session\'s userId', {
          details: { field: 'userId' },
        });
      }
      const user = encodeRedisKeySegment(userId, 'userId');
      const currentId = encodeRedisKeySegment(id, 'id');
      const nextId = encodeRedisKeySegment(next.id, 'id');
      const claimTtl = ttlMs(next.absoluteExpiresAt, now);
      const nonce = createClaimNonce();
      const idClaim = `${user} ${nonce}`;
      const tokenClaim = `${user} ${nextId} ${nonce}`;
      const idKey = keys.sessionIdClaim(next.id);
      const tokenKey = keys.sessionTokenClaim(next.tokenHash);

      const claimToken = async (): Promise<{ claimed: boolean; previous: string }> => {
        if (await claim(tokenKey, tokenClaim, claimTtl)) return { claimed: true, previous: '' };
        // The session being rotated may keep its token hash: its own claim is taken over.
        const holder = await run(() => client.get(tokenKey));
        if (holder !== null && holder.startsWith(`${user} ${currentId} `) && (await claim(tokenKey, tokenClaim, claimTtl, holder))) {
          return { claimed: true, previous: holder };
        }
        return { claimed: false, previous: '' };
      };
      const [idClaimed, token] = await Promise.all([claim(idKey, idClaim, claimTtl), claimToken()]);
      const undoClaims = async () => {
        await Promise.all([
          idClaimed ? releaseClaim(context, idKey, idClaim, 'exact') : undefined,
          !token.claimed
            ? undefined
            : token.previous === ''
              ? releaseClaim(context, tokenKey, tokenClaim, 'exact')
              : run(() => runAuthLuaScript(client, claimLookupKeyScript, [tokenKey], [token.previous, claimTtl, tokenClaim])).catch(() => undefined),
        ]);
      };
      if (!idClaimed || !token.claimed) {
        await undoClaims();
        const current = await readSession(userId, id);
        return current !== null && isLive(current, now) ? 'id-taken' : 'not-found';
      }
      const reply = await run(() =>
        runAuthLuaScript(
          client,
          rotateSessionScript,
          [keys.session(userId, id), keys.session(userId, next.id), keys.userSessions(userId)],
          [nowText, ttlMs(Math.min(next.expiresAt, next.absoluteExpiresAt), now), String(next.createdAt), currentId, nextId, ...fields],
        ),
      );
      if (!Array.isArray(reply) || typeof reply[0] !== 'string') throw corruptRedisData('session', 'the rotate script replied another shape');
      const outcome = reply[0];
      if (outcome !== 'rotated') {
        await undoClaims();
        if (outcome === 'not-found' || outcome === 'id-taken') return outcome;
        throw corruptRedisData('session', `the rotate script replied '${outcome}'`);
      }
      const previousTokenHash = typeof reply[1] === 'string' ? reply[1] : null;
      await releaseSessionClaims(userId, id, previousTokenHash === next.tokenHash ? null : previousTokenHash);
      return 'rotated';
    },

    async listByUser(userId, now) {
      timeArgument(now, 'now');
      const reply = await run(() =>
        runAuthLuaScript(client, listUserSessionsScript, [keys.userSessions(userId), keys.sessionBase(userId)], []),
      );
      if (!Array.isArray(reply)) throw corruptRedisData('session list', 'the reply is not a list');
      const sessions: SessionRecord[] = [];
      for (const entry of reply) {
        const fields = hashFieldsOf(entry, 'session');
        if (fields === null) continue;
        const session = sessionFromFields(fields);
        if (isLive(session, now)) sessions.push(session);
      }
      return sessions.sort(byNewestFirst);
    },

    async delete(id) {
      const userId = await userOfSession(id);
      if (userId === null) return false;
      const tokenHash = await run(() =>
        runAuthLuaScript(client, deleteSessionScript, [keys.session(userId, id), keys.userSessions(userId)], [encodeRedisKeySegment(id, 'id')]),
      );
      await releaseSessionClaims(userId, id, typeof tokenHash === 'string' ? tokenHash : null);
      return typeof tokenHash === 'string';
    },

    async deleteByUser(userId, options) {
      const exceptId = options?.exceptId;
      const except = exceptId === undefined ? '' : encodeRedisKeySegment(exceptId, 'exceptId');
      const reply = await run(() =>
        runAuthLuaScript(client, deleteUserSessionsScript, [keys.userSessions(userId), keys.sessionBase(userId)], [except]),
      );
      if (!Array.isArray(reply) || reply.length % 2 !== 0) throw corruptRedisData('session list', 'the reply is not a list of pairs');
      const deleted: string[] = [];
      const releases: Promise<void>[] = [];
      for (let index = 0; index < reply.length; index += 2) {
        const id: unknown = reply[index];
        const tokenHash: unknown = reply[index + 1];
        if (typeof id !== 'string' || typeof tokenHash !== 'string') throw corruptRedisData('session', 'a deleted session has no id');
        deleted.push(id);
        releases.push(releaseSessionClaims(userId, id, tokenHash));
      }
      await Promise.all(releases);
      return deleted;
    },
  };
}
