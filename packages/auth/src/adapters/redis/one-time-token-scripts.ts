import { defineAuthLuaScript, type AuthLuaScript } from './lua-script.js';

/*
 * The one-time-token scripts. The tokens of one purpose and subject share the slot
 * {ott:<purpose>:<subject>}: a set of their encoded hashes and one hash per token, which holds
 * the token's tenant (no `tenantId` field: no tenant). Reissue and void therefore see every
 * token they may delete in the same script, whatever its tenant.
 */

const voidTokensOfTenant = `
-- mode 'any': every tenant; 'null': tokens without one; 'value': tokens of ARGV tenant.
local function tenantMatches(mode, tenant, wanted)
  if mode == 'any' then return true end
  if mode == 'null' then return tenant == false or tenant == nil end
  return tenant == wanted
end

-- Deletes the tokens of the group set whose tenant matches (dropping members whose token is
-- gone) and returns their hashes (tokenHash fields).
local function voidTokens(group, keyBase, mode, wanted)
  local voided = {}
  for _, member in ipairs(redis.call('SMEMBERS', group)) do
    local key = keyBase .. member
    local token = redis.call('HMGET', key, 'tokenHash', 'tenantId')
    if not token[1] then
      redis.call('SREM', group, member)
    elseif tenantMatches(mode, token[2], wanted) then
      redis.call('DEL', key)
      redis.call('SREM', group, member)
      voided[#voided + 1] = token[1]
    end
  end
  return voided
end
`;

/**
 * Inserts a token and voids the other tokens of its purpose, subject and tenant. KEYS: group
 * set, new token hash key, token key base. ARGV: ttl, encoded hash, tenant mode (`'null'` or
 * `'value'`), tenant, fields... Replies the hashes (`tokenHash` fields) of the voided tokens; a
 * token under the same hash but another tenant is replaced without counting as voided.
 *
 * @example
 * ```ts
 * await runAuthLuaScript(client, issueOneTimeTokenScript, [groupKey, tokenKey, baseKey], args);
 * ```
 */
export const issueOneTimeTokenScript: AuthLuaScript = defineAuthLuaScript(`${voidTokensOfTenant}
local voided = voidTokens(KEYS[1], KEYS[3], ARGV[3], ARGV[4])
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], unpack(ARGV, 5))
redis.call('PEXPIRE', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[1], ARGV[2])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return voided
`);

/**
 * Takes a token. KEYS: group set, token key. ARGV: purpose, now, encoded hash. Replies the
 * token (HGETALL form) after deleting it, `'expired'` after deleting an expired one, or false
 * (absent, or another purpose: left in place).
 *
 * @example
 * ```ts
 * await runAuthLuaScript(client, consumeOneTimeTokenScript, [groupKey, tokenKey], [purpose, now, encodedHash]);
 * ```
 */
export const consumeOneTimeTokenScript: AuthLuaScript = defineAuthLuaScript(`
local fields = redis.call('HGETALL', KEYS[2])
if #fields == 0 then return false end
local token = {}
for index = 1, #fields, 2 do token[fields[index]] = fields[index + 1] end
if tonumber(token.expiresAt) == nil or tonumber(token.expiresAt) <= tonumber(ARGV[2]) then
  redis.call('DEL', KEYS[2])
  redis.call('SREM', KEYS[1], ARGV[3])
  return 'expired'
end
if token.purpose ~= ARGV[1] then return false end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[1], ARGV[3])
return fields
`);

/**
 * Deletes one token, whatever it holds (a hash reissued under another purpose or subject).
 * KEYS: group set, token key. ARGV: encoded hash. Replies 1 when it existed.
 *
 * @example
 * ```ts
 * await runAuthLuaScript(client, dropOneTimeTokenScript, [groupKey, tokenKey], [encodedHash]);
 * ```
 */
export const dropOneTimeTokenScript: AuthLuaScript = defineAuthLuaScript(`
redis.call('SREM', KEYS[1], ARGV[1])
return redis.call('DEL', KEYS[2])
`);

/**
 * Deletes the tokens of a purpose and subject, of one tenant, of none or of every tenant.
 * KEYS: group set, token key base. ARGV: tenant mode (`'any'`, `'null'`, `'value'`), tenant.
 * Replies the hashes of the deleted tokens.
 *
 * @example
 * ```ts
 * await runAuthLuaScript(client, voidOneTimeTokensScript, [groupKey, baseKey], ['any', '']);
 * ```
 */
export const voidOneTimeTokensScript: AuthLuaScript = defineAuthLuaScript(`${voidTokensOfTenant}
return voidTokens(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
`);
