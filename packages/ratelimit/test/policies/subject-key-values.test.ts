// Security review: key values that would collide once a store encodes them as UTF-8, and the
// shared key of clients whose address is unknown.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { subjectKeyBuilder, tenantHashTag, UNKNOWN_CLIENT_IP } from '../../src/policies/subject-key.js';

const code = (value: string) => expect.objectContaining({ code: value });

describe('subjectKeyBuilder: well-formed UTF-16 only', () => {
  it('rejects lone surrogates in every dimension with RATE_LIMIT_KEY_INVALID', () => {
    // '\uD800' and '\uDBFF' both become U+FFFD (or are refused) in UTF-8: two users, one counter.
    for (const bad of ['u\uD800', 'u\uDBFF', '\uDC00x', 'a\uDFFFb', '\uDC00\uD800']) {
      expect(() => subjectKeyBuilder(['user'])({ userId: bad }, undefined)).toThrow(code('RATE_LIMIT_KEY_INVALID'));
      expect(() => subjectKeyBuilder(['apiKey'])({ apiKeyId: bad }, undefined)).toThrow(code('RATE_LIMIT_KEY_INVALID'));
      expect(() => subjectKeyBuilder(['route'])({ route: bad }, undefined)).toThrow(code('RATE_LIMIT_KEY_INVALID'));
      expect(() => subjectKeyBuilder(['key'])({ key: bad }, undefined)).toThrow(code('RATE_LIMIT_KEY_INVALID'));
      expect(() => tenantHashTag(bad)).toThrow(code('RATE_LIMIT_KEY_INVALID'));
    }
  });

  it('accepts surrogate pairs and other well-formed text', () => {
    expect(subjectKeyBuilder(['user'])({ userId: 'u_\u{1F600}' }, undefined)).toBe('{user=u_\u{1F600}}');
    expect(tenantHashTag('acme-\u00e9')).toBe('{acme-\u00e9}');
  });

  it('never builds two keys that are the same UTF-8 bytes (property)', () => {
    // Lone surrogates and U+FFFD (what UTF-8 encoders put in their place) among other text.
    const piece = fc.oneof(fc.constantFrom('\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\uFFFD', 'a'), fc.string({ unit: 'binary', maxLength: 2 }));
    const value = fc.array(piece, { minLength: 1, maxLength: 4 }).map((pieces) => pieces.join(''));
    const keyOf = subjectKeyBuilder(['user']);
    const safely = (userId: string) => {
      try {
        return keyOf({ userId }, undefined);
      } catch {
        return undefined;
      }
    };
    fc.assert(
      fc.property(value, value, (left, right) => {
        fc.pre(left !== right);
        const [a, b] = [safely(left), safely(right)];
        if (a === undefined || b === undefined) return;
        expect(Buffer.from(a, 'utf8').equals(Buffer.from(b, 'utf8'))).toBe(false);
      }),
    );
  });
});

describe('subjectKeyBuilder: unknown client address', () => {
  it("keys the IP part of a subject whose IP is 'unknown' as one shared value", () => {
    expect(UNKNOWN_CLIENT_IP).toBe('unknown');
    expect(subjectKeyBuilder(['ip'])({ ip: UNKNOWN_CLIENT_IP }, undefined)).toBe('{ip=unknown}');
    expect(subjectKeyBuilder(['tenant', 'ip'])({ ip: UNKNOWN_CLIENT_IP }, '{acme}')).toBe('{acme}:ip=unknown');
  });

  it('still refuses every other value that is not an address', () => {
    for (const ip of ['Unknown', 'unknown ', 'localhost', '_hidden']) {
      expect(() => subjectKeyBuilder(['ip'])({ ip }, undefined)).toThrow(code('RATE_LIMIT_KEY_INVALID'));
    }
  });
});
