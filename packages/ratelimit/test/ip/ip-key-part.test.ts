import { describe, expect, it } from 'vitest';
import { RateLimitError } from '../../src/errors.js';
import { ipKeyPart } from '../../src/ip/ip-key-part.js';

describe('ipKeyPart', () => {
  it('keeps an IPv4 address as it is', () => {
    expect(ipKeyPart('203.0.113.7')).toBe('203.0.113.7');
  });

  it('keys an IPv6 address by its /64, whatever its spelling', () => {
    expect(ipKeyPart('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(ipKeyPart('2001:DB8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(ipKeyPart('2001:0db8:0001:0002:0000:0000:0000:0001')).toBe('2001:db8:1:2::/64');
    expect(ipKeyPart('::1')).toBe('0:0:0:0::/64');
    expect(ipKeyPart('64:ff9b::1.2.3.4')).toBe('64:ff9b:0:0::/64');
  });

  it('drops a zone id', () => {
    expect(ipKeyPart('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
  });

  it('counts an IPv4-mapped IPv6 address, dotted or hex, as the IPv4 address', () => {
    expect(ipKeyPart('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(ipKeyPart('::FFFF:203.0.113.7')).toBe('203.0.113.7');
    expect(ipKeyPart('::ffff:cb00:7107')).toBe('203.0.113.7');
    expect(ipKeyPart('0:0:0:0:0:ffff:cb00:7107')).toBe('203.0.113.7');
  });

  it.each(['', 'nope', '1.2.3.256', '1.2.3', '2001:db8::1::2', 'x'.repeat(65), 42 as unknown as string])(
    'refuses %j with RATE_LIMIT_KEY_INVALID',
    (value) => {
      expect(() => ipKeyPart(value)).toThrow(RateLimitError);
      try {
        ipKeyPart(value);
      } catch (error) {
        expect((error as RateLimitError).code).toBe('RATE_LIMIT_KEY_INVALID');
      }
    },
  );
});
