import { createHash } from 'node:crypto';
import { createManualClock } from '@tenantkit/core';
import { describe, expect, it } from 'vitest';
import {
  createOneTimeTokenService,
  memoryOneTimeTokenStore,
  type OneTimeTokenRecord,
  type OneTimeTokenServiceOptions,
  type OneTimeTokenStore,
} from '@tenantkit/auth';

/** A memory store that also shows what it was given (to check what is stored). */
function recordingStore(): OneTimeTokenStore & { readonly issued: OneTimeTokenRecord[] } {
  const inner = memoryOneTimeTokenStore();
  const issued: OneTimeTokenRecord[] = [];
  return {
    issued,
    issue: (token) => {
      issued.push(structuredClone(token));
      return inner.issue(token);
    },
    consume: (hash, purpose, now) => inner.consume(hash, purpose, now),
    voidFor: (purpose, subject, tenantId) => inner.voidFor(purpose, subject, tenantId),
  };
}

function serviceWith(options: Partial<OneTimeTokenServiceOptions> = {}) {
  const clock = createManualClock();
  const store = recordingStore();
  const service = createOneTimeTokenService({ store, links: { baseUrl: 'https://app.example.com' }, clock, ...options });
  return { clock, store, service };
}

const sha256 = (value: string) => createHash('sha256').update(value).digest('base64url');

describe('checklist: reset tokens', () => {
  it('have high entropy: 256 bits (43 base64url characters), distinct across 1000 issues', async () => {
    const { service } = serviceWith();
    const tokens = new Set<string>();
    for (let index = 0; index < 1000; index += 1) {
      const { token } = await service.issue('password-reset', `usr_${index}`);
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      tokens.add(token);
    }
    expect(tokens.size).toBe(1000);
  });

  it('are stored hashed: the store sees SHA-256 of the token, never the token', async () => {
    const { service, store } = serviceWith();
    const issued = await service.issue('password-reset', 'usr_1');
    expect(store.issued).toHaveLength(1);
    expect(store.issued[0]!.tokenHash).toBe(sha256(issued.token));
    expect(JSON.stringify(store.issued)).not.toContain(issued.token);
    expect(issued.record).toEqual(store.issued[0]);
  });

  it('expire after about an hour by default', async () => {
    const { service, clock } = serviceWith();
    const issued = await service.issue('password-reset', 'usr_1');
    expect(issued.expiresAt).toBe(clock.now() + 3_600_000);
    const early = await service.issue('password-reset', 'usr_2');
    clock.advance(3_599_999);
    expect(await service.consume(early.token, 'password-reset')).toMatchObject({ subject: 'usr_2' });
    clock.advance(1);
    await expect(service.consume(issued.token, 'password-reset')).rejects.toMatchObject({ code: 'ONE_TIME_TOKEN_INVALID', status: 400 });
  });

  it('are single use: of 10 concurrent consumes exactly one succeeds', async () => {
    const { service } = serviceWith();
    const { token } = await service.issue('password-reset', 'usr_1');
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => service.consume(token, 'password-reset')));
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    for (const result of results.filter((each) => each.status === 'rejected')) {
      expect((result as PromiseRejectedResult).reason).toMatchObject({ code: 'ONE_TIME_TOKEN_INVALID' });
    }
    await expect(service.consume(token, 'password-reset')).rejects.toMatchObject({ code: 'ONE_TIME_TOKEN_INVALID' });
  });

  it('are voided on reissue: only the newest token of a subject works', async () => {
    const { service } = serviceWith();
    const first = await service.issue('password-reset', 'usr_1');
    const second = await service.issue('password-reset', 'usr_1');
    const other = await service.issue('password-reset', 'usr_2');
    await expect(service.consume(first.token, 'password-reset')).rejects.toMatchObject({ code: 'ONE_TIME_TOKEN_INVALID' });
    expect(await service.consume(second.token, 'password-reset')).toMatchObject({ subject: 'usr_1' });
    expect(await service.consume(other.token, 'password-reset')).toMatchObject({ subject: 'usr_2' });
  });

  it('reset link never built from Host / X-Forwarded-Host: issue takes no request data, only configured base URLs', async () => {
    const { service } = serviceWith();
    // Nothing a request carries has a way in: issue() refuses any option besides tenantId, data and ttlSeconds.
    for (const smuggled of [{ host: 'evil.example' }, { headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example' } }, { baseUrl: 'https://evil.example' }]) {
      await expect(service.issue('password-reset', 'usr_1', smuggled as never)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    const { link, token } = await service.issue('password-reset', 'usr_1');
    const url = new URL(link);
    expect(url.origin).toBe('https://app.example.com');
    expect(url.pathname).toBe('/reset-password');
    expect(url.searchParams.get('token')).toBe(token);
    expect([...url.searchParams.keys()]).toEqual(['token']);
  });
});

describe('consume', () => {
  it('refuses a token for another purpose (and leaves it usable for its own)', async () => {
    const { service } = serviceWith();
    const { token } = await service.issue('email-verification', 'usr_1');
    await expect(service.consume(token, 'password-reset')).rejects.toMatchObject({ code: 'ONE_TIME_TOKEN_INVALID' });
    await expect(service.consume(token, 'invitation')).rejects.toMatchObject({ code: 'ONE_TIME_TOKEN_INVALID' });
    expect(await service.consume(token, 'email-verification')).toMatchObject({ purpose: 'email-verification', subject: 'usr_1' });
  });

  it('refuses unknown and malformed tokens with ONE_TIME_TOKEN_INVALID, an unknown purpose with VALIDATION_FAILED', async () => {
    const { service } = serviceWith();
    const { token } = await service.issue('password-reset', 'usr_1');
    for (const bad of ['A'.repeat(43), token.slice(0, -1), `${token}x`, '', ' '.repeat(43), 42, null]) {
      await expect(service.consume(bad as string, 'password-reset')).rejects.toMatchObject({ code: 'ONE_TIME_TOKEN_INVALID' });
    }
    await expect(service.consume(token, 'login' as never)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await service.consume(token, 'password-reset')).toMatchObject({ subject: 'usr_1' });
  });
});

describe('issue', () => {
  it('uses each purpose default lifetime and path, configured ones, and a per-issue ttlSeconds', async () => {
    const { service, clock } = serviceWith({
      links: { baseUrl: 'https://app.example.com/portal/', paths: { invitation: '/join' } },
      ttlSeconds: { 'email-verification': 7200 },
    });
    const now = clock.now();
    const reset = await service.issue('password-reset', 'usr_1');
    const verification = await service.issue('email-verification', 'usr_1');
    const invitation = await service.issue('invitation', 'bob@example.com', { tenantId: 'tnt_acme', data: { roles: ['member'] } });
    const short = await service.issue('password-reset', 'usr_2', { ttlSeconds: 600 });
    expect([reset.expiresAt - now, verification.expiresAt - now, invitation.expiresAt - now, short.expiresAt - now]).toEqual([
      3_600_000, 7_200_000, 604_800_000, 600_000,
    ]);
    expect(new URL(reset.link).pathname).toBe('/portal/reset-password');
    expect(new URL(verification.link).pathname).toBe('/portal/verify-email');
    expect(new URL(invitation.link).pathname).toBe('/portal/join');
    expect(invitation.record).toMatchObject({ purpose: 'invitation', subject: 'bob@example.com', tenantId: 'tnt_acme', data: { roles: ['member'] } });
    expect(await service.consume(invitation.token, 'invitation')).toMatchObject({ tenantId: 'tnt_acme', data: { roles: ['member'] } });
  });

  it('voids per purpose, subject and tenant: other purposes and tenants keep their tokens', async () => {
    const { service } = serviceWith();
    const acme = await service.issue('invitation', 'bob@example.com', { tenantId: 'tnt_acme' });
    const globex = await service.issue('invitation', 'bob@example.com', { tenantId: 'tnt_globex' });
    const verification = await service.issue('email-verification', 'bob@example.com');
    await service.issue('invitation', 'bob@example.com', { tenantId: 'tnt_acme' });
    await expect(service.consume(acme.token, 'invitation')).rejects.toMatchObject({ code: 'ONE_TIME_TOKEN_INVALID' });
    expect(await service.consume(globex.token, 'invitation')).toMatchObject({ tenantId: 'tnt_globex' });
    expect(await service.consume(verification.token, 'email-verification')).toMatchObject({ tenantId: null });
  });

  it('voidFor voids a subject tokens of one purpose (all tenants, or one)', async () => {
    const { service } = serviceWith();
    const reset = await service.issue('password-reset', 'usr_1');
    const acme = await service.issue('invitation', 'bob@example.com', { tenantId: 'tnt_acme' });
    const globex = await service.issue('invitation', 'bob@example.com', { tenantId: 'tnt_globex' });
    expect(await service.voidFor('invitation', 'bob@example.com', 'tnt_acme')).toBe(1);
    expect(await service.consume(globex.token, 'invitation')).toMatchObject({ tenantId: 'tnt_globex' });
    await expect(service.consume(acme.token, 'invitation')).rejects.toMatchObject({ code: 'ONE_TIME_TOKEN_INVALID' });
    expect(await service.voidFor('password-reset', 'usr_1')).toBe(1);
    await expect(service.consume(reset.token, 'password-reset')).rejects.toMatchObject({ code: 'ONE_TIME_TOKEN_INVALID' });
    expect(await service.voidFor('password-reset', 'usr_1')).toBe(0);
  });

  it('refuses bad arguments with VALIDATION_FAILED and stores nothing', async () => {
    const { service, store } = serviceWith();
    await expect(service.issue('login' as never, 'usr_1')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(service.issue('password-reset', '')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(service.issue('password-reset', 'usr_1', { ttlSeconds: 10 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(service.issue('password-reset', 'usr_1', { data: { when: new Date() } as never })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(service.issue('password-reset', 'usr_1', { data: { big: 'x'.repeat(20_000) } })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(store.issued).toEqual([]);
  });
});

describe('link base URLs come from configuration only', () => {
  it('uses the tenant base URL for a tenant token, falling back to baseUrl when it has none', async () => {
    const { service } = serviceWith({
      links: { baseUrl: 'https://app.example.com', tenantBaseUrl: async (tenantId) => (tenantId === 'tnt_acme' ? 'https://login.acme.test' : undefined) },
    });
    expect(new URL((await service.issue('invitation', 'bob@example.com', { tenantId: 'tnt_acme' })).link).origin).toBe('https://login.acme.test');
    expect(new URL((await service.issue('invitation', 'bob@example.com', { tenantId: 'tnt_globex' })).link).origin).toBe('https://app.example.com');
    expect(new URL((await service.issue('password-reset', 'usr_1')).link).origin).toBe('https://app.example.com');
  });

  it.each([
    ['plain http', 'http://login.acme.test'],
    ['a relative URL (what a Host header would give)', '/reset'],
    ['a bare host name', 'evil.example'],
    ['credentials', 'https://user:pass@login.acme.test'],
    ['a query', 'https://login.acme.test/?next=https://evil.example'],
    ['a fragment', 'https://login.acme.test/#x'],
    ['javascript:', 'javascript:alert(1)'],
    ['a non-string', 42],
  ])('refuses a tenantBaseUrl answer with %s as CONFIGURATION_INVALID, and voids nothing', async (_case, answer) => {
    const { service: plain, store } = serviceWith();
    const misconfigured = createOneTimeTokenService({ store, links: { baseUrl: 'https://app.example.com', tenantBaseUrl: () => answer as string } });
    const earlier = await plain.issue('invitation', 'bob@example.com', { tenantId: 'tnt_acme' });
    await expect(misconfigured.issue('invitation', 'bob@example.com', { tenantId: 'tnt_acme' })).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
    expect(store.issued).toHaveLength(1);
    expect(await plain.consume(earlier.token, 'invitation')).toMatchObject({ subject: 'bob@example.com' });
  });

  it('accepts http only on loopback hosts', async () => {
    for (const baseUrl of ['http://localhost:3000', 'http://127.0.0.1:8080', 'http://[::1]:3000', 'http://app.localhost']) {
      const { service } = serviceWith({ links: { baseUrl } });
      expect((await service.issue('password-reset', 'usr_1')).link.startsWith(baseUrl)).toBe(true);
    }
  });

  it.each([
    ['an http base URL', { links: { baseUrl: 'http://app.example.com' } }],
    ['a relative base URL', { links: { baseUrl: '/app' } }],
    ['a base URL with a query', { links: { baseUrl: 'https://app.example.com/?a=1' } }],
    ['a path with a query', { links: { baseUrl: 'https://app.example.com', paths: { 'password-reset': '/reset?x=1' } } }],
    ['a path without a leading slash', { links: { baseUrl: 'https://app.example.com', paths: { 'password-reset': 'reset' } } }],
    ['a protocol-relative path', { links: { baseUrl: 'https://app.example.com', paths: { 'password-reset': '//evil.example/reset' } } }],
    ['a dot-dot path', { links: { baseUrl: 'https://app.example.com/app', paths: { 'password-reset': '/../reset' } } }],
    ['a percent-encoded dot-dot path', { links: { baseUrl: 'https://app.example.com/app', paths: { 'password-reset': '/%2e%2e/reset' } } }],
    ['a path for an unknown purpose', { links: { baseUrl: 'https://app.example.com', paths: { login: '/login' } } }],
    ['a ttl below a minute', { ttlSeconds: { 'password-reset': 30 } }],
    ['no store', { store: undefined }],
    ['an unknown option', { hostHeader: true }],
  ])('refuses %s when the service is created (CONFIGURATION_INVALID)', (_case, options) => {
    const base = { store: memoryOneTimeTokenStore(), links: { baseUrl: 'https://app.example.com' } };
    expect(() => createOneTimeTokenService({ ...base, ...options } as never)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
  });
});
