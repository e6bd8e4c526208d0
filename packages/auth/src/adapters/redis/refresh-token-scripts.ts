import { defineAuthLuaScript, type AuthLuaScript } from './lua-script.js';

/*
 * The refresh-token scripts. A family and all its tokens share the slot {f:<family>}, so every
 * decision about a token (current, inside the grace window, reused) and every write it leads to
 * happen in one script on one node. A family is live while it has no revokedAt and
 * expiresAt > now; a token is unexpired while expiresAt > now (the memory store's rules).
 */

const familyHelpers = `
local function fieldsToMap(fields)
  local map = {}
  for index = 1, #fields, 2 do map[fields[index]] = fields[index + 1] end
  return map
end
local function isLiveFamily(family, now)
  return family.revokedAt == nil and tonumber(family.expiresAt) > now
end
`;

/**
 * Inserts a family and its first token. KEYS: family hash, token hash. ARGV: family ttl, token
 * ttl, number of family field arguments, family fields..., token fields... Replies 1, or 0
 * when the family or the token exists (nothing written).
 *
 * @example
 * ```ts
 * await runAuthLuaScript(client, createFamilyScript, [familyKey, tokenKey], [familyTtl, tokenTtl, String(familyFields.length), ...familyFields, ...tokenFields]);
 * ```
 */
export const createFamilyScript: AuthLuaScript = defineAuthLuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local familyFieldCount = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], unpack(ARGV, 4, 3 + familyFieldCount))
redis.call('HSET', KEYS[2], unpack(ARGV, 4 + familyFieldCount))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
`);

/**
 * The one atomic step of a refresh. KEYS: family hash, presented token hash, next token hash.
 * ARGV: now, graceMs, successorSealed, next ttl, whether next may be stored (`'ok'`,
 * `'other-family'`: next names another family, `'taken'`: its hash is already in use), next
 * generation, next fields...
 *
 * Replies `{'invalid'}`, `{'grace', family, successorSealed or false}`, `{'reused', family}`
 * (the family revoked with reason 'reuse' in the same script), `{'rotated', family}`, or
 * `{'mismatch'}` when the presented token is current but next is not its successor (another
 * family or generation; nothing written). `family` is the family hash as HGETALL lists it.
 *
 * @example
 * ```ts
 * await runAuthLuaScript(client, rotateRefreshTokenScript, [familyKey, presentedKey, nextKey], args);
 * ```
 */
export const rotateRefreshTokenScript: AuthLuaScript = defineAuthLuaScript(`${familyHelpers}
local now = tonumber(ARGV[1])
local token = fieldsToMap(redis.call('HGETALL', KEYS[2]))
if token.expiresAt == nil then return {'invalid'} end
local familyFields = redis.call('HGETALL', KEYS[1])
if #familyFields == 0 then return {'invalid'} end
local family = fieldsToMap(familyFields)
if tonumber(token.expiresAt) <= now or not isLiveFamily(family, now) then return {'invalid'} end
if token.rotatedAt ~= nil then
  if now - tonumber(token.rotatedAt) < tonumber(ARGV[2]) then
    return {'grace', familyFields, token.successorSealed or false}
  end
  redis.call('HSET', KEYS[1], 'revokedAt', ARGV[1], 'revokedReason', 'reuse')
  return {'reused', redis.call('HGETALL', KEYS[1])}
end
if ARGV[5] == 'other-family' or tonumber(ARGV[6]) ~= tonumber(token.generation) + 1 then return {'mismatch'} end
if ARGV[5] == 'taken' or redis.call('EXISTS', KEYS[3]) == 1 then return {'invalid'} end
redis.call('HSET', KEYS[2], 'rotatedAt', ARGV[1], 'successorSealed', ARGV[3])
redis.call('HSET', KEYS[3], unpack(ARGV, 7))
-- A token never outlives its family's key.
local ttl = tonumber(ARGV[4])
local familyTtl = redis.call('PTTL', KEYS[1])
if familyTtl > 0 and familyTtl < ttl then ttl = familyTtl end
redis.call('PEXPIRE', KEYS[3], ttl)
return {'rotated', familyFields}
`);

/**
 * Revokes a live family. KEYS: family hash. ARGV: now, reason, owner check (`''`: none, else the
 * user id the family must have), session check (`'1'` to require ARGV[5]), session id. Replies
 * 1 when revoked now, 0 otherwise (gone, already revoked, expired, or another owner/session).
 *
 * @example
 * ```ts
 * await runAuthLuaScript(client, revokeFamilyScript, [familyKey], [now, 'logout', '', '0', '']);
 * ```
 */
export const revokeFamilyScript: AuthLuaScript = defineAuthLuaScript(`${familyHelpers}
local fields = redis.call('HGETALL', KEYS[1])
if #fields == 0 then return 0 end
local family = fieldsToMap(fields)
if not isLiveFamily(family, tonumber(ARGV[1])) then return 0 end
if ARGV[3] ~= '' and family.userId ~= ARGV[3] then return 0 end
if ARGV[4] == '1' and family.sessionId ~= ARGV[5] then return 0 end
redis.call('HSET', KEYS[1], 'revokedAt', ARGV[1], 'revokedReason', ARGV[2])
return 1
`);

/**
 * Adds a family id to its user's sorted set (score: the family's expiresAt) and keeps the set
 * alive as long as its longest family. KEYS: user families set. ARGV: expiresAt, family id, ttl.
 *
 * @example
 * ```ts
 * await runAuthLuaScript(client, addUserFamilyScript, [userFamiliesKey], [String(family.expiresAt), family.id, ttl]);
 * ```
 */
export const addUserFamilyScript: AuthLuaScript = defineAuthLuaScript(`
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1
`);

/**
 * The family ids of a user that have not ended at `now` (the ended ones are dropped from the
 * set on the way), oldest end first. KEYS: user families set. ARGV: now.
 *
 * @example
 * ```ts
 * const ids = await runAuthLuaScript(client, listUserFamiliesScript, [userFamiliesKey], [String(now)]);
 * ```
 */
export const listUserFamiliesScript: AuthLuaScript = defineAuthLuaScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return redis.call('ZRANGE', KEYS[1], 0, -1)
`);
