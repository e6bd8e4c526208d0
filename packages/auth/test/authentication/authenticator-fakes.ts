import { AuthError } from '../../src/errors.js';
import type { SessionService } from '../../src/sessions/session-service.js';
import type { SessionRecord } from '../../src/store.js';
import type { AccessTokenClaims, AccessTokenService, VerifyAccessTokenOptions } from '../../src/tokens/access-token-service.js';

/*
 * Small hand-written stand-ins for the token and session services: the authenticator holds no
 * token or session logic, so its tests only need services whose answers are obvious.
 */

export function claims(overrides: Partial<AccessTokenClaims> = {}): AccessTokenClaims {
  return {
    sub: 'usr_alice',
    tid: 'tnt_acme',
    sid: 'ses_1',
    jti: 'jti_1',
    iat: 1_767_225_600,
    iatMs: 1_767_225_600_000,
    exp: 1_767_226_500,
    iss: 'https://auth.example.com',
    aud: 'api',
    scope: ['projects:read'],
    roles: ['developer'],
    amr: ['pwd'],
    ...overrides,
  };
}

/** Tokens are looked up in a map; the same claims object comes back each time, as from a cache. */
export function fakeTokens(tokens: Readonly<Record<string, AccessTokenClaims | AuthError>>) {
  const calls: Array<{ token: string; options: VerifyAccessTokenOptions | undefined }> = [];
  const service: Pick<AccessTokenService, 'verify'> = {
    async verify(token, options) {
      calls.push({ token, options });
      const found = tokens[token];
      if (found === undefined) throw new AuthError('TOKEN_INVALID', 'Invalid token');
      if (found instanceof AuthError) throw found;
      if (options?.tenantId !== undefined && options.tenantId !== found.tid) throw new AuthError('TOKEN_INVALID', 'Invalid token');
      return found;
    },
  };
  return { service, calls };
}

export function session(overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: 'ses_1',
    tokenHash: 'hash',
    userId: 'usr_alice',
    tenantId: 'tnt_acme',
    amr: ['pwd'],
    device: { userAgent: null, ip: null, label: null },
    createdAt: 0,
    lastSeenAt: 0,
    expiresAt: 1,
    absoluteExpiresAt: 2,
    ...overrides,
  };
}

export function fakeSessions(sessions: Readonly<Record<string, SessionRecord>>) {
  const calls: string[] = [];
  const service: Pick<SessionService, 'validate'> = {
    async validate(token) {
      calls.push(token);
      const found = sessions[token];
      if (found === undefined) throw new AuthError('SESSION_INVALID', 'Invalid session');
      return found;
    },
  };
  return { service, calls };
}
