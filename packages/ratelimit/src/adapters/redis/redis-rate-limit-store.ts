import type { Cluster, Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { RateLimitError } from '../../errors.js';
import { createLimiterMemo } from '../../stores/limiter-memo.js';
import { assertConsumeEntries } from '../../stores/limiter-spec-guards.js';
import type { RateLimitStore, StoreConsumeEntry, StoreConsumeResult } from '../../stores/rate-limit-store.js';
import {
  burstKeyOf,
  consumeAllArguments,
  consumeAllLua,
  counterKeyOf,
  decodeConsumeAllReply,
  refundLua,
  type DecodedScriptEntry,
} from './consume-all-script.js';
import { groupByHashTag, hashTagOf, type HashTagGroup } from './hash-tag-groups.js';

/**
 * The clients {@link redisRateLimitStore} takes: an ioredis `Redis` or `Cluster`.
 *
 * @example
 * ```ts
 * const client: RedisRateLimitClient = new Redis(process.env.REDIS_URL!);
 * ```
 */
export type RedisRateLimitClient = Redis | Cluster;

/**
 * Options of {@link redisRateLimitStore}.
 *
 * @example
 * ```ts
 * const options: RedisRateLimitStoreOptions = { kind: 'redis-sessions' };
 * ```
 */
export interface RedisRateLimitStoreOptions {
  /** The store's `kind` in logs and metrics; default `'redis'`, or `'redis-cluster'` for a Cluster. */
  readonly kind?: string;
}

/** The names the scripts are defined under on the caller's client (ioredis has no undefine). */
const CONSUME_ALL_COMMAND = 'tenantkitRateLimitConsumeAll';
const REFUND_COMMAND = 'tenantkitRateLimitRefund';

type ScriptCommand = (...args: (string | number)[]) => Promise<unknown>;

function isRedisClient(value: unknown): value is RedisRateLimitClient {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.defineCommand === 'function' &&
    typeof candidate.status === 'string' &&
    typeof candidate.isCluster === 'boolean'
  );
}

function unavailable(message: string, cause?: unknown): RateLimitError {
  return new RateLimitError('STORE_UNAVAILABLE', message, cause === undefined ? undefined : { cause });
}

/** One script call: the entries of one hash-tag group (all entries on a single node). */
interface ScriptCall {
  readonly indexes: readonly number[];
  readonly entries: readonly StoreConsumeEntry[];
}

/**
 * A {@link RateLimitStore} on Redis through ioredis, single node or Redis Cluster, shared by
 * every process using the same Redis.
 *
 * - `limiter(spec)` is rate-limiter-flexible's `RateLimiterRedis` for the spec (memoised,
 *   `rejectIfRedisNotReady: true`), for get/delete/penalty/reward/block by key.
 * - `consumeAll` runs one Lua script (EVALSHA; ioredis sends EVAL once per connection) on the
 *   keys `RateLimiterRedis` and `BurstyRateLimiter` use (`${keyPrefix}:${key}`, burst
 *   `${keyPrefix}:burst:${key}`), with their values: it decides every entry first, then charges
 *   them all, or, when one refuses, charges nothing and writes only the blocks of the refused
 *   entries (with blockDuration > 0; the burst bucket is blocked with the key). On a single
 *   node that is one round trip for the whole request.
 * - On a Cluster the entries are grouped by the `{hash tag}` of their key (every counter of one
 *   tenant shares `{tenant}`, so a request of one tenant is still one call). Groups run one
 *   after another in the order of their first entry and stop at the first refusal (that group
 *   charges nothing, as above); the groups that admitted before it are refunded by a second
 *   script (both counters of a burst admission; a counter is never left below 0), and the
 *   groups after it are only decided, never charged (their blocks are written, so every entry
 *   reports and blocks as on a single node). List per-client policies (IP, user) before
 *   shared ones (tenant): a flood that its own counter refuses then never touches its tenant's.
 *   A Cluster entry with a burst bucket needs a hash tag (its two counters must share a slot).
 * - When the client is not `ready` (connecting, reconnecting, closed) calls reject at once
 *   with `STORE_UNAVAILABLE` instead of waiting in ioredis's offline queue, so the limiter's
 *   failure policy takes over; the first call after ioredis reconnects uses Redis again.
 * - It never runs KEYS or FLUSHDB, and never closes the client: `close()` only stops the store.
 *
 * @throws RateLimitError `CONFIGURATION_INVALID` for a client that is not an ioredis client or bad options.
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { createRateLimiter } from '@tenantkit/ratelimit';
 * import { redisRateLimitStore } from '@tenantkit/ratelimit/redis';
 *
 * const redis = new Redis(process.env.REDIS_URL!);
 * const limiter = createRateLimiter({ store: redisRateLimitStore(redis), policies });
 * // on shutdown:
 * await limiter.close();
 * await redis.quit();
 * ```
 */
export function redisRateLimitStore(client: RedisRateLimitClient, options: RedisRateLimitStoreOptions = {}): RateLimitStore {
  if (!isRedisClient(client)) {
    throw new RateLimitError('CONFIGURATION_INVALID', 'redisRateLimitStore: client must be an ioredis Redis or Cluster');
  }
  if (typeof options !== 'object' || options === null) {
    throw new RateLimitError('CONFIGURATION_INVALID', 'redisRateLimitStore: options must be an object');
  }
  const cluster = client.isCluster;
  const kind = options.kind ?? (cluster ? 'redis-cluster' : 'redis');
  if (typeof kind !== 'string' || kind.length === 0) {
    throw new RateLimitError('CONFIGURATION_INVALID', 'redisRateLimitStore: kind must be a non-empty string');
  }

  client.defineCommand(CONSUME_ALL_COMMAND, { lua: consumeAllLua });
  if (cluster) client.defineCommand(REFUND_COMMAND, { lua: refundLua });
  const commands = client as unknown as Record<string, ScriptCommand>;
  let closed = false;

  function assertUsable(): void {
    if (closed) throw unavailable('The Redis rate-limit store is closed');
    if (client.status !== 'ready') throw unavailable(`The Redis connection is not ready (status "${client.status}")`);
  }

  const limiters = createLimiterMemo(
    (spec) =>
      new RateLimiterRedis({
        storeClient: client,
        keyPrefix: spec.keyPrefix,
        points: spec.points,
        duration: spec.duration,
        blockDuration: spec.blockDuration,
        rejectIfRedisNotReady: true,
      }),
  );
  const limiterOf = limiters.of;

  function scriptCallsOf(entries: readonly StoreConsumeEntry[]): ScriptCall[] {
    if (!cluster) return [{ indexes: entries.map((_, index) => index), entries }];
    const keys = entries.map(counterKeyOf);
    keys.forEach((key, index) => {
      if (entries[index]!.spec.burst !== undefined && hashTagOf(key) === undefined) {
        throw new RateLimitError(
          'VALIDATION_FAILED',
          'On a Redis Cluster a key with a burst bucket needs a {hash tag}: its two counters must share a slot',
          { details: { field: `entries[${index}].key` } },
        );
      }
    });
    return groupByHashTag(keys).map((group: HashTagGroup) => ({
      indexes: group.indexes,
      entries: group.indexes.map((index) => entries[index]!),
    }));
  }

  async function runScript(call: ScriptCall, refusedAlready = false): Promise<DecodedScriptEntry[]> {
    const reply = await commands[CONSUME_ALL_COMMAND]!(...consumeAllArguments(call.entries, refusedAlready));
    return decodeConsumeAllReply(call.entries, reply);
  }

  /**
   * Takes back what an admitted group charged: the window's counter of every entry, and the
   * burst bucket's of a burst admission (it charged both). Returns the group's results after
   * the refund (what its counters hold again).
   */
  async function refundGroup(call: ScriptCall, decoded: readonly DecodedScriptEntry[]): Promise<StoreConsumeResult[]> {
    const keys: string[] = [];
    const points: number[] = [];
    call.entries.forEach((entry, index) => {
      keys.push(counterKeyOf(entry));
      points.push(entry.points);
      if (decoded[index]!.state === 'burst') {
        keys.push(burstKeyOf(entry));
        points.push(entry.points);
      }
    });
    const reply = await commands[REFUND_COMMAND]!(keys.length, ...keys, ...points);
    if (!Array.isArray(reply) || reply.length !== keys.length * 2) throw new TypeError('The refund script replied a reply of another shape');
    // A key twice in the group is refunded twice: its last reply is what it holds afterwards.
    const lastReplyOf = new Map<string, number>();
    keys.forEach((key, index) => lastReplyOf.set(key, index * 2));
    return call.entries.map((entry, index) => {
      const at = lastReplyOf.get(counterKeyOf(entry))!;
      const consumed = Number(reply[at]);
      return {
        allowed: true,
        consumed,
        remaining: Math.max(entry.spec.points - consumed, 0),
        msBeforeNext: Math.max(Number(reply[at + 1]), 0),
        burst: decoded[index]!.state === 'burst',
      };
    });
  }

  /**
   * Charges the groups one after another, in the order of their first entry, and stops at the
   * first refusal or failure; the groups charged before it are refunded. Running them in
   * parallel would let a flood that one group refuses (one IP) inflate another group's shared
   * counter (its tenant) until the refund, and the legitimate requests refused meanwhile would
   * be refused for nothing. Callers list per-client policies before shared ones, so a refused
   * client never reaches its tenant's counter at all. The groups after a refusal are only
   * decided (in parallel, charging nothing, writing their blocks).
   */
  async function consumeAcrossGroups(calls: readonly ScriptCall[], count: number): Promise<StoreConsumeResult[]> {
    const results = new Array<StoreConsumeResult>(count);
    const record = (call: ScriptCall, groupResults: readonly StoreConsumeResult[]) => {
      groupResults.forEach((result, index) => {
        results[call.indexes[index]!] = result;
      });
    };
    const resultsOf = (decoded: readonly DecodedScriptEntry[]) => decoded.map(({ result }) => result);
    const admittedGroups: { call: ScriptCall; decoded: DecodedScriptEntry[] }[] = [];
    let stopped: { failure: unknown } | { refusedAt: number } | undefined;
    for (let groupIndex = 0; groupIndex < calls.length; groupIndex += 1) {
      const call = calls[groupIndex]!;
      let decoded: DecodedScriptEntry[];
      try {
        decoded = await runScript(call);
      } catch (failure) {
        stopped = { failure };
        break;
      }
      record(call, resultsOf(decoded));
      // A refused group charged nothing: its script only wrote the blocks.
      if (decoded.some(({ state }) => state === 'refused')) {
        stopped = { refusedAt: groupIndex };
        break;
      }
      admittedGroups.push({ call, decoded });
    }
    if (stopped === undefined) return results;

    const settled = await Promise.allSettled([
      // The groups that admitted must not keep their charges.
      ...admittedGroups.map(async ({ call, decoded }) => record(call, await refundGroup(call, decoded))),
      ...('refusedAt' in stopped ? calls.slice(stopped.refusedAt + 1) : []).map(async (call) => record(call, resultsOf(await runScript(call, true)))),
    ]);
    if ('failure' in stopped) throw stopped.failure;
    const failed = settled.find((outcome) => outcome.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    return results;
  }

  return {
    kind,
    shared: true,

    limiter(spec) {
      return limiterOf(spec);
    },

    async consumeAll(entries) {
      assertConsumeEntries(entries);
      for (const entry of entries) limiterOf(entry.spec);
      if (entries.length === 0) return [];
      const calls = scriptCallsOf(entries);
      assertUsable();
      try {
        if (calls.length === 1) return (await runScript(calls[0]!)).map(({ result }) => result);
        return await consumeAcrossGroups(calls, entries.length);
      } catch (error) {
        throw unavailable('The Redis rate-limit store could not count the request', error);
      }
    },

    async close() {
      closed = true;
      limiters.clear();
    },
  };
}
