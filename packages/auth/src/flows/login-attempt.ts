import type { ClientInfo } from '../auth.js';
import type { LoginAttempt } from '../brute-force/login-throttle.js';

/**
 * The throttle's view of a request. A request without a known client IP (`ip: null`: no socket
 * address, or an untrusted proxy chain) is counted under the one shared key `'unknown'`, so it is
 * throttled rather than exempt.
 *
 * @example
 * ```ts
 * const charge = await context.throttle.beginAttempt(loginAttemptFor('alice@example.com', { ip: '203.0.113.7' }));
 * ```
 */
export function loginAttemptFor(email: string, client: ClientInfo): LoginAttempt {
  return { email, ip: client.ip ?? 'unknown', ...(client.trustedDevice === undefined ? {} : { trustedDevice: client.trustedDevice }) };
}
