import type { TypedEventBus } from '@tenantkit/core';
import type { ApiKeyService } from './api-keys/api-key-service.js';
import type { AuthEventMap } from './auth-events.js';
import type { Authenticator } from './authenticator.js';
import type { LoginThrottle } from './brute-force/login-throttle.js';
import type { PasswordHasher } from './passwords/password-hasher.js';
import type { PasswordPolicy } from './passwords/password-policy.js';
import type { TokenPair, RefreshTokenService } from './refresh/refresh-token-service.js';
import type { RevocationService } from './revocation/revocation-service.js';
import type { IssuedSession, SessionService } from './sessions/session-service.js';
import type { AccountRecord, SessionDevice } from './store.js';
import type { AccessTokenService } from './tokens/access-token-service.js';
import type { OneTimeTokenService } from './one-time-tokens/one-time-token-service.js';

/**
 * An account as auth shows it to apps: no password material.
 *
 * @example
 * ```ts
 * const user: AuthUser = { id: 'usr_1', email: 'alice@example.com', emailVerified: true, disabled: false, createdAt: 0 };
 * ```
 */
export interface AuthUser {
  readonly id: string;
  readonly email: string;
  readonly emailVerified: boolean;
  readonly disabled: boolean;
  readonly createdAt: number;
}

/**
 * The request facts a sign-in records and throttles on.
 *
 * @example
 * ```ts
 * const client: ClientInfo = { ip: '203.0.113.7', userAgent: 'Mozilla/5.0', trustedDevice: false };
 * ```
 */
export interface ClientInfo extends Partial<Omit<SessionDevice, 'ip'>> {
  /** The client IP as the trusted-proxy rules produced it. */
  readonly ip: string | null;
  readonly trustedDevice?: boolean;
}

/**
 * What a completed sign-in hands out: a session (cookie secret) and a token pair.
 *
 * @example
 * ```ts
 * if (result.status === 'authenticated') reply.send({ accessToken: result.tokens.accessToken.token });
 * ```
 */
export interface SignedIn {
  readonly status: 'authenticated';
  readonly user: AuthUser;
  readonly session: IssuedSession;
  readonly tokens: TokenPair;
}

/**
 * The end of a password sign-in. `second-factor-required` is the slot multi-factor sign-in fills
 * (a later release): no credential is issued, `pendingToken` continues the sign-in.
 *
 * @example
 * ```ts
 * const result = await auth.login({ email, password, tenantId: 'tnt_acme' }, client);
 * ```
 */
export type LoginResult =
  | SignedIn
  | { readonly status: 'second-factor-required'; readonly userId: string; readonly pendingToken: string; readonly methods: readonly string[] };

/**
 * The assembled auth module: the flows apps call from their routes, and the services they are
 * built from.
 *
 * @example
 * ```ts
 * const auth = createAuth({ stores: memoryAuthStores(), keys, issuer: 'https://auth.example.com', audience: 'api', memberships, links: { baseUrl: 'https://app.example.com' } });
 * const { user } = await auth.signUp({ email: 'alice@example.com', password: 'correct horse battery' });
 * ```
 */
export interface Auth {
  /**
   * Creates an account (checks the password policy; emits `account-created` and
   * `email-verification-requested`). With `tenantId` the policy of that tenant applies.
   * @throws `ACCOUNT_ALREADY_EXISTS`, `PASSWORD_POLICY_VIOLATION`, `VALIDATION_FAILED`
   */
  signUp(input: { readonly email: string; readonly password: string; readonly tenantId?: string | null }): Promise<{ readonly user: AuthUser }>;
  /**
   * Password sign-in: throttled per account and IP, the same answer and path for an unknown
   * email (dummy hash), rehash on success when parameters changed, a **new** session id (an
   * existing session presented is replaced), a new refresh family. With `tenantId` the
   * membership is checked and the credentials are bound to that tenant.
   * @throws `CREDENTIALS_INVALID`, `RATE_LIMITED`, `ACCOUNT_DISABLED`, `MEMBERSHIP_NOT_FOUND`, `MEMBERSHIP_INACTIVE`, `TENANT_SUSPENDED`
   */
  login(
    input: { readonly email: string; readonly password: string; readonly tenantId?: string | null; readonly currentSessionToken?: string },
    client: ClientInfo,
  ): Promise<LoginResult>;
  /** @throws `REFRESH_TOKEN_INVALID`, `REFRESH_TOKEN_REUSED`, `ACCOUNT_DISABLED`, membership errors */
  refresh(refreshToken: string): Promise<TokenPair>;
  /** Ends a session: revokes it, its refresh families and (by `sid`) its access tokens. Idempotent. */
  logout(input: { readonly sessionToken?: string; readonly refreshToken?: string; readonly accessTokenId?: { readonly jti: string; readonly exp: number } }): Promise<void>;
  /** Revokes everything of a user: sessions, families, tokens (user epoch). */
  revokeUser(userId: string, reason: string): Promise<void>;
  /**
   * Always resolves the same way whether or not the account exists (throttled per email and IP);
   * emits `password-reset-requested` only for an existing account.
   */
  requestPasswordReset(input: { readonly email: string; readonly tenantId?: string | null }, client: ClientInfo): Promise<void>;
  /**
   * Consumes the reset token, enforces policy and history, sets the password, revokes every
   * session, refresh family and access token of the user.
   * @throws `ONE_TIME_TOKEN_INVALID`, `PASSWORD_POLICY_VIOLATION`, `PASSWORD_REUSED`
   */
  resetPassword(input: { readonly token: string; readonly newPassword: string; readonly tenantId?: string | null }): Promise<void>;
  /**
   * Changes the password of a signed-in user (checks the current one), revokes their other
   * sessions and rotates the current one.
   * @throws `CREDENTIALS_INVALID`, `PASSWORD_POLICY_VIOLATION`, `PASSWORD_REUSED`, `SESSION_INVALID`
   */
  changePassword(input: { readonly userId: string; readonly currentPassword: string; readonly newPassword: string; readonly sessionToken?: string; readonly tenantId?: string | null }): Promise<{ readonly session: IssuedSession | null }>;
  /** Emits `email-verification-requested` with a fresh link (voids earlier ones). */
  requestEmailVerification(userId: string): Promise<void>;
  /** @throws `ONE_TIME_TOKEN_INVALID` */
  verifyEmail(token: string): Promise<AuthUser>;
  /**
   * Invites an email into a tenant (emits `invitation-created` with the link). `data` is returned
   * on acceptance (the roles to assign).
   */
  invite(input: { readonly tenantId: string; readonly email: string; readonly invitedBy: string; readonly data?: Readonly<Record<string, unknown>> }): Promise<{ readonly expiresAt: number }>;
  /**
   * Accepts an invitation: signs up (with `password`) or links the signed-in `userId` whose email
   * matches, and adds an active membership.
   * @throws `ONE_TIME_TOKEN_INVALID`, `ACCOUNT_ALREADY_EXISTS`, `PASSWORD_POLICY_VIOLATION`
   */
  acceptInvitation(input: { readonly token: string; readonly password?: string; readonly userId?: string }): Promise<{ readonly user: AuthUser; readonly tenantId: string; readonly data: Readonly<Record<string, unknown>> }>;
  /**
   * Switches the session's tenant (membership checked) and returns a rotated session plus a
   * token pair bound to the new tenant.
   */
  switchTenant(sessionToken: string, tenantId: string): Promise<{ readonly session: IssuedSession; readonly tokens: TokenPair }>;
  getUser(userId: string): Promise<AuthUser | null>;
  readonly tokens: AccessTokenService;
  readonly refreshTokens: RefreshTokenService;
  readonly sessions: SessionService;
  readonly revocation: RevocationService;
  readonly apiKeys: ApiKeyService;
  readonly oneTimeTokens: OneTimeTokenService;
  readonly passwords: { readonly hasher: PasswordHasher; readonly policy: PasswordPolicy };
  readonly throttle: LoginThrottle;
  readonly authenticator: Authenticator;
  readonly events: TypedEventBus<AuthEventMap>;
  /** Flushes API-key usage, stops timers and channel subscriptions. */
  close(): Promise<void>;
}

