import type { StoreConsumeEntry, StoreConsumeResult } from '../../stores/rate-limit-store.js';

/*
 * The Lua behind `consumeAll` on Redis. It keeps rate-limiter-flexible's key layout and value
 * semantics, so RateLimiterRedis's get/delete/penalty/reward/block work on the keys it writes:
 * - a counter is the string `${keyPrefix}:${key}` holding the consumed points, its PTTL the
 *   window (a charge opens a window of `duration` on an empty key, and sets the expiry again on
 *   a counter that lost it, as RLF's incr script does);
 * - a block is the counter set past the points with EX blockDuration (RLF's `_block`);
 * - a spec with a burst counts `${keyPrefix}:burst:${key}` too: when the window refuses, the
 *   burst bucket may admit, and the entry is charged on both (BurstyRateLimiter); the reply
 *   has the sooner of the two windows.
 * It decides every entry before it writes anything. Admitted request: every entry is charged.
 * Refused request (any entry refused): nothing is charged; only the refused entries with
 * blockDuration > 0 that are not blocked yet are blocked, their burst bucket with them (set
 * past its points for the same time), so a burst never admits a blocked key. Deciding first
 * also means a write never fails halfway: a value INCRBY could not add to (something else
 * wrote it) counts as an empty counter and the next charge replaces it, instead of failing the
 * whole request on one odd key.
 */

/** Values per entry in ARGV. */
const ARGS_PER_ENTRY = 6;

/**
 * The consume-all script. KEYS: per entry its counter, then its burst counter when the spec
 * has a burst. ARGV: `1` when the request is refused already (another hash-tag group of a
 * Redis Cluster refused it: decide and block, charge nothing), else `0`; then per entry
 * points, limit, duration, blockDuration, burst points (0 for none), burst duration. Returns
 * per entry `state` (0 refused, 1 admitted by the window, 2 admitted by the burst bucket), the
 * window's consumed points and msBeforeNext. When the request is refused the admitting
 * entries report their counters as they are (not charged) and a refused entry reports the
 * points it would have reached (not stored).
 *
 * @example
 * ```ts
 * client.defineCommand('tenantkitRateLimitConsumeAll', { lua: consumeAllLua });
 * ```
 */
export const consumeAllLua = `
local views, planned = {}, {}

-- A counter as it stands: its points, PTTL, and whether a charge must start it afresh (no key,
-- or a value INCRBY refuses: not a plain integer of at most 15 characters).
local function view(key)
  local seen = views[key]
  if seen then return seen end
  local raw = redis.call('get', key)
  if raw and (raw == '0' or (#raw <= 15 and string.match(raw, '^%-?[1-9]%d*$'))) then
    seen = { value = tonumber(raw), ttl = redis.call('pttl', key), fresh = false }
  else
    seen = { value = 0, ttl = -2, fresh = true }
  end
  views[key] = seen
  return seen
end

-- The points earlier entries of this request would add to a key (the same key twice).
local function pending(key)
  return planned[key] or 0
end

local function plan(key, points)
  planned[key] = pending(key) + points
end

-- Milliseconds until a counter's window ends; the window a charge would open when none runs.
local function msLeft(seen, duration)
  if seen.fresh or seen.ttl < 0 then return 1000 * duration end
  return seen.ttl
end

local function charge(key, points, duration)
  local seen = views[key]
  if seen.fresh then
    redis.call('set', key, points, 'EX', duration)
    seen.value, seen.ttl, seen.fresh = points, 1000 * duration, false
  else
    seen.value = redis.call('incrby', key, points)
    if seen.ttl == -1 then
      redis.call('expire', key, duration)
      seen.ttl = 1000 * duration
    end
  end
  return seen.value, seen.ttl
end

local function block(key, atLeast, seconds)
  local seen = views[key]
  local value = atLeast
  if not seen.fresh and seen.value > value then value = seen.value end
  redis.call('set', key, value, 'EX', seconds)
end

local count = (#ARGV - 1) / ${ARGS_PER_ENTRY}
local mainKeys, burstKeys, states, consumedOf, ttlOf, blocks = {}, {}, {}, {}, {}, {}
local refused = ARGV[1] == '1'
local nextKey = 1
for i = 1, count do
  local at = 1 + (i - 1) * ${ARGS_PER_ENTRY}
  local points = tonumber(ARGV[at + 1])
  local limit = tonumber(ARGV[at + 2])
  local duration = tonumber(ARGV[at + 3])
  local blockFor = tonumber(ARGV[at + 4])
  local burstPoints = tonumber(ARGV[at + 5])
  local key = KEYS[nextKey]
  nextKey = nextKey + 1
  local burstKey = false
  if burstPoints > 0 then
    burstKey = KEYS[nextKey]
    nextKey = nextKey + 1
  end

  local seen = view(key)
  local current = seen.value + pending(key)
  local state, consumed, ttl = 1, current + points, 0
  if current + points <= limit then
    plan(key, points)
  else
    state = 0
    -- Without a burst the window of a blocked key is past its points; with one, its bucket is.
    local blocked = current > limit
    ttl = msLeft(seen, duration)
    if burstKey then
      local burstSeen = view(burstKey)
      local burstCurrent = burstSeen.value + pending(burstKey)
      if burstCurrent + points <= burstPoints then
        state = 2
        plan(key, points)
        plan(burstKey, points)
      else
        blocked = burstCurrent > burstPoints
        local burstTtl = msLeft(burstSeen, tonumber(ARGV[at + 6]))
        if burstTtl < ttl then ttl = burstTtl end
      end
    end
    if state == 0 then
      refused = true
      if blockFor > 0 and not blocked then
        blocks[i] = true
        ttl = 1000 * blockFor
      end
    end
  end
  mainKeys[i], burstKeys[i], states[i], consumedOf[i], ttlOf[i] = key, burstKey, state, consumed, ttl
end

for i = 1, count do
  local at = 1 + (i - 1) * ${ARGS_PER_ENTRY}
  local points = tonumber(ARGV[at + 1])
  if not refused then
    consumedOf[i], ttlOf[i] = charge(mainKeys[i], points, tonumber(ARGV[at + 3]))
    if states[i] == 2 then
      local _, burstTtl = charge(burstKeys[i], points, tonumber(ARGV[at + 6]))
      if burstTtl < ttlOf[i] then ttlOf[i] = burstTtl end
    end
  elseif states[i] == 0 then
    if blocks[i] then
      local blockFor = tonumber(ARGV[at + 4])
      block(mainKeys[i], tonumber(ARGV[at + 2]) + 1, blockFor)
      if burstKeys[i] then block(burstKeys[i], tonumber(ARGV[at + 5]) + 1, blockFor) end
    end
  else
    -- Admitting, but not charged: the counter as it is.
    local seen = views[mainKeys[i]]
    consumedOf[i], ttlOf[i] = seen.value, 0
    if not seen.fresh and seen.ttl > 0 then ttlOf[i] = seen.ttl end
  end
end

local reply = {}
for i = 1, count do
  reply[#reply + 1] = states[i]
  reply[#reply + 1] = consumedOf[i]
  reply[#reply + 1] = ttlOf[i]
end
return reply
`;

/**
 * Takes back charges another script call made (a Redis Cluster request refused by another
 * hash-tag group). KEYS: the counters; ARGV: the points to take back from each. A counter
 * taken to 0 or below is deleted, so a refund never leaves credit behind. Returns per key the
 * consumed points and PTTL after it.
 *
 * @example
 * ```ts
 * client.defineCommand('tenantkitRateLimitRefund', { lua: refundLua });
 * ```
 */
export const refundLua = `
local reply = {}
for i = 1, #KEYS do
  local left = redis.call('decrby', KEYS[i], tonumber(ARGV[i]))
  if left <= 0 then
    redis.call('del', KEYS[i])
    reply[#reply + 1] = 0
    reply[#reply + 1] = 0
  else
    reply[#reply + 1] = left
    reply[#reply + 1] = redis.call('pttl', KEYS[i])
  end
end
return reply
`;

/**
 * The stored counter of an entry, as rate-limiter-flexible names it.
 *
 * @example
 * ```ts
 * counterKeyOf(entry); // 'tk:rl:api:{acme}'
 * ```
 */
export function counterKeyOf(entry: StoreConsumeEntry): string {
  return `${entry.spec.keyPrefix}:${entry.key}`;
}

/**
 * The stored burst counter of an entry: BurstyRateLimiter's burst limiter has the prefix
 * `${keyPrefix}:burst`.
 *
 * @example
 * ```ts
 * burstKeyOf(entry); // 'tk:rl:api:burst:{acme}'
 * ```
 */
export function burstKeyOf(entry: StoreConsumeEntry): string {
  return `${entry.spec.keyPrefix}:burst:${entry.key}`;
}

/**
 * The arguments of one consume-all call: the number of keys, the keys, then the ARGV.
 * `refusedAlready`: another hash-tag group refused the request, so this call only decides and
 * writes blocks.
 *
 * @example
 * ```ts
 * await client.tenantkitRateLimitConsumeAll(...consumeAllArguments(entries));
 * ```
 */
export function consumeAllArguments(entries: readonly StoreConsumeEntry[], refusedAlready = false): (string | number)[] {
  const keys: string[] = [];
  const argv: number[] = [refusedAlready ? 1 : 0];
  for (const entry of entries) {
    const { spec } = entry;
    keys.push(counterKeyOf(entry));
    if (spec.burst !== undefined) keys.push(burstKeyOf(entry));
    argv.push(entry.points, spec.points, spec.duration, spec.blockDuration, spec.burst?.points ?? 0, spec.burst?.duration ?? 0);
  }
  return [keys.length, ...keys, ...argv];
}

/** How one entry came out of the consume-all script. */
export type ScriptEntryState = 'refused' | 'window' | 'burst';

/**
 * One entry's reply of the consume-all script, as a store result plus how it was admitted.
 *
 * @example
 * ```ts
 * const decoded: DecodedScriptEntry = { state: 'window', result };
 * ```
 */
export interface DecodedScriptEntry {
  readonly state: ScriptEntryState;
  readonly result: StoreConsumeResult;
}

/**
 * A number of the reply: ioredis gives integers as numbers, or as strings with its
 * `stringNumbers` option. Any finite value is taken as it is; a counter far past the points
 * only means remaining 0, never a failure.
 */
function replyNumber(reply: readonly unknown[], index: number): number {
  const value = reply[index];
  const number = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(number)) throw new TypeError(`The consume-all script replied ${JSON.stringify(value)} where a number belongs`);
  return number;
}

const STATES: readonly ScriptEntryState[] = ['refused', 'window', 'burst'];

/**
 * Reads the consume-all script's reply for `entries` (in their order).
 *
 * @throws TypeError when the reply is not the script's (the caller wraps it as an outage).
 * @example
 * ```ts
 * const decoded = decodeConsumeAllReply(entries, await client.tenantkitRateLimitConsumeAll(...args));
 * ```
 */
export function decodeConsumeAllReply(entries: readonly StoreConsumeEntry[], reply: unknown): DecodedScriptEntry[] {
  if (!Array.isArray(reply) || reply.length !== entries.length * 3) {
    throw new TypeError(`The consume-all script replied ${reply === undefined ? 'nothing' : 'a reply of another shape'}`);
  }
  return entries.map((entry, index) => {
    const state = STATES[replyNumber(reply, index * 3)];
    if (state === undefined) throw new TypeError('The consume-all script replied an unknown state');
    const consumed = replyNumber(reply, index * 3 + 1);
    const msBeforeNext = replyNumber(reply, index * 3 + 2);
    return {
      state,
      result: {
        allowed: state !== 'refused',
        consumed,
        remaining: state === 'refused' ? 0 : Math.max(entry.spec.points - consumed, 0),
        msBeforeNext: Math.max(msBeforeNext, 0),
        burst: state === 'burst',
      },
    };
  });
}
