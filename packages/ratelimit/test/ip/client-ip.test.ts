import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RateLimitError } from '../../src/errors.js';
import { createClientIpResolver } from '../../src/ip/client-ip.js';
import { forwardedForValues } from '../../src/ip/forwarded-header.js';

function configurationError(run: () => unknown): RateLimitError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).code).toBe('CONFIGURATION_INVALID');
    return error as RateLimitError;
  }
  throw new Error('expected CONFIGURATION_INVALID');
}

describe('createClientIpResolver', () => {
  const resolve = createClientIpResolver({ trustedProxies: ['10.0.0.0/8', '2001:db8:ffff::/48'] });

  it('ignores X-Forwarded-For from an untrusted peer', () => {
    expect(resolve('203.0.113.5', '198.51.100.7')).toBe('203.0.113.5');
    expect(resolve('203.0.113.5', '10.0.0.1')).toBe('203.0.113.5');
    expect(resolve('2001:db8:1::5', ['198.51.100.7'])).toBe('2001:db8:1::5');
  });

  it('never trusts the header with an empty proxy list', () => {
    const none = createClientIpResolver({ trustedProxies: [] });
    expect(none('10.0.0.2', '198.51.100.7')).toBe('10.0.0.2');
    expect(none('127.0.0.1', '198.51.100.7')).toBe('127.0.0.1');
  });

  it('takes the hop a trusted peer appended', () => {
    expect(resolve('10.0.0.2', '198.51.100.7')).toBe('198.51.100.7');
    expect(resolve('::ffff:10.0.0.2', '198.51.100.7')).toBe('198.51.100.7');
  });

  it('walks through a chain of two trusted proxies', () => {
    // client -> edge proxy (10.1.0.1, appends client) -> inner proxy (10.2.0.1, appends edge) -> us
    expect(resolve('10.2.0.1', '198.51.100.7, 10.1.0.1')).toBe('198.51.100.7');
    expect(resolve('2001:db8:ffff::2', '198.51.100.7, 2001:db8:ffff::1')).toBe('198.51.100.7');
  });

  it('ignores a spoofed leftmost entry', () => {
    // The client sent "X-Forwarded-For: 1.1.1.1"; the edge appended the real address.
    expect(resolve('10.2.0.1', '1.1.1.1, 198.51.100.7, 10.1.0.1')).toBe('198.51.100.7');
    // Spoofing a trusted address on the left cannot move the answer either.
    expect(resolve('10.2.0.1', '10.9.9.9, 198.51.100.7, 10.1.0.1')).toBe('198.51.100.7');
    expect(resolve('10.0.0.2', '127.0.0.1,198.51.100.7')).toBe('198.51.100.7');
  });

  it('reads several header lines as one list, in order', () => {
    expect(resolve('10.2.0.1', ['1.1.1.1, 198.51.100.7', '10.1.0.1'])).toBe('198.51.100.7');
    expect(resolve('10.2.0.1', ['198.51.100.7', '10.1.0.1, 10.1.0.2'])).toBe('198.51.100.7');
  });

  it('answers the leftmost hop when every hop is trusted', () => {
    expect(resolve('10.0.0.2', '10.0.0.3, 10.0.0.4')).toBe('10.0.0.3');
  });

  it('reads spaces, tabs, ports, brackets and IPv4-mapped hops', () => {
    expect(resolve('10.0.0.2', '  198.51.100.7:5678 ')).toBe('198.51.100.7');
    expect(resolve('10.0.0.2', '\t[2001:db8:1::7]:443')).toBe('2001:db8:1::7');
    expect(resolve('10.0.0.2', '2001:DB8:1::7')).toBe('2001:db8:1::7');
    expect(resolve('10.0.0.2', '::ffff:198.51.100.7')).toBe('198.51.100.7');
    expect(resolve('10.0.0.2', '198.51.100.7, [::ffff:10.0.0.9]:80')).toBe('198.51.100.7');
  });

  it('stops at the first invalid entry and answers the last valid, trusted hop', () => {
    // Garbage right after the trusted peer: the peer itself.
    expect(resolve('10.0.0.2', '198.51.100.7, garbage')).toBe('10.0.0.2');
    expect(resolve('10.0.0.2', 'unknown')).toBe('10.0.0.2');
    expect(resolve('10.0.0.2', '')).toBe('10.0.0.2');
    expect(resolve('10.0.0.2', '198.51.100.7,')).toBe('10.0.0.2');
    // Garbage behind a second trusted hop: that hop, never an entry left of the garbage.
    expect(resolve('10.2.0.1', '198.51.100.7, not-an-ip, 10.1.0.1')).toBe('10.1.0.1');
    expect(resolve('10.2.0.1', '198.51.100.7,, 10.1.0.1')).toBe('10.1.0.1');
    // Garbage left of the client is never reached.
    expect(resolve('10.2.0.1', 'garbage, 198.51.100.7, 10.1.0.1')).toBe('198.51.100.7');
  });

  it('answers undefined for a missing or unreadable peer address, whatever the header says', () => {
    expect(resolve(undefined, '198.51.100.7')).toBeUndefined();
    expect(resolve('not-an-ip', '198.51.100.7')).toBeUndefined();
    expect(resolve('10.0.0.2', undefined)).toBe('10.0.0.2');
  });

  it('understands the presets', () => {
    const local = createClientIpResolver({ trustedProxies: ['loopback', 'private'] });
    expect(local('127.0.0.1', '198.51.100.7')).toBe('198.51.100.7');
    expect(local('::1', '198.51.100.7')).toBe('198.51.100.7');
    expect(local('::ffff:127.0.0.1', '198.51.100.7')).toBe('198.51.100.7');
    for (const proxy of ['10.1.2.3', '172.16.0.1', '172.31.255.254', '192.168.1.1', 'fd00::1', 'fc00::1', '169.254.1.1', 'fe80::1']) {
      expect(local(proxy, '198.51.100.7'), proxy).toBe('198.51.100.7');
    }
    for (const stranger of ['172.32.0.1', '11.0.0.1', '2001:db8::1', 'fe00::1']) {
      expect(local(stranger, '198.51.100.7'), stranger).toBe(stranger);
    }
    expect(createClientIpResolver({ trustedProxies: ['loopback'] })('10.0.0.1', '198.51.100.7')).toBe('10.0.0.1');
    expect(createClientIpResolver({ trustedProxies: ['uniquelocal'] })('169.254.1.1', '198.51.100.7')).toBe('169.254.1.1');
    expect(createClientIpResolver({ trustedProxies: ['linklocal'] })('fe80::9', '198.51.100.7')).toBe('198.51.100.7');
  });

  it('matches IPv6 proxy ranges exactly at their boundary', () => {
    expect(resolve('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', '198.51.100.7')).toBe('198.51.100.7');
    expect(resolve('2001:db8:fffe:ffff::1', '198.51.100.7')).toBe('2001:db8:fffe:ffff::1');
  });

  it('reads RFC 7239 Forwarded with header: "forwarded"', () => {
    const forwarded = createClientIpResolver({ trustedProxies: ['10.0.0.0/8'], header: 'forwarded' });
    expect(forwarded('10.0.0.2', 'for=198.51.100.7;proto=https')).toBe('198.51.100.7');
    expect(forwarded('10.0.0.2', 'for="[2001:db8:cafe::17]:4711", For=10.1.0.1;by=10.0.0.2')).toBe('2001:db8:cafe::17');
    expect(forwarded('10.0.0.2', 'for=1.1.1.1, for=198.51.100.7, for=10.1.0.1')).toBe('198.51.100.7');
    expect(forwarded('10.0.0.2', 'for=198.51.100.7, for=unknown')).toBe('10.0.0.2');
    expect(forwarded('10.0.0.2', 'for=198.51.100.7, for=_hidden, for=10.1.0.1')).toBe('10.1.0.1');
    expect(forwarded('10.0.0.2', 'for=198.51.100.7, proto=https')).toBe('10.0.0.2');
    expect(forwarded('203.0.113.5', 'for=198.51.100.7')).toBe('203.0.113.5');
  });

  it('refuses invalid configuration, listing the bad entries', () => {
    const error = configurationError(() => createClientIpResolver({ trustedProxies: ['10.0.0.0/33', 'loopback', 'proxy.internal', '::/129', '10.0.0.0/8'] }));
    expect(error.message).toContain('"10.0.0.0/33"');
    expect(error.message).toContain('"proxy.internal"');
    expect(error.message).toContain('"::/129"');
    expect(error.details).toEqual({ invalid: ['10.0.0.0/33', 'proxy.internal', '::/129'] });

    configurationError(() => createClientIpResolver(undefined as never));
    configurationError(() => createClientIpResolver({} as never));
    configurationError(() => createClientIpResolver({ trustedProxies: '10.0.0.0/8' } as never));
    configurationError(() => createClientIpResolver({ trustedProxies: [], header: 'x-real-ip' as never }));
    configurationError(() => createClientIpResolver({ trustedProxies: ['10.0.0.0/+8'] }));
  });

  it('never lets an untrusted peer choose its address, whatever it sends (property)', () => {
    const untrustedIpv4 = fc.ipV4().filter((ip) => !ip.startsWith('10.'));
    const junk = fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 20 }));
    fc.assert(
      fc.property(untrustedIpv4, fc.array(junk, { maxLength: 6 }), (peer, entries) => {
        expect(resolve(peer, entries.join(', '))).toBe(peer);
      }),
    );
  });

  it('answers a hop the header really holds, or the trusted peer (property)', () => {
    const junk = fc.oneof(fc.ipV4(), fc.constantFrom('garbage', '', ' ', 'unknown', '_hidden', '[::1', '1.2.3', '10.0.0.1/8'));
    fc.assert(
      fc.property(fc.array(junk, { maxLength: 6 }), (entries) => {
        const answer = resolve('10.0.0.2', entries.join(','));
        expect(answer === '10.0.0.2' || entries.map((entry) => entry.trim()).includes(answer!)).toBe(true);
        // Everything right of the answer is a trusted proxy.
        const index = entries.map((entry) => entry.trim()).lastIndexOf(answer!);
        if (answer !== '10.0.0.2') for (const right of entries.slice(index + 1)) expect(right.trim().startsWith('10.')).toBe(true);
      }),
    );
  });
});

describe('forwardedForValues', () => {
  it('reads for= values with quoting, escapes, case-insensitive names and several lines', () => {
    expect(forwardedForValues('for=192.0.2.60;proto=http;by=203.0.113.43, for="[2001:db8:cafe::17]:4711"')).toEqual([
      '192.0.2.60',
      '[2001:db8:cafe::17]:4711',
    ]);
    expect(forwardedForValues(['FOR=192.0.2.43', 'for="19\\2.0.2.44"; by="a;c"'])).toEqual(['192.0.2.43', '192.0.2.44']);
    // Split at every comma, quoted or not (see forwarded-header.test.ts): a quoted comma costs its element.
    expect(forwardedForValues(['FOR=192.0.2.43', 'for="19\\2.0.2.44"; by="a,b;c"'])).toEqual(['192.0.2.43', '', '']);
    expect(forwardedForValues(undefined)).toEqual([]);
    expect(forwardedForValues('  ')).toEqual([]);
  });

  it('yields an empty hop for elements it cannot read', () => {
    expect(forwardedForValues('proto=https')).toEqual(['']);
    expect(forwardedForValues('for=1.2.3.4;for=5.6.7.8')).toEqual(['']);
    expect(forwardedForValues('for=1.2.3.4, garbage, for=5.6.7.8')).toEqual(['1.2.3.4', '', '5.6.7.8']);
    expect(forwardedForValues('for=1.2.3.4, for="unterminated')).toEqual(['1.2.3.4', '']);
    expect(forwardedForValues('for=[::1]')).toEqual(['']); // brackets need quotes (not a token)
    expect(forwardedForValues('for=1.2.3.4,,for=5.6.7.8')).toEqual(['1.2.3.4', '', '5.6.7.8']);
  });
});
