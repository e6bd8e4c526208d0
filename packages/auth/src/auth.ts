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
  /**
   * The app vouches that this device signed in before (its own device check). Usually leave it
   * out and pass `login`'s `deviceToken` instead, which auth verifies itself.
   */
  readonly trustedDevice?: boolean;
}

/**
 * What a completed sign-in hands out: a session (cookie secret), a token pair and a device
 * token.
 *
 * @example
 * ```ts
 * if (result.status === 'authenticated') {
 *   reply.setCookie('tk_device', result.deviceToken, { httpOnly: true, secure: true, sameSite: 'lax', maxAge: 90 * 86_400 });
 *   reply.send({ accessToken: result.tokens.accessToken.token });
 * }
 * ```
 */
export interface SignedIn {
  readonly status: 'authenticated';
  readonly user: AuthUser;
  readonly session: IssuedSession;
  readonly tokens: TokenPair;
  /**
   * Proof that this device signed in to this account (HMAC over the normalized email and the
   * issue time, valid `deviceTokenTtlSeconds`, default 90 days). Keep it on the device (an
   * httpOnly cookie) and pass it back as `deviceToken` to `login`: the attempt then counts as a
   * trusted device and is exempt from the account-wide lockout an attacker can trigger. It is no
   * credential (the password is still checked); a new one comes with every sign-in.
   */
  readonly deviceToken: string;
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
   * Throttled per email and IP (`client.ip`; without `client` every call shares the IP counter
   * `'unknown'`), and an existing email is refused before any hashing. Sign-up necessarily
   * reveals that an email is taken (`ACCOUNT_ALREADY_EXISTS`); the throttle bounds how many
   * emails one client can probe.
   * @throws `ACCOUNT_ALREADY_EXISTS`, `PASSWORD_POLICY_VIOLATION`, `RATE_LIMITED`, `VALIDATION_FAILED`
   */
  signUp(
    input: { readonly email: string; readonly password: string; readonly tenantId?: string | null },
    client?: ClientInfo,
  ): Promise<{ readonly user: AuthUser }>;
  /**
   * Password sign-in: every attempt charged to the throttle (per account and IP, per IP, per
   * account) before the password is checked, so parallel guesses cannot outrun it; the same
   * answer and path for an unknown email (dummy hash), rehash on success when parameters
   * changed, a **new** session id (an existing session presented is replaced), a new refresh
   * family, a new `deviceToken`. A `deviceToken` from an earlier sign-in of this email makes the
   * attempt a trusted device, exempt from the account-wide lockout. With `tenantId` the
   * membership is checked and the credentials are bound to that tenant.
   * @throws `CREDENTIALS_INVALID`, `RATE_LIMITED`, `ACCOUNT_DISABLED`, `MEMBERSHIP_NOT_FOUND`, `MEMBERSHIP_INACTIVE`, `TENANT_SUSPENDED`
   */
  login(
    input: {
      readonly email: string;
      readonly password: string;
      readonly tenantId?: string | null;
      readonly currentSessionToken?: string;
      readonly deviceToken?: string;
    },
    client: ClientInfo,
  ): Promise<LoginResult>;
  /** @throws `REFRESH_TOKEN_INVALID`, `REFRESH_TOKEN_REUSED`, `ACCOUNT_DISABLED`, membership errors */
  refresh(refreshToken: string): Promise<TokenPair>;
  /** Ends a session: revokes it, its refresh families and (by `sid`) its access tokens. Idempotent. */
  logout(input: { readonly sessionToken?: string; readonly refreshToken?: string; readonly accessTokenId?: { readonly jti: string; readonly exp: number } }): Promise<void>;
  /**
   * Revokes everything of a user: access tokens and pending sign-ins (user epoch), the API keys
   * the user created until now (they act with the user's grants; `scopesOnly` keys have no
   * creator and stay), sessions and refresh families.
   */
  revokeUser(userId: string, reason: string): Promise<void>;
  /**
   * Disables the account (`disabledAt`; later sign-ins get `ACCOUNT_DISABLED` after a correct
   * password, refreshes are refused) and runs `revokeUser`: its session cookies, access tokens,
   * refresh tokens and API keys stop working at once. Emits `account-disabled`. Setting
   * `disabledAt` in the store directly revokes nothing.
   * @throws `ACCOUNT_NOT_FOUND`, `VALIDATION_FAILED`
   */
  disableUser(userId: string, reason?: string): Promise<void>;
  /**
   * Lets a disabled account sign in again. What the disable revoked stays revoked. Emits
   * `account-enabled`.
   * @throws `ACCOUNT_NOT_FOUND`, `VALIDATION_FAILED`
   */
  enableUser(userId: string): Promise<void>;
  /**
   * Always resolves the same way whether or not the account exists (throttled per email and IP);
   * emits `password-reset-requested` only for an existing account.
   */
  requestPasswordReset(input: { readonly email: string; readonly tenantId?: string | null }, client: ClientInfo): Promise<void>;
  /**
   * Checks the policy of `tenantId` (or the default) first, then consumes the reset token,
   * enforces the full policy and the history, sets the password, and revokes every session,
   * refresh family and access token of the user, and every API key the user created (see
   * `revokeUser`). A password refused before the token is consumed leaves the link usable; one
   * refused after it (the requested tenant's rules, the email's words, the history) leaves it
   * spent, and the user requests a new link: a token is never put back.
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
   * matches, and adds an active membership. A refusal once the token is taken (another email,
   * an existing account, the tenant's policy) leaves the invitation spent.
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

