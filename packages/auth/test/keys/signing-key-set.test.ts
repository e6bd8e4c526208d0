import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createManualClock } from '@tenantkit/core';
import { describe, expect, it } from 'vitest';
import { createSigningKeySet } from '../../src/keys/create-signing-key-set.js';
import { generateSigningKey } from '../../src/keys/generate-signing-key.js';
import type { SigningAlgorithm, SigningKeyInput } from '../../src/keys/signing-key-set.js';

const code = (c: string) => expect.objectContaining({ code: c });
const MINUTE = 60_000;

describe('generateSigningKey', () => {
  it.each([
    ['EdDSA', 'ed25519'],
    ['ES256', 'ec'],
    ['RS256', 'rsa'],
  ] as const)('%s makes a %s private key the keyset accepts', async (alg, type) => {
    const input = await generateSigningKey({ kid: `k-${alg}`, alg });
    expect(input).toMatchObject({ kid: `k-${alg}`, alg });
    expect((input.privateKey as { asymmetricKeyType?: string }).asymmetricKeyType).toBe(type);
    const keys = await createSigningKeySet({ keys: [input] });
    expect(keys.signingKey()).toMatchObject({ kid: `k-${alg}`, alg });
  });

  it('RS256 keys are 2048 bits, ES256 keys P-256', async () => {
    const rsa = await generateSigningKey({ alg: 'RS256' });
    expect((rsa.privateKey as { asymmetricKeyDetails?: { modulusLength?: number } }).asymmetricKeyDetails?.modulusLength).toBe(2048);
    const ec = await generateSigningKey({ alg: 'ES256' });
    expect((ec.privateKey as { asymmetricKeyDetails?: { namedCurve?: string } }).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  it('defaults to EdDSA with a random kid; HS256 gets a 32-byte secret', async () => {
    const input = await generateSigningKey();
    expect(input.alg).toBe('EdDSA');
    expect(input.kid).toMatch(/^key_[0-9a-z]{20}$/);
    const hs = await generateSigningKey({ alg: 'HS256' });
    expect(hs.secret).toBeInstanceOf(Uint8Array);
    expect((hs.secret as Uint8Array).byteLength).toBe(32);
    expect(hs.privateKey).toBeUndefined();
  });

  it('refuses an unknown algorithm and an invalid kid', async () => {
    await expect(generateSigningKey({ alg: 'HS512' as SigningAlgorithm })).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
    await expect(generateSigningKey({ kid: '' })).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
  });
});

describe('createSigningKeySet validation', () => {
  it('needs exactly one active key', async () => {
    const a = await generateSigningKey({ kid: 'a' });
    const b = await generateSigningKey({ kid: 'b' });
    await expect(createSigningKeySet({ keys: [a, b] })).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
    await expect(createSigningKeySet({ keys: [{ ...a, status: 'verify-only' }] })).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
    await expect(createSigningKeySet({ keys: [] })).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
    const keys = await createSigningKeySet({ keys: [a, { ...b, status: 'verify-only' }] });
    expect(keys.activeKid).toBe('a');
  });

  it('refuses duplicate kids', async () => {
    const a = await generateSigningKey({ kid: 'same' });
    const b = await generateSigningKey({ kid: 'same' });
    await expect(createSigningKeySet({ keys: [a, { ...b, status: 'verify-only' }] })).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
  });

  it('kids are 1-128 printable ASCII characters', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    for (const kid of ['', 'x'.repeat(129), 'ключ', 'line\nbreak', 'tab\there', 42 as never]) {
      await expect(createSigningKeySet({ keys: [{ kid, alg: 'EdDSA', privateKey }] })).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
    }
    for (const kid of ['x'.repeat(128), '../../etc/passwd', "' OR 1=1 --", 'https://evil.example/jwks.json', '__proto__']) {
      const keys = await createSigningKeySet({ keys: [{ kid, alg: 'EdDSA', privateKey }] });
      expect(keys.verificationKey(kid)?.alg).toBe('EdDSA');
    }
  });

  it('wrong key type rejected: the key type must fit the algorithm', async () => {
    const ed = generateKeyPairSync('ed25519').privateKey;
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    const rsa2048 = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const ed448 = generateKeyPairSync('ed448').privateKey;
    const wrong: SigningKeyInput[] = [
      { kid: 'k', alg: 'EdDSA', privateKey: p256 },
      { kid: 'k', alg: 'EdDSA', privateKey: ed448 },
      { kid: 'k', alg: 'EdDSA', privateKey: rsa2048 },
      { kid: 'k', alg: 'ES256', privateKey: ed },
      { kid: 'k', alg: 'ES256', privateKey: p384 },
      { kid: 'k', alg: 'RS256', privateKey: rsa1024 },
      { kid: 'k', alg: 'RS256', privateKey: p256 },
      { kid: 'k', alg: 'HS256', secret: randomBytes(31) },
      { kid: 'k', alg: 'HS256', secret: 'too short a secret' },
      { kid: 'k', alg: 'HS256', privateKey: ed },
      { kid: 'k', alg: 'HS256', secret: randomBytes(32), publicKey: ed },
      { kid: 'k', alg: 'EdDSA', secret: randomBytes(32) },
      { kid: 'k', alg: 'HS256' },
      { kid: 'k', alg: 'EdDSA' },
      { kid: 'k', alg: 'PS256' as SigningAlgorithm, privateKey: rsa2048 },
    ];
    for (const input of wrong) {
      await expect(createSigningKeySet({ keys: [input] }), `${input.alg} ${JSON.stringify(Object.keys(input))}`).rejects.toMatchObject({
        code: 'CONFIGURATION_INVALID',
      });
    }
    await expect(createSigningKeySet({ keys: [{ kid: 'k', alg: 'RS256', privateKey: rsa2048 }] })).resolves.toBeDefined();
    await expect(createSigningKeySet({ keys: [{ kid: 'k', alg: 'HS256', secret: randomBytes(32) }] })).resolves.toBeDefined();
  });

  it('a public key passed as the private key, or a mismatched pair, is refused', async () => {
    const one = generateKeyPairSync('ed25519');
    const other = generateKeyPairSync('ed25519');
    await expect(createSigningKeySet({ keys: [{ kid: 'k', alg: 'EdDSA', privateKey: one.publicKey }] })).rejects.toMatchObject({
      code: 'CONFIGURATION_INVALID',
    });
    await expect(
      createSigningKeySet({ keys: [{ kid: 'k', alg: 'EdDSA', privateKey: one.privateKey, publicKey: other.publicKey }] }),
    ).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
    await expect(
      createSigningKeySet({ keys: [{ kid: 'k', alg: 'EdDSA', privateKey: one.privateKey, publicKey: one.publicKey }] }),
    ).resolves.toBeDefined();
  });

  it('the active key must be able to sign; a verify-only key may be public only', async () => {
    const signer = await generateSigningKey({ kid: 'signer' });
    const { publicKey } = generateKeyPairSync('ed25519');
    await expect(createSigningKeySet({ keys: [{ kid: 'pub', alg: 'EdDSA', publicKey }] })).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
    const keys = await createSigningKeySet({ keys: [signer, { kid: 'pub', alg: 'EdDSA', publicKey, status: 'verify-only' }] });
    expect(keys.verificationKey('pub')?.alg).toBe('EdDSA');
  });

  it('reads PEM strings and JWKs, and refuses what is neither', async () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const jwk = pair.privateKey.export({ format: 'jwk' });
    const publicPem = pair.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const publicJwk = pair.publicKey.export({ format: 'jwk' });
    await expect(createSigningKeySet({ keys: [{ kid: 'pem', alg: 'ES256', privateKey: pem }] })).resolves.toBeDefined();
    await expect(createSigningKeySet({ keys: [{ kid: 'jwk', alg: 'ES256', privateKey: jwk }] })).resolves.toBeDefined();
    const signer = await generateSigningKey({ kid: 'signer', alg: 'ES256' });
    const keys = await createSigningKeySet({
      keys: [signer, { kid: 'p1', alg: 'ES256', publicKey: publicPem, status: 'verify-only' }, { kid: 'p2', alg: 'ES256', publicKey: publicJwk, status: 'verify-only' }],
    });
    expect(keys.list().map((key) => key.kid)).toEqual(['signer', 'p1', 'p2']);
    for (const bad of ['not a key', pem.replace('PRIVATE', 'PUBLIC'), { kty: 'EC' }, { ...jwk, alg: 'RS256' }, { ...jwk, use: 'enc' }]) {
      await expect(createSigningKeySet({ keys: [{ kid: 'bad', alg: 'ES256', privateKey: bad as never }] })).rejects.toMatchObject({
        code: 'CONFIGURATION_INVALID',
      });
    }
  });

  it('error messages never contain key material', async () => {
    const secret = 'a-secret-that-is-too-short';
    const error = await createSigningKeySet({ keys: [{ kid: 'k', alg: 'HS256', secret }] }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'CONFIGURATION_INVALID' });
    expect(String((error as Error).message)).not.toContain(secret);
  });
});

describe('jwks', () => {
  it('publishes public keys only, with kid, alg and use "sig", and never an HS256 key', async () => {
    const ed = await generateSigningKey({ kid: 'ed' });
    const ec = await generateSigningKey({ kid: 'ec', alg: 'ES256' });
    const rsa = await generateSigningKey({ kid: 'rsa', alg: 'RS256' });
    const hs = await generateSigningKey({ kid: 'hs', alg: 'HS256' });
    const keys = await createSigningKeySet({
      keys: [ed, { ...ec, status: 'verify-only' }, { ...rsa, status: 'verify-only' }, { ...hs, status: 'verify-only' }],
    });
    const { keys: published } = keys.jwks();
    expect(published.map((jwk) => jwk.kid)).toEqual(['ed', 'ec', 'rsa']);
    for (const jwk of published) {
      expect(jwk.use).toBe('sig');
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth']) expect(jwk).not.toHaveProperty(member);
    }
    expect(published[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    expect(published[1]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
    expect(published[2]).toMatchObject({ kty: 'RSA', alg: 'RS256', e: 'AQAB' });
    expect(JSON.stringify(keys.jwks())).not.toContain('"d"');
  });

  it('an HS256-only keyset publishes an empty JWKS', async () => {
    const keys = await createSigningKeySet({ keys: [await generateSigningKey({ kid: 'hs', alg: 'HS256' })] });
    expect(keys.jwks().keys).toEqual([]);
  });
});

describe('rotation and retirement', () => {
  async function rotatedSet() {
    const clock = createManualClock();
    const keys = await createSigningKeySet({ keys: [await generateSigningKey({ kid: 'k1' })], clock });
    const retired: string[] = [];
    keys.onRetired((kid) => retired.push(kid));
    await keys.rotate(await generateSigningKey({ kid: 'k2' }), { graceMs: 10 * MINUTE });
    return { clock, keys, retired };
  }

  it('rotate makes the next key active and keeps the old one verify-only for the grace window', async () => {
    const { clock, keys, retired } = await rotatedSet();
    expect(keys.activeKid).toBe('k2');
    expect(keys.signingKey().kid).toBe('k2');
    expect(keys.list()).toEqual([
      { kid: 'k2', alg: 'EdDSA', status: 'active', verifyUntil: null },
      { kid: 'k1', alg: 'EdDSA', status: 'verify-only', verifyUntil: clock.now() + 10 * MINUTE },
    ]);
    clock.advance(10 * MINUTE - 1);
    expect(keys.verificationKey('k1')).toBeDefined();
    expect(keys.jwks().keys.map((jwk) => jwk.kid)).toEqual(['k2', 'k1']);
    expect(retired).toEqual([]);
  });

  it('the grace window ending at the keyset clock retires the old key and calls onRetired once', async () => {
    const { clock, keys, retired } = await rotatedSet();
    clock.advance(10 * MINUTE);
    expect(keys.verificationKey('k1')).toBeUndefined();
    expect(keys.verificationKey('k1')).toBeUndefined();
    expect(retired).toEqual(['k1']);
    expect(keys.jwks().keys.map((jwk) => jwk.kid)).toEqual(['k2']);
    expect(keys.list().map((key) => key.kid)).toEqual(['k2']);
  });

  it('a verify-only key configured with a verifyUntil stops at it', async () => {
    const clock = createManualClock();
    const old = await generateSigningKey({ kid: 'old' });
    const keys = await createSigningKeySet({
      keys: [await generateSigningKey({ kid: 'new' }), { ...old, status: 'verify-only', verifyUntil: clock.now() + MINUTE }],
      clock,
    });
    expect(keys.verificationKey('old')).toBeDefined();
    clock.advance(MINUTE);
    expect(keys.verificationKey('old')).toBeUndefined();
    const expiredAlready = await createSigningKeySet({
      keys: [await generateSigningKey({ kid: 'new' }), { ...old, status: 'verify-only', verifyUntil: clock.now() - 1 }],
      clock,
    });
    expect(expiredAlready.verificationKey('old')).toBeUndefined();
  });

  it('rotate with graceMs 0 retires the old key at once', async () => {
    const keys = await createSigningKeySet({ keys: [await generateSigningKey({ kid: 'k1' })], clock: createManualClock() });
    const retired: string[] = [];
    keys.onRetired((kid) => retired.push(kid));
    await keys.rotate(await generateSigningKey({ kid: 'k2' }), { graceMs: 0 });
    expect(keys.verificationKey('k1')).toBeUndefined();
    expect(retired).toEqual(['k1']);
  });

  it('retire stops a verify-only key now; the active key cannot be retired; unknown kids are false', async () => {
    const { keys, retired } = await rotatedSet();
    expect(() => keys.retire('k2')).toThrow(code('VALIDATION_FAILED'));
    expect(keys.retire('nope')).toBe(false);
    expect(keys.retire('__proto__')).toBe(false);
    expect(keys.retire('k1')).toBe(true);
    expect(keys.retire('k1')).toBe(false);
    expect(keys.verificationKey('k1')).toBeUndefined();
    expect(retired).toEqual(['k1']);
  });

  it('rotate refuses a kid in use or used before, a verify-only next key and a bad graceMs', async () => {
    const { keys } = await rotatedSet();
    await expect(keys.rotate(await generateSigningKey({ kid: 'k2' }), { graceMs: 0 })).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
    await expect(keys.rotate(await generateSigningKey({ kid: 'k1' }), { graceMs: 0 })).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
    keys.retire('k1');
    await expect(keys.rotate(await generateSigningKey({ kid: 'k1' }), { graceMs: 0 })).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
    await expect(keys.rotate({ ...(await generateSigningKey({ kid: 'k3' })), status: 'verify-only' }, { graceMs: 0 })).rejects.toMatchObject({
      code: 'CONFIGURATION_INVALID',
    });
    for (const graceMs of [-1, 1.5, Number.NaN, '60000' as never]) {
      await expect(keys.rotate(await generateSigningKey({ kid: 'k4' }), { graceMs })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    expect(keys.activeKid).toBe('k2');
  });

  it('kid lookups are opaque map lookups: path traversal, SQL, URL and prototype names find nothing', async () => {
    const keys = await createSigningKeySet({ keys: [await generateSigningKey({ kid: 'k1' })] });
    for (const kid of ['../../etc/passwd', "k1' OR '1'='1", 'https://evil.example/jwks.json', '__proto__', 'constructor', 'toString', 'K1', ' k1']) {
      expect(keys.verificationKey(kid)).toBeUndefined();
    }
    expect(keys.verificationKey(undefined as never)).toBeUndefined();
  });

  it('a listener that throws does not keep the others from hearing of a retirement; unsubscribe works', async () => {
    const { keys } = await rotatedSet();
    const heard: string[] = [];
    keys.onRetired(() => {
      throw new Error('boom');
    });
    const stop = keys.onRetired((kid) => heard.push(`stopped:${kid}`));
    keys.onRetired((kid) => heard.push(kid));
    stop();
    keys.retire('k1');
    expect(heard).toEqual(['k1']);
  });
});
