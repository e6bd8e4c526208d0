// Security review: behind nginx on a Unix socket the connection has no peer address.
import { describe, expect, it } from 'vitest';
import { RateLimitError } from '../../src/errors.js';
import { createClientIpResolver } from '../../src/ip/client-ip.js';

describe("createClientIpResolver with the 'unix' preset", () => {
  const viaSocket = createClientIpResolver({ trustedProxies: ['unix'] });

  it('reads the header of a connection without a peer address, from the right', () => {
    expect(viaSocket(undefined, '198.51.100.9')).toBe('198.51.100.9');
    expect(viaSocket(undefined, '203.0.113.1, 198.51.100.9')).toBe('198.51.100.9');
    expect(viaSocket(undefined, ['203.0.113.1', '198.51.100.9'])).toBe('198.51.100.9');
  });

  it('walks on through the other trusted proxies it is given', () => {
    const chained = createClientIpResolver({ trustedProxies: ['unix', '10.0.0.0/8'] });
    expect(chained(undefined, '198.51.100.9, 10.1.0.1')).toBe('198.51.100.9');
    expect(chained('10.0.0.2', '198.51.100.9')).toBe('198.51.100.9');
    const forwarded = createClientIpResolver({ trustedProxies: ['unix'], header: 'forwarded' });
    expect(forwarded(undefined, 'for=", for=198.51.100.9')).toBe('198.51.100.9');
  });

  it('knows no client when the header is missing or its last hop cannot be read', () => {
    expect(viaSocket(undefined, undefined)).toBeUndefined();
    expect(viaSocket(undefined, '198.51.100.9, unknown')).toBeUndefined();
    expect(viaSocket(undefined, '')).toBeUndefined();
  });

  it('still treats a TCP peer as the client, and a peer address that is not an address as unknown', () => {
    expect(viaSocket('203.0.113.5', '198.51.100.9')).toBe('203.0.113.5');
    expect(viaSocket('127.0.0.1', '198.51.100.9')).toBe('127.0.0.1');
    // What the bindings pass for a TCP connection that lost its address (closed before the check).
    expect(viaSocket('', '198.51.100.9')).toBeUndefined();
  });

  it('is needed to read the header of a connection without a peer address', () => {
    const tcpOnly = createClientIpResolver({ trustedProxies: ['loopback', 'private'] });
    expect(tcpOnly(undefined, '198.51.100.9')).toBeUndefined();
  });

  it('is listed among the accepted presets when an entry is invalid', () => {
    try {
      createClientIpResolver({ trustedProxies: ['unix-socket'] });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(RateLimitError);
      expect((error as RateLimitError).code).toBe('CONFIGURATION_INVALID');
      expect((error as RateLimitError).message).toContain('unix');
    }
  });
});
