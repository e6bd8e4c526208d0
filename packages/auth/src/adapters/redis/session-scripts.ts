import { defineAuthLuaScript, type AuthLuaScript } from './lua-script.js';

/*
 * The session scripts. Each runs on one user's slot ({u:<user>}): the session hashes and the
 * user's sorted set of session ids (score createdAt, member the encoded id). A session is live
 * while expiresAt > now and absoluteExpiresAt > now (the memory store's rule). Sorted-set members
 * whose hash Redis has already expired are dropped on the way.
 */

/** Extends the TTL of the sorted set KEYS[n] to `ttl` ms when it would die earlier. */
const extendSetTtl = `
local function extendTtl(key, ttl)
  if redis.call('PTTL', key) < tonumber(ttl) then redis.call('PEXPIRE', key, ttl) end
end
`;

const isLive = `
local function isLive(expiresAt, absoluteExpiresAt, now)
  return expiresAt and absoluteExpiresAt and tonumber(expiresAt) > now and tonumber(absoluteExpiresAt) > now
end
`;

/**
 * Inserts a session. KEYS: session hash, user set. ARGV: ttl, createdAt, encoded id, fields...
 * Replies 1, or 0 when the hash exists (nothing written).
 *
 * @example
 * ```ts
 * await runAuthLuaScript(client, createSessionScript, [sessionKey, setKey], [ttl, createdAt, encodedId, ...fields]);
 * ```
 */
export const createSessionScript: AuthLuaScript = defineAuthLuaScript(`${extendSetTtl}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
extendTtl(KEYS[2], ARGV[1])
return 1
`);

/**
 * Sliding expiry. KEYS: session hash, user set. ARGV: now, requested expiresAt. Replies the
 * updated hash (HGETALL form), or false when the session is gone or not live at `now`.
 *
 * @example
 * ```ts
 * await runAuthLuaScript(client, touchSessionScript, [sessionKey, setKey], [now, expiresAt]);
 * ```
 */
export const touchSessionScript: AuthLuaScript = defineAuthLuaScript(`${extendSetTtl}${isLive}
local times = redis.call('HMGET', KEYS[1], 'expiresAt', 'absoluteExpiresAt')
local now = tonumber(ARGV[1])
if not isLive(times[1], times[2], now) then return false end
-- min(requested, absolute), and never backwards: a choice between texts, no arithmetic.
local target = ARGV[2]
if tonumber(times[2]) < tonumber(target) then target = times[2] end
local expiresAt = times[1]
if tonumber(target) > tonumber(expiresAt) then expiresAt = target end
redis.call('HSET', KEYS[1], 'lastSeenAt', ARGV[1], 'expiresAt', expiresAt)
-- As ttlMs() in JavaScript: rounded up, at least minimumTtlMs (60 s), at most 2^53 - 1.
local ttl = string.format('%d', math.min(math.max(math.ceil(tonumber(expiresAt) - now), 60000), 9007199254740991))
redis.call('PEXPIRE', KEYS[1], ttl)
extendTtl(KEYS[2], ttl)
return redis.call('HGETALL', KEYS[1])
`);

/**
 * Replaces a session by another of the same user. KEYS: current hash, next hash, user set. ARGV:
 * now, next ttl, next createdAt, encoded current id, encoded next id, next fields... Replies
 * `{'rotated', currentTokenHash}`, `{'not-found'}` or `{'id-taken'}` (nothing written).
 *
 * @example
 * ```ts
 * await runAuthLuaScript(client, rotateSessionScript, [currentKey, nextKey, setKey], args);
 * ```
 */
export const rotateSessionScript: AuthLuaScript = defineAuthLuaScript(`${extendSetTtl}${isLive}
local current = redis.call('HMGET', KEYS[1], 'expiresAt', 'absoluteExpiresAt', 'tokenHash')
if not isLive(current[1], current[2], tonumber(ARGV[1])) then return {'not-found'} end
if KEYS[1] == KEYS[2] or redis.call('EXISTS', KEYS[2]) == 1 then return {'id-taken'} end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[3], ARGV[4])
redis.call('HSET', KEYS[2], unpack(ARGV, 6))
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[5])
extendTtl(KEYS[3], ARGV[2])
return {'rotated', current[3]}
`);

/**
 * Every session hash of a user. KEYS: user set, session key base. Replies a list of HGETALL
 * lists (the caller filters by `now` and sorts).
 *
 * @example
 * ```ts
 * await runAuthLuaScript(client, listUserSessionsScript, [setKey, sessionBase], []);
 * ```
 */
export const listUserSessionsScript: AuthLuaScript = defineAuthLuaScript(`
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local sessions = {}
for _, member in ipairs(members) do
  local fields = redis.call('HGETALL', KEYS[2] .. member)
  if #fields == 0 then redis.call('ZREM', KEYS[1], member) else sessions[#sessions + 1] = fields end
end
return sessions
`);

/**
 * Deletes one session. KEYS: session hash, user set. ARGV: encoded id. Replies the deleted
 * session's token hash, or false when there was none.
 *
 * @example
 * ```ts
 * await runAuthLuaScript(client, deleteSessionScript, [sessionKey, setKey], [encodedId]);
 * ```
 */
export const deleteSessionScript: AuthLuaScript = defineAuthLuaScript(`
local tokenHash = redis.call('HGET', KEYS[1], 'tokenHash')
redis.call('ZREM', KEYS[2], ARGV[1])
if not tokenHash then return false end
redis.call('DEL', KEYS[1])
return tokenHash
`);

/**
 * Deletes every session of a user but one. KEYS: user set, session key base. ARGV: encoded id to
 * keep (`''`: none). Replies `{id1, tokenHash1, id2, tokenHash2, ...}` of the deleted sessions,
 * in the set's order (oldest first).
 *
 * @example
 * ```ts
 * await runAuthLuaScript(client, deleteUserSessionsScript, [setKey, sessionBase], [encodedExceptId]);
 * ```
 */
export const deleteUserSessionsScript: AuthLuaScript = defineAuthLuaScript(`
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local deleted = {}
for _, member in ipairs(members) do
  if member ~= ARGV[1] then
    local key = KEYS[2] .. member
    local session = redis.call('HMGET', key, 'id', 'tokenHash')
    redis.call('ZREM', KEYS[1], member)
    if session[1] then
      redis.call('DEL', key)
      deleted[#deleted + 1] = session[1]
      deleted[#deleted + 1] = session[2] or ''
    end
  end
end
return deleted
`);
