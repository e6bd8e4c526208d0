import { defineLuaScript, type LuaScript } from '../../adapters/redis/usage-counter-scripts.js';

/*
 * KEYS[1] is always an entry's value key and KEYS[2] its lock key; both carry the same
 * {tenant} hash tag, so they sit in one Cluster slot and one script may touch both.
 */

/**
 * Reads an entry or, when there is none, takes its load lock, in one atomic step (no gap in
 * which the value could appear unseen). ARGV: lock token, lock TTL (ms), `'1'` to skip the read
 * (the stored value was unreadable and must be replaced). Answers `{1, value}`, `{2}` (lock
 * taken) or `{0}` (another loader holds the lock).
 *
 * @example
 * ```ts
 * const reply = await runLuaScript(redis, readOrLockScript, [valueKey, lockKey], [token, '5000', '0']);
 * ```
 */
export const readOrLockScript: LuaScript = defineLuaScript(`
if ARGV[3] ~= '1' then
  local value = redis.call('GET', KEYS[1])
  if value then
    return {1, value}
  end
end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {2}
end
return {0}
`);

/**
 * Stores a loaded entry and releases the lock if this loader still holds it (compare and
 * delete: a lock that expired and was taken by another loader is left alone). ARGV: payload,
 * TTL (ms), lock token. Answers 1 when the lock was released, 0 when it was no longer ours.
 *
 * @example
 * ```ts
 * await runLuaScript(redis, storeAndUnlockScript, [valueKey, lockKey], [payload, '60000', token]);
 * ```
 */
export const storeAndUnlockScript: LuaScript = defineLuaScript(`
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[3] then
  redis.call('DEL', KEYS[2])
  return 1
end
return 0
`);

/**
 * Releases a lock only if it still holds this loader's token. KEYS[1]: the lock key. ARGV:
 * token. Answers 1 when released.
 *
 * @example
 * ```ts
 * await runLuaScript(redis, unlockScript, lockKey, [token]);
 * ```
 */
export const unlockScript: LuaScript = defineLuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`);
