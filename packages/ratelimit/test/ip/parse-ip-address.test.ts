import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIpAddress, parseIpHop } from '../../src/ip/parse-ip-address.js';

describe('parseIpAddress', () => {
  it('reads IPv4 and IPv6, lower-casing IPv6 and dropping zone ids', () => {
    expect(parseIpAddress('203.0.113.7')).toEqual({ family: 'ipv4', address: '203.0.113.7' });
    expect(parseIpAddress('2001:DB8::1')).toEqual({ family: 'ipv6', address: '2001:db8::1' });
    expect(parseIpAddress('fe80::1%eth0')).toEqual({ family: 'ipv6', address: 'fe80::1' });
    expect(parseIpAddress('::1')).toEqual({ family: 'ipv6', address: '::1' });
  });

  it('reports every spelling of an IPv4-mapped IPv6 address as the IPv4 address', () => {
    for (const text of ['::ffff:192.0.2.1', '::FFFF:192.0.2.1', '::ffff:c000:201', '0:0:0:0:0:ffff:c000:0201', '0::ffff:192.0.2.1']) {
      expect(parseIpAddress(text), text).toEqual({ family: 'ipv4', address: '192.0.2.1' });
    }
    // Not mapped: other prefixes that contain ffff.
    expect(parseIpAddress('2001:ffff::1')).toEqual({ family: 'ipv6', address: '2001:ffff::1' });
    expect(parseIpAddress('::ffff:0:c000:201')).toEqual({ family: 'ipv6', address: '::ffff:0:c000:201' });
    expect(parseIpAddress('ffff::1.2.3.4')).toEqual({ family: 'ipv6', address: 'ffff::1.2.3.4' });
  });

  it('refuses what is not an address', () => {
    for (const text of ['', 'localhost', '1.2.3', '1.2.3.256', '01.2.3.4', '1.2.3.4 ', '%eth0', '::g', '1:2:3:4:5:6:7:8:9', '[::1]', '1.2.3.4:80', 'x'.repeat(200)]) {
      expect(parseIpAddress(text), text).toBeUndefined();
    }
    expect(parseIpAddress(undefined as unknown as string)).toBeUndefined();
  });

  it('maps every IPv4 address embedded as ::ffff:a.b.c.d back to itself (property)', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ipv4) => {
        expect(parseIpAddress(`::ffff:${ipv4}`)).toEqual({ family: 'ipv4', address: ipv4 });
        const [a, b, c, d] = ipv4.split('.').map(Number) as [number, number, number, number];
        const hex = `::ffff:${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
        expect(parseIpAddress(hex)).toEqual({ family: 'ipv4', address: ipv4 });
      }),
    );
  });
});

describe('parseIpHop', () => {
  it('accepts ports, brackets and surrounding whitespace', () => {
    expect(parseIpHop(' 1.2.3.4:5678 ')).toEqual({ family: 'ipv4', address: '1.2.3.4' });
    expect(parseIpHop('\t1.2.3.4')).toEqual({ family: 'ipv4', address: '1.2.3.4' });
    expect(parseIpHop('[2001:db8::1]:443')).toEqual({ family: 'ipv6', address: '2001:db8::1' });
    expect(parseIpHop('[2001:db8::1]')).toEqual({ family: 'ipv6', address: '2001:db8::1' });
    expect(parseIpHop('[::ffff:10.0.0.1]:80')).toEqual({ family: 'ipv4', address: '10.0.0.1' });
    expect(parseIpHop('2001:db8::1')).toEqual({ family: 'ipv6', address: '2001:db8::1' });
    expect(parseIpHop('[fe80::1%25eth0]:80')).toEqual({ family: 'ipv6', address: 'fe80::1' });
  });

  it('refuses malformed hops', () => {
    for (const text of [
      '',
      'unknown',
      '_hidden',
      'example.com',
      '1.2.3.4:',
      '1.2.3.4:99999',
      '1.2.3.4:80:80',
      '[2001:db8::1',
      '[2001:db8::1]:',
      '[2001:db8::1]x',
      '[1.2.3.4]',
      '2001:db8::1:443:',
      '[2001:db8::1]:-1',
    ]) {
      expect(parseIpHop(text), text).toBeUndefined();
    }
  });
});
