import { runWithTenant } from '@tenantkit/tenant-context';
import { buildTenant } from '@tenantkit/test-utils';
import { describe, expect, it } from 'vitest';
import { requestSubject, routeKey, type RequestFacts } from '../../src/bindings/request-subject.js';
import { createClientIpResolver } from '../../src/ip/client-ip.js';

const direct = createClientIpResolver({ trustedProxies: [] });
const facts: RequestFacts = { method: 'get', routePattern: '/projects/:id', remoteAddress: '::ffff:203.0.113.7', forwardedFor: '198.51.100.1' };

describe('routeKey', () => {
  it('is the upper-case method and the pattern, or nothing without a pattern', () => {
    expect(routeKey('post', '/projects/:id/export')).toBe('POST /projects/:id/export');
    expect(routeKey('GET', undefined)).toBeUndefined();
  });
});

describe('requestSubject', () => {
  it('derives ip and route from the request, and no tenant outside a tenant scope', () => {
    expect(requestSubject(facts, direct, undefined)).toEqual({ ip: '203.0.113.7', route: 'GET /projects/:id' });
    // No address known: the shared unknown key, so IP policies still apply (see unknown-client-ip.test.ts).
    expect(requestSubject({ ...facts, remoteAddress: undefined, routePattern: undefined }, direct, undefined)).toEqual({ ip: 'unknown' });
  });

  it('takes tenant and plan from the ambient tenant scope', () => {
    const tenant = buildTenant({ id: 'tnt_acme', plan: 'pro' });
    expect(runWithTenant(tenant, () => requestSubject(facts, direct, { userId: 'u_1' }))).toEqual({
      ip: '203.0.113.7',
      route: 'GET /projects/:id',
      tenantId: 'tnt_acme',
      plan: 'pro',
      userId: 'u_1',
    });
    // A scope opened with a bare id has no record, so no plan: the limiter's fromPlan fallback applies.
    expect(runWithTenant('tnt_acme', () => requestSubject(facts, direct, undefined))).toMatchObject({ tenantId: 'tnt_acme' });
    expect(runWithTenant('tnt_acme', () => requestSubject(facts, direct, undefined))).not.toHaveProperty('plan');
  });

  it('lets the callback override fields, but undefined keeps the default', () => {
    const subject = requestSubject(facts, direct, { ip: undefined, route: 'export', key: 'alice@example.com', apiKeyId: undefined });
    expect(subject).toEqual({ ip: '203.0.113.7', route: 'export', key: 'alice@example.com' });
  });

  it('never lends the ambient plan to another tenant the callback names', () => {
    const tenant = buildTenant({ id: 'tnt_acme', plan: 'enterprise' });
    const subject = runWithTenant(tenant, () => requestSubject(facts, direct, { tenantId: 'tnt_other' }));
    expect(subject.tenantId).toBe('tnt_other');
    expect(subject.plan).toBeUndefined();
  });
});
