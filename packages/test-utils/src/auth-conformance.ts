import { randomBytes } from 'node:crypto';
import type { AuthStores } from '@tenantkit/auth';
import { afterEach, beforeEach, describe } from 'vitest';
import { describeAccountStoreCases } from './auth-conformance/account-store-cases.js';
import { describeApiKeyStoreCases } from './auth-conformance/api-key-store-cases.js';
import type { AuthConformanceRun, AuthSuiteContext } from './auth-conformance/auth-suite-context.js';
import { describeOneTimeTokenStoreCases } from './auth-conformance/one-time-token-store-cases.js';
import { describeRefreshTokenStoreCases } from './auth-conformance/refresh-token-store-cases.js';
import { describeRevocationStoreCases } from './auth-conformance/revocation-store-cases.js';
import { describeSessionStoreCases } from './auth-conformance/session-store-cases.js';
import { describeTenantIsolationCases } from './auth-conformance/tenant-isolation-cases.js';

/**
 * What the factory of {@link describeAuthStoreConformance} returns for one test.
 *
 * @example
 * ```ts
 * const made: AuthStoresUnderTest = { stores: redisAuthStores(redis, { keyPrefix }), cleanup: () => unlinkByPrefix(redis, keyPrefix) };
 * ```
 */
export interface AuthStoresUnderTest {
  /** The stores the adapter provides; the sections of the missing ones are skipped. */
  readonly stores: Partial<AuthStores>;
  /**
   * The base time of the test (epoch ms); default `Date.now()`. Every time the suite passes is
   * this plus or minus at least a millisecond and mostly minutes or hours, and "later" is
   * always an argument, never a wait — so a backend whose TTLs follow the wall clock keeps
   * every record the test still reads.
   */
  readonly now?: () => number;
  /** Runs after the test: close connections, delete what the test wrote. */
  readonly cleanup?: () => Promise<void>;
}

/**
 * Makes the stores for one test of {@link describeAuthStoreConformance} (called before each
 * test). Ids are unique per test, so stores over a shared database or Redis need no wipe between
 * tests, only a cleanup at the end.
 *
 * @example
 * ```ts
 * const factory: AuthStoreConformanceFactory = async () => ({ stores: memoryAuthStores() });
 * ```
 */
export type AuthStoreConformanceFactory = () => Promise<AuthStoresUnderTest>;

/**
 * Options of {@link describeAuthStoreConformance}.
 *
 * @example
 * ```ts
 * const options: AuthStoreConformanceOptions = { only: ['sessions', 'refreshTokens', 'revocations', 'oneTimeTokens'] };
 * ```
 */
export interface AuthStoreConformanceOptions {
  /**
   * The stores to test. Only their sections are registered, and a listed store the factory does
   * not return fails the test instead of skipping it. Without `only`, every section is
   * registered and skips when the factory returns no such store.
   */
  readonly only?: readonly (keyof AuthStores)[];
  /** Random operations of each leak-kit run (API keys, invitations); default 2,000. */
  readonly leakKitOperations?: number;
  /** Runs of the model-based isolation property; default 25. */
  readonly isolationRuns?: number;
  /** Timeout of the leak-kit and property tests in ms; default 120,000. */
  readonly propertyTimeoutMs?: number;
}

const sectionsInOrder: readonly (keyof AuthStores)[] = ['accounts', 'sessions', 'refreshTokens', 'revocations', 'oneTimeTokens', 'apiKeys'];

/**
 * Registers the shared conformance tests of the auth store contracts (`AccountStore`,
 * `SessionStore`, `RefreshTokenStore`, `RevocationStore`, `OneTimeTokenStore`, `ApiKeyStore` in
 * packages/auth src/store.ts). Every adapter runs it against its real backend; each store's
 * section runs only when the factory returns that store, so an adapter that provides part of the
 * set (Redis: sessions, refresh families, revocation, one-time tokens) runs just its part.
 *
 * It checks every method and every documented outcome: `'created'` / `'email-taken'` /
 * `'id-taken'`, one winner among 20 concurrent creates of one email, password history push and
 * trim (limits 0, 1, 3) and compare-and-set (`null` included), session expiry at `now`, touch
 * that slides but never backwards nor past the absolute end, rotation of sessions and refresh
 * tokens (one `'rotated'` among 20 concurrent refreshes, the others `'grace'` with the winner's
 * sealed successor; `'reused'` after the grace window revokes the family), revocation entries
 * until their end and monotonic epochs, single-use one-time tokens voided on reissue per
 * purpose, subject and tenant, API keys revoked only by their tenant, forward-only usage, and
 * that stores keep no reference to records passed in or returned. Tenant isolation of API keys
 * and invitations is checked by `runLeakKit` and by a model-based property over three tenants.
 *
 * Expiry boundaries follow the contract's "behaves as absent": a session, refresh token,
 * family or one-time token is expired when `now >= expiresAt`; revocation entries are checked a
 * millisecond either side of `until`.
 *
 * @example
 * ```ts
 * import { describeAuthStoreConformance } from '@tenantkit/test-utils';
 * import { memoryAuthStores } from '../../src/index.js';
 *
 * describeAuthStoreConformance('memory', async () => ({ stores: memoryAuthStores() }));
 * // An adapter with part of the stores:
 * describeAuthStoreConformance('redis', async () => ({ stores: redisAuthStores(redis) }), {
 *   only: ['sessions', 'refreshTokens', 'revocations', 'oneTimeTokens'],
 * });
 * ```
 */
export function describeAuthStoreConformance(
  name: string,
  factory: AuthStoreConformanceFactory,
  options: AuthStoreConformanceOptions = {},
): void {
  const required = new Set(options.only ?? []);
  describe(`${name}: auth store conformance`, () => {
    let made: AuthStoresUnderTest | undefined;
    let run: AuthConformanceRun | undefined;

    beforeEach(async () => {
      made = await factory();
      const t0 = made.now?.() ?? Date.now();
      const tag = randomBytes(5).toString('hex');
      let counter = 0;
      run = {
        stores: made.stores,
        t0,
        tag,
        id: (prefix) => `${prefix}_${tag}_${++counter}`,
        email: () => `user${++counter}.${tag}@example.com`,
      };
    });

    afterEach(async () => {
      const finished = made;
      made = undefined;
      run = undefined;
      await finished?.cleanup?.();
    });

    const context: AuthSuiteContext = {
      current: () => {
        if (run === undefined) throw new Error('the stores are made in beforeEach');
        return run;
      },
      required,
      tuning: {
        leakKitOperations: options.leakKitOperations ?? 2_000,
        isolationRuns: options.isolationRuns ?? 25,
        propertyTimeoutMs: options.propertyTimeoutMs ?? 120_000,
      },
    };

    const registers: Record<keyof AuthStores, (context: AuthSuiteContext) => void> = {
      accounts: describeAccountStoreCases,
      sessions: describeSessionStoreCases,
      refreshTokens: describeRefreshTokenStoreCases,
      revocations: describeRevocationStoreCases,
      oneTimeTokens: describeOneTimeTokenStoreCases,
      apiKeys: describeApiKeyStoreCases,
    };
    for (const section of sectionsInOrder) {
      if (required.size === 0 || required.has(section)) registers[section](context);
    }
    describeTenantIsolationCases(context);
  });
}
