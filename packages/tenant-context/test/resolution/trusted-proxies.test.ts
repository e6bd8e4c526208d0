import { describe, expect, it } from 'vitest';
import type { TenantRequest } from '../../src/resolution/request-info.js';
import {
  clientIp,
  createTrustedProxies,
  effectiveHost,
  normalizeRequestHost,
} from '../../src/resolution/trusted-proxies.js';

function request(headers: TenantRequest['headers'], remoteAddress: string | undefined = '203.0.113.50'): TenantRequest {
  return { headers, url: '/', remoteAddress };
}

describe('createTrustedProxies', () => {
  it('matches IPv4 addresses and CIDR ranges', () => {
    const proxies = createTrustedProxies(['10.0.0.0/8', '192.0.2.7']);
    expect(proxies.isTrusted('10.255.1.2')).toBe(true);
    expect(proxies.isTrusted('192.0.2.7')).toBe(true);
    expect(proxies.isTrusted('192.0.2.8')).toBe(false);
    expect(proxies.isTrusted('11.0.0.1')).toBe(false);
  });

  it('matches IPv6 ranges, case-insensitively', () => {
    const proxies = createTrustedProxies(['2001:db8::/32', '::1']);
    expect(proxies.isTrusted('2001:db8:abcd::1')).toBe(true);
    expect(proxies.isTrusted('2001:DB8::FFFF')).toBe(true);
    expect(proxies.isTrusted('2001:db9::1')).toBe(false);
    expect(proxies.isTrusted('::1')).toBe(true);
    expect(proxies.isTrusted('::2')).toBe(false);
  });

  it('matches an IPv4-mapped IPv6 peer against IPv4 entries and the other way round', () => {
    const v4 = createTrustedProxies(['10.0.0.0/8']);
    expect(v4.isTrusted('::ffff:10.1.2.3')).toBe(true);
    expect(v4.isTrusted('::ffff:11.1.2.3')).toBe(false);
    const mapped = createTrustedProxies(['::ffff:10.0.0.0/104']);
    expect(mapped.isTrusted('10.1.2.3')).toBe(true);
    expect(mapped.isTrusted('::ffff:10.1.2.3')).toBe(true);
    expect(mapped.isTrusted('11.0.0.1')).toBe(false);
  });

  it('knows loopback, linklocal and uniquelocal', () => {
    const proxies = createTrustedProxies(['loopback', 'linklocal', 'uniquelocal']);
    for (const address of ['127.0.0.1', '::1', '169.254.1.1', 'fe80::1', '10.1.1.1', '172.16.0.1', '192.168.1.1', 'fd00::1']) {
      expect(proxies.isTrusted(address), address).toBe(true);
    }
    for (const address of ['8.8.8.8', '172.32.0.1', '2001:db8::1']) {
      expect(proxies.isTrusted(address), address).toBe(false);
    }
  });

  it('trusts nobody when empty, and never an undefined, garbage or zoned address', () => {
    expect(createTrustedProxies([]).isTrusted('127.0.0.1')).toBe(false);
    const proxies = createTrustedProxies(['0.0.0.0/0', '::/0']);
    expect(proxies.isTrusted(undefined)).toBe(false);
    expect(proxies.isTrusted('not-an-ip')).toBe(false);
    expect(proxies.isTrusted('fe80::1%eth0')).toBe(false);
    expect(proxies.isTrusted('')).toBe(false);
  });

  it.each([
    ['a host name', ['proxy.internal']],
    ['a bad IPv4 prefix', ['10.0.0.0/33']],
    ['a bad IPv6 prefix', ['2001:db8::/129']],
    ['a non-numeric prefix', ['10.0.0.0/x']],
    ['a leading-zero prefix', ['10.0.0.0/08']],
    ['an empty string', ['']],
    ['a non-string', [42]],
  ])('refuses %s with CONFIGURATION_INVALID', (_label, list) => {
    expect(() => createTrustedProxies(list as string[])).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
  });

  it('refuses a non-array and unknown host headers', () => {
    expect(() => createTrustedProxies('10.0.0.0/8' as unknown as string[])).toThrow(
      expect.objectContaining({ code: 'CONFIGURATION_INVALID' }),
    );
    expect(() => createTrustedProxies([], { hostHeaders: ['x-original-host' as 'forwarded'] })).toThrow(
      expect.objectContaining({ code: 'CONFIGURATION_INVALID' }),
    );
  });
});

describe('normalizeRequestHost', () => {
  it.each([
    ['acme.example.com', 'acme.example.com'],
    ['Acme.Example.COM', 'acme.example.com'],
    ['acme.example.com:8443', 'acme.example.com'],
    ['acme.example.com.', 'acme.example.com'],
    ['acme.example.com.:80', 'acme.example.com'],
    ['localhost', 'localhost'],
    ['127.0.0.1:3000', '127.0.0.1'],
    ['[::1]', '[::1]'],
    ['[2001:DB8::1]:8080', '[2001:db8::1]'],
    [`${'a'.repeat(63)}.com`, `${'a'.repeat(63)}.com`],
  ])('normalises %j to %j', (input, expected) => {
    expect(normalizeRequestHost(input)).toBe(expected);
  });

  it.each([
    ['undefined', undefined],
    ['empty', ''],
    ['a path', 'evil.com/x'],
    ['user info', 'user@evil.com'],
    ['a space', 'acme .com'],
    ['an underscore', 'ac_me.com'],
    ['a leading hyphen label', '-acme.com'],
    ['a trailing hyphen label', 'acme-.com'],
    ['an empty label', 'acme..com'],
    ['only a dot', '.'],
    ['a leading dot', '.acme.com'],
    ['two trailing dots', 'acme.com..'],
    ['a bad port', 'acme.com:http'],
    ['an empty port', 'acme.com:'],
    ['a six-digit port', 'acme.com:123456'],
    ['an unbracketed IPv6', '::1'],
    ['an unclosed bracket', '[::1'],
    ['a bracketed non-IPv6', '[acme.com]'],
    ['a zoned IPv6', '[fe80::1%25eth0]'],
    ['junk after the bracket', '[::1]x'],
    ['a 64-character label', `${'a'.repeat(64)}.com`],
    ['non-ASCII', 'bücher.example'],
    ['a percent escape', 'ex%61mple.com'],
    ['a newline', 'acme.com\r\nx-injected: 1'],
    ['a 254-character host', `${'a'.repeat(63)}.${'a'.repeat(63)}.${'a'.repeat(63)}.${'b'.repeat(58)}.com`],
    ['a huge value', 'a'.repeat(100_000)],
  ])('refuses %s', (_label, input) => {
    expect(normalizeRequestHost(input)).toBeUndefined();
  });
});

describe('effectiveHost', () => {
  const trusted = createTrustedProxies(['10.0.0.0/8', '2001:db8::/32']);

  it('uses the Host header without trusted proxies', () => {
    expect(effectiveHost(request({ host: 'Acme.Example.com:443' }))).toBe('acme.example.com');
  });

  it('falls back to the HTTP/2 :authority pseudo-header', () => {
    expect(effectiveHost(request({ ':authority': 'acme.example.com' }))).toBe('acme.example.com');
  });

  it('returns undefined for a missing or garbage Host', () => {
    expect(effectiveHost(request({}))).toBeUndefined();
    expect(effectiveHost(request({ host: 'evil.com/../x' }))).toBeUndefined();
  });

  it('ignores X-Forwarded-Host from an untrusted peer (spoofing)', () => {
    const spoofed = request({ host: 'acme.example.com', 'x-forwarded-host': 'victim.example.com' }, '203.0.113.9');
    expect(effectiveHost(spoofed, trusted)).toBe('acme.example.com');
    // Without any trusted proxies configured, the header is never read.
    expect(effectiveHost(spoofed)).toBe('acme.example.com');
  });

  it('honours X-Forwarded-Host from a peer in a trusted IPv4 CIDR', () => {
    const proxied = request({ host: 'lb.internal', 'x-forwarded-host': 'Victim.Example.com:443' }, '10.3.2.1');
    expect(effectiveHost(proxied, trusted)).toBe('victim.example.com');
  });

  it('honours X-Forwarded-Host from a peer in a trusted IPv6 CIDR and an IPv4-mapped peer', () => {
    expect(
      effectiveHost(request({ host: 'lb.internal', 'x-forwarded-host': 'acme.example.com' }, '2001:db8::7'), trusted),
    ).toBe('acme.example.com');
    expect(
      effectiveHost(request({ host: 'lb.internal', 'x-forwarded-host': 'acme.example.com' }, '::ffff:10.0.0.9'), trusted),
    ).toBe('acme.example.com');
    expect(
      effectiveHost(request({ host: 'acme.example.com', 'x-forwarded-host': 'victim.example.com' }, '2001:db9::7'), trusted),
    ).toBe('acme.example.com');
  });

  it('takes the last X-Forwarded-Host value, the one the trusted proxy added', () => {
    const appended = request({ host: 'lb.internal', 'x-forwarded-host': 'victim.example.com, acme.example.com' }, '10.0.0.2');
    expect(effectiveHost(appended, trusted)).toBe('acme.example.com');
    const repeated = request({ host: 'lb.internal', 'x-forwarded-host': ['victim.example.com', 'acme.example.com'] }, '10.0.0.2');
    expect(effectiveHost(repeated, trusted)).toBe('acme.example.com');
  });

  it('yields no host when a trusted proxy forwards garbage, rather than falling back to Host', () => {
    const garbage = request({ host: 'acme.example.com', 'x-forwarded-host': 'evil.com/x' }, '10.0.0.2');
    expect(effectiveHost(garbage, trusted)).toBeUndefined();
  });

  it('ignores Forwarded unless configured, then reads host= of its last element from a trusted peer only', () => {
    const headers = {
      host: 'lb.internal',
      forwarded: 'for=198.51.100.1;host=victim.example.com, for=198.51.100.2;proto=https;host="Acme.Example.com:443"',
    };
    expect(effectiveHost(request(headers, '10.0.0.2'), trusted)).toBe('lb.internal');
    const withForwarded = createTrustedProxies(['10.0.0.0/8'], { hostHeaders: ['forwarded', 'x-forwarded-host'] });
    expect(effectiveHost(request(headers, '10.0.0.2'), withForwarded)).toBe('acme.example.com');
    expect(effectiveHost(request(headers, '203.0.113.9'), withForwarded)).toBe('lb.internal');
  });

  it('does not take host= from an earlier Forwarded element the client may have written', () => {
    const withForwarded = createTrustedProxies(['10.0.0.0/8'], { hostHeaders: ['forwarded'] });
    const headers = { host: 'acme.example.com', forwarded: 'host=victim.example.com, for=198.51.100.2' };
    expect(effectiveHost(request(headers, '10.0.0.2'), withForwarded)).toBe('acme.example.com');
  });

  it('prefers headers in the configured order', () => {
    const proxies = createTrustedProxies(['10.0.0.0/8'], { hostHeaders: ['x-forwarded-host', 'forwarded'] });
    const headers = { host: 'lb.internal', forwarded: 'host=b.example.com', 'x-forwarded-host': 'a.example.com' };
    expect(effectiveHost(request(headers, '10.0.0.2'), proxies)).toBe('a.example.com');
  });
});

describe('clientIp', () => {
  const trusted = createTrustedProxies(['10.0.0.0/8']);

  it('is the peer when the peer is not trusted, whatever X-Forwarded-For says', () => {
    expect(clientIp(request({ 'x-forwarded-for': '1.2.3.4' }, '203.0.113.5'), trusted)).toBe('203.0.113.5');
    expect(clientIp(request({ 'x-forwarded-for': '1.2.3.4' }, '203.0.113.5'))).toBe('203.0.113.5');
  });

  it('walks X-Forwarded-For right to left past trusted proxies', () => {
    const headers = { 'x-forwarded-for': '6.6.6.6, 203.0.113.9, 10.0.0.3' };
    expect(clientIp(request(headers, '10.0.0.2'), trusted)).toBe('203.0.113.9');
  });

  it('handles ports and bracketed IPv6 hops', () => {
    expect(clientIp(request({ 'x-forwarded-for': '203.0.113.9:5123' }, '10.0.0.2'), trusted)).toBe('203.0.113.9');
    expect(clientIp(request({ 'x-forwarded-for': '[2001:db8::5]:443' }, '10.0.0.2'), trusted)).toBe('2001:db8::5');
  });

  it('stops at a hop that is not an address and answers the proxy that wrote it', () => {
    expect(clientIp(request({ 'x-forwarded-for': 'unknown, 10.0.0.3' }, '10.0.0.2'), trusted)).toBe('10.0.0.3');
  });

  it('answers the leftmost hop when every hop is trusted', () => {
    expect(clientIp(request({ 'x-forwarded-for': '10.0.0.9, 10.0.0.3' }, '10.0.0.2'), trusted)).toBe('10.0.0.9');
  });
});

describe('createTrustedProxies refuses prototype names and bad options with a coded error', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])('%s is not a named range', (entry) => {
    expect(() => createTrustedProxies([entry])).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
  });

  it('null options', () => {
    expect(() => createTrustedProxies(['10.0.0.0/8'], null as never)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
  });
});
