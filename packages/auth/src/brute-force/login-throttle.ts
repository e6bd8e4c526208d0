/**
 * Who is trying to sign in. `email` is normalized by the caller; `ip` is the client IP the
 * trusted-proxy rules produced (never a raw X-Forwarded-For); `trustedDevice` is true when the
 * request proves an earlier successful sign-in to this account from this device (a valid
 * device cookie), which exempts it from the account-wide lockout so an attacker cannot lock a
 * victim out.
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
 * Brute-force protection for sign-in (and other guessable secrets: reset, API-key probing), on
 * @tenantkit/ratelimit's per-key counters:
 * - per (account, IP): few failures, then a progressive delay, then a block;
 * - per IP across accounts (credential stuffing);
 * - per account across IPs, with a **capped** block that trusted devices skip.
 *
 * @example
 * ```ts
 * const throttle = createLoginThrottle({ store: memoryRateLimitStore() });
 * await throttle.assertAllowed(attempt);          // throws RATE_LIMITED (429, retryAfterSeconds)
 * const ok = await checkPassword();
 * await (ok ? throttle.recordSuccess(attempt) : throttle.recordFailure(attempt));
 * ```
 */
export interface LoginThrottle {
  /**
   * Refuses while any counter is blocked; otherwise returns the progressive delay (ms) the caller
   * should wait before answering (already 0 for the first failures).
   * @throws `RATE_LIMITED` with `details.retryAfterSeconds`
   */
  assertAllowed(attempt: LoginAttempt): Promise<{ readonly delayMs: number }>;
  /** Counts a failed attempt. */
  recordFailure(attempt: LoginAttempt): Promise<void>;
  /** Clears the (account, IP) counter after a success. */
  recordSuccess(attempt: LoginAttempt): Promise<void>;
}
