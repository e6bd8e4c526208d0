import { describe, expect, it } from 'vitest';
import { createAuth } from '../../src/create-auth.js';
import type { AuthPrincipal } from '../../src/principal.js';
import { AUDIENCE, BASE_URL, createAuthHarness, ISSUER, memoryStores } from './auth-flow-harness.js';
import { createManualClock } from '@tenantkit/core';

describe('createAuth', () => {
  it('validates its options when called (CONFIGURATION_INVALID, naming each issue)', async () => {
    const h = await createAuthHarness();
    const valid = {
      stores: memoryStores(createManualClock()),
      keys: h.keys,
      issuer: ISSUER,
      audience: AUDIENCE,
      links: { baseUrl: BASE_URL },
      apiKeys: { hashKeys: [{ id: 'v1', secret: 'test-pepper-of-at-least-32-bytes!!' }] },
    };
    expect(() => createAuth(valid)).not.toThrow();
    const cases: Record<string, unknown>[] = [
      { stores: { ...valid.stores, accounts: {} } },
      { keys: {} },
      { issuer: '' },
      { links: { baseUrl: 'http://evil.example.com' } },
      { apiKeys: { hashKeys: [] } },
      { secondFactor: { required: true } },
      { throttle: { perAccountAndIp: { failures: 0 } } },
      { unknownOption: true },
    ];
    for (const change of cases) {
      expect(() => createAuth({ ...valid, ...change } as never), JSON.stringify(change)).toThrow(
        expect.objectContaining({ code: 'CONFIGURATION_INVALID' }),
      );
    }
  });

  it('flows that need memberships say so (CONFIGURATION_INVALID)', async () => {
    const h = await createAuthHarness({ memberships: undefined });
    await h.signUpUser();
    await expect(h.auth.login({ email: 'alice@example.com', password: 'vivid otter parade 42', tenantId: 'tnt_acme' }, { ip: null })).rejects.toMatchObject({
      code: 'CONFIGURATION_INVALID',
    });
    await expect(h.auth.invite({ tenantId: 'tnt_acme', email: 'bob@example.com', invitedBy: 'usr_admin' })).rejects.toMatchObject({
      code: 'CONFIGURATION_INVALID',
    });
  });

  it('emits api-key-created and api-key-revoked for keys made through auth.apiKeys', async () => {
    const h = await createAuthHarness({
      apiKeys: { hashKeys: [{ id: 'v1', secret: 'test-pepper-of-at-least-32-bytes!!' }], permissions: { can: () => true } },
    });
    const creator: AuthPrincipal = { kind: 'user', id: 'usr_admin', tenantId: 'tnt_acme', method: 'session', attributes: {} };
    const created = await h.auth.apiKeys.create({ tenantId: 'tnt_acme', name: 'CI', scopes: ['projects:read'], creator });
    expect(h.lastEvent('api-key-created')).toEqual({ tenantId: 'tnt_acme', keyId: created.record.id, createdBy: 'usr_admin' });
    await h.auth.apiKeys.revoke('tnt_acme', created.record.id);
    expect(h.lastEvent('api-key-revoked')).toEqual({ tenantId: 'tnt_acme', keyId: created.record.id });
    await expect(h.auth.apiKeys.authenticate(created.key)).rejects.toMatchObject({ code: 'API_KEY_INVALID' });
  });

  it('the authenticator accepts what login issued: the Bearer token and the session cookie', async () => {
    const h = await createAuthHarness();
    const { user, session, tokens } = await h.signedInMember();
    await expect(h.auth.authenticator.authenticate({ authorization: `Bearer ${tokens.accessToken.token}` }, { tenantId: 'tnt_acme' })).resolves.toMatchObject({
      kind: 'user',
      id: user.id,
      method: 'access-token',
    });
    await expect(
      h.auth.authenticator.authenticate({ cookie: `${h.auth.authenticator.sessionCookieName}=${session.token}` }, { tenantId: 'tnt_acme' }),
    ).resolves.toMatchObject({ id: user.id, method: 'session' });
  });

  it('a listener that throws does not fail the flow', async () => {
    const errors: unknown[] = [];
    const h = await createAuthHarness({
      onEvent: () => {
        throw new Error('listener down');
      },
      onError: (error) => errors.push(error),
    });
    await expect(h.signUpUser()).resolves.toMatchObject({ email: 'alice@example.com' });
    expect(errors.length).toBeGreaterThan(0);
  });

  it('close() resolves and stops the services', async () => {
    const h = await createAuthHarness();
    await h.signedInMember();
    await expect(h.auth.close()).resolves.toBeUndefined();
  });
});
