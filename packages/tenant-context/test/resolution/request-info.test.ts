import { describe, expect, it } from 'vitest';
import { headerValue, requestPath, tenantRequestFromNode } from '../../src/resolution/request-info.js';

describe('headerValue', () => {
  it('returns a string header as is, and undefined when missing', () => {
    expect(headerValue({ 'x-tenant-id': 'tnt_a' }, 'x-tenant-id')).toBe('tnt_a');
    expect(headerValue({}, 'x-tenant-id')).toBeUndefined();
  });

  it('joins an array so a repeated header stays visible to validation', () => {
    expect(headerValue({ 'x-tenant-id': ['tnt_a', 'tnt_b'] }, 'x-tenant-id')).toBe('tnt_a, tnt_b');
  });
});

describe('requestPath', () => {
  it.each([
    ['/t/acme/projects?page=2', '/t/acme/projects'],
    ['/t/acme#top', '/t/acme'],
    ['/a?b#c', '/a'],
    ['/a#b?c', '/a'],
    ['/plain', '/plain'],
  ])('%s -> %s', (url, path) => {
    expect(requestPath(url)).toBe(path);
  });
});

describe('tenantRequestFromNode', () => {
  it('maps an IncomingMessage-like object without copying headers', () => {
    const headers = { host: 'acme.example.com' };
    const message = { headers, url: '/x?y=1', socket: { remoteAddress: '10.0.0.1' } };
    const request = tenantRequestFromNode(message);
    expect(request.headers).toBe(headers);
    expect(request.url).toBe('/x?y=1');
    expect(request.remoteAddress).toBe('10.0.0.1');
    expect(request.frameworkRequest).toBe(message);
  });

  it('defaults a missing url to / and a missing socket to no address', () => {
    expect(tenantRequestFromNode({ headers: {} })).toMatchObject({ url: '/', remoteAddress: undefined });
  });
});
