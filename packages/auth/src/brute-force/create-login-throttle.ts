import { createHash } from 'node:crypto';
import { isTenantkitError, type Clock } from '@tenantkit/core';
import { createRateLimiter, type PolicyOutcome, type RateLimiter, type RateLimitStore, type RateLimitSubject } from '@tenantkit/ratelimit';
import { z } from 'zod';
import { AuthError } from '../errors.js';
import type { LoginAttemptCharge, LoginThrottle } from './login-throttle.js';
import { progressiveDelayMs, type ProgressiveDelay } from './progressive-delay.js';
import { parseAuthInput as parseOrThrow } from '../parse-auth-input.js';

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
   * `trustedDevice: true` are not counted here and never refused by it (the other two still
   * apply to them).
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
 * - per (account, IP): `beginAttempt` returns the progressive delay after
 *   `progressiveDelay.afterFailures` counted attempts; at `perAccountAndIp.failures` it refuses,
 *   and the failure that filled it blocks it for `blockSeconds`. A success clears it.
 * - per IP, across accounts: blocks an address that fails against many accounts.
 * - per account, across IPs: blocks for exactly `perAccount.maxBlockSeconds`, never longer, and
 *   not for a trusted device (whose attempts it does not count), so a distributed attacker can
 *   lock out a victim's new devices for at most that long at a time (then the counter is fresh
 *   and the victim's next attempt goes through) and never a device holding a device token.
 *
 * **Charged before the check.** `beginAttempt` charges one point to every counter that applies
 * in a single all-or-nothing `limiter.check` (`policies` named), *before* the caller checks the
 * secret: 40 parallel guesses against a limit of 5 get 5 charges and 35 refusals, whatever
 * their timing. A refused attempt charges nothing. `succeeded()` deletes the (account, IP)
 * counter and gives the point back to the two others (`reward`); `failed()` keeps it and blocks
 * a counter it filled. Running attempts therefore count like failures until they settle.
 *
 * Refusals are `AuthError('RATE_LIMITED')` (429) with `details.retryAfterSeconds`, the longest
 * wait among the full counters. IPv6 addresses are counted by their /64 (the rate limiter's
 * rule); the IP must come from the trusted-proxy rules (`createClientIpResolver`), never a raw
 * X-Forwarded-For.
 *
 * @example
 * ```ts
 * const throttle = createLoginThrottle({ store: redisRateLimitStore(redis) });
 * const attempt = { email: 'alice@example.com', ip: '203.0.113.7', trustedDevice: deviceTokenVerified };
 * const charge = await throttle.beginAttempt(attempt); // throws RATE_LIMITED while a counter is full
 * await sleep(charge.delayMs);
 * if (await checkPassword()) await charge.succeeded();
 * else await charge.failed();
 * ```
 */
export function createLoginThrottle(options: LoginThrottleOptions = {}): LoginThrottle {
  const settings = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'createLoginThrottle options');
  const { perAccountAndIp, perIp, perAccount, progressiveDelay } = settings;
  // A counter reaching `failures` is blocked explicitly (block() below) rather than by the
  // policy's blockDuration, which would only block the attempt after it.
  const limits = new Map([
    [ACCOUNT_AND_IP, { failures: perAccountAndIp.failures, blockSeconds: perAccountAndIp.blockSeconds }],
    [IP, { failures: perIp.failures, blockSeconds: perIp.blockSeconds }],
    [ACCOUNT, { failures: perAccount.failures, blockSeconds: perAccount.maxBlockSeconds }],
  ]);
  const everyPolicy = Object.freeze({ policies: Object.freeze([ACCOUNT_AND_IP, IP, ACCOUNT]) });
  const trustedPolicies = Object.freeze({ policies: Object.freeze([ACCOUNT_AND_IP, IP]) });

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

  // A refused outcome reports the points already counted plus this attempt's. A block sets the
  // counter to failures + 1, so a refusal at exactly failures + 1 found a full counter that was
  // never blocked (the block of the failure that filled it failed, or that attempt is still
  // running); one waiting longer than its block was not blocked either. Both are blocked now, so
  // the refusal lasts the block time and the account-wide cap holds. Racing the real block only
  // restarts it a moment later.
  function needsBlock(outcome: PolicyOutcome): boolean {
    const limit = limits.get(outcome.policy)!;
    return outcome.consumed === limit.failures + 1 || outcome.resetMs > limit.blockSeconds * 1000;
  }

  /** Blocks a full counter `needsBlock` found, best effort (the refusal stands either way); returns the wait in seconds. */
  async function blockNowOrWait(outcome: PolicyOutcome, subject: RateLimitSubject): Promise<number> {
    const limit = limits.get(outcome.policy)!;
    if (!needsBlock(outcome)) return Math.max(1, Math.ceil(outcome.resetMs / 1000));
    await limiter.block(outcome.policy, subject, limit.blockSeconds).catch(() => undefined);
    return limit.blockSeconds;
  }

  async function settle(run: () => Promise<unknown>): Promise<void> {
    try {
      await run();
    } catch (error) {
      throw translateLimiterError(error);
    }
  }

  return {
    async beginAttempt(attempt): Promise<LoginAttemptCharge> {
      const { subject, trustedDevice } = subjectOf(attempt);
      let decision;
      try {
        decision = await limiter.check(subject, trustedDevice ? trustedPolicies : everyPolicy);
      } catch (error) {
        throw translateLimiterError(error);
      }
      const charged = decision.outcomes.filter((outcome) => limits.has(outcome.policy));
      if (!decision.allowed) {
        const full = charged.filter((outcome) => !outcome.allowed);
        const waits = await Promise.all(full.map((outcome) => blockNowOrWait(outcome, subject)));
        const retryAfterSeconds = waits.length > 0 ? Math.max(...waits) : Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
        throw new AuthError('RATE_LIMITED', 'Too many failed sign-in attempts; try again later', { details: { retryAfterSeconds } });
      }
      // The attempts of this pair counted before this one (running ones included).
      const earlier = Math.max(0, (charged.find((outcome) => outcome.policy === ACCOUNT_AND_IP)?.consumed ?? 1) - 1);
      const delayMs = progressiveDelay === false ? 0 : progressiveDelayMs(earlier, progressiveDelay);
      let settled = false;
      return {
        delayMs,
        async succeeded() {
          if (settled) return;
          settled = true;
          await settle(() =>
            Promise.all(
              charged.map((outcome) =>
                outcome.policy === ACCOUNT_AND_IP ? limiter.delete(ACCOUNT_AND_IP, subject) : limiter.reward(outcome.policy, subject),
              ),
            ),
          );
        },
        async failed() {
          if (settled) return;
          settled = true;
          // Only the attempt that filled a counter blocks it: later ones (refused) leave the
          // block's end where it is.
          await settle(() =>
            Promise.all(
              charged
                .filter((outcome) => outcome.consumed === limits.get(outcome.policy)!.failures)
                .map((outcome) => limiter.block(outcome.policy, subject, limits.get(outcome.policy)!.blockSeconds)),
            ),
          );
        },
      };
    },
  };
}
