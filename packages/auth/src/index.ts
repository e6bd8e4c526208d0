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
