import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type VerifiedTokenEntry, createVerifiedTokenCache } from '../../src/tokens/verified-token-cache.js';

function entry(kid: string, expiresAtMs: number): VerifiedTokenEntry {
  const claims = Object.freeze({
    sub: 'usr_1', tid: null, sid: null, jti: `jti_${kid}_${expiresAtMs}`, iat: 0, iatMs: 0, exp: 0, iss: 'i', aud: 'a', scope: undefined, roles: undefined, amr: undefined,
  });
  return { jti: claims.jti, sid: null, sub: 'usr_1', tid: null, issuedAtMs: 0, claims, kid, key: new Uint8Array(32), expiresAtMs };
}

describe('verified-token cache', () => {
  it('is keyed by the base64url SHA-256 of the token, never the token', () => {
    const cache = createVerifiedTokenCache(10);
    const token = 'header.payload.signature';
    expect(cache.keyOf(token)).toBe(createHash('sha256').update(token).digest('base64url'));
    expect(cache.keyOf(token)).not.toContain('payload');
  });

  it('never keeps more than maxEntries, evicting the least recently used', () => {
    const cache = createVerifiedTokenCache(2);
    const [a, b, c] = [entry('k', 1000), entry('k', 1001), entry('k', 1002)];
    cache.set('a', a);
    cache.set('b', b);
    expect(cache.get('a', 0)).toBe(a); // a is now the most recently used
    cache.set('c', c);
    expect(cache.size).toBe(2);
    expect(cache.get('b', 0)).toBeUndefined();
    expect(cache.get('a', 0)).toBe(a);
    expect(cache.get('c', 0)).toBe(c);
    for (let index = 0; index < 100; index += 1) cache.set(`x${index}`, entry('k', 5000 + index));
    expect(cache.size).toBe(2);
  });

  it('drops an entry at its expiry', () => {
    const cache = createVerifiedTokenCache(10);
    cache.set('a', entry('k', 1000));
    expect(cache.get('a', 999)).toBeDefined();
    expect(cache.get('a', 1000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('flushKid drops exactly the entries of that kid', () => {
    const cache = createVerifiedTokenCache(10);
    cache.set('a', entry('k1', 1000));
    cache.set('b', entry('k2', 1000));
    cache.set('c', entry('k1', 1000));
    cache.flushKid('k1');
    expect(cache.size).toBe(1);
    expect(cache.get('b', 0)?.kid).toBe('k2');
  });
});
