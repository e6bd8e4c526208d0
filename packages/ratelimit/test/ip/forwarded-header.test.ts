// Security review: an unclosed quote in a client-written `Forwarded` element must not swallow
// the elements our proxies append after it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createClientIpResolver } from '../../src/ip/client-ip.js';
import { forwardedForValues } from '../../src/ip/forwarded-header.js';

describe('forwardedForValues splits on every comma', () => {
  it('keeps the elements after an unclosed quote', () => {
    expect(forwardedForValues('for=", for=198.51.100.9')).toEqual(['', '198.51.100.9']);
    expect(forwardedForValues('for="unterminated, for=10.1.0.1, for=198.51.100.9')).toEqual(['', '10.1.0.1', '198.51.100.9']);
  });

  it('makes an element with a comma inside a quoted string unreadable rather than merging elements', () => {
    // No for= node value can hold a comma; a quoted comma elsewhere only costs that element.
    expect(forwardedForValues('for=192.0.2.1;by="a,b", for=198.51.100.9')).toEqual(['', '', '198.51.100.9']);
  });

  it('reads several header lines as one list, joined by Node with ", " or given as an array', () => {
    expect(forwardedForValues('for=", for=198.51.100.9, for=10.1.0.1')).toEqual(['', '198.51.100.9', '10.1.0.1']);
    expect(forwardedForValues(['for="', 'for=198.51.100.9', 'for=10.1.0.1'])).toEqual(['', '198.51.100.9', '10.1.0.1']);
    expect(forwardedForValues(['for=198.51.100.9, for=10.1.0.1', 'for=10.1.0.2'])).toEqual(['198.51.100.9', '10.1.0.1', '10.1.0.2']);
  });
});

describe('createClientIpResolver with header: "forwarded"', () => {
  const resolve = createClientIpResolver({ trustedProxies: ['10.0.0.0/8'], header: 'forwarded' });

  it('answers the address the proxy appended after a client-written unclosed quote (the review repro)', () => {
    expect(resolve('10.0.0.2', 'for=", for=198.51.100.9')).toBe('198.51.100.9');
    expect(resolve('10.0.0.2', ['for="', 'for=198.51.100.9'])).toBe('198.51.100.9');
    expect(resolve('10.0.0.2', 'for="[2001:db8::1, for="[2001:db8:cafe::17]:4711", for=10.1.0.1')).toBe('2001:db8:cafe::17');
  });

  it('still stops at the first unreadable element from the right, answering the last trusted hop', () => {
    expect(resolve('10.0.0.2', 'for=198.51.100.9, for="10.1.0.1')).toBe('10.0.0.2');
    expect(resolve('10.0.0.2', 'for=198.51.100.9, for="x, for=10.1.0.1')).toBe('10.1.0.1');
  });

  it('never answers an address left of the proxy-appended hop, whatever the client prepends (property)', () => {
    const clientText = fc.string({ maxLength: 40 });
    fc.assert(
      fc.property(clientText, (forged) => {
        // The proxy at 10.0.0.2 saw 198.51.100.9 and appended it as its own element.
        expect(resolve('10.0.0.2', `${forged}, for=198.51.100.9`)).toBe('198.51.100.9');
        expect(resolve('10.0.0.2', [forged, 'for=198.51.100.9'])).toBe('198.51.100.9');
      }),
    );
  });
});
