import { currentTenantId } from '@tenantkit/tenant-context';
import { z } from 'zod';
import type { ApiKeyService } from '../api-keys/api-key-service.js';
import type { Authenticator, RequestCredentials } from '../authenticator.js';
import { AuthError } from '../errors.js';
import type { AuthPrincipal } from '../principal.js';
import type { SessionService } from '../sessions/session-service.js';
import type { AccessTokenClaims, AccessTokenService } from '../tokens/access-token-service.js';
import { parseBearerToken } from './bearer-token.js';
import { accessTokenPrincipal, sessionPrincipal } from './credential-principals.js';
import { readSessionCookie } from './session-cookie.js';
import { wwwAuthenticateChallenge } from './www-authenticate-challenge.js';
import { parseAuthInput as parseOrThrow } from '../parse-auth-input.js';


/**
 * Options of {@link createAuthenticator}, validated when it is called (`CONFIGURATION_INVALID`).
 *
 * @example
 * ```ts
 * const options: AuthenticatorOptions = { tokens, sessions, apiKeys, sessionCookieName: '__Host-session', apiKeyHeader: 'x-api-key' };
 * ```
 */
export interface AuthenticatorOptions {
  /** Verifies `Authorization: Bearer` access tokens. */
  readonly tokens: Pick<AccessTokenService, 'verify'>;
  /** Validates session cookies; without it cookies are not read. */
  readonly sessions?: Pick<SessionService, 'validate'>;
  /** Authenticates the API key header; without it the header is not read. */
  readonly apiKeys?: Pick<ApiKeyService, 'authenticate'>;
  /** The session cookie's name (an RFC 6265 token); default `'tk_session'`. */
  readonly sessionCookieName?: string;
  /** The API key header (an RFC 9110 token, not `authorization` or `cookie`); default `'x-api-key'`. Stored lowercase. */
  readonly apiKeyHeader?: string;
  /** The `realm` of the `WWW-Authenticate` challenge, printable ASCII without `"` or `\`; default `'api'`. */
  readonly realm?: string;
}

function hasMethod(name: string) {
  return (value: unknown) =>
    typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[name] === 'function';
}

const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/;

const optionsSchema = z.strictObject({
  tokens: z.custom<AuthenticatorOptions['tokens']>(hasMethod('verify'), 'must be an AccessTokenService'),
  sessions: z.custom<NonNullable<AuthenticatorOptions['sessions']>>(hasMethod('validate'), 'must be a SessionService').optional(),
  apiKeys: z.custom<NonNullable<AuthenticatorOptions['apiKeys']>>(hasMethod('authenticate'), 'must be an ApiKeyService').optional(),
  sessionCookieName: z.string().regex(HTTP_TOKEN, 'must be a cookie name (RFC 6265 token)').default('tk_session'),
  apiKeyHeader: z
    .string()
    .regex(HTTP_TOKEN, 'must be a header name')
    .transform((name) => name.toLowerCase())
    .refine((name) => name !== 'authorization' && name !== 'cookie', 'must not be authorization or cookie')
    .default('x-api-key'),
  realm: z
    .string()
    .regex(/^[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}$/, 'must be 1 to 64 printable ASCII characters without " or \\')
    .default('api'),
});

/** The one credential a request presented, after its format check. */
interface PresentedCredential {
  readonly kind: 'bearer' | 'session' | 'api-key';
  readonly value: string;
}

function tokenInvalid(message: string): AuthError {
  return new AuthError('TOKEN_INVALID', message);
}

/**
 * Creates the {@link Authenticator} the bindings call on every request.
 *
 * It reads three credential kinds and accepts exactly one per request (two kinds, even if both
 * are valid, is `TOKEN_INVALID`: a request must not mix an attacker's and a victim's
 * credentials):
 *
 * - `Authorization: Bearer <token>` (RFC 6750: scheme in any case, one space, b64token charset,
 *   at most 8192 characters; any other `Authorization` value is `TOKEN_INVALID`), verified by
 *   `tokens.verify`. Principal: `{ kind: 'user', id: sub, tenantId: tid, method: 'access-token',
 *   sessionId: sid, tokenId: jti, scopes: scope, roles, amr }`.
 * - The session cookie (only with `sessions`): that one cookie is parsed (RFC 6265); present
 *   twice or malformed is `SESSION_INVALID`, an empty value counts as absent. Validated by
 *   `sessions.validate`. Principal: `{ kind: 'user', id: userId, tenantId: session.tenantId,
 *   method: 'session', sessionId, amr }`.
 * - The API key header (only with `apiKeys`), by `apiKeys.authenticate`; sent twice is
 *   `API_KEY_INVALID`.
 *
 * **Tenant binding.** The request's tenant is `options.tenantId` when it is a string, else the
 * ambient tenant scope (`runWithTenant`, which the tenant-context bindings enter). With a tenant,
 * tokens are verified with `{ tenantId }` (a token of another tenant is `TOKEN_INVALID`), and a
 * session or key bound elsewhere is `SESSION_INVALID` / `API_KEY_INVALID`; `null` or no tenant
 * means none is checked (public routes). No credential at all resolves to `null`.
 *
 * Verified token claims map to one frozen principal object for as long as the token service
 * hands back the same claims object (its verified-token cache), so the hot path allocates
 * nothing per request.
 *
 * @throws `CONFIGURATION_INVALID` for invalid options (when called).
 * @example
 * ```ts
 * const authenticator = createAuthenticator({ tokens, sessions, apiKeys });
 * const principal = await authenticator.authenticate(
 *   { authorization: req.headers.authorization, cookie: req.headers.cookie, apiKey: req.headers['x-api-key'] },
 *   { tenantId: 'tnt_acme' },
 * );
 * res.setHeader('WWW-Authenticate', authenticator.challenge('TOKEN_EXPIRED'));
 * ```
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const parsed = parseOrThrow(optionsSchema, options, 'CONFIGURATION_INVALID', 'createAuthenticator options');
  const { tokens, sessions, apiKeys, sessionCookieName, apiKeyHeader } = parsed;
  const challenge = wwwAuthenticateChallenge(parsed.realm);
  // Keyed by the claims object the token service returns; collected with it.
  const tokenPrincipals = new WeakMap<AccessTokenClaims, AuthPrincipal>();

  const principalOfClaims = (claims: AccessTokenClaims): AuthPrincipal => {
    let principal = tokenPrincipals.get(claims);
    if (principal === undefined) {
      principal = accessTokenPrincipal(claims);
      tokenPrincipals.set(claims, principal);
    }
    return principal;
  };

  async function authenticateSession(service: Pick<SessionService, 'validate'>, secret: string, tenantId: string | undefined): Promise<AuthPrincipal> {
    const session = await service.validate(secret);
    if (tenantId !== undefined && session.tenantId !== tenantId) throw new AuthError('SESSION_INVALID', 'Invalid session');
    return sessionPrincipal(session);
  }

  /** The synchronous part: which one credential was presented, read and format-checked. */
  function presentedCredential(credentials: RequestCredentials): PresentedCredential | null {
    const { authorization, cookie, apiKey } = credentials;
    let presented: PresentedCredential | null = null;
    let count = 0;

    if (authorization !== undefined) {
      const token = parseBearerToken(authorization);
      if (token === undefined) throw tokenInvalid('Malformed Authorization header: expected Bearer <token>');
      presented = { kind: 'bearer', value: token };
      count += 1;
    }

    if (sessions !== undefined && cookie !== undefined) {
      const read = readSessionCookie(cookie, sessionCookieName);
      if (read.kind === 'invalid') throw new AuthError('SESSION_INVALID', 'Invalid session');
      if (read.kind === 'present') {
        presented = { kind: 'session', value: read.value };
        count += 1;
      }
    }

    if (apiKeys !== undefined && apiKey !== undefined) {
      if (typeof apiKey !== 'string' && apiKey.length !== 1) throw new AuthError('API_KEY_INVALID', 'Invalid API key');
      presented = { kind: 'api-key', value: typeof apiKey === 'string' ? apiKey : (apiKey[0] as string) };
      count += 1;
    }

    if (count > 1) throw tokenInvalid('Present one credential: a Bearer token, a session cookie or an API key');
    return presented;
  }

  // Not an async function: the Bearer path (the hot one) then costs one promise, the token
  // service's, plus one `then`.
  function authenticate(credentials: RequestCredentials, authOptions?: { readonly tenantId?: string | null }): Promise<AuthPrincipal | null> {
    let presented: PresentedCredential | null;
    try {
      presented = presentedCredential(credentials);
    } catch (error) {
      return Promise.reject(error);
    }
    if (presented === null) return Promise.resolve(null);
    const tenantId = authOptions?.tenantId ?? currentTenantId();
    switch (presented.kind) {
      case 'bearer':
        return (tenantId === undefined ? tokens.verify(presented.value) : tokens.verify(presented.value, { tenantId })).then(principalOfClaims);
      case 'session':
        return authenticateSession(sessions as Pick<SessionService, 'validate'>, presented.value, tenantId);
      default:
        return (apiKeys as Pick<ApiKeyService, 'authenticate'>).authenticate(presented.value, tenantId === undefined ? undefined : { tenantId });
    }
  }

  return Object.freeze({ authenticate, challenge, sessionCookieName, apiKeyHeader });
}
