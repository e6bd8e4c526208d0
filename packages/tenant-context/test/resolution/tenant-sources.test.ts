import { describe, expect, it } from 'vitest';
import { fromCustomDomain } from '../../src/resolution/custom-domain-source.js';
import { fromHeader } from '../../src/resolution/header-source.js';
import { fromPathPrefix } from '../../src/resolution/path-prefix-source.js';
import type { TenantRequest } from '../../src/resolution/request-info.js';
import { fromSubdomain } from '../../src/resolution/subdomain-source.js';
import { tenantIdentifier } from '../../src/resolution/tenant-source.js';
import { fromTokenClaim } from '../../src/resolution/token-claim-source.js';

function request(overrides: Partial<TenantRequest> = {}): TenantRequest {
  return { headers: {}, url: '/', remoteAddress: '127.0.0.1', ...overrides };
}

const invalid = expect.objectContaining({ code: 'TENANT_IDENTIFIER_INVALID', status: 400 });
const misconfigured = expect.objectContaining({ code: 'CONFIGURATION_INVALID' });

/** Values that must never reach a store as an id or slug. */
const hostileValues: Array<[string, string]> = [
  ['path traversal', '../../etc/passwd'],
  ['an encoded traversal', '%2e%2e%2f'],
  ['SQL', "acme' OR '1'='1"],
  ['a NUL byte', 'acme\u0000'],
  ['a 10 kB value', 'a'.repeat(10_000)],
  ['an empty value', ''],
  ['a repeated header joined by Node', 'tnt_a, tnt_b'],
];

describe('tenantIdentifier', () => {
  it('builds id and slug identifiers', () => {
    expect(tenantIdentifier('id', 'tnt_A-1', 'x')).toEqual({ by: 'id', value: 'tnt_A-1', source: 'x' });
    expect(tenantIdentifier('slug', 'acme-corp', 'x')).toEqual({ by: 'slug', value: 'acme-corp', source: 'x' });
  });

  it('enforces the id length limit of 64', () => {
    expect(tenantIdentifier('id', 'a'.repeat(64), 'x').value).toHaveLength(64);
    expect(() => tenantIdentifier('id', 'a'.repeat(65), 'x')).toThrow(invalid);
  });

  it('enforces the slug rules', () => {
    expect(tenantIdentifier('slug', 'a'.repeat(63), 'x').value).toHaveLength(63);
    for (const bad of ['a'.repeat(64), 'Acme', '-acme', 'acme-', 'ac_me', 'xn--acme', 'ac me']) {
      expect(() => tenantIdentifier('slug', bad, 'x'), bad).toThrow(invalid);
    }
  });

  it('does not echo the offending value in the error', () => {
    try {
      tenantIdentifier('id', '<script>alert(1)</script>', 'header');
      expect.unreachable();
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('<script>');
      expect(error).toMatchObject({ details: { source: 'header' } });
    }
  });
});

describe('fromHeader', () => {
  it('reads x-tenant-id as an id by default', () => {
    const source = fromHeader();
    expect(source.kind).toBe('header');
    expect(source.identify(request({ headers: { 'x-tenant-id': 'tnt_acme' } }), undefined)).toEqual({
      by: 'id',
      value: 'tnt_acme',
      source: 'header',
    });
    expect(source.identify(request(), undefined)).toBeUndefined();
  });

  it('reads a custom header (case-insensitive name) as a slug', () => {
    const source = fromHeader({ header: 'X-Tenant', by: 'slug', name: 'gateway' });
    expect(source.identify(request({ headers: { 'x-tenant': 'acme' } }), undefined)).toEqual({
      by: 'slug',
      value: 'acme',
      source: 'gateway',
    });
  });

  it.each(hostileValues)('refuses %s', (_label, value) => {
    expect(() => fromHeader().identify(request({ headers: { 'x-tenant-id': value } }), undefined)).toThrow(invalid);
    expect(() => fromHeader({ by: 'slug' }).identify(request({ headers: { 'x-tenant-id': value } }), undefined)).toThrow(
      invalid,
    );
  });

  it('refuses a header repeated as an array', () => {
    expect(() => fromHeader().identify(request({ headers: { 'x-tenant-id': ['tnt_a', 'tnt_b'] } }), undefined)).toThrow(
      invalid,
    );
  });

  it.each([
    ['a header name with a space', { header: 'x tenant' }],
    ['an empty header name', { header: '' }],
    ['an unknown "by"', { by: 'hostname' }],
    ['an unknown option', { headr: 'x-tenant-id' }],
    ['a bad name', { name: 'Bad Name' }],
  ])('refuses %s when called', (_label, options) => {
    expect(() => fromHeader(options as never)).toThrow(misconfigured);
  });
});

describe('fromSubdomain', () => {
  const source = fromSubdomain({ baseDomain: 'Example.com.' });

  it('reads exactly one label left of the base domain as a slug', () => {
    expect(source.identify(request(), 'acme.example.com')).toEqual({ by: 'slug', value: 'acme', source: 'subdomain' });
    expect(source.platformDomains).toEqual(['example.com']);
    expect(source.readsHost).toBe(true);
  });

  it('identifies nothing for the apex, www, other domains or no host', () => {
    expect(source.identify(request(), 'example.com')).toBeUndefined();
    expect(source.identify(request(), 'www.example.com')).toBeUndefined();
    expect(source.identify(request(), 'acme.example.org')).toBeUndefined();
    expect(source.identify(request(), 'badexample.com')).toBeUndefined();
    expect(source.identify(request(), 'acme.badexample.com')).toBeUndefined();
    expect(source.identify(request(), '[::1]')).toBeUndefined();
    expect(source.identify(request(), undefined)).toBeUndefined();
  });

  it('refuses more than one label as TENANT_IDENTIFIER_INVALID', () => {
    expect(() => source.identify(request(), 'a.acme.example.com')).toThrow(invalid);
    expect(() => source.identify(request(), 'www.acme.example.com')).toThrow(invalid);
  });

  it('refuses a label that is not a valid slug', () => {
    expect(() => source.identify(request(), 'xn--bcher-kva.example.com')).toThrow(invalid);
    expect(() => source.identify(request(), `${'a'.repeat(63)}.example.com`)).not.toThrow();
  });

  it('takes a custom ignore list', () => {
    const custom = fromSubdomain({ baseDomain: 'example.com', ignoredSubdomains: ['status', 'api'] });
    expect(custom.identify(request(), 'status.example.com')).toBeUndefined();
    expect(custom.identify(request(), 'www.example.com')).toEqual({ by: 'slug', value: 'www', source: 'subdomain' });
  });

  it.each([
    ['a missing base domain', {}],
    ['a single-label base domain', { baseDomain: 'localhost' }],
    ['an IP base domain', { baseDomain: '10.0.0.1' }],
    ['a base domain with a path', { baseDomain: 'example.com/x' }],
    ['an upper-case ignored label', { baseDomain: 'example.com', ignoredSubdomains: ['WWW'] }],
  ])('refuses %s when called', (_label, options) => {
    expect(() => fromSubdomain(options as never)).toThrow(misconfigured);
  });
});

describe('fromCustomDomain', () => {
  const source = fromCustomDomain({ platformDomains: ['example.com'] });

  it('names the tenant by the host', () => {
    expect(source.identify(request(), 'app.acme.io')).toEqual({ by: 'hostname', value: 'app.acme.io', source: 'custom-domain' });
  });

  it('identifies nothing for platform domains, IPs, single labels or no host', () => {
    for (const host of ['example.com', 'acme.example.com', '127.0.0.1', '10.0.0.1', '[::1]', 'localhost', undefined]) {
      expect(source.identify(request(), host), String(host)).toBeUndefined();
    }
  });

  it('refuses a platform domain that is not a domain when called', () => {
    expect(() => fromCustomDomain({ platformDomains: ['not a domain'] })).toThrow(misconfigured);
    expect(() => fromCustomDomain({ platformDomain: ['example.com'] } as never)).toThrow(misconfigured);
  });
});

describe('fromPathPrefix', () => {
  const source = fromPathPrefix();

  it('reads the slug after /t/ by default', () => {
    expect(source.identify(request({ url: '/t/acme/projects?page=2' }), undefined)).toEqual({
      by: 'slug',
      value: 'acme',
      source: 'path-prefix',
    });
    expect(source.identify(request({ url: '/t/acme' }), undefined)).toMatchObject({ value: 'acme' });
    expect(source.identify(request({ url: '/t/acme?x=1' }), undefined)).toMatchObject({ value: 'acme' });
    expect(source.identify(request({ url: '/t/acme#frag' }), undefined)).toMatchObject({ value: 'acme' });
  });

  it('identifies nothing outside the prefix or for the bare prefix', () => {
    for (const url of ['/', '/t', '/t/', '/t/?x=1', '/tenants/acme', '/T/acme', '/api/t/acme']) {
      expect(source.identify(request({ url }), undefined), url).toBeUndefined();
    }
  });

  it.each([
    ['a dot-dot segment', '/t/../admin'],
    ['a dot segment', '/t/./x'],
    ['a percent-encoded slug', '/t/%61cme/x'],
    ['an encoded traversal', '/t/%2e%2e/x'],
    ['upper case', '/t/Acme/x'],
    ['a backslash', '/t/acme\\..\\x'],
    ['a 64-character segment', `/t/${'a'.repeat(64)}`],
    ['a 10 kB segment', `/t/${'a'.repeat(10_000)}/x`],
  ])('refuses %s as TENANT_IDENTIFIER_INVALID', (_label, url) => {
    expect(() => source.identify(request({ url }), undefined)).toThrow(invalid);
  });

  it('reads ids with by: "id" under a custom prefix', () => {
    const byId = fromPathPrefix({ prefix: '/api/orgs/', by: 'id' });
    expect(byId.identify(request({ url: '/api/orgs/tnt_ACME/x' }), undefined)).toEqual({
      by: 'id',
      value: 'tnt_ACME',
      source: 'path-prefix',
    });
    expect(byId.prefix).toBe('/api/orgs/');
  });

  it('strips the prefix and tenant segment for routers', () => {
    expect(source.stripPrefix('/t/acme/projects?page=2')).toBe('/projects?page=2');
    expect(source.stripPrefix('/t/acme')).toBe('/');
    expect(source.stripPrefix('/t/acme?x=1')).toBe('/?x=1');
    expect(source.stripPrefix('/health')).toBe('/health');
  });

  it.each([
    ['a prefix without a leading slash', { prefix: 't/' }],
    ['a prefix without a trailing slash', { prefix: '/t' }],
    ['a prefix with a query', { prefix: '/t?/' }],
    ['a prefix with an empty segment', { prefix: '/a//' }],
    ['an unknown "by"', { by: 'hostname' }],
  ])('refuses %s when called', (_label, options) => {
    expect(() => fromPathPrefix(options as never)).toThrow(misconfigured);
  });
});

describe('fromTokenClaim', () => {
  it('returns the id from a synchronous callback', () => {
    const source = fromTokenClaim({ getTenantId: (req) => (req.headers.authorization === 'Bearer ok' ? 'tnt_acme' : undefined) });
    expect(source.kind).toBe('token-claim');
    expect(source.identify(request({ headers: { authorization: 'Bearer ok' } }), undefined)).toEqual({
      by: 'id',
      value: 'tnt_acme',
      source: 'token-claim',
    });
    expect(source.identify(request(), undefined)).toBeUndefined();
  });

  it('returns the id from an asynchronous callback, and treats null as none', async () => {
    await expect(fromTokenClaim({ getTenantId: async () => 'tnt_acme' }).identify(request(), undefined)).resolves.toEqual({
      by: 'id',
      value: 'tnt_acme',
      source: 'token-claim',
    });
    const returnsNull = fromTokenClaim({ getTenantId: (() => null) as never });
    expect(returnsNull.identify(request(), undefined)).toBeUndefined();
  });

  it('refuses a malformed claim, synchronously and asynchronously', async () => {
    expect(() => fromTokenClaim({ getTenantId: () => '../x' }).identify(request(), undefined)).toThrow(invalid);
    await expect(fromTokenClaim({ getTenantId: async () => 'a'.repeat(65) }).identify(request(), undefined)).rejects.toMatchObject({
      code: 'TENANT_IDENTIFIER_INVALID',
    });
  });

  it('propagates Errors from the callback and wraps anything else', async () => {
    const expired = new Error('token expired');
    expect(() =>
      fromTokenClaim({
        getTenantId: () => {
          throw expired;
        },
      }).identify(request(), undefined),
    ).toThrow(expired);
    await expect(
      fromTokenClaim({ getTenantId: () => Promise.reject('nope') }).identify(request(), undefined),
    ).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID', cause: 'nope' });
  });

  it('refuses a missing callback when called', () => {
    expect(() => fromTokenClaim({} as never)).toThrow(misconfigured);
    expect(() => fromTokenClaim({ getTenantId: 'tid' } as never)).toThrow(misconfigured);
  });
});
