import { runWithTenant } from '@tenantkit/tenant-context';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryApiKeyStore } from '../../src/adapters/memory/memory-api-key-store.js';
import type { ApiKeyService } from '../../src/api-keys/api-key-service.js';
import { createApiKeyService } from '../../src/api-keys/create-api-key-service.js';
import { createAuthenticator, type AuthenticatorOptions } from '../../src/authentication/create-authenticator.js';
import { AuthError } from '../../src/errors.js';
import type { AuthPrincipal } from '../../src/principal.js';
import { claims, fakeSessions, fakeTokens, session } from './authenticator-fakes.js';

const creator: AuthPrincipal = { kind: 'user', id: 'usr_alice', tenantId: 'tnt_acme', method: 'session' };
const services: ApiKeyService[] = [];

afterEach(async () => {
  await Promise.all(services.splice(0).map((service) => service.close()));
});

async function setup(options: Partial<AuthenticatorOptions> = {}) {
  const tokenClaims = claims();
  const tokens = fakeTokens({
    'token.acme': tokenClaims,
    'token.plain': claims({ tid: null, sid: null, scope: undefined, roles: undefined, amr: undefined }),
    'token.expired': new AuthError('TOKEN_EXPIRED', 'Token expired'),
  });
  const sessions = fakeSessions({
    'secret-acme': session(),
    'secret-tenantless': session({ id: 'ses_2', tenantId: null }),
  });
  const apiKeys = createApiKeyService({
    store: memoryApiKeyStore(),
    hashKeys: [{ id: 'v1', secret: 'pepper-0123456789abcdef0123456789abcdef' }],
    permissions: { can: () => true },
  });
  services.push(apiKeys);
  const { key, record } = await apiKeys.create({ tenantId: 'tnt_acme', name: 'CI', scopes: ['projects:read'], creator });
  const authenticator = createAuthenticator({ tokens: tokens.service, sessions: sessions.service, apiKeys, ...options });
  return { authenticator, tokens, sessions, apiKeys, key, record, tokenClaims };
}

async function rejectionOf(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error('expected the promise to reject');
}

describe('createAuthenticator: Bearer tokens', () => {
  it('turns a verified token into a user principal with its sid, jti, scopes, roles and amr', async () => {
    const { authenticator } = await setup();
    expect(await authenticator.authenticate({ authorization: 'Bearer token.acme' })).toEqual({
      kind: 'user',
      id: 'usr_alice',
      tenantId: 'tnt_acme',
      method: 'access-token',
      sessionId: 'ses_1',
      tokenId: 'jti_1',
      scopes: ['projects:read'],
      roles: ['developer'],
      amr: ['pwd'],
    });
    expect(await authenticator.authenticate({ authorization: 'Bearer token.plain' })).toEqual({
      kind: 'user',
      id: 'usr_alice',
      tenantId: null,
      method: 'access-token',
      tokenId: 'jti_1',
    });
  });

  it('reads the scheme in any case (RFC 7235) and returns one principal object per cached claims object', async () => {
    const { authenticator } = await setup();
    const first = await authenticator.authenticate({ authorization: 'bearer token.acme' });
    const second = await authenticator.authenticate({ authorization: 'BEARER token.acme' });
    expect(second).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('refuses a malformed Authorization header with TOKEN_INVALID without verifying anything', async () => {
    const { authenticator, tokens } = await setup();
    for (const authorization of [
      '',
      'Bearer',
      'Bearer ',
      'Bearer  token.acme',
      'Bearer token.acme ',
      'Bearer\ttoken.acme',
      'Basic dXNlcjpwYXNz',
      'Bearer token.acme, Bearer token.acme',
      'Bearer tok=en',
      'Bearer tok"en',
      `Bearer ${'a'.repeat(8193)}`,
    ]) {
      expect(await rejectionOf(authenticator.authenticate({ authorization })), authorization.slice(0, 40)).toMatchObject({ code: 'TOKEN_INVALID' });
    }
    expect(tokens.calls).toEqual([]);
  });

  it('accepts the b64token charset with trailing = up to 8192 characters', async () => {
    const { authenticator, tokens } = await setup();
    const long = 'a'.repeat(8190) + '==';
    await rejectionOf(authenticator.authenticate({ authorization: `Bearer ${long}` }));
    await rejectionOf(authenticator.authenticate({ authorization: 'Bearer A-._~+/9==' }));
    expect(tokens.calls.map((call) => call.token)).toEqual([long, 'A-._~+/9==']);
  });

  it('verifies with the request tenant: explicit, else the ambient tenant scope, else none', async () => {
    const { authenticator, tokens } = await setup();
    await authenticator.authenticate({ authorization: 'Bearer token.acme' }, { tenantId: 'tnt_acme' });
    await runWithTenant('tnt_acme', () => authenticator.authenticate({ authorization: 'Bearer token.acme' }));
    await runWithTenant('tnt_acme', () => authenticator.authenticate({ authorization: 'Bearer token.acme' }, { tenantId: null }));
    await authenticator.authenticate({ authorization: 'Bearer token.acme' });
    expect(tokens.calls.map((call) => call.options)).toEqual([{ tenantId: 'tnt_acme' }, { tenantId: 'tnt_acme' }, { tenantId: 'tnt_acme' }, undefined]);
    expect(await rejectionOf(authenticator.authenticate({ authorization: 'Bearer token.acme' }, { tenantId: 'tnt_globex' }))).toMatchObject({
      code: 'TOKEN_INVALID',
    });
  });

  it('passes the token service errors through (TOKEN_EXPIRED)', async () => {
    const { authenticator } = await setup();
    expect(await rejectionOf(authenticator.authenticate({ authorization: 'Bearer token.expired' }))).toMatchObject({ code: 'TOKEN_EXPIRED' });
  });
});

describe('createAuthenticator: session cookies', () => {
  it('turns a valid session cookie into a user principal in the session tenant', async () => {
    const { authenticator, sessions } = await setup();
    expect(await authenticator.authenticate({ cookie: 'theme=dark; tk_session=secret-acme; lang=en' })).toEqual({
      kind: 'user',
      id: 'usr_alice',
      tenantId: 'tnt_acme',
      method: 'session',
      sessionId: 'ses_1',
      amr: ['pwd'],
    });
    await authenticator.authenticate({ cookie: 'tk_session="secret-acme"' });
    await authenticator.authenticate({ cookie: 'tk_session = secret-acme ;theme=dark' });
    expect(sessions.calls).toEqual(['secret-acme', 'secret-acme', 'secret-acme']);
  });

  it('ignores other cookies, look-alike names and an empty session cookie', async () => {
    const { authenticator, sessions } = await setup();
    for (const cookie of ['theme=dark', 'xtk_session=secret-acme', 'tk_session_old=secret-acme', 'tk_session=', 'tk_session=""', '']) {
      expect(await authenticator.authenticate({ cookie }), cookie).toBeNull();
    }
    expect(sessions.calls).toEqual([]);
  });

  it('refuses a duplicated or malformed session cookie with SESSION_INVALID without a lookup', async () => {
    const { authenticator, sessions } = await setup();
    for (const cookie of [
      'tk_session=secret-acme; tk_session=secret-acme',
      'tk_session=a; theme=dark; tk_session=b',
      'tk_session=secret acme',
      'tk_session=secret,acme',
      'tk_session=secret\\acme',
      'tk_session="secret-acme',
      `tk_session=${'a'.repeat(4097)}`,
    ]) {
      expect(await rejectionOf(authenticator.authenticate({ cookie })), cookie.slice(0, 60)).toMatchObject({ code: 'SESSION_INVALID' });
    }
    expect(sessions.calls).toEqual([]);
  });

  it('refuses a session bound to another tenant, or to none, on a tenant request', async () => {
    const { authenticator } = await setup();
    expect(await rejectionOf(authenticator.authenticate({ cookie: 'tk_session=secret-acme' }, { tenantId: 'tnt_globex' }))).toMatchObject({
      code: 'SESSION_INVALID',
    });
    expect(await rejectionOf(runWithTenant('tnt_acme', () => authenticator.authenticate({ cookie: 'tk_session=secret-tenantless' })))).toMatchObject({
      code: 'SESSION_INVALID',
    });
    await expect(authenticator.authenticate({ cookie: 'tk_session=secret-tenantless' })).resolves.toMatchObject({ tenantId: null });
  });

  it('reads the configured cookie name, and no cookie at all without a session service', async () => {
    const custom = await setup({ sessionCookieName: '__Host-session' });
    await expect(custom.authenticator.authenticate({ cookie: '__Host-session=secret-acme' })).resolves.toMatchObject({ method: 'session' });
    expect(await custom.authenticator.authenticate({ cookie: 'tk_session=secret-acme' })).toBeNull();
    const { tokens } = await setup();
    const withoutSessions = createAuthenticator({ tokens: tokens.service });
    expect(await withoutSessions.authenticate({ cookie: 'tk_session=secret-acme; tk_session=x' })).toBeNull();
  });
});

describe('createAuthenticator: API keys', () => {
  it('authenticates the API key header and binds it to the request tenant', async () => {
    const { authenticator, key, record } = await setup();
    expect(await authenticator.authenticate({ apiKey: key })).toMatchObject({ kind: 'api-key', id: record.id, method: 'api-key' });
    expect(await authenticator.authenticate({ apiKey: [key] })).toMatchObject({ id: record.id });
    expect(await rejectionOf(authenticator.authenticate({ apiKey: key }, { tenantId: 'tnt_globex' }))).toMatchObject({ code: 'API_KEY_INVALID' });
    expect(await rejectionOf(runWithTenant('tnt_globex', () => authenticator.authenticate({ apiKey: key })))).toMatchObject({ code: 'API_KEY_INVALID' });
  });

  it('refuses a repeated or malformed API key header with API_KEY_INVALID', async () => {
    const { authenticator, key } = await setup();
    for (const apiKey of [[key, key], [], '', 'tk_nope', `${key}, ${key}`]) {
      expect(await rejectionOf(authenticator.authenticate({ apiKey })), JSON.stringify(apiKey).slice(0, 30)).toMatchObject({ code: 'API_KEY_INVALID' });
    }
  });

  it('does not read the API key header without an API key service', async () => {
    const { tokens, key } = await setup();
    expect(await createAuthenticator({ tokens: tokens.service }).authenticate({ apiKey: key })).toBeNull();
  });
});

describe('createAuthenticator: one credential per request', () => {
  it('returns null when no credential is presented', async () => {
    const { authenticator } = await setup();
    expect(await authenticator.authenticate({})).toBeNull();
    expect(await authenticator.authenticate({ authorization: undefined, cookie: undefined, apiKey: undefined })).toBeNull();
  });

  it('refuses two kinds of credential at once with TOKEN_INVALID, even when both are valid', async () => {
    const { authenticator, key, tokens, sessions } = await setup();
    for (const credentials of [
      { authorization: 'Bearer token.acme', cookie: 'tk_session=secret-acme' },
      { authorization: 'Bearer token.acme', apiKey: key },
      { cookie: 'tk_session=secret-acme', apiKey: key },
      { authorization: 'Bearer token.acme', cookie: 'tk_session=secret-acme', apiKey: key },
    ]) {
      expect(await rejectionOf(authenticator.authenticate(credentials)), Object.keys(credentials).join('+')).toMatchObject({ code: 'TOKEN_INVALID' });
    }
    expect(tokens.calls).toEqual([]);
    expect(sessions.calls).toEqual([]);
  });
});

describe('createAuthenticator: challenges and options', () => {
  it('builds RFC 6750 WWW-Authenticate challenges', async () => {
    const { authenticator } = await setup({ realm: 'acme api' });
    expect(authenticator.challenge()).toBe('Bearer realm="acme api"');
    expect(authenticator.challenge('AUTHENTICATION_REQUIRED')).toBe('Bearer realm="acme api"');
    expect(authenticator.challenge('TOKEN_INVALID')).toBe('Bearer realm="acme api", error="invalid_token"');
    expect(authenticator.challenge('TOKEN_EXPIRED')).toBe('Bearer realm="acme api", error="invalid_token", error_description="The access token expired"');
    expect(authenticator.challenge('TOKEN_REVOKED')).toBe('Bearer realm="acme api", error="invalid_token", error_description="The access token was revoked"');
    expect(authenticator.challenge('API_KEY_INVALID')).toBe('Bearer realm="acme api"');
    expect(authenticator.challenge('SESSION_INVALID')).toBe('Bearer realm="acme api"');
  });

  it('exposes the cookie and header names, the header lowercased', async () => {
    const { authenticator } = await setup({ apiKeyHeader: 'X-Acme-Key' });
    expect(authenticator.apiKeyHeader).toBe('x-acme-key');
    expect(authenticator.sessionCookieName).toBe('tk_session');
  });

  it('rejects invalid options with CONFIGURATION_INVALID', async () => {
    const { tokens } = await setup();
    for (const options of [
      {},
      { tokens: {} },
      { tokens: tokens.service, sessions: {} },
      { tokens: tokens.service, apiKeys: {} },
      { tokens: tokens.service, sessionCookieName: 'tk session' },
      { tokens: tokens.service, sessionCookieName: 'tk;session' },
      { tokens: tokens.service, apiKeyHeader: 'Authorization' },
      { tokens: tokens.service, apiKeyHeader: 'cookie' },
      { tokens: tokens.service, apiKeyHeader: 'x api key' },
      { tokens: tokens.service, realm: 'a"b' },
      { tokens: tokens.service, realm: 'a\\b' },
      { tokens: tokens.service, realm: '' },
      { tokens: tokens.service, realms: 'api' },
    ]) {
      expect(() => createAuthenticator(options as never), JSON.stringify(Object.keys(options))).toThrow(
        expect.objectContaining({ code: 'CONFIGURATION_INVALID' }),
      );
    }
  });
});
