import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

describe('auth configuration', () => {
  it('has production defaults that need no environment, and generates the secrets it is not given', () => {
    const config = loadConfig({});
    expect(config.publicBaseUrl).toBe('http://localhost:3000');
    expect(config.production).toBe(false);
    expect(config.auth).toMatchObject({
      issuer: 'http://localhost:3000',
      audience: 'http://localhost:3000/api',
      signingKey: undefined,
      apiKeyHashKeyGenerated: true,
      scryptCost: 2 ** 17,
      accessTokenTtlSeconds: 900,
      refreshGraceSeconds: 10,
      loginProgressiveDelay: true,
      // Plain http on localhost: a Secure cookie would never come back.
      secureCookies: false,
      mailLog: true,
    });
    expect(Buffer.byteLength(config.auth.apiKeyHashKey.secret)).toBeGreaterThanOrEqual(32);
    expect(loadConfig({}).auth.apiKeyHashKey.secret).not.toBe(config.auth.apiKeyHashKey.secret);
  });

  it('reads the public URL, the secrets and the lowered test costs from the environment', () => {
    const config = loadConfig({
      PUBLIC_BASE_URL: 'https://app.example.com/',
      NODE_ENV: 'production',
      API_KEY_PEPPER: 'p'.repeat(32),
      API_KEY_PEPPER_ID: 'v2',
      AUTH_SCRYPT_COST: '4096',
      AUTH_REFRESH_GRACE_SECONDS: '0',
      AUTH_LOGIN_PROGRESSIVE_DELAY: 'false',
      MAIL_LOG: 'false',
    });
    expect(config.publicBaseUrl).toBe('https://app.example.com');
    expect(config.production).toBe(true);
    expect(config.auth).toMatchObject({
      issuer: 'https://app.example.com',
      apiKeyHashKey: { id: 'v2', secret: 'p'.repeat(32) },
      apiKeyHashKeyGenerated: false,
      scryptCost: 4096,
      refreshGraceSeconds: 0,
      loginProgressiveDelay: false,
      secureCookies: true,
      mailLog: false,
    });
  });

  it('takes the signing key as a private JWK (its algorithm from the key type) or as a PEM', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'ops-2026' };
    expect(loadConfig({ JWT_SIGNING_KEY: JSON.stringify(jwk) }).auth.signingKey).toEqual({ kid: 'ops-2026', alg: 'ES256', privateKey: jwk });
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(loadConfig({ JWT_SIGNING_KEY: pem, JWT_SIGNING_ALG: 'ES256', JWT_SIGNING_KEY_ID: 'k1' }).auth.signingKey).toEqual({ kid: 'k1', alg: 'ES256', privateKey: pem });
    expect(() => loadConfig({ JWT_SIGNING_KEY: '{not json' })).toThrow('JWT_SIGNING_KEY');
  });

  it.each([
    ['AUTH_SCRYPT_COST', '5000'],
    ['AUTH_SCRYPT_COST', '256'],
    ['AUTH_REFRESH_GRACE_SECONDS', '61'],
    ['API_KEY_PEPPER', 'too-short'],
    ['PUBLIC_BASE_URL', 'ftp://files.example.com'],
    ['JWT_SIGNING_ALG', 'none'],
  ])('refuses %s=%s at startup', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
