import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAccessList } from '../../src/access-lists/create-access-list.js';
import type { AccessListOptions } from '../../src/access-lists/access-list.js';
import { RateLimitError } from '../../src/errors.js';

function configurationError(options: unknown): RateLimitError {
  try {
    createAccessList(options as AccessListOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).code).toBe('CONFIGURATION_INVALID');
    return error as RateLimitError;
  }
  throw new Error('expected CONFIGURATION_INVALID');
}

describe('createAccessList', () => {
  it('matches exact IPv4 addresses and IPv4 ranges', () => {
    const list = createAccessList({ ips: ['203.0.113.7', '10.0.0.0/8', '192.168.1.128/25'] });
    expect(list.matches({ ip: '203.0.113.7' })).toBe(true);
    expect(list.matches({ ip: '203.0.113.8' })).toBe(false);
    expect(list.matches({ ip: '10.255.255.255' })).toBe(true);
    expect(list.matches({ ip: '11.0.0.0' })).toBe(false);
    expect(list.matches({ ip: '192.168.1.128' })).toBe(true);
    expect(list.matches({ ip: '192.168.1.127' })).toBe(false);
  });

  it('matches IPv6 addresses and ranges, whatever their spelling', () => {
    const allow = createAccessList({ ips: ['2001:db8::/32', '2001:0DB9:0000::1'] });
    expect(allow.matches({ ip: '2001:db8:ffff:ffff::1' })).toBe(true);
    expect(allow.matches({ ip: '2001:DB8::' })).toBe(true);
    expect(allow.matches({ ip: '2001:db7:ffff::1' })).toBe(false);
    expect(allow.matches({ ip: '2001:db9::1' })).toBe(true);
    expect(allow.matches({ ip: '2001:db9:0:0:0:0:0:1' })).toBe(true);
    expect(allow.matches({ ip: '2001:db9::2' })).toBe(false);
    expect(allow.matches({ ip: 'fe80::1%eth0' })).toBe(false);

    const deny = createAccessList({ ips: ['2001:db8:bad::/48', 'fe80::/10'] });
    expect(deny.matches({ ip: '2001:db8:bad:1234::5' })).toBe(true);
    expect(deny.matches({ ip: '2001:db8:bae::5' })).toBe(false);
    expect(deny.matches({ ip: 'fe80::1%eth0' })).toBe(true);
    expect(deny.matches({ ip: '203.0.113.7' })).toBe(false);
  });

  it('counts IPv4-mapped IPv6 as IPv4, for entries and for clients', () => {
    const list = createAccessList({ ips: ['10.0.0.0/8', '198.51.100.7', '::ffff:172.16.0.0/108'] });
    expect(list.matches({ ip: '::ffff:10.1.2.3' })).toBe(true);
    expect(list.matches({ ip: '::ffff:a01:203' })).toBe(true);
    expect(list.matches({ ip: '::ffff:198.51.100.7' })).toBe(true);
    expect(list.matches({ ip: '172.31.255.255' })).toBe(true);
    expect(list.matches({ ip: '172.32.0.0' })).toBe(false);

    const mappedExact = createAccessList({ ips: ['::ffff:203.0.113.7'] });
    expect(mappedExact.matches({ ip: '203.0.113.7' })).toBe(true);
  });

  it('matches exact tenant, user, API key and free-form key values', () => {
    const list = createAccessList({ tenantIds: ['acme'], userIds: ['u_1'], apiKeyIds: ['key_monitoring'], keys: ['alice@example.com'] });
    expect(list.matches({ tenantId: 'acme' })).toBe(true);
    expect(list.matches({ tenantId: 'ACME' })).toBe(false);
    expect(list.matches({ userId: 'u_1' })).toBe(true);
    expect(list.matches({ apiKeyId: 'key_monitoring' })).toBe(true);
    expect(list.matches({ key: 'alice@example.com' })).toBe(true);
    // Values are compared per dimension: a user id equal to a listed tenant id does not match.
    expect(list.matches({ userId: 'acme', apiKeyId: 'u_1', key: 'key_monitoring' })).toBe(false);
    expect(list.matches({ tenantId: 'other', ip: '203.0.113.7', userId: 'u_1' })).toBe(true);
  });

  it('matches nothing when empty, and nothing for a missing or malformed IP', () => {
    const empty = createAccessList({});
    expect(empty.matches({ ip: '203.0.113.7', tenantId: 'acme' })).toBe(false);
    const list = createAccessList({ ips: ['0.0.0.0/0', '::/0'] });
    expect(list.matches({ ip: '198.51.100.1' })).toBe(true);
    expect(list.matches({ ip: '2001:db8::1' })).toBe(true);
    expect(list.matches({})).toBe(false);
    expect(list.matches({ ip: 'not-an-ip' })).toBe(false);
    expect(list.matches({ ip: '198.51.100.1:80' })).toBe(false);
    expect(list.matches(null as never)).toBe(false);
  });

  it('refuses invalid entries at creation, listing every one', () => {
    const error = configurationError({
      ips: ['10.0.0.0/8', '10.0.0.0/33', 'example.com', '2001:db8::/129', '::ffff:10.0.0.0/95', '1.2.3.4/', '1.2.3.4/08x'],
      userIds: ['ok', ''],
      keys: ['x'.repeat(257)],
    });
    for (const bad of ['10.0.0.0/33', 'example.com', '2001:db8::/129', '::ffff:10.0.0.0/95', '1.2.3.4/', '1.2.3.4/08x']) {
      expect(error.message).toContain(JSON.stringify(bad));
    }
    expect(error.message).toContain('userIds: ""');
    expect(error.message).toContain('keys: "xxxx');
    expect((error.details as { invalid: string[] }).invalid).toHaveLength(8);
  });

  it('refuses options of the wrong shape', () => {
    configurationError(undefined);
    configurationError('10.0.0.0/8');
    configurationError({ ips: '10.0.0.0/8' });
    configurationError({ ips: [42] });
    configurationError({ tenantIds: [null] });
    configurationError({ ip: ['10.0.0.0/8'] }); // a typo must not give an empty list silently
    configurationError({ ips: ['loopback'] }); // presets are for trusted proxies only
  });

  it('agrees with a reference /24 check on random IPv4 addresses (property)', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.ipV4(), (network, client) => {
        const prefix = network.split('.').slice(0, 3).join('.');
        const list = createAccessList({ ips: [`${prefix}.0/24`] });
        expect(list.matches({ ip: client })).toBe(client.startsWith(`${prefix}.`));
        expect(list.matches({ ip: `::ffff:${client}` })).toBe(client.startsWith(`${prefix}.`));
      }),
    );
  });
});
