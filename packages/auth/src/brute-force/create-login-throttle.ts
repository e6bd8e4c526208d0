import { createHash } from 'node:crypto';
import { codedErrorFactory, createParseOrThrow, isTenantkitError, type Clock } from '@tenantkit/core';
import { createRateLimiter, type PolicyOutcome, type RateLimiter, type RateLimitStore, type RateLimitSubject } from '@tenantkit/ratelimit';
import { z } from 'zod';
import { AuthError } from '../errors.js';
import type { LoginAttempt, LoginThrottle } from './login-throttle.js';
import { progressiveDelayMs, type ProgressiveDelay } from './progressive-delay.js';

/**
 * Options of {@link createLoginThrottle}, validated when it is called (`CONFIGURATION_INVALID`).
 *
 * Each counter refuses once it holds `failures` failures inside its window (a window opens
 * with the first failure and lasts `windowSeconds`), and then stays blocked for its block
 * time: further failures during the block neither extend it nor carry over, and when it ends
 * the counter starts again from zero.
 *
 * @example
 * ```ts
 * const options: LoginThrottleOptions = {
 *   store: redisRateLimitStore(redis),
 *   perAccountAndIp: { failures: 5, windowSeconds: 900, blockSeconds: 900 },
 *   perAccount: { failures: 50, windowSeconds: 3600, maxBlockSeconds: 900 },
 * };
 * ```
 */
export interface LoginThrottleOptions {
  /**
   * Where the counters live; default a new `memoryRateLimitStore()` (one process only: behind a
   * load balancer use a shared store, or each process counts on its own).
   */
  readonly store?: RateLimitStore;
  /** One account from one IP (password guessing): default 5 failures / 900 s, blocked 900 s. */
  readonly perAccountAndIp?: { readonly failures?: number; readonly windowSeconds?: number; readonly blockSeconds?: number };
  /** One IP across accounts (credential stuffing): default 100 failures / 3600 s, blocked 3600 s. */
  readonly perIp?: { readonly failures?: number; readonly windowSeconds?: number; readonly blockSeconds?: number };
  /**
   * One account from every IP (a distributed attack): default 50 failures / 3600 s, then a block
   * of exactly `maxBlockSeconds` (default 900, at most 86,400), the longest an attacker can lock
   * the account out, and only for devices that are not trusted: attempts with
   * `trustedDevice: true` skip this counter's block (the other two still apply to them).
   */
  readonly perAccount?: { readonly failures?: number; readonly windowSeconds?: number; readonly maxBlockSeconds?: number };
  /** Delay before answering repeated failures of one account from one IP; `false` for none. */
  readonly progressiveDelay?: ProgressiveDelay | false;
  /** Prefix of the counters' store keys (colon-separated segments); default `'tk:auth:login'`. */
  readonly keyPrefix?: string;
  /**
   * Passed to the rate limiter (store-call timeouts, outage reports). Windows and blocks are
   * timed by the store itself (Redis key expiry; the memory store's timers).
   */
  readonly clock?: Clock;
}

const parseOrThrow = createParseOrThrow(codedErrorFactory(AuthError));

// The rate limiter's own bounds: windows and blocks up to 24 days, key prefixes without braces.
const MAX_SECONDS = 2_073_600;
const failuresSchema = z.int().min(1).max(1_000_000);
const secondsSchema = z.int().min(1).max(MAX_SECONDS);

function hasMethods(value: unknown, names: readonly string[]): boolean {
  return typeof value === 'object' && value !== null && names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function');
}

const optionsSchema = z.strictObject({
  store: z.custom<RateLimitStore>((value) => hasMethods(value, ['limiter', 'consumeAll', 'close']), 'must be a RateLimitStore').optional(),
  perAccountAndIp: z
    .strictObject({ failures: failuresSchema.default(5), windowSeconds: secondsSchema.default(900), blockSeconds: secondsSchema.default(900) })
    .prefault({}),
  perIp: z
    .strictObject({ failures: failuresSchema.default(100), windowSeconds: secondsSchema.default(3600), blockSeconds: secondsSchema.default(3600) })
    .prefault({}),
  perAccount: z
    .strictObject({
      failures: failuresSchema.default(50),
      windowSeconds: secondsSchema.default(3600),
      maxBlockSeconds: z.int().min(1).max(86_400).default(900),
    })
    .prefault({}),
  progressiveDelay: z
    .union([
      z.literal(false),
      z
        .strictObject({
          afterFailures: z.int().min(0).max(1000).default(2),
          baseMs: z.int().min(1).max(60_000).default(250),
          maxMs: z.int().min(1).max(60_000).default(4000),
        })
        .refine((delay) => delay.baseMs <= delay.maxMs, { message: 'baseMs must not exceed maxMs', path: ['maxMs'] }),
    ])
    .prefault({}),
  keyPrefix: z
    .string()
    .max(100)
    .regex(/^[A-Za-z0-9_.-]+(?::[A-Za-z0-9_.-]+)*$/, 'must be colon-separated segments of A-Z a-z 0-9 _ . - (no braces)')
    .default('tk:auth:login'),
  clock: z.custom<Clock>((value) => hasMethods(value, ['now']), 'must have now()').optional(),
});

const attemptSchema = z.object({
  email: z.string().trim().min(1).max(1024),
  ip: z.string().min(1).max(256),
  trustedDevice: z.boolean().optional(),
});

const ACCOUNT_AND_IP = 'account-and-ip';
const IP = 'ip';
const ACCOUNT = 'account';

/**
 * The `key` of an account's counters: SHA-256 of the normalized email, so the same counters
 * apply whether or not the account exists, and rate-limit keys (listed by every Redis tool)
 * carry no email address.
 */
function accountKeyOf(email: string): string {
  return createHash('sha256').update(email.trim().toLowerCase(), 'utf8').digest('base64url');
}

function translateLimiterError(error: unknown): unknown {
  if (isTenantkitError(error, 'RATE_LIMIT_KEY_INVALID')) {
    return new AuthError('VALIDATION_FAILED', 'The login attempt has an invalid IP address', { cause: error, details: { field: 'ip' } });
  }
  if (isTenantkitError(error, 'STORE_UNAVAILABLE')) {
    return new AuthError('STORE_UNAVAILABLE', 'The brute-force counters are unavailable', { cause: error });
  }
  return error;
}

/**
 * A {@link LoginThrottle} on @tenantkit/ratelimit's per-key counters (`createRateLimiter` with
 * three `key`/`ip` policies). Three counters, all keyed by the normalized email rather than an
 * account id, so unknown accounts are throttled exactly like known ones:
 *
 * - per (account, IP): `assertAllowed` returns the progressive delay after
 *   `progressiveDelay.afterFailures` failures; after `perAccountAndIp.failures` it refuses for
 *   `blockSeconds`. `recordSuccess` clears this counter only.
 * - per IP, across accounts: blocks an address that fails against many accounts.
 * - per account, across IPs: blocks for exactly `perAccount.maxBlockSeconds`, never longer, and
 *   not for a trusted device, so a distributed attacker can lock out a victim's new devices for
 *   at most that long at a time (then the counter is fresh and the victim's next attempt goes
 *   through) and never their usual one.
 *
 * `assertAllowed` reads without charging; `recordFailure` charges all three. Refusals are
 * `AuthError('RATE_LIMITED')` (429) with `details.retryAfterSeconds`, the longest wait among the
 * blocked counters. IPv6 addresses are counted by their /64 (the rate limiter's rule); the IP must
 * come from the trusted-proxy rules (`createClientIpResolver`), never a raw X-Forwarded-For.
 *
 * @example
 * ```ts
 * const throttle = createLoginThrottle({ store: redisRateLimitStore(redis) });
 * const attempt = { email: 'alice@example.com', ip: '203.0.113.7', trustedDevice: hasDeviceCookie };
 * const { delayMs } = await throttle.assertAllowed(attempt); // throws RATE_LIMITED while blocked
 * await sleep(delayMs);
 * if (await checkPassword()) await throttle.recordSuccess(attempt);
 * else await throttle.recordFailure(attempt);
 * ```
 */
export function createLoginThrottle(options: LoginThrottleOptions = {}): LoginThrottle {
  const settings = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'createLoginThrottle options');
  const { perAccountAndIp, perIp, perAccount, progressiveDelay } = settings;
  // A counter reaching `failures` is blocked explicitly (block() below) rather than by the
  // policy's blockDuration, which would only block the failure after it.
  const limits = new Map([
    [ACCOUNT_AND_IP, { failures: perAccountAndIp.failures, blockSeconds: perAccountAndIp.blockSeconds }],
    [IP, { failures: perIp.failures, blockSeconds: perIp.blockSeconds }],
    [ACCOUNT, { failures: perAccount.failures, blockSeconds: perAccount.maxBlockSeconds }],
  ]);

  let limiter: RateLimiter;
  try {
    limiter = createRateLimiter({
      ...(settings.store === undefined ? {} : { store: settings.store }),
      ...(settings.clock === undefined ? {} : { clock: settings.clock }),
      keyPrefix: settings.keyPrefix,
      metering: false,
      policies: [
        { name: ACCOUNT_AND_IP, by: ['key', 'ip'], points: perAccountAndIp.failures, duration: perAccountAndIp.windowSeconds },
        { name: IP, by: ['ip'], points: perIp.failures, duration: perIp.windowSeconds },
        { name: ACCOUNT, by: ['key'], points: perAccount.failures, duration: perAccount.windowSeconds },
      ],
    });
  } catch (error) {
    throw new AuthError('CONFIGURATION_INVALID', 'createLoginThrottle could not build its rate limiter', { cause: error });
  }

  function subjectOf(attempt: unknown): { readonly subject: RateLimitSubject; readonly trustedDevice: boolean } {
    const parsed = parseOrThrow(attemptSchema, attempt, 'VALIDATION_FAILED', 'login attempt');
    return { subject: { key: accountKeyOf(parsed.email), ip: parsed.ip }, trustedDevice: parsed.trustedDevice === true };
  }

  function isBlocked(outcome: PolicyOutcome): boolean {
    const limit = limits.get(outcome.policy);
    return limit !== undefined && outcome.consumed >= limit.failures;
  }

  // A block sets the counter to failures + 1. One still at exactly `failures`, or waiting longer
  // than its block, was never blocked (the block call of the failure that reached the limit
  // failed, or is still on its way) and is blocked by the next assertAllowed, so the refusal lasts
  // the block time and the account-wide cap holds. Racing the real block only restarts it a
  // moment later.
  function needsBlock(outcome: PolicyOutcome): boolean {
    const limit = limits.get(outcome.policy)!;
    return outcome.consumed === limit.failures || outcome.resetMs > limit.blockSeconds * 1000;
  }

  /** Blocks a counter `needsBlock` found, best effort (the refusal stands either way); returns the wait in seconds. */
  async function blockNowOrWait(outcome: PolicyOutcome, subject: RateLimitSubject): Promise<number> {
    const limit = limits.get(outcome.policy)!;
    if (!needsBlock(outcome)) return Math.max(1, Math.ceil(outcome.resetMs / 1000));
    await limiter.block(outcome.policy, subject, limit.blockSeconds).catch(() => undefined);
    return limit.blockSeconds;
  }

  return {
    async assertAllowed(attempt) {
      const { subject, trustedDevice } = subjectOf(attempt);
      let outcomes: readonly PolicyOutcome[];
      try {
        outcomes = await limiter.status(subject);
      } catch (error) {
        throw translateLimiterError(error);
      }
      const blocked = outcomes.filter((outcome) => isBlocked(outcome) && !(trustedDevice && outcome.policy === ACCOUNT));
      if (blocked.length > 0) {
        const retryAfterSeconds = Math.max(...(await Promise.all(blocked.map((outcome) => blockNowOrWait(outcome, subject)))));
        throw new AuthError('RATE_LIMITED', 'Too many failed sign-in attempts; try again later', { details: { retryAfterSeconds } });
      }
      if (progressiveDelay === false) return { delayMs: 0 };
      const failures = outcomes.find((outcome) => outcome.policy === ACCOUNT_AND_IP)?.consumed ?? 0;
      return { delayMs: progressiveDelayMs(failures, progressiveDelay) };
    },

    async recordFailure(attempt) {
      const { subject } = subjectOf(attempt);
      try {
        await Promise.all(
          [...limits].map(async ([policy, limit]) => {
            const outcome = await limiter.consume(policy, subject);
            // Only the failure that reaches the limit blocks: later ones (during the block, or
            // racing it) leave the block's end where it is.
            if (outcome.consumed === limit.failures) await limiter.block(policy, subject, limit.blockSeconds);
          }),
        );
      } catch (error) {
        throw translateLimiterError(error);
      }
    },

    async recordSuccess(attempt) {
      const { subject } = subjectOf(attempt);
      try {
        await limiter.delete(ACCOUNT_AND_IP, subject);
      } catch (error) {
        throw translateLimiterError(error);
      }
    },
  };
}
