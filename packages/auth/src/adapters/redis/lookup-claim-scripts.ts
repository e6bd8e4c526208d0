import { randomBytes } from 'node:crypto';
import { defineAuthLuaScript, type AuthLuaScript } from './lua-script.js';

/*
 * Lookup keys ("claims") live in their own slot: which user a session id or token hash belongs
 * to, which family a refresh token hash belongs to. A claim is written before the record it
 * points at and only says where to look; the record, in its own slot, is re-checked by the
 * script that reads or changes it. A claim value ends with a nonce, so a writer releases only
 * the claim it wrote, never one written meanwhile by someone else.
 */

/**
 * Sets KEYS[1] to ARGV[1] with PX ARGV[2] when the key is absent, or holds exactly ARGV[3]
 * (a claim being taken over; `''` allows none). Replies 1 when set, 0 when another value holds it.
 *
 * @example
 * ```ts
 * await runAuthLuaScript(client, claimLookupKeyScript, [key], [value, ttl, '']);
 * ```
 */
export const claimLookupKeyScript: AuthLuaScript = defineAuthLuaScript(`
local current = redis.call('GET', KEYS[1])
if current and current ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`);

/**
 * Deletes KEYS[1] when it holds exactly ARGV[1] (mode `'exact'`, ARGV[2]) or a value starting with
 * ARGV[1] (mode `'prefix'`). Replies 1 when deleted.
 *
 * @example
 * ```ts
 * await runAuthLuaScript(client, releaseLookupKeyScript, [key], [value, 'exact']);
 * ```
 */
export const releaseLookupKeyScript: AuthLuaScript = defineAuthLuaScript(`
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
if ARGV[2] == 'exact' and current ~= ARGV[1] then return 0 end
if ARGV[2] == 'prefix' and string.sub(current, 1, string.len(ARGV[1])) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`);

/**
 * A fresh claim nonce (72 random bits, base64url: no spaces, so it can end a space-separated value).
 *
 * @example
 * ```ts
 * const value = `${encodedUserId} ${createClaimNonce()}`;
 * ```
 */
export function createClaimNonce(): string {
  return randomBytes(9).toString('base64url');
}
