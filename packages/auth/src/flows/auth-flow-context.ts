import type { Clock } from '@tenantkit/core';
import type { AuthEventMap } from '../auth-events.js';
import type { DeviceTokens } from '../brute-force/device-tokens.js';
import type { LoginThrottle } from '../brute-force/login-throttle.js';
import type { OneTimeTokenService } from '../one-time-tokens/one-time-token-service.js';
import type { PasswordHasher } from '../passwords/password-hasher.js';
import type { PasswordPolicy } from '../passwords/password-policy.js';
import type { RefreshTokenService } from '../refresh/refresh-token-service.js';
import type { RevocationService } from '../revocation/revocation-service.js';
import type { SessionService } from '../sessions/session-service.js';
import type { AuthStores } from '../store.js';
import type { AccessTokenService } from '../tokens/access-token-service.js';
import type { AuthMemberships } from './auth-memberships.js';
import type { PendingSecondFactorTokens } from './pending-second-factor-tokens.js';
import type { SecondFactorGate } from './second-factor-gate.js';

/**
 * Everything a flow works with: the assembled services, the stores behind them, and the
 * facade's clock, sleep and event emitter. Built once by `createAuth`; flows keep no state.
 *
 * @example
 * ```ts
 * const { user } = await signUp(context, { email: 'alice@example.com', password: 'correct horse battery' });
 * ```
 */
export interface AuthFlowContext {
  readonly stores: AuthStores;
  readonly tokens: AccessTokenService;
  readonly refreshTokens: RefreshTokenService;
  readonly sessions: SessionService;
  readonly revocation: RevocationService;
  readonly oneTimeTokens: OneTimeTokenService;
  readonly hasher: PasswordHasher;
  readonly policy: PasswordPolicy;
  /** Sign-in attempts. */
  readonly throttle: LoginThrottle;
  /** Password-reset requests (own counters, so resets never spend the sign-in budget). */
  readonly resetThrottle: LoginThrottle;
  /** Sign-up requests, per email and IP (own counters). */
  readonly signUpThrottle: LoginThrottle;
  /** Issues and checks the device tokens that make a sign-in a trusted device. */
  readonly deviceTokens: DeviceTokens;
  readonly memberships: AuthMemberships | undefined;
  readonly secondFactor: SecondFactorGate | undefined;
  readonly pendingSecondFactor: PendingSecondFactorTokens;
  readonly clock: Clock;
  /** Waits the throttle's progressive delay (injectable so tests do not wait). */
  readonly sleep: (ms: number) => Promise<void>;
  /** Sliding idle window of sessions, applied when a refresh counts as session activity. */
  readonly sessionIdleMs: number;
  /**
   * How long a revoked session id must stay revoked after now (for a session already gone) or
   * after its absolute end: the access token lifetime plus the verifier's clock tolerance, the
   * longest an access token carrying the `sid` can still verify.
   */
  readonly sessionRevocationRetentionMs: number;
  emit<Name extends keyof AuthEventMap & string>(name: Name, payload: AuthEventMap[Name]): void;
}
