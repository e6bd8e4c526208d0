import { type Clock, createTypedEventBus, systemClock } from '@tenantkit/core';
import { z } from 'zod';
import type { ApiKeyService } from './api-keys/api-key-service.js';
import type { ApiKeyServiceOptions } from './api-keys/api-key-service-options.js';
import { createApiKeyService } from './api-keys/create-api-key-service.js';
import type { Auth } from './auth.js';
import type { AuthEventMap, AuthEventType } from './auth-events.js';
import { createAuthenticator, type AuthenticatorOptions } from './authentication/create-authenticator.js';
import { createLoginThrottle, type LoginThrottleOptions } from './brute-force/create-login-throttle.js';
import { createDeviceTokens } from './brute-force/device-tokens.js';
import type { LoginThrottle } from './brute-force/login-throttle.js';
import type { AuthFlowContext } from './flows/auth-flow-context.js';
import type { AuthMemberships } from './flows/auth-memberships.js';
import { changePassword } from './flows/change-password.js';
import { disableUser, enableUser } from './flows/disable-user.js';
import { requestEmailVerification, verifyEmail } from './flows/email-verification.js';
import { flowIdSchema } from './flows/flow-input-schemas.js';
import { acceptInvitation, invite } from './flows/invitations.js';
import { login } from './flows/login.js';
import { logout } from './flows/logout.js';
import { parseFlowInput } from './flows/parse-flow-input.js';
import { requestPasswordReset, resetPassword } from './flows/password-reset.js';
import { createPendingSecondFactorTokens } from './flows/pending-second-factor-tokens.js';
import { handleRefreshTokenReuse, refresh } from './flows/refresh.js';
import { revokeUser } from './flows/revoke-user.js';
import type { SecondFactorGate } from './flows/second-factor-gate.js';
import { signUp } from './flows/sign-up.js';
import { switchTenant } from './flows/switch-tenant.js';
import { toAuthUser } from './flows/to-auth-user.js';
import type { SigningKeySet } from './keys/signing-key-set.js';
import { createOneTimeTokenService, type OneTimeTokenServiceOptions } from './one-time-tokens/create-one-time-token-service.js';
import { createPasswordPolicy, type PasswordPolicyOptions } from './passwords/create-password-policy.js';
import type { PasswordHasher } from './passwords/password-hasher.js';
import type { PasswordPolicy } from './passwords/password-policy.js';
import { createScryptHasher } from './passwords/scrypt-hasher.js';
import { createRefreshTokenService, type RefreshTokenServiceOptions } from './refresh/create-refresh-token-service.js';
import { createRevocationService } from './revocation/create-revocation-service.js';
import { createSessionService, type SessionServiceOptions } from './sessions/create-session-service.js';
import type { AuthStores, RevocationChannel } from './store.js';
import { createAccessTokenService, type AccessTokenServiceOptions } from './tokens/create-access-token-service.js';

/**
 * Hears every event `createAuth` emits (next to `auth.events`, which takes listeners per event):
 * one place to forward security events to an audit log.
 *
 * @example
 * ```ts
 * const onEvent: AuthEventListener = (name, payload) => audit.record(`auth.${name}`, payload);
 * ```
 */
export type AuthEventListener = <Name extends AuthEventType>(name: Name, payload: AuthEventMap[Name]) => void;

/**
 * Options of {@link createAuth}, validated when it is called (`CONFIGURATION_INVALID`, listing
 * every issue); each service validates its own part the same way.
 *
 * @example
 * ```ts
 * const options: AuthOptions = {
 *   stores: memoryAuthStores(),
 *   keys: await createSigningKeySet({ keys: [await generateSigningKey({ kid: '2026-01' })] }),
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://api.example.com',
 *   memberships,
 *   links: { baseUrl: 'https://app.example.com' },
 *   apiKeys: { hashKeys: [{ id: 'v1', secret: process.env.API_KEY_PEPPER! }], permissions: rbac },
 * };
 * ```
 */
export interface AuthOptions {
  readonly stores: AuthStores;
  /** An already built keyset (`await createSigningKeySet(...)`), so `createAuth` stays synchronous. */
  readonly keys: SigningKeySet;
  /** `iss` of access tokens; also `iss` and `aud` of pending second-factor tokens. */
  readonly issuer: string;
  readonly audience: string;
  /** Per-tenant issuer/audience of access tokens (see `createAccessTokenService`). */
  readonly tenantIssuer?: AccessTokenServiceOptions['tenantIssuer'];
  /**
   * tenant-context's membership service: checks sign-ins, refreshes and switches bound to a
   * tenant, and adds members on accepted invitations. Without it those flows throw
   * `CONFIGURATION_INVALID`.
   */
  readonly memberships?: AuthMemberships;
  /** Where reset, verification and invitation links point (configured, never from request headers). */
  readonly links: OneTimeTokenServiceOptions['links'];
  /** Lifetime of one-time tokens (see `createOneTimeTokenService`). */
  readonly oneTimeTokenTtlSeconds?: OneTimeTokenServiceOptions['ttlSeconds'];
  /** The API-key service's settings (its store, revocation and clock come from here). */
  readonly apiKeys: Omit<ApiKeyServiceOptions, 'store' | 'revocation' | 'clock'>;
  /** Default: `createScryptHasher()` (scrypt N = 2^17, r = 8, p = 1). */
  readonly hasher?: PasswordHasher;
  /** A policy, or the options of `createPasswordPolicy` (default: its defaults). */
  readonly passwordPolicy?: PasswordPolicy | PasswordPolicyOptions;
  /** The sign-in throttle, or the options of `createLoginThrottle` (default: its defaults, in memory). */
  readonly throttle?: LoginThrottle | LoginThrottleOptions;
  /**
   * The password-reset-request throttle (every request counted per email and IP on counters of
   * its own, so resets never spend the sign-in budget), or its options. Default:
   * `createLoginThrottle` with its limits, no progressive delay, the key prefix
   * `'tk:auth:password-reset'`, on the store of `throttle` when that was given as options (else
   * in memory: give it a shared store when several processes serve requests).
   */
  readonly resetThrottle?: LoginThrottle | LoginThrottleOptions;
  /**
   * The sign-up throttle (every sign-up request counted per email and IP, success or not, on
   * counters of its own), or its options. It bounds the "email taken" answer sign-up cannot
   * avoid giving, and the hashing work strangers can ask for. Default: `createLoginThrottle`
   * with its limits, no progressive delay, the key prefix `'tk:auth:sign-up'`, on the store of
   * `throttle` when that was given as options (else in memory).
   */
  readonly signUpThrottle?: LoginThrottle | LoginThrottleOptions;
  /**
   * The key of device tokens (`SignedIn.deviceToken`, HMAC-SHA256), at least 32 bytes. Set it,
   * the same in every process, from your secret store: **when it is absent a random key is
   * drawn for this process only**, so a restart (or another process behind the balancer)
   * forgets every device, and victims lose their exemption from the account-wide lockout until
   * they sign in again. Rotating it forgets every device too.
   */
  readonly deviceTokenSecret?: string | Uint8Array;
  /** How long a device token makes its device trusted; 1 to 400 days, default 90 days (7,776,000 s). */
  readonly deviceTokenTtlSeconds?: number;
  readonly accessTokenTtlSeconds?: number;
  readonly session?: Pick<SessionServiceOptions, 'idleTimeoutSeconds' | 'absoluteTimeoutSeconds' | 'touchIntervalSeconds'>;
  readonly refresh?: Pick<RefreshTokenServiceOptions, 'ttlSeconds' | 'familyTtlSeconds' | 'graceSeconds'>;
  /** Carries revocations between processes (e.g. `redisRevocationChannel`); default in-process. */
  readonly revocationChannel?: RevocationChannel;
  readonly authenticator?: Pick<AuthenticatorOptions, 'sessionCookieName' | 'apiKeyHeader' | 'realm'>;
  /** The multi-factor slot: when it says so, `login` ends in `second-factor-required`. */
  readonly secondFactor?: SecondFactorGate;
  /** Lifetime of the pending token of a `second-factor-required` sign-in; default 300 s. */
  readonly secondFactorPendingTtlSeconds?: number;
  readonly onEvent?: AuthEventListener;
  /** Failures no caller can be told of (a throwing `onEvent`, the session end after a refresh-token reuse seen outside `auth.refresh`). Default: `console.error`. */
  readonly onError?: (error: unknown, context: { readonly operation: 'on-event' | 'refresh-token-reuse' }) => void;
  readonly clock?: Clock;
  /** Waits the throttle's progressive delay; default `setTimeout`. Tests pass a fake. */
  readonly sleep?: (ms: number) => Promise<void>;
}

const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
const DEFAULT_SESSION_IDLE_SECONDS = 7 * 86_400;
const DEFAULT_DEVICE_TOKEN_TTL_SECONDS = 90 * 86_400;
/**
 * The access-token verifier's clock tolerance: `createAccessTokenService`'s default, which
 * `createAuth` does not change. A token verifies until `exp` plus this.
 */
const ACCESS_TOKEN_CLOCK_TOLERANCE_SECONDS = 30;

function hasMethods(value: unknown, names: readonly string[]): boolean {
  return typeof value === 'object' && value !== null && names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function');
}

const withMethods = <Shape>(names: readonly string[], what: string) =>
  z.custom<Shape>((value) => hasMethods(value, names), `must be ${what} (with ${names.join(', ')})`);
const isFunction = z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', 'must be a function');

const storesSchema = z.object({
  accounts: withMethods(['create', 'findById', 'findByEmail', 'setPassword', 'rehashPassword', 'update', 'delete'], 'an AccountStore'),
  sessions: withMethods(['create', 'findByTokenHash', 'findById', 'touch', 'rotate', 'listByUser', 'delete', 'deleteByUser'], 'a SessionStore'),
  refreshTokens: withMethods(['createFamily', 'rotate', 'findFamily', 'revokeFamily', 'revokeByUser'], 'a RefreshTokenStore'),
  revocations: withMethods(['revokeToken', 'revokeSession', 'raiseEpoch', 'check'], 'a RevocationStore'),
  oneTimeTokens: withMethods(['issue', 'consume', 'voidFor'], 'a OneTimeTokenStore'),
  apiKeys: withMethods(['create', 'findById', 'listByTenant', 'revoke', 'recordUsage', 'deleteByTenant'], 'an ApiKeyStore'),
});

const throttleMethods = ['beginAttempt'];
const throttleSchema = z.union([withMethods(throttleMethods, 'a LoginThrottle'), z.looseObject({})]);
const ttlSchema = z.int().min(1).max(86_400);

const optionsSchema = z.strictObject({
  stores: storesSchema,
  keys: withMethods(['signingKey', 'verificationKey', 'onRetired'], 'a SigningKeySet'),
  issuer: z.string().min(1).max(2048),
  audience: z.string().min(1).max(2048),
  tenantIssuer: z.unknown().optional(),
  memberships: withMethods(['requireActiveMembership', 'addMember', 'getMembership'], 'a MembershipService').optional(),
  links: z.looseObject({ baseUrl: z.string().min(1) }),
  oneTimeTokenTtlSeconds: z.unknown().optional(),
  apiKeys: z.looseObject({ hashKeys: z.array(z.unknown()).min(1) }),
  hasher: withMethods(['hash', 'verify', 'needsRehash', 'verifyDummy'], 'a PasswordHasher').optional(),
  passwordPolicy: z.union([withMethods(['rulesFor', 'check', 'assert'], 'a PasswordPolicy'), z.looseObject({})]).optional(),
  throttle: throttleSchema.optional(),
  resetThrottle: throttleSchema.optional(),
  signUpThrottle: throttleSchema.optional(),
  deviceTokenSecret: z.union([z.string(), z.instanceof(Uint8Array)]).optional(),
  deviceTokenTtlSeconds: z.int().min(86_400).max(400 * 86_400).optional(),
  accessTokenTtlSeconds: ttlSchema.optional(),
  session: z.looseObject({}).optional(),
  refresh: z.looseObject({}).optional(),
  revocationChannel: withMethods(['publish', 'subscribe', 'close'], 'a RevocationChannel').optional(),
  authenticator: z.looseObject({}).optional(),
  secondFactor: withMethods(['required'], 'a SecondFactorGate').optional(),
  secondFactorPendingTtlSeconds: z.int().min(30).max(900).optional(),
  onEvent: isFunction.optional(),
  onError: isFunction.optional(),
  clock: withMethods(['now'], 'a Clock').optional(),
  sleep: isFunction.optional(),
});

function isThrottle(value: LoginThrottle | LoginThrottleOptions | undefined): value is LoginThrottle {
  return hasMethods(value, throttleMethods);
}

function isPolicy(value: PasswordPolicy | PasswordPolicyOptions | undefined): value is PasswordPolicy {
  return hasMethods(value, ['rulesFor', 'check', 'assert']);
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Assembles @tenantkit/auth: the services on the given stores (access tokens, revocation,
 * sessions, refresh families, passwords, throttles, one-time tokens, API keys, the
 * authenticator) and the flows apps call from their routes. Synchronous: pass an already built
 * keyset.
 *
 * Each flow checks its input first (`VALIDATION_FAILED`), throws the codes `Auth` documents,
 * and writes nothing on failure (a one-time token refused after it was taken stays spent and is
 * never put back: that would void a newer link), a session whose tokens could not be issued is
 * removed, an account whose verification or membership could not
 * be set up is deleted again. Events are emitted on `auth.events` (and to `onEvent`) after the
 * writes they report.
 *
 * Security wiring worth knowing:
 * - a refresh-token reuse ends the family's session too (and its access tokens, by `sid`);
 * - a refresh family never outlives its session: refreshing for an ended session fails;
 * - password reset, `revokeUser` and `disableUser` revoke everything of the user (user epoch:
 *   access tokens and the API keys the user created; sessions; families);
 * - every sign-in, password-change, reset and sign-up attempt is charged to its throttle before
 *   the secret is checked; a `deviceToken` from an earlier sign-in exempts a device from the
 *   account-wide lockout (set `deviceTokenSecret`, or restarts forget every device);
 * - a revoked session id stays revoked until the session's last access token has expired;
 * - `login` with `currentSessionToken` ends that session: the session id changes on login.
 *
 * @throws `CONFIGURATION_INVALID`
 * @example
 * ```ts
 * const auth = createAuth({
 *   stores: memoryAuthStores(),
 *   keys: await createSigningKeySet({ keys: [await generateSigningKey({ kid: '2026-01' })] }),
 *   issuer: 'https://auth.example.com',
 *   audience: 'https://api.example.com',
 *   memberships,
 *   links: { baseUrl: 'https://app.example.com' },
 *   apiKeys: { hashKeys: [{ id: 'v1', secret: process.env.API_KEY_PEPPER! }], permissions: rbac },
 * });
 * auth.events.on('password-reset-requested', (event) => mailer.send('reset', event.email, { link: event.link }));
 * const result = await auth.login({ email, password, tenantId: 'tnt_acme' }, { ip: clientIp, userAgent });
 * ```
 */
export function createAuth(options: AuthOptions): Auth {
  parseFlowInput(optionsSchema, options, 'CONFIGURATION_INVALID', 'createAuth options');
  const { stores, keys, issuer, audience, memberships, secondFactor } = options;
  const clock = options.clock ?? systemClock;
  const onError =
    options.onError ??
    ((error: unknown, context: { readonly operation: string }) => {
      console.error(`[tenantkit/auth] ${context.operation} failed`, error);
    });

  const events = createTypedEventBus<AuthEventMap>({ label: 'tenantkit/auth' });
  const emit = <Name extends AuthEventType>(name: Name, payload: AuthEventMap[Name]): void => {
    events.emit(name, payload);
    if (options.onEvent === undefined) return;
    try {
      options.onEvent(name, payload);
    } catch (error) {
      onError(error, { operation: 'on-event' });
    }
  };

  const revocation = createRevocationService({
    store: stores.revocations,
    clock,
    ...(options.revocationChannel === undefined ? {} : { channel: options.revocationChannel }),
  });
  const accessTokenTtlSeconds = options.accessTokenTtlSeconds ?? DEFAULT_ACCESS_TOKEN_TTL_SECONDS;
  const tokens = createAccessTokenService({
    keys,
    issuer,
    audience,
    revocation,
    ttlSeconds: accessTokenTtlSeconds,
    clock,
    ...(options.tenantIssuer === undefined ? {} : { tenantIssuer: options.tenantIssuer }),
  });
  // A revoked session id must outlive the last access token of the session.
  const sessionRevocationRetentionSeconds = accessTokenTtlSeconds + ACCESS_TOKEN_CLOCK_TOLERANCE_SECONDS;
  const sessions = createSessionService({
    store: stores.sessions,
    revocation,
    clock,
    ...options.session,
    revocationRetentionSeconds: sessionRevocationRetentionSeconds,
    ...(memberships === undefined ? {} : { memberships }),
  });

  // The refresh service calls onReuse synchronously and does not wait for it; the session end it
  // starts is tracked so `auth.refresh` can finish it before it answers REFRESH_TOKEN_REUSED.
  const reuseHandling = new Set<Promise<void>>();
  let context: AuthFlowContext | undefined;
  const refreshTokens = createRefreshTokenService({
    store: stores.refreshTokens,
    clock,
    ...options.refresh,
    onReuse: (family) => {
      if (context === undefined) return;
      const handling = handleRefreshTokenReuse(context, family)
        .catch((error: unknown) => onError(error, { operation: 'refresh-token-reuse' }))
        .finally(() => reuseHandling.delete(handling));
      reuseHandling.add(handling);
    },
  });

  const oneTimeTokens = createOneTimeTokenService({
    store: stores.oneTimeTokens,
    links: options.links,
    clock,
    ...(options.oneTimeTokenTtlSeconds === undefined ? {} : { ttlSeconds: options.oneTimeTokenTtlSeconds }),
  });
  const hasher = options.hasher ?? createScryptHasher();
  const policy = isPolicy(options.passwordPolicy) ? options.passwordPolicy : createPasswordPolicy(options.passwordPolicy ?? {});
  const throttle = isThrottle(options.throttle) ? options.throttle : createLoginThrottle({ clock, ...options.throttle });
  // The sign-in counters' store (when given as options), for the other throttles' own keys.
  const sharedThrottleStore = isThrottle(options.throttle) || options.throttle?.store === undefined ? {} : { store: options.throttle.store };
  const resetThrottle = isThrottle(options.resetThrottle)
    ? options.resetThrottle
    : createLoginThrottle({ clock, ...sharedThrottleStore, keyPrefix: 'tk:auth:password-reset', progressiveDelay: false, ...options.resetThrottle });
  const signUpThrottle = isThrottle(options.signUpThrottle)
    ? options.signUpThrottle
    : createLoginThrottle({ clock, ...sharedThrottleStore, keyPrefix: 'tk:auth:sign-up', progressiveDelay: false, ...options.signUpThrottle });
  const deviceTokens = createDeviceTokens({
    secret: options.deviceTokenSecret,
    lifetimeMs: (options.deviceTokenTtlSeconds ?? DEFAULT_DEVICE_TOKEN_TTL_SECONDS) * 1000,
    now: () => clock.now(),
  });

  const baseApiKeys = createApiKeyService({ ...options.apiKeys, store: stores.apiKeys, revocation, clock });
  const apiKeys: ApiKeyService = {
    async create(input) {
      const created = await baseApiKeys.create(input);
      emit('api-key-created', { tenantId: created.record.tenantId, keyId: created.record.id, createdBy: input.creator.id });
      return created;
    },
    authenticate: (presented, authenticateOptions) => baseApiKeys.authenticate(presented, authenticateOptions),
    list: (tenantId) => baseApiKeys.list(tenantId),
    async revoke(tenantId, id) {
      await baseApiKeys.revoke(tenantId, id);
      emit('api-key-revoked', { tenantId, keyId: id });
    },
    flushUsage: () => baseApiKeys.flushUsage(),
    close: () => baseApiKeys.close(),
  };

  const authenticator = createAuthenticator({ tokens, sessions, apiKeys, ...options.authenticator });
  const pendingSecondFactor = createPendingSecondFactorTokens({
    keys,
    issuer,
    revocation,
    clock,
    ...(options.secondFactorPendingTtlSeconds === undefined ? {} : { ttlSeconds: options.secondFactorPendingTtlSeconds }),
  });

  const flows: AuthFlowContext = {
    stores,
    tokens,
    refreshTokens,
    sessions,
    revocation,
    oneTimeTokens,
    hasher,
    policy,
    throttle,
    resetThrottle,
    signUpThrottle,
    deviceTokens,
    memberships,
    secondFactor,
    pendingSecondFactor,
    clock,
    sleep: options.sleep ?? defaultSleep,
    sessionIdleMs: (options.session?.idleTimeoutSeconds ?? DEFAULT_SESSION_IDLE_SECONDS) * 1000,
    sessionRevocationRetentionMs: sessionRevocationRetentionSeconds * 1000,
    emit,
  };
  context = flows;

  return {
    signUp: (input, client) => signUp(flows, input, client),
    login: (input, client) => login(flows, input, client),
    async refresh(refreshToken) {
      try {
        return await refresh(flows, refreshToken);
      } catch (error) {
        // A reuse: the stolen token's session must be over before the caller hears about it.
        if (reuseHandling.size > 0) await Promise.all([...reuseHandling]);
        throw error;
      }
    },
    logout: (input) => logout(flows, input),
    revokeUser: (userId, reason) => revokeUser(flows, userId, reason),
    disableUser: (userId, reason) => disableUser(flows, userId, reason),
    enableUser: (userId) => enableUser(flows, userId),
    requestPasswordReset: (input, client) => requestPasswordReset(flows, input, client),
    resetPassword: (input) => resetPassword(flows, input),
    changePassword: (input) => changePassword(flows, input),
    requestEmailVerification: (userId) => requestEmailVerification(flows, userId),
    verifyEmail: (token) => verifyEmail(flows, token),
    invite: (input) => invite(flows, input),
    acceptInvitation: (input) => acceptInvitation(flows, input),
    switchTenant: (sessionToken, tenantId) => switchTenant(flows, sessionToken, tenantId),
    async getUser(userId) {
      parseFlowInput(flowIdSchema, userId, 'VALIDATION_FAILED', 'user id');
      const account = await stores.accounts.findById(userId);
      return account === null ? null : toAuthUser(account);
    },
    tokens,
    refreshTokens,
    sessions,
    revocation,
    apiKeys,
    oneTimeTokens,
    passwords: { hasher, policy },
    throttle,
    authenticator,
    events,
    async close() {
      await Promise.allSettled([...reuseHandling]);
      await apiKeys.close();
      await tokens.close();
      await revocation.close();
    },
  };
}
