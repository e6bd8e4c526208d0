import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeKeyValue, subjectKeyBuilder, tenantHashTag } from '../../src/policies/subject-key.js';

const code = (value: string) => expect.objectContaining({ code: value });

describe('encodeKeyValue', () => {
  it('percent-encodes %, :, {, } and whitespace and leaves the rest', () => {
    expect(encodeKeyValue('u_1@example.com/x=y')).toBe('u_1@example.com/x=y');
    expect(encodeKeyValue('a:b{c}d%e f\tg\nh')).toBe('a%3Ab%7Bc%7Dd%25e%20f%09g%0Ah');
    expect(encodeKeyValue('\u00a0')).toBe('%C2%A0');
  });

  it('is injective', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (left, right) => {
        fc.pre(left !== right);
        expect(encodeKeyValue(left)).not.toBe(encodeKeyValue(right));
      }),
    );
  });
});

describe('subjectKeyBuilder', () => {
  it('puts a tenant-keyed policy in the tenant hash tag, other dimensions after it in declaration order', () => {
    expect(subjectKeyBuilder(['tenant'])({}, '{acme}')).toBe('{acme}');
    expect(subjectKeyBuilder(['tenant', 'user', 'route'])({ userId: 'u_1', route: 'POST /projects' }, '{acme}')).toBe(
      '{acme}:user=u_1:route=POST%20/projects',
    );
    expect(subjectKeyBuilder(['route', 'tenant'])({ route: 'GET /' }, '{acme}')).toBe('{acme}:route=GET%20/');
  });

  it('hash-tags the joined parts of a policy without tenant', () => {
    expect(subjectKeyBuilder(['apiKey'])({ apiKeyId: 'key_1' }, undefined)).toBe('{apiKey=key_1}');
    expect(subjectKeyBuilder(['user', 'key'])({ userId: 'u', key: 'k' }, '{ignored}')).toBe('{user=u:key=k}');
    expect(subjectKeyBuilder(['ip'])({ ip: '2001:db8:1:2:3:4:5:6' }, undefined)).toBe('{ip=2001%3Adb8%3A1%3A2%3A%3A/64}');
  });

  it('returns undefined when a non-tenant field is missing', () => {
    expect(subjectKeyBuilder(['user', 'route'])({ userId: 'u_1' }, undefined)).toBeUndefined();
    expect(subjectKeyBuilder(['tenant', 'user'])({}, '{acme}')).toBeUndefined();
  });

  it('requires the tenant tag of a tenant-keyed policy, even when another field is missing', () => {
    expect(() => subjectKeyBuilder(['tenant'])({}, undefined)).toThrow(code('TENANT_SCOPE_REQUIRED'));
    expect(() => subjectKeyBuilder(['tenant', 'user'])({}, undefined)).toThrow(code('TENANT_SCOPE_REQUIRED'));
  });

  it('refuses values that are not strings of 1-256 characters, and IPs that are not addresses', () => {
    const byUser = subjectKeyBuilder(['user']);
    for (const userId of ['', 'x'.repeat(257), 7, null, ['u']]) {
      expect(() => byUser({ userId: userId as string }, undefined)).toThrow(code('RATE_LIMIT_KEY_INVALID'));
    }
    expect(() => subjectKeyBuilder(['ip'])({ ip: '1.2.3' }, undefined)).toThrow(code('RATE_LIMIT_KEY_INVALID'));
    expect(() => tenantHashTag('')).toThrow(code('RATE_LIMIT_KEY_INVALID'));
  });

  it('never gives two different subjects the same key, nor lets a value pick the hash tag', () => {
    const keyOf = subjectKeyBuilder(['tenant', 'user', 'route']);
    const value = fc.string({ minLength: 1, maxLength: 20, unit: fc.constantFrom('a', ':', '=', '{', '}', '%', ' ', 'user', 'route', '3A') });
    const subject = fc.record({ tenant: value, userId: value, route: value });
    fc.assert(
      fc.property(subject, subject, (left, right) => {
        fc.pre(left.tenant !== right.tenant || left.userId !== right.userId || left.route !== right.route);
        const leftKey = keyOf(left, tenantHashTag(left.tenant));
        const rightKey = keyOf(right, tenantHashTag(right.tenant));
        expect(leftKey).not.toBe(rightKey);
        // Redis Cluster hashes what sits between the first "{" and the next "}": the tenant.
        expect(/^\{([^}]*)\}/.exec(leftKey!)?.[1]).toBe(encodeKeyValue(left.tenant));
        expect(leftKey!.slice(1).includes('{')).toBe(false);
      }),
    );
  });
});
