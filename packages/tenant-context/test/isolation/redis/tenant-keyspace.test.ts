import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeRedisKeySegment,
  encodeRedisKeySegment,
  escapeRedisGlob,
  tenantRedisKey,
  tenantRedisKeyPattern,
} from '../../../src/adapters/redis/tenant-key.js';
import { createTenantKeyspace } from '../../../src/isolation/redis/tenant-keyspace.js';
import { runAsSystem, runWithTenant } from '../../../src/scope/tenant-scope.js';

/** The Cluster hash tag of a key, as Redis computes it: between the first `{` and the next `}`. */
function hashTagOf(key: string): string | null {
  const open = key.indexOf('{');
  if (open === -1) return null;
  const close = key.indexOf('}', open + 1);
  return close === -1 || close === open + 1 ? null : key.slice(open + 1, close);
}

const code = (expected: string) => expect.objectContaining({ code: expected });
const keyspace = createTenantKeyspace({ prefix: 'app' });
const asAcme = <R>(fn: () => R): R => runWithTenant('tnt_acme', fn);

const hostileSegments = [
  'x}:{tnt_other',
  '{tnt_other}',
  '}',
  '{',
  ':',
  'a:b',
  '*',
  '?',
  '[',
  ']',
  '[a-z]',
  '\\',
  '\\*',
  '%',
  '%7D',
  '\n',
  'line\r\nbreak',
  '\t',
  ' ',
  '\u0000',
  '\u007f',
  '\u0085',
  '\u2028',
  '\u00a0',
  'ü',
  '😀',
  '../../etc/passwd',
];

describe('createTenantKeyspace', () => {
  it('builds <prefix>:{<tenant>}:<segments> for the tenant in scope, its tag the tenant id', () => {
    asAcme(() => {
      expect(keyspace.key('cache', 'user', 'u1')).toBe('app:{tnt_acme}:cache:user:u1');
      expect(keyspace.key('counter', 42, -7)).toBe('app:{tnt_acme}:counter:42:-7');
      expect(hashTagOf(keyspace.key('cache', 'user', 'u1'))).toBe('tnt_acme');
    });
    expect(runWithTenant('tnt_A-1', () => keyspace.key('x'))).toBe('app:{tnt_A-1}:x');
    expect(createTenantKeyspace({ prefix: 'billing:v2.eu/x' }).prefix).toBe('billing:v2.eu/x');
  });

  it('fails closed without a tenant scope, in the system scope too', () => {
    expect(() => keyspace.key('cache')).toThrow(code('TENANT_SCOPE_REQUIRED'));
    expect(() => keyspace.pattern()).toThrow(code('TENANT_SCOPE_REQUIRED'));
    runAsSystem({ reason: 'test' }, () => {
      expect(() => keyspace.key('cache')).toThrow(code('TENANT_SCOPE_REQUIRED'));
      expect(() => keyspace.pattern()).toThrow(code('TENANT_SCOPE_REQUIRED'));
    });
  });

  it('names another tenant explicitly only inside runAsSystem', () => {
    expect(runAsSystem({ reason: 'test' }, () => keyspace.keyFor('tnt_other', 'x'))).toBe('app:{tnt_other}:x');
    expect(runAsSystem({ reason: 'test' }, () => keyspace.patternFor('tnt_other'))).toBe('app:{tnt_other}:*');
    expect(asAcme(() => keyspace.keyFor('tnt_acme', 'x'))).toBe('app:{tnt_acme}:x');
    asAcme(() => {
      expect(() => keyspace.keyFor('tnt_other', 'x')).toThrow(code('TENANT_ISOLATION_VIOLATION'));
      expect(() => keyspace.patternFor('tnt_other')).toThrow(code('TENANT_ISOLATION_VIOLATION'));
    });
    expect(() => keyspace.keyFor('tnt_other', 'x')).toThrow(code('TENANT_SCOPE_REQUIRED'));
    expect(() => keyspace.patternFor('tnt_other')).toThrow(code('TENANT_SCOPE_REQUIRED'));
    runAsSystem({ reason: 'test' }, () => {
      for (const tenantId of ['', 'a}b', 'a*', 'a b', 'x'.repeat(65), 7 as unknown as string]) {
        expect(() => keyspace.keyFor(tenantId, 'x')).toThrow(code('TENANT_IDENTIFIER_INVALID'));
      }
    });
  });

  it.each(hostileSegments)('keeps the hostile segment %j inside its segment', (segment) => {
    asAcme(() => {
      const key = keyspace.key('cache', segment, 'tail');
      // Exactly one tag, the tenant's; no glob, whitespace or control character; three segments.
      expect(hashTagOf(key)).toBe('tnt_acme');
      expect(key.split('{')).toHaveLength(2);
      expect(key.split('}')).toHaveLength(2);
      expect(key).not.toMatch(/[*?[\]\\\s\u0000-\u001f\u007f-\u009f\u2028\u2029]/u);
      expect(key.slice('app:{tnt_acme}:'.length).split(':')).toHaveLength(3);
      expect(keyspace.parse(key)).toEqual({ tenantId: 'tnt_acme', segments: ['cache', segment, 'tail'] });
      const pattern = keyspace.pattern('cache', segment);
      expect(pattern.startsWith('app:{tnt_acme}:cache:')).toBe(true);
      expect(pattern.endsWith(':*')).toBe(true);
      // The only glob metacharacter left is the final wildcard.
      expect(pattern.slice(0, -1)).not.toMatch(/[*?[\]\\]/);
    });
  });

  it('forges no other tenant with "x}:{tnt_other"', () => {
    const key = asAcme(() => keyspace.key('x}:{tnt_other', 'y'));
    expect(key).toBe('app:{tnt_acme}:x%7D%3A%7Btnt_other:y');
    expect(keyspace.tenantOf(key)).toBe('tnt_acme');
  });

  it('gives distinct segment lists distinct keys', () => {
    asAcme(() => {
      const keys = [
        keyspace.key('a:b'),
        keyspace.key('a', 'b'),
        keyspace.key('a%3Ab'),
        keyspace.key('a%b'),
        keyspace.key('a%25b'),
        keyspace.key('1'),
        keyspace.key(1),
      ];
      // '1' and 1 are the same segment on purpose; everything else differs.
      expect(new Set(keys).size).toBe(keys.length - 1);
    });
  });

  it('round-trips any well-formed segments and never moves the tag (property)', () => {
    const segment = fc
      .oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }), fc.string({ minLength: 1, maxLength: 40 }), fc.integer())
      .filter((value) => typeof value === 'number' || !/\p{Cs}/u.test(value));
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }), (segments) => {
        const key = asAcme(() => keyspace.key(...segments));
        const parsed = keyspace.parse(key);
        return (
          hashTagOf(key) === 'tnt_acme' &&
          parsed?.tenantId === 'tnt_acme' &&
          parsed.segments.length === segments.length &&
          parsed.segments.every((decoded, index) => decoded === String(segments[index])) &&
          !/[*?[\]\\\s]/u.test(key)
        );
      }),
      { numRuns: 200 },
    );
  });

  it('refuses segments it cannot encode faithfully', () => {
    asAcme(() => {
      expect(() => keyspace.key()).toThrow(code('VALIDATION_FAILED'));
      for (const segment of ['', 'x'.repeat(1025), '\uD800', 'a\uDC00b', 1.5, Number.NaN, 2 ** 53, {}, null, undefined, true]) {
        expect(() => keyspace.key('cache', segment as never)).toThrow(code('VALIDATION_FAILED'));
      }
      expect(() => keyspace.key(...Array.from({ length: 33 }, () => 's'))).toThrow(code('VALIDATION_FAILED'));
      expect(keyspace.key(...Array.from({ length: 32 }, () => 's'))).toMatch(/^app:\{tnt_acme\}:s(:s){31}$/);
      expect(keyspace.key('x'.repeat(1024))).toHaveLength('app:{tnt_acme}:'.length + 1024);
    });
  });

  it('patterns match a tenant prefix-safely, glob characters escaped', () => {
    asAcme(() => {
      expect(keyspace.pattern()).toBe('app:{tnt_acme}:*');
      expect(keyspace.pattern('cache', 'user')).toBe('app:{tnt_acme}:cache:user:*');
      expect(keyspace.pattern('*')).toBe('app:{tnt_acme}:%2A:*');
    });
    // The tag's closing brace keeps tnt_a's pattern from covering tnt_ab's keys.
    const patternOfA = runWithTenant('tnt_a', () => keyspace.pattern());
    const keyOfAb = runWithTenant('tnt_ab', () => keyspace.key('x'));
    expect(keyOfAb.startsWith(patternOfA.slice(0, -1))).toBe(false);
    expect(escapeRedisGlob('a*b?[c]\\')).toBe('a\\*b\\?\\[c\\]\\\\');
    expect(tenantRedisKeyPattern('we*rd:', 'tnt_a')).toBe('we\\*rd:{tnt_a}:*');
  });

  it('parses only keys it can have built', () => {
    expect(keyspace.tenantOf('app:{tnt_acme}:cache:user:42')).toBe('tnt_acme');
    expect(keyspace.parse('app:{tnt_acme}:user:a%3Ab')).toEqual({ tenantId: 'tnt_acme', segments: ['user', 'a:b'] });
    for (const key of [
      'other:{tnt_acme}:x',
      'app2:{tnt_acme}:x',
      'app:x:{tnt_acme}:x',
      'app:{tnt_acme}x',
      'app:{tnt_acme}:',
      'app:{tnt_acme}::x',
      'app:{tnt acme}:x',
      'app:{}:x',
      'app:{tnt_acme:x',
      'app:{tnt_acme}:a%41',
      'app:{tnt_acme}:a%zz',
      'app:{tnt_acme}:a*b',
      'app:{tnt_acme}:a}b',
      `app:{tnt_acme}:${Array.from({ length: 33 }, () => 's').join(':')}`,
      42 as unknown as string,
    ]) {
      expect(keyspace.tenantOf(key)).toBeUndefined();
      expect(keyspace.parse(key)).toBeUndefined();
    }
  });

  it('refuses bad options with CONFIGURATION_INVALID', () => {
    for (const options of [
      { prefix: '' },
      { prefix: '{app}' },
      { prefix: 'app:' },
      { prefix: ':app' },
      { prefix: 'a::b' },
      { prefix: 'a b' },
      { prefix: 'a*' },
      { prefix: 'x'.repeat(65) },
      { prefix: 'app', extra: true },
      {},
      null,
    ]) {
      expect(() => createTenantKeyspace(options as never)).toThrow(code('CONFIGURATION_INVALID'));
    }
  });

  it('is frozen', () => {
    expect(Object.isFrozen(keyspace)).toBe(true);
  });
});

describe('tenantRedisKey (shared with the usage counter store)', () => {
  it('keeps the layout of existing keys', () => {
    expect(tenantRedisKey('tk:', 'tnt_a', 'usage')).toBe('tk:{tnt_a}:usage');
    expect(tenantRedisKey('', 'tnt_A-1', 'a', 'b')).toBe('{tnt_A-1}:a:b');
  });

  it('encodes segments reversibly', () => {
    expect(encodeRedisKeySegment('x}:{tnt_other')).toBe('x%7D%3A%7Btnt_other');
    expect(encodeRedisKeySegment('\n')).toBe('%0A');
    expect(encodeRedisKeySegment('\u2028')).toBe('%E2%80%A8');
    expect(decodeRedisKeySegment('x%7D%3A%7Btnt_other')).toBe('x}:{tnt_other');
    expect(decodeRedisKeySegment('%E2%80%A8')).toBe('\u2028');
    expect(decodeRedisKeySegment('%e2%80%a8')).toBeUndefined();
    expect(decodeRedisKeySegment('')).toBeUndefined();
  });
});
