import { defineAuthLuaScript, type AuthLuaScript } from './lua-script.js';

/**
 * Records a revocation entry that lasts until ARGV[1] (epoch ms), keeping the later end when the
 * key already holds one. KEYS: the entry. ARGV: until, ttl. Replies 1 when written.
 *
 * @example
 * ```ts
 * await runAuthLuaScript(client, revokeUntilScript, [keys.revokedJti(jti)], [String(until), ttl]);
 * ```
 */
export const revokeUntilScript: AuthLuaScript = defineAuthLuaScript(`
local current = redis.call('GET', KEYS[1])
if current and tonumber(current) and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`);

/**
 * Raises an epoch to ARGV[1] unless it is already at or past it. KEYS: the epoch. Replies the
 * epoch now stored (as the text it was written with).
 *
 * @example
 * ```ts
 * const stored = await runAuthLuaScript(client, raiseEpochScript, [keys.epoch('user', id)], [String(epochMs)]);
 * ```
 */
export const raiseEpochScript: AuthLuaScript = defineAuthLuaScript(`
local current = redis.call('GET', KEYS[1])
if current and tonumber(current) and tonumber(current) >= tonumber(ARGV[1]) then return current end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
`);
