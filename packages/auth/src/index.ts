// Public entry of @tenantkit/auth. Explicit named exports only; helpers append their lines.
export { AuthError, type AuthErrorCode } from './errors.js';
export type { AuthPrincipal, AuthMethod } from './principal.js';
export type {
  AccountRecord,
  AccountStore,
  SessionDevice,
  SessionRecord,
  SessionStore,
  RefreshFamilyRecord,
  RefreshTokenRecord,
  RefreshRotateOutcome,
  RefreshTokenStore,
  RevocationQuery,
  RevocationState,
  RevocationStore,
  RevocationEvent,
  RevocationChannel,
  OneTimeTokenPurpose,
  OneTimeTokenRecord,
  OneTimeTokenStore,
  ApiKeyRecord,
  ApiKeyStore,
  AuthStores,
} from './store.js';
export type { SigningAlgorithm, SigningKeyInput, SigningKeyInfo, SigningKeySet } from './keys/signing-key-set.js';
export type {
  AccessTokenClaims,
  IssueAccessTokenInput,
  IssuedAccessToken,
  VerifyAccessTokenOptions,
  AccessTokenService,
} from './tokens/access-token-service.js';
export type { RevocationSubject, RevocationService } from './revocation/revocation-service.js';
export type { IssuedSession, CreateSessionInput, SessionService } from './sessions/session-service.js';
export type { TokenPair, MintAccessToken, RefreshTokenService } from './refresh/refresh-token-service.js';
export type { PasswordHasher } from './passwords/password-hasher.js';
export type { PasswordViolation, PasswordPolicyRules, PasswordPolicy } from './passwords/password-policy.js';
export type { LoginAttempt, LoginThrottle } from './brute-force/login-throttle.js';
export type { IssuedOneTimeToken, OneTimeTokenService } from './one-time-tokens/one-time-token-service.js';
export type { CreatedApiKey, CreateApiKeyInput, ApiKeyService } from './api-keys/api-key-service.js';
export type { RequestCredentials, Authenticator } from './authenticator.js';
export type { AuthEventMap, AuthEventType } from './auth-events.js';
export type { AuthUser, ClientInfo, SignedIn, LoginResult, Auth } from './auth.js';
export { hashSecret } from './secrets/hash-secret.js';
export {
  createSessionService,
  type SessionServiceOptions,
  type SessionMembershipCheck,
} from './sessions/create-session-service.js';
export { createRefreshTokenService, type RefreshTokenServiceOptions } from './refresh/create-refresh-token-service.js';
export { memorySessionStore, type MemorySessionStoreOptions } from './adapters/memory/memory-session-store.js';
export { memoryRefreshTokenStore } from './adapters/memory/memory-refresh-token-store.js';
export { createApiKeyService } from './api-keys/create-api-key-service.js';
export type {
  ApiKeyServiceOptions,
  ApiKeyScopeChecker,
  ApiKeyRateLimit,
  ApiKeyBackgroundErrorContext,
} from './api-keys/api-key-service-options.js';
export type { ApiKeyHashKey } from './api-keys/api-key-hashing.js';
export { memoryApiKeyStore } from './adapters/memory/memory-api-key-store.js';
export { createAuthenticator, type AuthenticatorOptions } from './authentication/create-authenticator.js';
export { parseBearerToken } from './authentication/bearer-token.js';
export { readSessionCookie, type SessionCookieRead } from './authentication/session-cookie.js';
export { wwwAuthenticateChallenge } from './authentication/www-authenticate-challenge.js';
export { memoryAuthStores, type MemoryAuthStoresOptions } from './adapters/memory/memory-auth-stores.js';
export { generateSigningKey, type GenerateSigningKeyOptions } from './keys/generate-signing-key.js';
export { createSigningKeySet, type CreateSigningKeySetOptions } from './keys/create-signing-key-set.js';
export {
  createAccessTokenService,
  type AccessTokenServiceOptions,
  type TenantTokenIssuer,
} from './tokens/create-access-token-service.js';
export { createRevocationService, type RevocationServiceOptions } from './revocation/create-revocation-service.js';
export { createInProcessRevocationChannel } from './revocation/in-process-revocation-channel.js';
export { memoryRevocationStore, type MemoryRevocationStoreOptions } from './adapters/memory/memory-revocation-store.js';
export { createScryptHasher, type ScryptHasherOptions } from './passwords/scrypt-hasher.js';
export {
  createPasswordPolicy,
  type PasswordPolicyOptions,
  type PasswordPolicyTenantOverrides,
} from './passwords/create-password-policy.js';
export { defaultPasswordPolicyRules } from './passwords/default-password-policy-rules.js';
export { checkPasswordHistory } from './passwords/check-password-history.js';
export { createLoginThrottle, type LoginThrottleOptions } from './brute-force/create-login-throttle.js';
export type { ProgressiveDelay } from './brute-force/progressive-delay.js';
export {
  createOneTimeTokenService,
  type OneTimeTokenServiceOptions,
  type OneTimeTokenLinks,
} from './one-time-tokens/create-one-time-token-service.js';
export { defaultOneTimeTokenPaths } from './one-time-tokens/one-time-token-links.js';
export { memoryAccountStore } from './adapters/memory/memory-account-store.js';
export { memoryOneTimeTokenStore } from './adapters/memory/memory-one-time-token-store.js';
export { createAuth, type AuthOptions, type AuthEventListener } from './create-auth.js';
export type { AuthMemberships } from './flows/auth-memberships.js';
export type { SecondFactorGate } from './flows/second-factor-gate.js';
export {
  createPendingSecondFactorTokens,
  type PendingSecondFactor,
  type PendingSecondFactorTokens,
  type PendingSecondFactorTokensOptions,
} from './flows/pending-second-factor-tokens.js';
export { normalizeEmail } from './flows/normalize-email.js';
export { maxPasswordInputLength } from './flows/flow-input-schemas.js';
export type { LoginAttemptCharge } from './brute-force/login-throttle.js';
