import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { RedisKeySegment } from '../../adapters/redis/tenant-key.js';
import { runLuaScript } from '../../adapters/redis/usage-counter-scripts.js';
import { TenantContextError } from '../../errors.js';
import { requireTenantId } from '../../scope/tenant-scope.js';
import type { JsonValue } from '../../tenant.js';
import { parseOrThrow } from '../../validation.js';
import { readOrLockScript, storeAndUnlockScript, unlockScript } from './cache-scripts.js';
import { negativeCacheEntry, parseCacheValue, serializeCacheValue } from './cache-value-codec.js';
import { InProcessSingleFlight } from './in-process-single-flight.js';
import { keyspaceSelectionShape, resolveKeyspace, type KeyspaceSelection } from './keyspace-option.js';
import { clientKeyPrefix, isRedisClient, type RedisClient } from './redis-client-guards.js';
import { runIsolationCommand } from './redis-command-errors.js';
import { tenantScanTarget, unlinkTargetKeys } from './tenant-key-scan.js';

const DAY_MS = 86_400_000;
const MIB = 1_048_576;
/** Waiters poll the entry from this delay, doubling up to the maximum, with jitter. */
const POLL_MIN_MS = 10;
const POLL_MAX_MS = 100;
/** UNLINK batch of clear(). */
const CLEAR_BATCH = 500;

/**
 * Options of {@link createTenantCache}.
 *
 * @example
 * ```ts
 * const options: TenantCacheOptions = { redis, prefix: 'app', namespace: 'users', defaultTtlMs: 60_000 };
 * ```
 */
export type TenantCacheOptions = KeyspaceSelection & {
  /** An ioredis `Redis` or `Cluster`. A client `keyPrefix` must hold no brace. */
  redis: RedisClient;
  /**
   * Which cache this is inside the keyspace, so several caches of one application never share
   * entries: 1 to 64 characters of `A-Z a-z 0-9 _ . -`, starting with a letter or digit.
   */
  namespace: string;
  /** Time to live of an entry when the call names none, in ms (1 to `maxTtlMs`). Required: a cache without expiry is a leak. */
  defaultTtlMs: number;
  /** The longest TTL a call may ask for, in ms; default 30 days, at most 365 days. */
  maxTtlMs?: number;
  /**
   * Cache "not found" too: when a `wrap` loader resolves `undefined`, remember that for this
   * long (ms, up to `maxTtlMs`), so lookups of missing records do not hit the source each time.
   * Default: off (an `undefined` result is not cached).
   */
  negativeTtlMs?: number;
  /**
   * Shorten each TTL by a random share of up to this ratio (0 to 0.5; default 0), so entries
   * written together do not all expire — and reload — together.
   */
  ttlJitterRatio?: number;
  /** Largest value accepted, in bytes of JSON (UTF-8); default 1 MiB, at most 512 MiB. */
  maxValueBytes?: number;
  /**
   * How long the cross-process load lock of `wrap` lives, in ms (100 to 60,000; default 5,000).
   * A loader that crashes holds it at most this long; a loader slower than this may see a
   * second process start loading the same entry.
   */
  lockTtlMs?: number;
  /**
   * How long `wrap` waits for another process's loader before failing with
   * `STORE_UNAVAILABLE`, in ms (0 to 120,000; default twice `lockTtlMs`).
   */
  lockWaitMs?: number;
};

/**
 * The key of a cache entry: one segment, or several (`['user', id]`). Segments are encoded, so
 * any string is safe (see `createTenantKeyspace`).
 *
 * @example
 * ```ts
 * const key: TenantCacheKey = ['user', 42];
 * ```
 */
export type TenantCacheKey = RedisKeySegment | readonly RedisKeySegment[];

/**
 * Per-call options of {@link TenantCache.set} and {@link TenantCache.wrap}.
 *
 * @example
 * ```ts
 * await cache.set('config', config, { ttlMs: 5 * 60_000 });
 * ```
 */
export interface TenantCacheWriteOptions {
  /** Time to live of this entry in ms, 1 to `maxTtlMs`; default `defaultTtlMs`. */
  ttlMs?: number;
}

/**
 * A cache in Redis whose entries belong to the tenant in scope: every key carries the tenant's
 * `{tenantId}` hash tag (`<prefix>:{<tenantId>}:cache:<namespace>:<key>`), so the same key in
 * two tenants names two entries, and nothing is read or written outside a tenant scope.
 * Values are JSON; what comes back is always a fresh copy of what was stored.
 *
 * Every method throws `TENANT_SCOPE_REQUIRED` outside a tenant scope (the system scope
 * included), `VALIDATION_FAILED` for a bad key or option, and `STORE_UNAVAILABLE` (driver error
 * as `cause`) when Redis fails or refuses the command.
 *
 * A stored entry that is not valid JSON (or holds a `__proto__` key) was not written by this
 * cache: it reads as a miss, and `wrap` replaces it.
 *
 * @example
 * ```ts
 * const user = await runWithTenant('tnt_acme', () => users.wrap(['user', id], () => db.findUser(id)));
 * ```
 */
export interface TenantCache<V extends JsonValue = JsonValue> {
  /** The namespace, as configured. */
  readonly namespace: string;
  /**
   * The cached value, or `undefined` on a miss (also for a cached "not found").
   *
   * @example
   * ```ts
   * const user = await users.get(['user', id]);
   * ```
   */
  get(key: TenantCacheKey): Promise<V | undefined>;
  /**
   * Stores a value for `ttlMs` (default `defaultTtlMs`).
   *
   * @throws TenantContextError `VALIDATION_FAILED` for `undefined` or a value JSON cannot hold
   *   (BigInt, cycles, NaN, Infinity) or larger than `maxValueBytes`; nothing is written then.
   * @example
   * ```ts
   * await users.set(['user', id], user, { ttlMs: 60_000 });
   * ```
   */
  set(key: TenantCacheKey, value: V, options?: TenantCacheWriteOptions): Promise<void>;
  /**
   * Removes an entry (a cached "not found" too); resolves whether one was there.
   *
   * @example
   * ```ts
   * await users.delete(['user', id]); // after the user changed
   * ```
   */
  delete(key: TenantCacheKey): Promise<boolean>;
  /**
   * Whether a value is cached (a cached "not found" does not count).
   *
   * @example
   * ```ts
   * if (!(await users.has(['user', id]))) prefetch(id);
   * ```
   */
  has(key: TenantCacheKey): Promise<boolean>;
  /**
   * The cached value, or the loader's result, cached for `ttlMs` — with stampede protection:
   *
   * - in this process, concurrent calls for one entry share one load (the first caller's
   *   loader runs; the others wait for it);
   * - across processes, the loader holds a lock (`SET NX PX` with a random token, at most
   *   `lockTtlMs`); other processes poll the entry with backoff and take the stored value, or
   *   the lock when its holder failed or it expired; the lock is released by compare-and-delete,
   *   so a loader never releases another's lock.
   *
   * A loader that throws caches nothing: the lock is released, the error reaches every caller
   * that waited for that load, and the next call loads again. A loader resolving `undefined`
   * is cached only with `negativeTtlMs`.
   *
   * @throws TenantContextError `VALIDATION_FAILED` when the loaded value cannot be cached (as
   *   {@link TenantCache.set}; the lock is released); `STORE_UNAVAILABLE` when Redis fails or
   *   another process's load did not finish within `lockWaitMs`; whatever the loader throws.
   * @example
   * ```ts
   * const plan = await plans.wrap('current', () => billing.fetchPlan(requireTenantId()), { ttlMs: 300_000 });
   * ```
   */
  wrap<T extends V | undefined>(key: TenantCacheKey, loader: () => T | Promise<T>, options?: TenantCacheWriteOptions): Promise<T>;
  /**
   * Removes every entry of this namespace for the tenant in scope (SCAN + UNLINK, never KEYS);
   * resolves how many were removed.
   *
   * @example
   * ```ts
   * await users.clear(); // after a bulk import
   * ```
   */
  clear(): Promise<number>;
  /**
   * The Redis key of an entry for the tenant in scope (for debugging, PTTL checks, or commands
   * the cache does not offer).
   *
   * @example
   * ```ts
   * users.keyOf(['user', 42]); // 'app:{tnt_acme}:cache:users:user:42'
   * ```
   */
  keyOf(key: TenantCacheKey): string;
}

const NAMESPACE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const ms = (max: number) => z.number().int().min(1).max(max);

const optionsSchema = z
  .strictObject({
    ...keyspaceSelectionShape,
    redis: z.custom<RedisClient>(isRedisClient, 'must be an ioredis Redis or Cluster'),
    namespace: z.string().regex(NAMESPACE_PATTERN, 'must be 1-64 characters of A-Z a-z 0-9 _ . -, starting with a letter or digit'),
    defaultTtlMs: ms(365 * DAY_MS),
    maxTtlMs: ms(365 * DAY_MS).optional(),
    negativeTtlMs: ms(365 * DAY_MS).optional(),
    ttlJitterRatio: z.number().min(0).max(0.5).optional(),
    maxValueBytes: z.number().int().min(1).max(512 * MIB).optional(),
    lockTtlMs: z.number().int().min(100).max(60_000).optional(),
    lockWaitMs: z.number().int().min(0).max(120_000).optional(),
  })
  .superRefine((options, context) => {
    const maxTtlMs = options.maxTtlMs ?? 30 * DAY_MS;
    for (const name of ['defaultTtlMs', 'negativeTtlMs'] as const) {
      const value = options[name];
      if (value !== undefined && value > maxTtlMs) {
        context.addIssue({ code: 'custom', path: [name], message: `must not exceed maxTtlMs (${maxTtlMs})` });
      }
    }
  });

type Decoded = { readonly found: true; readonly value: unknown } | { readonly found: false; readonly corrupt: boolean };

const MISS: Decoded = Object.freeze({ found: false, corrupt: false });
const CORRUPT: Decoded = Object.freeze({ found: false, corrupt: true });
const NEGATIVE_HIT: Decoded = Object.freeze({ found: true, value: undefined });

/** Stored text to value: a value, a cached "not found" (found, `undefined`), a miss or garbage. */
function decode(raw: string | null): Decoded {
  if (raw === null) return MISS;
  if (raw === negativeCacheEntry) return NEGATIVE_HIT;
  const parsed = parseCacheValue(raw);
  return parsed.ok ? { found: true, value: parsed.value } : CORRUPT;
}

/**
 * What one load produced: the stored text, which every caller sharing the load parses into its
 * own copy, and the value already parsed from it, which the first caller may take as its copy.
 */
interface LoadedEntry {
  readonly text: string;
  parsed: { readonly value: unknown } | undefined;
}

function valueOf(entry: LoadedEntry): unknown {
  const taken = entry.parsed;
  if (taken !== undefined) {
    entry.parsed = undefined;
    return taken.value;
  }
  const decoded = decode(entry.text);
  return decoded.found ? decoded.value : undefined;
}

function parseReadOrLockReply(reply: unknown): { state: 'value'; raw: string } | { state: 'locked' } | { state: 'busy' } {
  if (Array.isArray(reply)) {
    if (reply[0] === 1 && typeof reply[1] === 'string') return { state: 'value', raw: reply[1] };
    if (reply[0] === 2) return { state: 'locked' };
    if (reply[0] === 0) return { state: 'busy' };
  }
  throw new TenantContextError('STORE_UNAVAILABLE', 'Redis answered the cache lock script with an unexpected reply');
}

function sleep(delayMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, delayMs));
}

/**
 * Creates a {@link TenantCache}: a JSON cache in Redis (or Redis Cluster) whose entries are
 * keyed by the tenant in scope, with TTLs, negative caching, TTL jitter, a value size guard and
 * stampede protection in `wrap` (in-process single flight plus a cross-process lock).
 *
 * @throws TenantContextError `CONFIGURATION_INVALID` (when called) for a missing client, a bad
 *   option, both or neither of `keyspace` and `prefix`, or a client `keyPrefix` with braces.
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createTenantCache } from '@tenantkit/tenant-context/redis';
 *
 * const users = createTenantCache<User>({ redis: new Redis(), prefix: 'app', namespace: 'users', defaultTtlMs: 60_000 });
 * const user = await runWithTenant('tnt_acme', () => users.wrap(['user', id], () => db.findUser(id)));
 * ```
 */
export function createTenantCache<V extends JsonValue = JsonValue>(options: TenantCacheOptions): TenantCache<V> {
  const parsed = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'createTenantCache() options');
  const keyspace = resolveKeyspace(parsed, 'CONFIGURATION_INVALID', 'createTenantCache()');
  const { redis, namespace, defaultTtlMs } = parsed;
  clientKeyPrefix(redis);
  const maxTtlMs = parsed.maxTtlMs ?? 30 * DAY_MS;
  const negativeTtlMs = parsed.negativeTtlMs;
  const jitterRatio = parsed.ttlJitterRatio ?? 0;
  const maxValueBytes = parsed.maxValueBytes ?? MIB;
  const lockTtlMs = parsed.lockTtlMs ?? 5_000;
  const lockWaitMs = parsed.lockWaitMs ?? Math.min(2 * lockTtlMs, 120_000);
  const writeOptionsSchema = z.strictObject({ ttlMs: ms(maxTtlMs).optional() }).optional();
  // Keyed by the full Redis key, which holds the tenant: loads are never shared across tenants.
  const flights = new InProcessSingleFlight<LoadedEntry>();

  function segmentsOf(key: TenantCacheKey): readonly RedisKeySegment[] {
    if (Array.isArray(key)) {
      if (key.length === 0) throw new TenantContextError('VALIDATION_FAILED', 'A cache key needs at least one segment');
      return key;
    }
    return [key as RedisKeySegment];
  }

  const valueKeyOf = (key: TenantCacheKey) => keyspace.key('cache', namespace, ...segmentsOf(key));
  const lockKeyOf = (key: TenantCacheKey) => keyspace.key('cache-lock', namespace, ...segmentsOf(key));

  function ttlOf(writeOptions: TenantCacheWriteOptions | undefined): number {
    return parseOrThrow(writeOptionsSchema, writeOptions, 'VALIDATION_FAILED', 'cache write options')?.ttlMs ?? defaultTtlMs;
  }

  function withJitter(ttlMs: number): string {
    const effective = jitterRatio === 0 ? ttlMs : Math.max(1, Math.round(ttlMs * (1 - jitterRatio * Math.random())));
    return String(effective);
  }

  async function unlockQuietly(lockKey: string, token: string): Promise<void> {
    try {
      await runLuaScript(redis, unlockScript, lockKey, [token]);
    } catch {
      // The lock expires after lockTtlMs anyway; the caller's own error matters more.
    }
  }

  async function loadHoldingLock(
    valueKey: string,
    lockKey: string,
    token: string,
    loader: () => unknown,
    ttlMs: number,
  ): Promise<LoadedEntry> {
    let text: string;
    let storeTtlMs = ttlMs;
    try {
      const loaded = await loader();
      if (loaded === undefined) {
        if (negativeTtlMs === undefined) {
          await unlockQuietly(lockKey, token);
          return { text: negativeCacheEntry, parsed: { value: undefined } };
        }
        text = negativeCacheEntry;
        storeTtlMs = negativeTtlMs;
      } else {
        text = serializeCacheValue(loaded, maxValueBytes);
      }
    } catch (error) {
      await unlockQuietly(lockKey, token);
      throw error;
    }
    await runIsolationCommand(() => runLuaScript(redis, storeAndUnlockScript, [valueKey, lockKey], [text, withJitter(storeTtlMs), token]));
    return { text, parsed: undefined };
  }

  async function load(valueKey: string, lockKey: string, loader: () => unknown, ttlMs: number): Promise<LoadedEntry> {
    const first = await runIsolationCommand(() => redis.get(valueKey));
    const cached = decode(first);
    if (cached.found) return { text: first as string, parsed: { value: cached.value } };
    let replaceUnreadable = cached.corrupt;
    const token = randomUUID();
    const deadline = Date.now() + lockWaitMs;
    let delayMs = POLL_MIN_MS;
    for (;;) {
      const reply = parseReadOrLockReply(
        await runIsolationCommand(() =>
          runLuaScript(redis, readOrLockScript, [valueKey, lockKey], [token, String(lockTtlMs), replaceUnreadable ? '1' : '0']),
        ),
      );
      if (reply.state === 'locked') return loadHoldingLock(valueKey, lockKey, token, loader, ttlMs);
      if (reply.state === 'value') {
        const decoded = decode(reply.raw);
        if (decoded.found) return { text: reply.raw, parsed: { value: decoded.value } };
        // Unreadable: try again at once, this time taking the lock to replace it.
        replaceUnreadable = true;
        continue;
      }
      // Another process is loading; a later read may see a new value, so read again next time.
      replaceUnreadable = false;
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) {
        throw new TenantContextError('STORE_UNAVAILABLE', `Another process did not finish loading the cache entry within ${lockWaitMs} ms`, {
          details: { namespace },
        });
      }
      await sleep(Math.min(remainingMs, delayMs * (0.5 + Math.random() / 2)));
      delayMs = Math.min(delayMs * 2, POLL_MAX_MS);
    }
  }

  return Object.freeze({
    namespace,

    async get(key: TenantCacheKey) {
      const valueKey = valueKeyOf(key);
      const decoded = decode(await runIsolationCommand(() => redis.get(valueKey)));
      return (decoded.found ? decoded.value : undefined) as V | undefined;
    },

    async set(key: TenantCacheKey, value: V, writeOptions?: TenantCacheWriteOptions) {
      const valueKey = valueKeyOf(key);
      const ttlMs = ttlOf(writeOptions);
      const text = serializeCacheValue(value, maxValueBytes);
      await runIsolationCommand(() => redis.set(valueKey, text, 'PX', withJitter(ttlMs)));
    },

    async delete(key: TenantCacheKey) {
      const valueKey = valueKeyOf(key);
      return (await runIsolationCommand(() => redis.unlink(valueKey))) > 0;
    },

    async has(key: TenantCacheKey) {
      const valueKey = valueKeyOf(key);
      const decoded = decode(await runIsolationCommand(() => redis.get(valueKey)));
      return decoded.found && decoded.value !== undefined;
    },

    async wrap<T extends V | undefined>(key: TenantCacheKey, loader: () => T | Promise<T>, writeOptions?: TenantCacheWriteOptions): Promise<T> {
      const valueKey = valueKeyOf(key);
      const lockKey = lockKeyOf(key);
      if (typeof loader !== 'function') throw new TenantContextError('VALIDATION_FAILED', 'TenantCache.wrap() needs a loader function');
      const ttlMs = ttlOf(writeOptions);
      const entry = await flights.run(valueKey, () => load(valueKey, lockKey, loader, ttlMs));
      return valueOf(entry) as T;
    },

    async clear() {
      const tenantId = requireTenantId();
      return unlinkTargetKeys(redis, tenantScanTarget(`${keyspace.prefix}:`, tenantId, ['cache', namespace]), CLEAR_BATCH);
    },

    keyOf(key: TenantCacheKey) {
      return valueKeyOf(key);
    },
  });
}
