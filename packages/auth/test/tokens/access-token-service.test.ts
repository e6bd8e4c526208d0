import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createManualClock, type ManualClock, toErrorResponse } from '@tenantkit/core';
import { runAsSystem, runWithTenant } from '@tenantkit/tenant-context';
import { decodeProtectedHeader, decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { memoryRevocationStore } from '../../src/adapters/memory/memory-revocation-store.js';
import type { AuthError } from '../../src/errors.js';
import { createSigningKeySet } from '../../src/keys/create-signing-key-set.js';
import { generateSigningKey } from '../../src/keys/generate-signing-key.js';
import type { SigningKeySet } from '../../src/keys/signing-key-set.js';
import { createRevocationService } from '../../src/revocation/create-revocation-service.js';
import type { RevocationService } from '../../src/revocation/revocation-service.js';
import type { RevocationStore } from '../../src/store.js';
import type { AccessTokenService } from '../../src/tokens/access-token-service.js';
import { type AccessTokenServiceOptions, createAccessTokenService } from '../../src/tokens/create-access-token-service.js';
import { type HandSigner, b64url, handSignedToken } from './hand-signed-tokens.js';

const ISSUER = 'https://auth.example.com';
const AUDIENCE = 'https://api.example.com';
const MINUTE = 60_000;

// Generated once: RSA key generation is slow.
const ed = generateKeyPairSync('ed25519');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const attacker = generateKeyPairSync('ed25519');

const ED: HandSigner = { alg: 'EdDSA', privateKey: ed.privateKey };
const RSA: HandSigner = { alg: 'RS256', privateKey: rsa.privateKey };
const EC: HandSigner = { alg: 'ES256', privateKey: ec.privateKey };
const HEADER = { alg: 'EdDSA', kid: 'k-ed', typ: 'at+jwt' } as const;

interface Fixture {
  readonly clock: ManualClock;
  readonly keys: SigningKeySet;
  readonly store: RevocationStore;
  readonly revocation: RevocationService;
  readonly tokens: AccessTokenService;
  /** Claims of a valid access token at the fixture's clock, for hand-made tokens. */
  claims(extra?: Record<string, unknown>): Record<string, unknown>;
}

let jtiCounter = 0;

async function fixture(overrides: Partial<AccessTokenServiceOptions> = {}, store?: RevocationStore): Promise<Fixture> {
  const clock = createManualClock();
  const keys = await createSigningKeySet({
    keys: [
      { kid: 'k-ed', alg: 'EdDSA', privateKey: ed.privateKey },
      { kid: 'k-rsa', alg: 'RS256', privateKey: rsa.privateKey, status: 'verify-only' },
      { kid: 'k-ec', alg: 'ES256', privateKey: ec.privateKey, status: 'verify-only' },
    ],
    clock,
  });
  const revocationStore = store ?? memoryRevocationStore({ clock });
  const revocation = createRevocationService({ store: revocationStore, clock });
  const tokens = createAccessTokenService({ keys, issuer: ISSUER, audience: AUDIENCE, revocation, clock, ...overrides });
  const claims = (extra: Record<string, unknown> = {}) => {
    const now = clock.now();
    jtiCounter += 1;
    return {
      iss: ISSUER,
      sub: 'usr_1',
      aud: AUDIENCE,
      iat: Math.floor(now / 1000),
      iat_ms: now,
      exp: Math.floor(now / 1000) + 600,
      jti: `jti_hand_${jtiCounter}`,
      tid: 'tnt_a',
      sid: 'ses_1',
      ...extra,
    };
  };
  return { clock, keys, store: revocationStore, revocation, tokens, claims };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('issue', () => {
  it('signs an RFC 9068 access token: header alg, kid, typ at+jwt; claims sub tid sid jti iat iat_ms exp iss aud scope roles amr', async () => {
    const { tokens, clock } = await fixture();
    clock.set(Date.UTC(2026, 0, 1, 0, 0, 0, 123));
    const issued = await tokens.issue({
      userId: 'usr_1',
      tenantId: 'tnt_a',
      sessionId: 'ses_1',
      scopes: ['projects:read', 'projects:write'],
      roles: ['admin'],
      amr: ['pwd'],
    });
    expect(decodeProtectedHeader(issued.token)).toEqual({ alg: 'EdDSA', kid: 'k-ed', typ: 'at+jwt' });
    const payload = decodeJwt(issued.token);
    expect(payload).toEqual({
      iss: ISSUER,
      sub: 'usr_1',
      aud: AUDIENCE,
      iat: 1767225600,
      iat_ms: 1767225600123,
      exp: 1767225600 + 900,
      jti: issued.claims.jti,
      tid: 'tnt_a',
      sid: 'ses_1',
      scope: 'projects:read projects:write',
      roles: ['admin'],
      amr: ['pwd'],
    });
    expect(issued.claims.jti).toMatch(/^jti_[0-9a-z]{20}$/);
    expect(issued.expiresAt).toBe((1767225600 + 900) * 1000);
    expect(issued.claims).toEqual({
      sub: 'usr_1',
      tid: 'tnt_a',
      sid: 'ses_1',
      jti: issued.claims.jti,
      iat: 1767225600,
      iatMs: 1767225600123,
      exp: 1767225600 + 900,
      iss: ISSUER,
      aud: AUDIENCE,
      scope: ['projects:read', 'projects:write'],
      roles: ['admin'],
      amr: ['pwd'],
    });
    expect(Object.isFrozen(issued.claims)).toBe(true);
    await expect(tokens.verify(issued.token, { tenantId: 'tnt_a' })).resolves.toEqual(issued.claims);
  });

  it('omits scope, roles, amr, tid and sid when not given; ttlSeconds is capped by the service ttl', async () => {
    const { tokens } = await fixture({ ttlSeconds: 600 });
    const issued = await tokens.issue({ userId: 'usr_1', tenantId: null, sessionId: null, ttlSeconds: 3600 });
    const payload = decodeJwt(issued.token);
    for (const claim of ['scope', 'roles', 'amr', 'tid', 'sid']) expect(payload).not.toHaveProperty(claim);
    expect(issued.claims.exp - issued.claims.iat).toBe(600);
    const verified = await tokens.verify(issued.token, { tenantId: null });
    expect(verified).toMatchObject({ tid: null, sid: null, scope: undefined, roles: undefined, amr: undefined });
    const shorter = await tokens.issue({ userId: 'usr_1', tenantId: null, sessionId: null, ttlSeconds: 60 });
    expect(shorter.claims.exp - shorter.claims.iat).toBe(60);
  });

  it('an empty scope list is kept (a token restricted to nothing), unlike an absent one', async () => {
    const { tokens } = await fixture();
    const issued = await tokens.issue({ userId: 'usr_1', tenantId: 'tnt_a', sessionId: null, scopes: [] });
    expect(decodeJwt(issued.token).scope).toBe('');
    expect((await tokens.verify(issued.token)).scope).toEqual([]);
  });

  it('uses the per-tenant issuer and audience', async () => {
    const { tokens } = await fixture({
      tenantIssuer: (tenantId) => (tenantId === 'tnt_b' ? { issuer: 'https://b.auth.example.com', audience: 'https://b.api.example.com' } : undefined),
    });
    const b = await tokens.issue({ userId: 'usr_1', tenantId: 'tnt_b', sessionId: null });
    expect(decodeJwt(b.token)).toMatchObject({ iss: 'https://b.auth.example.com', aud: 'https://b.api.example.com' });
    await expect(tokens.verify(b.token, { tenantId: 'tnt_b' })).resolves.toMatchObject({ iss: 'https://b.auth.example.com' });
    const a = await tokens.issue({ userId: 'usr_1', tenantId: 'tnt_a', sessionId: null });
    expect(decodeJwt(a.token)).toMatchObject({ iss: ISSUER, aud: AUDIENCE });
  });

  it('refuses invalid input with VALIDATION_FAILED', async () => {
    const { tokens } = await fixture();
    const bad = [
      { userId: '', tenantId: null, sessionId: null },
      { userId: 'usr_1', tenantId: '', sessionId: null },
      { userId: 'usr_1', tenantId: null },
      { userId: 'usr_1', tenantId: null, sessionId: null, scopes: ['has space'] },
      { userId: 'usr_1', tenantId: null, sessionId: null, ttlSeconds: 0 },
      { userId: 'usr_1', tenantId: null, sessionId: null, extra: true },
    ];
    for (const input of bad) await expect(tokens.issue(input as never)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it.each(['ES256', 'RS256', 'HS256'] as const)('issues and verifies with %s keys', async (alg) => {
    const clock = createManualClock();
    const keys = await createSigningKeySet({ keys: [await generateSigningKey({ kid: `k-${alg}`, alg })], clock });
    const revocation = createRevocationService({ store: memoryRevocationStore({ clock }), clock });
    const tokens = createAccessTokenService({ keys, issuer: ISSUER, audience: AUDIENCE, revocation, clock });
    const issued = await tokens.issue({ userId: 'usr_1', tenantId: 'tnt_a', sessionId: null });
    expect(decodeProtectedHeader(issued.token)).toEqual({ alg, kid: `k-${alg}`, typ: 'at+jwt' });
    await expect(tokens.verify(issued.token, { tenantId: 'tnt_a' })).resolves.toEqual(issued.claims);
  });
});

describe('options', () => {
  it('are validated when the service is created', async () => {
    const { keys, revocation } = await fixture();
    const base = { keys, issuer: ISSUER, audience: AUDIENCE, revocation };
    const bad: unknown[] = [
      { ...base, clockToleranceSeconds: 301 },
      { ...base, clockToleranceSeconds: -1 },
      { ...base, ttlSeconds: 0 },
      { ...base, ttlSeconds: 1.5 },
      { ...base, issuer: '' },
      { ...base, audience: undefined },
      { ...base, keys: {} },
      { ...base, revocation: undefined },
      { ...base, cache: { maxEntries: 0 } },
      { ...base, cache: true },
      { ...base, tenantIssuer: 'https://x' },
      { ...base, unknown: 1 },
    ];
    for (const options of bad) expect(() => createAccessTokenService(options as never)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
    expect(() => createAccessTokenService({ ...base, clockToleranceSeconds: 300, cache: false })).not.toThrow();
  });

  it('a tenantIssuer answer that is not { issuer?, audience? } of non-empty strings is CONFIGURATION_INVALID, on issue and on verify', async () => {
    const { keys, revocation, clock } = await fixture();
    const plain = createAccessTokenService({ keys, issuer: ISSUER, audience: AUDIENCE, revocation, clock });
    const issued = await plain.issue({ userId: 'usr_1', tenantId: 'tnt_a', sessionId: null });
    for (const answer of [null, 'https://x', [], { issuer: '' }, { audience: 42 }, { issuer: 'x'.repeat(2049) }, { issuer: 'https://x', extra: 1 }]) {
      const tokens = createAccessTokenService({ keys, issuer: ISSUER, audience: AUDIENCE, revocation, clock, cache: false, tenantIssuer: () => answer as never });
      await expect(tokens.issue({ userId: 'usr_1', tenantId: 'tnt_a', sessionId: null })).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
      await expect(tokens.verify(issued.token)).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
    }
    const partial = createAccessTokenService({ keys, issuer: ISSUER, audience: AUDIENCE, revocation, clock, tenantIssuer: () => ({ issuer: ISSUER }) });
    await expect(partial.verify(issued.token)).resolves.toMatchObject({ iss: ISSUER, aud: AUDIENCE });
  });
});

describe('verify: JWT checklist', () => {
  it('a hand-made token with valid claims verifies (the baseline the rejections below differ from)', async () => {
    const { tokens, claims } = await fixture();
    await expect(tokens.verify(handSignedToken(HEADER, claims(), ED), { tenantId: 'tnt_a' })).resolves.toMatchObject({ sub: 'usr_1' });
    await expect(tokens.verify(handSignedToken({ alg: 'RS256', kid: 'k-rsa', typ: 'at+jwt' }, claims(), RSA))).resolves.toBeDefined();
    await expect(tokens.verify(handSignedToken({ alg: 'ES256', kid: 'k-ec', typ: 'at+jwt' }, claims(), EC))).resolves.toBeDefined();
  });

  it.each(['none', 'None', 'NONE', 'nOnE'])('alg %s rejected', async (alg) => {
    const { tokens, claims } = await fixture();
    const unsigned = handSignedToken({ ...HEADER, alg }, claims(), { alg: 'none' });
    await expect(tokens.verify(unsigned)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    // Even with a signature attached, "none" never selects a key.
    const signed = handSignedToken({ ...HEADER, alg }, claims(), ED);
    await expect(tokens.verify(signed)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
  });

  it('algorithm allow-list pinned: the header alg must be the alg of the key its kid names', async () => {
    const { tokens, claims } = await fixture();
    // A valid RS256 signature, but presented under the EdDSA key's kid.
    await expect(tokens.verify(handSignedToken({ alg: 'RS256', kid: 'k-ed', typ: 'at+jwt' }, claims(), RSA))).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    });
    // The RSA key's kid with another RSA algorithm jose knows.
    await expect(tokens.verify(handSignedToken({ alg: 'PS256', kid: 'k-rsa', typ: 'at+jwt' }, claims(), RSA))).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    });
    await expect(tokens.verify(handSignedToken({ alg: 'ES384', kid: 'k-ec', typ: 'at+jwt' }, claims(), EC))).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    });
    await expect(tokens.verify(handSignedToken({ alg: 'HS512', kid: 'k-ed', typ: 'at+jwt' }, claims(), { alg: 'HS256', secret: 'x' }))).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    });
  });

  describe('HS256 signed with an RSA/EC public key rejected', () => {
    const forms = (publicKey: typeof rsa.publicKey) => ({
      PEM: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
      'PEM (PKCS#1)': publicKey.asymmetricKeyType === 'rsa' ? publicKey.export({ format: 'pem', type: 'pkcs1' }).toString() : undefined,
      DER: publicKey.export({ format: 'der', type: 'spki' }),
      JWK: JSON.stringify(publicKey.export({ format: 'jwk' })),
    });

    for (const [label, publicKey, kid] of [
      ['RSA', rsa.publicKey, 'k-rsa'],
      ['EC', ec.publicKey, 'k-ec'],
      ['Ed25519', ed.publicKey, 'k-ed'],
    ] as const) {
      for (const [form, secret] of Object.entries(forms(publicKey))) {
        if (secret === undefined) continue;
        it(`HS256 signed with the ${label} public key as ${form} is TOKEN_INVALID`, async () => {
          const { tokens, claims } = await fixture();
          const bytes = typeof secret === 'string' ? secret : new Uint8Array(secret);
          for (const header of [
            { alg: 'HS256', kid, typ: 'at+jwt' },
            { alg: 'HS256', typ: 'at+jwt' },
          ]) {
            const forged = handSignedToken(header, claims(), { alg: 'HS256', secret: bytes });
            await expect(tokens.verify(forged)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
          }
        });
      }
    }
  });

  it('wrong key type rejected: a kid naming a key of another type fails whatever the header says', async () => {
    const { tokens, claims } = await fixture();
    // EdDSA signature under the EC key's kid, with either algorithm in the header.
    await expect(tokens.verify(handSignedToken({ alg: 'EdDSA', kid: 'k-ec', typ: 'at+jwt' }, claims(), ED))).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    });
    await expect(tokens.verify(handSignedToken({ alg: 'ES256', kid: 'k-ec', typ: 'at+jwt' }, claims(), ED))).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    });
    // An ES256 signature under the Ed25519 key's kid.
    await expect(tokens.verify(handSignedToken({ alg: 'ES256', kid: 'k-ed', typ: 'at+jwt' }, claims(), EC))).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    });
  });

  it('a token signed with a key outside the keyset, under a known kid, is TOKEN_INVALID', async () => {
    const { tokens, claims } = await fixture();
    const forged = handSignedToken(HEADER, claims(), { alg: 'EdDSA', privateKey: attacker.privateKey });
    await expect(tokens.verify(forged)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
  });

  it('kid treated as opaque: path traversal, SQL and URL values are TOKEN_INVALID and harmless', async () => {
    const { tokens, claims } = await fixture();
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    try {
      for (const kid of [
        '../../etc/passwd',
        '/dev/random',
        "k-ed' OR '1'='1",
        'k-ed; DROP TABLE keys; --',
        'https://evil.example/jwks.json',
        'file:///etc/passwd',
        '__proto__',
        'constructor',
        'k-ed\u0000',
        'K-ED',
        '',
        42,
        null,
        { $ne: null },
      ]) {
        const token = handSignedToken({ ...HEADER, kid }, claims(), ED);
        await expect(tokens.verify(token), String(kid)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
      }
      expect(fetchSpy).not.toHaveBeenCalled();
    } finally {
      fetchSpy.mockRestore();
    }
    // Nothing was disturbed: the real kid still verifies.
    await expect(tokens.verify(handSignedToken(HEADER, claims(), ED))).resolves.toBeDefined();
  });

  describe('jku / x5u / embedded jwk / x5c ignored', () => {
    let requests = 0;
    let url = '';
    const server = createServer((request, response) => {
      requests += 1;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [{ ...attacker.publicKey.export({ format: 'jwk' }), kid: 'evil', alg: 'EdDSA' }] }));
    });
    beforeAll(async () => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('a token signed with the attacker key it embeds or points at is TOKEN_INVALID, and nothing is fetched', async () => {
      const { tokens, claims } = await fixture();
      const attackerJwk = { ...attacker.publicKey.export({ format: 'jwk' }), alg: 'EdDSA' };
      const attackerSigner: HandSigner = { alg: 'EdDSA', privateKey: attacker.privateKey };
      const certificate = b64url('not really a certificate');
      const headers = [
        { alg: 'EdDSA', typ: 'at+jwt', jwk: attackerJwk },
        { alg: 'EdDSA', typ: 'at+jwt', kid: 'k-ed', jwk: attackerJwk },
        { alg: 'EdDSA', typ: 'at+jwt', kid: 'evil', jku: url },
        { alg: 'EdDSA', typ: 'at+jwt', kid: 'k-ed', jku: url },
        { alg: 'EdDSA', typ: 'at+jwt', kid: 'evil', x5u: url },
        { alg: 'EdDSA', typ: 'at+jwt', kid: 'k-ed', x5c: [certificate] },
      ];
      for (const header of headers) {
        await expect(tokens.verify(handSignedToken(header, claims(), attackerSigner))).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
      }
      expect(requests).toBe(0);
    });

    it('the same parameters on a token signed with our key change nothing: our key verifies it', async () => {
      const { tokens, claims } = await fixture();
      const attackerJwk = attacker.publicKey.export({ format: 'jwk' });
      const token = handSignedToken({ ...HEADER, jku: url, x5u: url, jwk: attackerJwk, x5c: [b64url('cert')] }, claims(), ED);
      await expect(tokens.verify(token)).resolves.toMatchObject({ sub: 'usr_1' });
      expect(requests).toBe(0);
    });
  });

  it('crit handling: any crit header is TOKEN_INVALID (no extension is understood)', async () => {
    const { tokens, claims } = await fixture();
    for (const extra of [
      { crit: ['exp'], exp: 1 },
      { crit: ['urn:example:ext'], 'urn:example:ext': true },
      { crit: ['b64'], b64: true },
      { crit: [] },
      { b64: false },
    ]) {
      const token = handSignedToken({ ...HEADER, ...extra }, claims(), ED);
      await expect(tokens.verify(token), JSON.stringify(extra)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    }
  });

  it('exp with bounded tolerance: accepted until exp + tolerance, then TOKEN_EXPIRED (fresh and cached)', async () => {
    const { tokens, clock } = await fixture({ clockToleranceSeconds: 30 });
    const issued = await tokens.issue({ userId: 'usr_1', tenantId: 'tnt_a', sessionId: null });
    const fresh = await fixture({ clockToleranceSeconds: 30 });
    await tokens.verify(issued.token);
    clock.set(issued.expiresAt + 29_999);
    await expect(tokens.verify(issued.token)).resolves.toBeDefined();
    clock.set(issued.expiresAt + 30_000);
    await expect(tokens.verify(issued.token)).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
    // The same bound for a service that never saw the token.
    fresh.clock.set(issued.expiresAt + 30_000);
    const uncached = createAccessTokenService({ keys: tokens.keys, issuer: ISSUER, audience: AUDIENCE, revocation: fresh.revocation, clock: fresh.clock });
    await expect(uncached.verify(issued.token)).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
  });

  it('exp with zero tolerance fails at exp exactly', async () => {
    const { tokens, clock } = await fixture({ clockToleranceSeconds: 0 });
    const issued = await tokens.issue({ userId: 'usr_1', tenantId: 'tnt_a', sessionId: null });
    clock.set(issued.expiresAt - 1);
    await expect(tokens.verify(issued.token)).resolves.toBeDefined();
    clock.set(issued.expiresAt);
    await expect(tokens.verify(issued.token)).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
  });

  it('nbf with bounded tolerance: a token not valid yet is TOKEN_EXPIRED beyond the tolerance', async () => {
    const { tokens, claims, clock } = await fixture({ clockToleranceSeconds: 30 });
    const nowSeconds = Math.floor(clock.now() / 1000);
    await expect(tokens.verify(handSignedToken(HEADER, claims({ nbf: nowSeconds + 31 }), ED))).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
    await expect(tokens.verify(handSignedToken(HEADER, claims({ nbf: nowSeconds + 30 }), ED))).resolves.toBeDefined();
    await expect(tokens.verify(handSignedToken(HEADER, claims({ nbf: 'soon' }), ED))).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
  });

  it('a token issued in the future (beyond the tolerance) or with iat_ms disagreeing with iat is TOKEN_INVALID', async () => {
    const { tokens, claims, clock } = await fixture({ clockToleranceSeconds: 30 });
    const future = clock.now() + 31_000;
    await expect(
      tokens.verify(handSignedToken(HEADER, claims({ iat: Math.floor(future / 1000), iat_ms: future, exp: Math.floor(future / 1000) + 600 }), ED)),
    ).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    const now = clock.now();
    await expect(tokens.verify(handSignedToken(HEADER, claims({ iat_ms: now - 5_000 }), ED))).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    await expect(tokens.verify(handSignedToken(HEADER, claims({ iat_ms: undefined }), ED))).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
  });

  it('iss required and checked', async () => {
    const { tokens, claims } = await fixture();
    for (const iss of [undefined, 'https://evil.example.com', `${ISSUER}/`, ['https://auth.example.com']]) {
      await expect(tokens.verify(handSignedToken(HEADER, claims({ iss }), ED)), String(iss)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    }
  });

  it('aud required and checked (a string, or an array that holds it)', async () => {
    const { tokens, claims } = await fixture();
    for (const aud of [undefined, 'https://other.example.com', [], ['https://other.example.com'], 42]) {
      await expect(tokens.verify(handSignedToken(HEADER, claims({ aud }), ED)), JSON.stringify(aud)).rejects.toMatchObject({
        code: 'TOKEN_INVALID',
      });
    }
    const verified = await tokens.verify(handSignedToken(HEADER, claims({ aud: ['https://other.example.com', AUDIENCE] }), ED));
    expect(verified.aud).toBe(AUDIENCE);
  });

  it('per-tenant iss / aud: a token with the default issuer fails for a tenant that has its own', async () => {
    const { tokens, claims } = await fixture({ tenantIssuer: (tenantId) => (tenantId === 'tnt_b' ? { audience: 'https://b.api.example.com' } : undefined) });
    await expect(tokens.verify(handSignedToken(HEADER, claims({ tid: 'tnt_b' }), ED), { tenantId: 'tnt_b' })).rejects.toMatchObject({
      code: 'TOKEN_INVALID',
    });
    await expect(
      tokens.verify(handSignedToken(HEADER, claims({ tid: 'tnt_b', aud: 'https://b.api.example.com' }), ED), { tenantId: 'tnt_b' }),
    ).resolves.toMatchObject({ aud: 'https://b.api.example.com' });
  });

  it('required claims missing or of the wrong type are TOKEN_INVALID', async () => {
    const { tokens, claims } = await fixture();
    for (const extra of [
      { sub: undefined },
      { sub: '' },
      { sub: 42 },
      { jti: undefined },
      { iat: undefined },
      { iat: 1.5 },
      { exp: undefined },
      { exp: '9999999999' },
      { tid: 42 },
      { tid: '' },
      { sid: [] },
      { scope: ['a'] },
      { roles: 'admin' },
      { amr: [1] },
    ]) {
      await expect(tokens.verify(handSignedToken(HEADER, claims(extra), ED)), JSON.stringify(extra)).rejects.toMatchObject({
        code: 'TOKEN_INVALID',
      });
    }
    for (const payload of ['not json', '[1,2]', 'null', '"string"']) {
      await expect(tokens.verify(handSignedToken(HEADER, payload, ED)), payload).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    }
  });

  it('typ separates access, refresh and ID tokens: only at+jwt verifies', async () => {
    const { tokens, claims } = await fixture();
    // An ID token: typ JWT and otherwise the same claims, signed by the same key.
    for (const typ of ['JWT', 'jwt', undefined, 'refresh+jwt', 'rt+jwt', 'id_token+jwt', 'at+jwt ', 'application/jwt', 42]) {
      const token = handSignedToken({ ...HEADER, typ }, claims(), ED);
      await expect(tokens.verify(token), String(typ)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    }
    for (const typ of ['at+jwt', 'application/at+jwt', 'AT+JWT']) {
      await expect(tokens.verify(handSignedToken({ ...HEADER, typ }, claims(), ED)), typ).resolves.toBeDefined();
    }
  });

  it('malformed tokens and bad signatures are TOKEN_INVALID', async () => {
    const { tokens } = await fixture();
    const issued = await tokens.issue({ userId: 'usr_1', tenantId: 'tnt_a', sessionId: null });
    const [header, payload, signature] = issued.token.split('.') as [string, string, string];
    const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    const tampered = b64url({ ...decodeJwt(issued.token), sub: 'usr_admin' });
    for (const token of [
      '',
      'abc',
      'a.b',
      'a.b.c.d',
      `${header}.${payload}`,
      `${header}.${payload}.`,
      `${header}.${payload}.${flipped}`,
      `${header}.${tampered}.${signature}`,
      `${header}.${payload}.${signature}.extra`,
      `!!!.${payload}.${signature}`,
      `${'a'.repeat(20_000)}.b.c`,
      42 as never,
      undefined as never,
    ]) {
      await expect(tokens.verify(token)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    }
  });

  describe('a token issued for tenant A fails at tenant B', () => {
    it('with the tenant given explicitly', async () => {
      const { tokens } = await fixture();
      const issued = await tokens.issue({ userId: 'usr_1', tenantId: 'tnt_a', sessionId: null });
      await expect(tokens.verify(issued.token, { tenantId: 'tnt_b' })).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
      await expect(tokens.verify(issued.token, { tenantId: null })).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
      // Now cached: the hit path checks the tenant too.
      await expect(tokens.verify(issued.token, { tenantId: 'tnt_a' })).resolves.toBeDefined();
      await expect(tokens.verify(issued.token, { tenantId: 'tnt_b' })).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
      const untenanted = await tokens.issue({ userId: 'usr_1', tenantId: null, sessionId: null });
      await expect(tokens.verify(untenanted.token, { tenantId: 'tnt_a' })).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    });

    it('with the tenant taken from the ambient tenant scope', async () => {
      const { tokens } = await fixture();
      const issued = await tokens.issue({ userId: 'usr_1', tenantId: 'tnt_a', sessionId: null });
      await expect(runWithTenant('tnt_b', () => tokens.verify(issued.token))).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
      await expect(runWithTenant('tnt_a', () => tokens.verify(issued.token))).resolves.toMatchObject({ tid: 'tnt_a' });
      await expect(runWithTenant('tnt_b', () => tokens.verify(issued.token))).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
      // No scope (or the system scope) and no tenantId: any tid is accepted.
      await expect(tokens.verify(issued.token)).resolves.toBeDefined();
      await expect(runAsSystem({ reason: 'test' }, () => tokens.verify(issued.token))).resolves.toBeDefined();
    });
  });

  it('a revoked jti fails until exp', async () => {
    const { tokens, clock } = await fixture({ clockToleranceSeconds: 30 });
    const issued = await tokens.issue({ userId: 'usr_1', tenantId: 'tnt_a', sessionId: 'ses_1' });
    const other = await tokens.issue({ userId: 'usr_1', tenantId: 'tnt_a', sessionId: 'ses_1' });
    const claims = await tokens.verify(issued.token);
    await tokens.revoke(claims);
    await expect(tokens.verify(issued.token)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    await expect(tokens.verify(other.token)).resolves.toBeDefined();
    clock.set(issued.expiresAt + 29_999);
    await expect(tokens.verify(issued.token)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    clock.set(issued.expiresAt + 30_000);
    await expect(tokens.verify(issued.token)).rejects.toMatchObject({ code: 'TOKEN_EXPIRED' });
  });

  it('revoke stores the jti until exp plus the clock tolerance', async () => {
    const store = memoryRevocationStore();
    const revokeToken = vi.spyOn(store, 'revokeToken');
    const { tokens } = await fixture({ clockToleranceSeconds: 30 }, store);
    await tokens.revoke({ jti: 'jti_1', exp: 1767226500 });
    expect(revokeToken).toHaveBeenCalledWith('jti_1', 1767226500 * 1000 + 30_000);
    await expect(tokens.revoke({ jti: '', exp: 1 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('session, user and tenant revocation fail verify, cached or not', async () => {
    const { tokens, revocation, clock } = await fixture();
    const a = await tokens.issue({ userId: 'usr_1', tenantId: 'tnt_a', sessionId: 'ses_1' });
    const b = await tokens.issue({ userId: 'usr_2', tenantId: 'tnt_a', sessionId: 'ses_2' });
    const c = await tokens.issue({ userId: 'usr_3', tenantId: 'tnt_c', sessionId: 'ses_3' });
    for (const issued of [a, b, c]) await tokens.verify(issued.token);
    await revocation.revokeSession('ses_1', clock.now() + MINUTE);
    await expect(tokens.verify(a.token)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    await expect(tokens.verify(b.token)).resolves.toBeDefined();
    clock.advance(1);
    await revocation.revokeUser('usr_2');
    await expect(tokens.verify(b.token)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    clock.advance(1);
    const afterEpoch = await tokens.issue({ userId: 'usr_2', tenantId: 'tnt_a', sessionId: 'ses_2b' });
    await expect(tokens.verify(afterEpoch.token)).resolves.toBeDefined();
    await revocation.revokeTenant('tnt_c');
    await expect(tokens.verify(c.token)).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
  });

  it('fails closed with STORE_UNAVAILABLE when the revocation store cannot answer', async () => {
    const store = memoryRevocationStore();
    const { tokens } = await fixture({}, store);
    const issued = await tokens.issue({ userId: 'usr_1', tenantId: 'tnt_a', sessionId: null });
    const cause = new Error('connection refused');
    vi.spyOn(store, 'check').mockRejectedValue(cause);
    const error = await rejection(tokens.verify(issued.token));
    expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE', cause });
  });

  describe('key rotation: old kid valid for the grace window, invalid after it', () => {
    it('on the cache hit path and for a service that never saw the token', async () => {
      const { tokens, keys, clock, revocation } = await fixture();
      const before = await tokens.issue({ userId: 'usr_1', tenantId: 'tnt_a', sessionId: null });
      await tokens.verify(before.token);
      await keys.rotate(await generateSigningKey({ kid: 'k-next' }), { graceMs: 10 * MINUTE });
      const after = await tokens.issue({ userId: 'usr_1', tenantId: 'tnt_a', sessionId: null });
      expect(decodeProtectedHeader(after.token).kid).toBe('k-next');
      const uncached = createAccessTokenService({ keys, issuer: ISSUER, audience: AUDIENCE, revocation, clock, cache: false });

      clock.advance(10 * MINUTE - 1);
      await expect(tokens.verify(before.token)).resolves.toBeDefined();
      await expect(uncached.verify(before.token)).resolves.toBeDefined();
      clock.advance(1);
      await expect(tokens.verify(before.token)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
      await expect(uncached.verify(before.token)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
      await expect(tokens.verify(after.token)).resolves.toBeDefined();
    });
  });
});

describe('verified-token cache', () => {
  it('a repeated verify returns the same frozen claims object; with the cache off every verify reads anew', async () => {
    const { tokens, keys, revocation, clock } = await fixture();
    const issued = await tokens.issue({ userId: 'usr_1', tenantId: 'tnt_a', sessionId: null, scopes: ['a'] });
    const first = await tokens.verify(issued.token);
    const second = await tokens.verify(issued.token);
    expect(second).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.scope)).toBe(true);
    const uncached = createAccessTokenService({ keys, issuer: ISSUER, audience: AUDIENCE, revocation, clock, cache: false });
    const a = await uncached.verify(issued.token);
    const b = await uncached.verify(issued.token);
    expect(a).toEqual(b);
    expect(a).not.toBe(b);
  });

  it('holds at most maxEntries tokens: past it the least recently verified is read anew', async () => {
    const { tokens } = await fixture({ cache: { maxEntries: 2 } });
    const issued = await Promise.all([1, 2, 3].map((n) => tokens.issue({ userId: `usr_${n}`, tenantId: 'tnt_a', sessionId: null })));
    const [one, two, three] = issued.map((item) => item.token) as [string, string, string];
    const first = await tokens.verify(one);
    await tokens.verify(two);
    expect(await tokens.verify(one)).toBe(first);
    await tokens.verify(three);
    const twoAgain = await tokens.verify(two);
    expect(await tokens.verify(one)).not.toBe(first);
    expect(twoAgain).toEqual(await tokens.verify(two));
  });

  it('clearCache empties it', async () => {
    const { tokens } = await fixture();
    const issued = await tokens.issue({ userId: 'usr_1', tenantId: 'tnt_a', sessionId: null });
    const first = await tokens.verify(issued.token);
    tokens.clearCache();
    const second = await tokens.verify(issued.token);
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
  });

  it('is flushed when the keyset retires a key', async () => {
    const { tokens, keys } = await fixture();
    const token = handSignedToken({ alg: 'RS256', kid: 'k-rsa', typ: 'at+jwt' }, (await fixture()).claims(), RSA);
    await expect(tokens.verify(token)).resolves.toBeDefined();
    expect(keys.retire('k-rsa')).toBe(true);
    await expect(tokens.verify(token)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
  });

  it("a 'signing-key-retired' revocation event flushes the kid's entries and retires it in this process", async () => {
    const { tokens, keys, revocation, claims } = await fixture();
    const token = handSignedToken({ alg: 'ES256', kid: 'k-ec', typ: 'at+jwt' }, claims(), EC);
    await expect(tokens.verify(token)).resolves.toBeDefined();
    await revocation.announce({ kind: 'signing-key-retired', id: 'k-ec' });
    await expect(tokens.verify(token)).rejects.toMatchObject({ code: 'TOKEN_INVALID' });
    expect(keys.verificationKey('k-ec')).toBeUndefined();
    // The active key is never retired by an event; only its cached tokens are dropped.
    const issued = await tokens.issue({ userId: 'usr_1', tenantId: 'tnt_a', sessionId: null });
    const first = await tokens.verify(issued.token);
    await revocation.announce({ kind: 'signing-key-retired', id: keys.activeKid });
    const again = await tokens.verify(issued.token);
    expect(again).toEqual(first);
    expect(again).not.toBe(first);
  });
});

describe('review findings', () => {
  it('401 bodies do not say which check failed (finding 11): generic message per code, no details, the reason only in cause', async () => {
    const { tokens, keys, clock, revocation, claims } = await fixture();
    const issued = await tokens.issue({ userId: 'usr_1', tenantId: 'tnt_a', sessionId: 'ses_1' });
    const [header, payload, signature] = issued.token.split('.') as [string, string, string];
    const retiredKidToken = handSignedToken({ alg: 'RS256', kid: 'k-rsa', typ: 'at+jwt' }, claims(), RSA);
    keys.retire('k-rsa');
    const hourAgo = Math.floor(clock.now() / 1000) - 3600;
    const refusals: Array<[string, () => Promise<unknown>]> = [
      ['TOKEN_INVALID', () => tokens.verify(issued.token, { tenantId: 'tnt_b' })],
      ['TOKEN_INVALID', () => tokens.verify(retiredKidToken)],
      ['TOKEN_INVALID', () => tokens.verify(handSignedToken({ ...HEADER, kid: 'k-unknown' }, claims(), ED))],
      ['TOKEN_INVALID', () => tokens.verify(handSignedToken({ ...HEADER, alg: 'RS256' }, claims(), RSA))],
      ['TOKEN_INVALID', () => tokens.verify(handSignedToken({ ...HEADER, typ: 'JWT' }, claims(), ED))],
      ['TOKEN_INVALID', () => tokens.verify(handSignedToken(HEADER, claims({ iss: 'https://evil.example.com' }), ED))],
      ['TOKEN_INVALID', () => tokens.verify(`${header}.${payload}.${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`)],
      ['TOKEN_EXPIRED', () => tokens.verify(handSignedToken(HEADER, claims({ iat: hourAgo - 60, iat_ms: (hourAgo - 60) * 1000, exp: hourAgo }), ED))],
      ['TOKEN_EXPIRED', () => tokens.verify(handSignedToken(HEADER, claims({ nbf: hourAgo + 7200 }), ED))],
    ];
    refusals.push(['TOKEN_REVOKED', async () => {
      await revocation.revokeSession('ses_1', clock.now() + MINUTE);
      return tokens.verify(issued.token, { tenantId: 'tnt_a' });
    }]);
    const messages = { TOKEN_INVALID: 'The access token is invalid', TOKEN_EXPIRED: 'The access token expired', TOKEN_REVOKED: 'The access token was revoked' };
    const reasons = new Set<string>();
    for (const [expected, verify] of refusals) {
      const error = (await rejection(verify())) as AuthError;
      expect(error).toMatchObject({ code: expected, message: messages[expected as keyof typeof messages], details: undefined });
      expect(toErrorResponse(error).body).toEqual({ error: { code: expected, message: messages[expected as keyof typeof messages] } });
      // For logs: the precise reason stays on the error, out of the body.
      expect(error.cause).toBeInstanceOf(Error);
      reasons.add((error.cause as Error).message);
    }
    // Every check names itself (an unknown and a retired kid read alike).
    expect(reasons.size).toBe(refusals.length - 1);
    expect([...reasons].some((reason) => reason.includes('another tenant'))).toBe(true);
  });

  it('same millisecond (finding 8): a token issued in the millisecond of revokeTenant or revokeUser fails verify, one issued a millisecond later passes', async () => {
    const { tokens, revocation, clock } = await fixture();
    const tenantToken = await tokens.issue({ userId: 'usr_1', tenantId: 'tnt_a', sessionId: 'ses_1' });
    await revocation.revokeTenant('tnt_a');
    await expect(tokens.verify(tenantToken.token, { tenantId: 'tnt_a' })).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    const userToken = await tokens.issue({ userId: 'usr_2', tenantId: 'tnt_b', sessionId: 'ses_2' });
    await revocation.revokeUser('usr_2');
    await expect(tokens.verify(userToken.token, { tenantId: 'tnt_b' })).rejects.toMatchObject({ code: 'TOKEN_REVOKED' });
    clock.advance(1);
    const later = await tokens.issue({ userId: 'usr_2', tenantId: 'tnt_a', sessionId: 'ses_3' });
    await expect(tokens.verify(later.token, { tenantId: 'tnt_a' })).resolves.toMatchObject({ sub: 'usr_2' });
  });

  it('a new token of a user verified moments ago needs no revocation store round trip; a token issued before that check does', async () => {
    const store = memoryRevocationStore();
    const check = vi.spyOn(store, 'check');
    const { tokens, clock } = await fixture({}, store);
    const older = await tokens.issue({ userId: 'usr_1', tenantId: 'tnt_a', sessionId: 'ses_1' });
    const first = await tokens.issue({ userId: 'usr_1', tenantId: 'tnt_a', sessionId: 'ses_1' });
    // Let the revocation service subscribe (until then no answer is trusted from memory).
    await Promise.resolve();
    clock.advance(1);
    await tokens.verify(first.token);
    expect(check).toHaveBeenCalledTimes(1);
    clock.advance(1);
    const refreshed = await tokens.issue({ userId: 'usr_1', tenantId: 'tnt_a', sessionId: 'ses_1' });
    await tokens.verify(refreshed.token);
    expect(check).toHaveBeenCalledTimes(1);
    await tokens.verify(older.token);
    expect(check).toHaveBeenCalledTimes(2);
    expect(check).toHaveBeenLastCalledWith(expect.objectContaining({ jti: decodeJwt(older.token).jti }), expect.any(Number));
  });
});
