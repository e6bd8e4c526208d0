import { describe, expect, it } from 'vitest';
import { isSameOrSubdomain, normalizeHostname } from '../../src/domains/hostname.js';

describe('normalizeHostname', () => {
  it.each([
    ['a plain host', 'app.acme.com', 'app.acme.com'],
    ['upper case', 'App.ACME.com', 'app.acme.com'],
    ['a trailing dot', 'app.acme.com.', 'app.acme.com'],
    ['unicode to punycode', 'bücher.example', 'xn--bcher-kva.example'],
    ['unicode upper case and trailing dot', 'App.BÜCHER.example.', 'app.xn--bcher-kva.example'],
    ['punycode as given', 'xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['an ideographic full stop', 'acme\u3002com', 'acme.com'],
    ['hyphens inside labels', 'my-app.acme-corp.io', 'my-app.acme-corp.io'],
    ['digits in labels and TLD', 'a1.b2.c0m', 'a1.b2.c0m'],
    ['full-width letters', '\uff41\uff43\uff4d\uff45.com', 'acme.com'],
    ['a 63-character label', `${'a'.repeat(63)}.com`, `${'a'.repeat(63)}.com`],
  ])('normalises %s', (_label, input, expected) => {
    expect(normalizeHostname(input)).toBe(expected);
  });

  it('accepts a host of exactly 253 characters and refuses 254', () => {
    const label = 'a'.repeat(63);
    const host253 = `${label}.${label}.${label}.${'b'.repeat(57)}.com`;
    expect(host253).toHaveLength(253);
    expect(normalizeHostname(host253)).toBe(host253);
    const host254 = `${label}.${label}.${label}.${'b'.repeat(58)}.com`;
    expect(normalizeHostname(host254)).toBeUndefined();
    expect(normalizeHostname(`${host253}.`)).toBe(host253);
  });

  it.each([
    ['empty', ''],
    ['only a dot', '.'],
    ['a single label', 'localhost'],
    ['a single label with trailing dot', 'intranet.'],
    ['an IPv4 address', '127.0.0.1'],
    ['an IPv4 address with trailing dot', '10.0.0.1.'],
    ['a short IPv4 form', '127.1'],
    ['a hexadecimal IPv4 form', '0x7f.1'],
    ['an IPv6 address', '::1'],
    ['a bracketed IPv6 address', '[::1]'],
    ['a numeric TLD', 'example.123'],
    ['a hexadecimal TLD', 'example.0x7f'],
    ['a 64-character label', `${'a'.repeat(64)}.com`],
    ['an empty label', 'a..com'],
    ['a leading dot', '.acme.com'],
    ['two trailing dots', 'acme.com..'],
    ['a leading hyphen', '-acme.com'],
    ['a trailing hyphen in a label', 'acme-.com'],
    ['an underscore', 'my_app.acme.com'],
    ['a wildcard', '*.acme.com'],
    ['a space', 'ac me.com'],
    ['leading white space', ' acme.com'],
    ['a NUL byte', 'acme.com\u0000'],
    ['a port', 'acme.com:8080'],
    ['user info', 'user@acme.com'],
    ['a path', 'acme.com/path'],
    ['a query', 'acme.com?x=1'],
    ['a fragment', 'acme.com#top'],
    ['a backslash', 'acme\\evil.com'],
    ['percent-encoding', 'ex%61mple.com'],
    ['a tab', 'exa\tmple.com'],
    ['a newline', 'acme.com\n'],
    ['a carriage return', 'acme\r.com'],
    ['a full-width solidus', 'acme.com\uff0fpath'],
    ['an ideographic space', 'acme\u3000.com'],
    ['invalid punycode', 'xn--a.com'],
    ['over 255 characters', `${'a.'.repeat(128)}com`],
  ])('refuses %s', (_label, input) => {
    expect(normalizeHostname(input)).toBeUndefined();
  });

  it.each([undefined, null, 42, {}, ['acme.com']])('refuses the non-string %j', (value) => {
    expect(normalizeHostname(value as string)).toBeUndefined();
  });
});

describe('isSameOrSubdomain', () => {
  it('matches the domain itself and its subdomains', () => {
    expect(isSameOrSubdomain('example.com', 'example.com')).toBe(true);
    expect(isSameOrSubdomain('app.example.com', 'example.com')).toBe(true);
    expect(isSameOrSubdomain('a.b.example.com', 'example.com')).toBe(true);
  });

  it('does not match a host that merely ends with the same characters', () => {
    expect(isSameOrSubdomain('badexample.com', 'example.com')).toBe(false);
    expect(isSameOrSubdomain('example.com.evil.io', 'example.com')).toBe(false);
    expect(isSameOrSubdomain('example.com', 'app.example.com')).toBe(false);
  });
});
