import type { StoreConsumeEntry, StoreConsumeResult } from '../../stores/rate-limit-store.js';

/*
 * The Lua behind `consumeAll` on Redis. It keeps rate-limiter-flexible's key layout and value
 * semantics exactly, so RateLimiterRedis's get/delete/penalty/reward/block work on the keys it
 * writes:
 * - a counter is the string `${keyPrefix}:${key}` holding the consumed points, its PTTL the
 *   window (RLF's incr script: SET 0 EX duration NX, INCRBY, PTTL, EXPIRE when the TTL is lost);
 * - the charge that first crosses the points with blockDuration > 0 sets the key to its value
 *   with EX blockDuration (RLF's `_block`);
 * - a spec with a burst charges `${keyPrefix}:burst:${key}` when the main window refuses, and
 *   reports the sooner of the two windows (BurstyRateLimiter).
 * All-or-nothing: the script charges every entry and, when any was refused, takes back the
 * charges that admitted (a counter taken back to 0 is deleted, as the memory store does). It
 * runs atomically, so no other client ever sees a charge that is taken back.
 */

/** Values per entry in ARGV. */
const ARGS_PER_ENTRY = 6;

/**
 * The consume-all script. KEYS: per entry its counter, then its burst counter when the spec
 * has a burst. ARGV: per entry points, limit, duration, blockDuration, burst points (0 for
 * none), burst duration. Returns per entry `state` (0 refused, 1 admitted by the window,
 * 2 admitted by the burst bucket), the window's consumed points and msBeforeNext.
 *
 * @example
 * ```ts
 * client.defineCommand('tenantkitRateLimitConsumeAll', { lua: consumeAllLua });
 * ```
 */
export const consumeAllLua = `
local function charge(key, points, duration)
  redis.call('set', key, 0, 'EX', duration, 'NX')
  local consumed = redis.call('incrby', key, points)
  local ttl = redis.call('pttl', key)
  if ttl == -1 then
    redis.call('expire', key, duration)
    ttl = 1000 * duration
  end
  return consumed, ttl
end

local function refund(key, points)
  local left = redis.call('decrby', key, points)
  if left <= 0 then
    redis.call('del', key)
    return 0, 0
  end
  return left, redis.call('pttl', key)
end

local count = #ARGV / ${ARGS_PER_ENTRY}
local mainKeys, burstKeys, charged, states, consumedOf, ttlOf = {}, {}, {}, {}, {}, {}
local refused = false
local nextKey = 1
for i = 1, count do
  local at = (i - 1) * ${ARGS_PER_ENTRY}
  local points = tonumber(ARGV[at + 1])
  local limit = tonumber(ARGV[at + 2])
  local duration = tonumber(ARGV[at + 3])
  local block = tonumber(ARGV[at + 4])
  local burstPoints = tonumber(ARGV[at + 5])
  local key = KEYS[nextKey]
  nextKey = nextKey + 1
  local burstKey = false
  if burstPoints > 0 then
    burstKey = KEYS[nextKey]
    nextKey = nextKey + 1
  end

  local consumed, ttl = charge(key, points, duration)
  local state = 1
  if consumed > limit then
    state = 0
    if block > 0 and consumed <= limit + points then
      redis.call('set', key, consumed, 'EX', block)
      ttl = 1000 * block
    end
    if burstKey then
      local burstConsumed, burstTtl = charge(burstKey, points, tonumber(ARGV[at + 6]))
      if burstTtl < ttl then ttl = burstTtl end
      if burstConsumed <= burstPoints then state = 2 end
    end
  end
  if state == 0 then refused = true end
  mainKeys[i], burstKeys[i], charged[i], states[i], consumedOf[i], ttlOf[i] = key, burstKey, points, state, consumed, ttl
end

if refused then
  for i = 1, count do
    if states[i] == 1 then
      consumedOf[i], ttlOf[i] = refund(mainKeys[i], charged[i])
    elseif states[i] == 2 then
      refund(burstKeys[i], charged[i])
    end
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
 *
 * @example
 * ```ts
 * await client.tenantkitRateLimitConsumeAll(...consumeAllArguments(entries));
 * ```
 */
export function consumeAllArguments(entries: readonly StoreConsumeEntry[]): (string | number)[] {
  const keys: string[] = [];
  const argv: number[] = [];
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

function replyInteger(reply: unknown, index: number): number {
  const value = Array.isArray(reply) ? (reply[index] as unknown) : undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new TypeError(`The consume-all script replied ${JSON.stringify(reply)}, not whole numbers`);
  }
  return value;
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
    const state = STATES[replyInteger(reply, index * 3)];
    if (state === undefined) throw new TypeError('The consume-all script replied an unknown state');
    const consumed = replyInteger(reply, index * 3 + 1);
    const msBeforeNext = replyInteger(reply, index * 3 + 2);
    return {
      state,
      result: {
        allowed: state !== 'refused',
        consumed,
        remaining: Math.max(entry.spec.points - consumed, 0),
        msBeforeNext: Math.max(msBeforeNext, 0),
        burst: state === 'burst',
      },
    };
  });
}
