import { describe, expect, it } from 'vitest';
import { sealSuccessor, unsealSuccessor, type SealedSuccessor } from '../../src/refresh/successor-seal.js';

const PRESENTED = `${'a'.repeat(22)}.0.${'b'.repeat(43)}`;
const SUCCESSOR: SealedSuccessor = {
  refreshToken: `${'a'.repeat(22)}.1.${'c'.repeat(43)}`,
  accessToken: {
    token: 'eyJhbGciOiJFZERTQSJ9.e30.sig',
    claims: {
      sub: 'usr_1', tid: null, sid: 'ses_1', jti: 'jti_1', iat: 1, iatMs: 1_000, exp: 901,
      iss: 'https://auth.example.com', aud: 'api', scope: undefined, roles: ['admin'], amr: undefined,
    },
    expiresAt: 901_000,
  },
  refreshExpiresAt: 1_209_600_000,
};

describe('successor seal', () => {
  it('opens with the presented token, exactly as sealed', () => {
    const sealed = sealSuccessor(PRESENTED, SUCCESSOR);
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]+$/);
    expect(unsealSuccessor(PRESENTED, sealed)).toStrictEqual(SUCCESSOR);
  });

  it('reveals nothing: no part of the pair in the sealed value, a fresh IV each time', () => {
    const sealed = sealSuccessor(PRESENTED, SUCCESSOR);
    expect(sealed).not.toContain('c'.repeat(10));
    expect(Buffer.from(sealed.slice(3), 'base64url').toString('latin1')).not.toContain('usr_1');
    expect(sealSuccessor(PRESENTED, SUCCESSOR)).not.toBe(sealed);
  });

  it('does not open with another token, or after any bit flipped or truncation', () => {
    const sealed = sealSuccessor(PRESENTED, SUCCESSOR);
    expect(unsealSuccessor(`${'a'.repeat(22)}.0.${'d'.repeat(43)}`, sealed)).toBeNull();
    const bytes = Buffer.from(sealed.slice(3), 'base64url');
    for (const index of [0, 12, bytes.length - 17, bytes.length - 1]) {
      const flipped = Buffer.from(bytes);
      flipped[index] = flipped[index]! ^ 0x01;
      expect(unsealSuccessor(PRESENTED, `v1.${flipped.toString('base64url')}`)).toBeNull();
    }
    expect(unsealSuccessor(PRESENTED, `v1.${bytes.subarray(0, bytes.length - 1).toString('base64url')}`)).toBeNull();
    expect(unsealSuccessor(PRESENTED, sealed.slice(3))).toBeNull();
    expect(unsealSuccessor(PRESENTED, 'v1.')).toBeNull();
  });
});
