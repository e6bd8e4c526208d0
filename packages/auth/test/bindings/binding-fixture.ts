import { createRateLimiter, type RateLimiter } from '@tenantkit/ratelimit';
import { createTenantRegistry, createTenantResolver, fromHeader, memoryTenantStore, type TenantResolver } from '@tenantkit/tenant-context';
import { memoryApiKeyStore } from '../../src/adapters/memory/memory-api-key-store.js';
import type { ApiKeyService } from '../../src/api-keys/api-key-service.js';
import { createApiKeyService } from '../../src/api-keys/create-api-key-service.js';
import type { Authenticator } from '../../src/authenticator.js';
import { createAuthenticator } from '../../src/authentication/create-authenticator.js';
import { AuthError } from '../../src/errors.js';
import type { AuthPrincipal } from '../../src/principal.js';
import { claims, fakeSessions, fakeTokens, session } from '../authentication/authenticator-fakes.js';

export interface BindingFixture {
  readonly authenticator: Authenticator;
  /** A key of tnt_acme whose per-key limit admits one request. */
  readonly key: string;
  readonly resolver: TenantResolver;
  readonly close: () => Promise<void>;
}

const creator: AuthPrincipal = { kind: 'user', id: 'usr_alice', tenantId: 'tnt_acme', method: 'session' };

/**
 * Tokens: `acme` (usr_alice in tnt_acme), `globex` (usr_bob in tnt_globex), `expired`, `broken`
 * (the token service fails with a plain Error, as a crashed dependency would). Session cookie
 * `tk_session=secret-acme`. One API key, rate limited to one request.
 */
export async function bindingFixture(): Promise<BindingFixture> {
  const tokens = fakeTokens({
    acme: claims(),
    globex: claims({ sub: 'usr_bob', tid: 'tnt_globex', jti: 'jti_2' }),
    expired: new AuthError('TOKEN_EXPIRED', 'The access token expired'),
  });
  const verify = tokens.service.verify;
  const tokenService = {
    verify: (token: string, options?: { readonly tenantId?: string | null }) =>
      token === 'broken' ? Promise.reject(new Error('token service crashed')) : verify(token, options),
  };
  const sessions = fakeSessions({ 'secret-acme': session() });
  const limiter: RateLimiter = createRateLimiter({ policies: [{ name: 'api-key', by: ['apiKey'], points: 1, duration: 60 }] });
  const apiKeys: ApiKeyService = createApiKeyService({
    store: memoryApiKeyStore(),
    hashKeys: [{ id: 'v1', secret: 'pepper-0123456789abcdef0123456789abcdef' }],
    permissions: { can: () => true },
    rateLimit: { limiter, policy: 'api-key' },
  });
  const { key } = await apiKeys.create({ tenantId: 'tnt_acme', name: 'CI', scopes: ['projects:read'], creator });
  const registry = createTenantRegistry({ store: memoryTenantStore() });
  await registry.createTenant({ id: 'tnt_acme', slug: 'acme', name: 'Acme' });
  await registry.createTenant({ id: 'tnt_globex', slug: 'globex', name: 'Globex' });
  const resolver = createTenantResolver({ registry, sources: [fromHeader()], requireTenant: false });
  const authenticator = createAuthenticator({ tokens: tokenService, sessions: sessions.service, apiKeys });
  return {
    authenticator,
    key,
    resolver,
    close: async () => {
      await apiKeys.close();
      await limiter.close();
    },
  };
}
