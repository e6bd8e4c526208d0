import type { Clock } from '@tenantkit/core';
import type { AuthStores } from '../../store.js';
import { memoryAccountStore } from './memory-account-store.js';
import { memoryApiKeyStore } from './memory-api-key-store.js';
import { memoryOneTimeTokenStore } from './memory-one-time-token-store.js';
import { memoryRefreshTokenStore } from './memory-refresh-token-store.js';
import { memoryRevocationStore } from './memory-revocation-store.js';
import { memorySessionStore } from './memory-session-store.js';

/**
 * Options of {@link memoryAuthStores}.
 *
 * @example
 * ```ts
 * const options: MemoryAuthStoresOptions = { clock: createManualClock() };
 * ```
 */
export interface MemoryAuthStoresOptions {
  /**
   * The clock the stores sweep expired records by (sessions, revocation entries); reads always
   * take `now` from the caller. Pass the clock your services use — with a manual clock in tests,
   * a sweep by the system clock could drop records that are still live at the manual time.
   */
  readonly clock?: Clock;
}

/**
 * Every auth store, in process memory: the reference implementation the conformance suite is
 * written against, for tests, examples and single-process development. State is not shared
 * between processes and is lost on exit. Each call returns new, empty stores.
 *
 * @example
 * ```ts
 * import { createManualClock } from '@tenantkit/core';
 * import { memoryAuthStores } from '@tenantkit/auth';
 *
 * const clock = createManualClock();
 * const stores = memoryAuthStores({ clock });
 * await stores.accounts.findByEmail('alice@example.com'); // null
 * ```
 */
export function memoryAuthStores(options: MemoryAuthStoresOptions = {}): AuthStores {
  const clockOption = options.clock === undefined ? {} : { clock: options.clock };
  return {
    accounts: memoryAccountStore(),
    sessions: memorySessionStore(clockOption),
    refreshTokens: memoryRefreshTokenStore(),
    revocations: memoryRevocationStore(clockOption),
    oneTimeTokens: memoryOneTimeTokenStore(),
    apiKeys: memoryApiKeyStore(),
  };
}
