/**
 * Who is trying to sign in. `email` is normalized by the caller; `ip` is the client IP the
 * trusted-proxy rules produced (never a raw X-Forwarded-For); `trustedDevice` is true when the
 * request proves an earlier successful sign-in to this account from this device (a valid
 * device token, see `SignedIn.deviceToken`), which exempts it from the account-wide lockout so
 * an attacker cannot lock a victim out.
 *
 * @example
 * ```ts
 * const attempt: LoginAttempt = { email: 'alice@example.com', ip: '203.0.113.7', trustedDevice: false };
 * ```
 */
export interface LoginAttempt {
  readonly email: string;
  readonly ip: string;
  readonly trustedDevice?: boolean;
}

/**
 * One attempt, already counted: {@link LoginThrottle.beginAttempt} charged it to every counter
 * before the password is checked, so concurrent attempts can never all pass a counter that has
 * room for fewer. Settle it once with the outcome of the check; a second call does nothing.
 * An attempt never settled (the flow failed in between) stays counted as a failure.
 *
 * @example
 * ```ts
 * const charge = await throttle.beginAttempt(attempt); // throws RATE_LIMITED when a counter is full
 * await sleep(charge.delayMs);
 * if (await hasher.verify(password, phc)) await charge.succeeded();
 * else await charge.failed();
 * ```
 */
export interface LoginAttemptCharge {
  /**
   * The progressive delay (ms) to wait before checking the password: from the attempts of this
   * account from this IP counted before this one (still running ones included); 0 for the first.
   */
  readonly delayMs: number;
  /**
   * The secret was right: clears the (account, IP) counter and gives this attempt's point back
   * to the per-IP and per-account counters, so successful sign-ins never count against them.
   */
  succeeded(): Promise<void>;
  /**
   * The secret was wrong: the point stays, and a counter this attempt filled is blocked for
   * its block time.
   */
  failed(): Promise<void>;
}

/**
 * Brute-force protection for sign-in (and other guessable secrets: password change, reset and
 * sign-up requests), on @tenantkit/ratelimit's per-key counters:
 * - per (account, IP): few failures, then a progressive delay, then a block;
 * - per IP across accounts (credential stuffing);
 * - per account across IPs, with a **capped** block that trusted devices skip.
 *
 * Check-then-act is impossible by construction: an attempt is charged, atomically on every
 * counter at once, *before* the secret is checked, and refused when any counter is full.
 *
 * @example
 * ```ts
 * const throttle = createLoginThrottle({ store: memoryRateLimitStore() });
 * const charge = await throttle.beginAttempt(attempt); // throws RATE_LIMITED (429, retryAfterSeconds)
 * const ok = await checkPassword();
 * await (ok ? charge.succeeded() : charge.failed());
 * ```
 */
export interface LoginThrottle {
  /**
   * Charges one attempt to every counter that applies, all or nothing, and returns the charge
   * to settle once the secret has been checked. Refuses, charging nothing, while any counter is
   * full (its attempts, running ones included, reached its limit) or blocked.
   * @throws `RATE_LIMITED` with `details.retryAfterSeconds`, `VALIDATION_FAILED`, `STORE_UNAVAILABLE`
   */
  beginAttempt(attempt: LoginAttempt): Promise<LoginAttemptCharge>;
}
