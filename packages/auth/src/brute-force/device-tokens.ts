import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AuthError } from '../errors.js';

/**
 * Device tokens: proof that this device signed in to an account before, which makes later
 * sign-ins from it a trusted device for the throttle (`LoginAttempt.trustedDevice`), exempt
 * from the account-wide lockout an attacker can trigger. A token is
 * `v1.<issuedAt>.<mac>`: the issue time (epoch ms, base 36) and HMAC-SHA256 over the
 * normalized email and that time under a server secret. It is not a credential: it only lifts
 * the account-wide lockout, the password is still checked, and the (account, IP) and per-IP
 * counters still apply.
 *
 * @example
 * ```ts
 * const devices = createDeviceTokens({ secret: process.env.DEVICE_TOKEN_SECRET!, lifetimeMs: 90 * 86_400_000, now: Date.now });
 * const token = devices.issue('alice@example.com');
 * devices.verify(token, 'alice@example.com'); // true
 * ```
 */
export interface DeviceTokens {
  /** A new token for the normalized email, valid for the lifetime from now. */
  issue(email: string): string;
  /** Whether `token` was issued for this normalized email by this secret and is within its lifetime. Never throws. */
  verify(token: unknown, email: string): boolean;
}

/**
 * Options of {@link createDeviceTokens}.
 *
 * @example
 * ```ts
 * const options: DeviceTokensOptions = { secret: process.env.DEVICE_TOKEN_SECRET, lifetimeMs: 90 * 86_400_000, now: Date.now };
 * ```
 */
export interface DeviceTokensOptions {
  /** At least 32 bytes (UTF-8 for a string); `undefined` draws 32 random bytes for this process. */
  readonly secret: string | Uint8Array | undefined;
  readonly lifetimeMs: number;
  readonly now: () => number;
}

const MIN_SECRET_BYTES = 32;
const TOKEN_FORMAT = /^v1\.([0-9a-z]{1,12})\.([A-Za-z0-9_-]{43})$/;
/** A token issued by a process whose clock runs ahead is accepted this much early. */
const FUTURE_TOLERANCE_MS = 5 * 60_000;

/**
 * Builds {@link DeviceTokens} over one secret.
 *
 * @throws `CONFIGURATION_INVALID` for a secret under 32 bytes.
 * @example
 * ```ts
 * const devices = createDeviceTokens({ secret: undefined, lifetimeMs: 90 * 86_400_000, now: () => clock.now() });
 * ```
 */
export function createDeviceTokens(options: DeviceTokensOptions): DeviceTokens {
  const secret = options.secret === undefined ? randomBytes(MIN_SECRET_BYTES) : Buffer.from(options.secret);
  if (secret.length < MIN_SECRET_BYTES) {
    throw new AuthError('CONFIGURATION_INVALID', `deviceTokenSecret must be at least ${MIN_SECRET_BYTES} bytes`, {
      details: { issues: [{ path: 'deviceTokenSecret', message: `must be at least ${MIN_SECRET_BYTES} bytes` }] },
    });
  }
  const { lifetimeMs, now } = options;

  // The separator cannot occur in a normalized email, so (email, time) pairs never collide.
  const macOf = (email: string, issuedAt: string): Buffer => createHmac('sha256', secret).update(`tk-device-v1\n${email}\n${issuedAt}`, 'utf8').digest();

  return {
    issue(email) {
      const issuedAt = now().toString(36);
      return `v1.${issuedAt}.${macOf(email, issuedAt).toString('base64url')}`;
    },

    verify(token, email) {
      if (typeof token !== 'string' || token.length > 64) return false;
      const match = TOKEN_FORMAT.exec(token);
      if (match === null) return false;
      const [, issuedAt, mac] = match as unknown as [string, string, string];
      const issuedAtMs = Number.parseInt(issuedAt, 36);
      const age = now() - issuedAtMs;
      if (!Number.isSafeInteger(issuedAtMs) || age >= lifetimeMs || age < -FUTURE_TOLERANCE_MS) return false;
      const presented = Buffer.from(mac, 'base64url');
      const expected = macOf(email, issuedAt);
      return presented.length === expected.length && timingSafeEqual(presented, expected);
    },
  };
}
