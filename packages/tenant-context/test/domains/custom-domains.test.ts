import { createManualClock } from '@tenantkit/core';
import { describe, expect, it } from 'vitest';
import { memoryTenantStore } from '../../src/adapters/memory.js';
import { createCustomDomains, type CustomDomainsOptions, type TxtResolver } from '../../src/domains/custom-domains.js';
import { createTenantEventBus, type TenantEventMap, type TenantEventName } from '../../src/events.js';
import { createTenantRegistry } from '../../src/registry/tenant-registry.js';

const START = Date.UTC(2026, 0, 1);

type DomainEvent = {
  [Name in TenantEventName & `domain.${string}`]: { name: Name; payload: TenantEventMap[Name] };
}[TenantEventName & `domain.${string}`];

/** An in-memory DNS: TXT answers (or a failure) by record name, and a log of every query. */
function fakeDns() {
  const answers = new Map<string, string[][] | Error>();
  const queries: string[] = [];
  const resolver: TxtResolver = {
    async resolveTxt(name) {
      queries.push(name);
      const answer = answers.get(name);
      if (answer === undefined) throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  return { resolver, answers, queries };
}

async function setup(options: Partial<Omit<CustomDomainsOptions, 'registry'>> = {}) {
  const clock = createManualClock(START);
  const events = createTenantEventBus({
    onListenerError: (error) => {
      throw error;
    },
  });
  const registry = createTenantRegistry({ store: memoryTenantStore(), events, clock });
  const dns = fakeDns();
  const domains = createCustomDomains({ registry, clock, dns: dns.resolver, platformDomains: ['saas.example'], ...options });
  const emitted: DomainEvent[] = [];
  for (const name of ['domain.added', 'domain.verified', 'domain.removed'] as const) {
    events.on(name, (payload) => void emitted.push({ name, payload } as DomainEvent));
  }
  const acme = await registry.createTenant({ id: 'tnt_acme', slug: 'acme', name: 'Acme' });
  const globex = await registry.createTenant({ id: 'tnt_globex', slug: 'globex', name: 'Globex' });
  return { clock, events, registry, dns, domains, emitted, acme, globex };
}

describe('createCustomDomains options', () => {
  const registry = createTenantRegistry({ store: memoryTenantStore() });
  it.each([
    ['no options', undefined],
    ['no registry', {}],
    ['a null registry', { registry: null }],
    ['a registry without a store', { registry: { getTenant: async () => null, events: createTenantEventBus() } }],
    ['a resolver without resolveTxt', { registry, dns: { lookup: () => undefined } }],
    ['an invalid platform domain', { registry, platformDomains: ['localhost'] }],
    ['a platform domain with a path', { registry, platformDomains: ['saas.example/app'] }],
    ['a challenge label with a dot', { registry, challengeLabel: 'a.b' }],
    ['a zero domain limit', { registry, maxDomainsPerTenant: 0 }],
    ['a clock without now()', { registry, clock: {} }],
    ['an event bus without emit()', { registry, events: { on: () => () => undefined } }],
  ])('refuses %s with CONFIGURATION_INVALID', (_label, options) => {
    expect(() => createCustomDomains(options as never)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
  });
});

describe('addDomain', () => {
  it('claims a normalised host name as pending, with a TXT challenge, and announces it', async () => {
    const { domains, acme, emitted } = await setup();
    const { domain, verification } = await domains.addDomain(acme.id, 'App.Acme.COM.');
    expect(domain).toEqual({
      hostname: 'app.acme.com',
      tenantId: acme.id,
      status: 'pending',
      verificationToken: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/),
      createdAt: START,
      verifiedAt: null,
    });
    expect(verification).toEqual({
      recordType: 'TXT',
      name: '_tenantkit-challenge.app.acme.com',
      value: `tenantkit-verification=${domain.verificationToken}`,
    });
    expect(emitted).toEqual([{ name: 'domain.added', payload: { domain } }]);
    await expect(domains.listDomains(acme.id)).resolves.toEqual([domain]);
  });

  it('stores a unicode host name as punycode', async () => {
    const { domains, acme } = await setup();
    const { domain, verification } = await domains.addDomain(acme.id, 'Shop.Bücher.example');
    expect(domain.hostname).toBe('shop.xn--bcher-kva.example');
    expect(verification.name).toBe('_tenantkit-challenge.shop.xn--bcher-kva.example');
  });

  it('gives every domain its own unguessable token', async () => {
    const { domains, acme } = await setup();
    const first = await domains.addDomain(acme.id, 'one.acme.com');
    const second = await domains.addDomain(acme.id, 'two.acme.com');
    expect(first.domain.verificationToken).not.toBe(second.domain.verificationToken);
  });

  it('uses a custom challenge label', async () => {
    const { domains, acme } = await setup({ challengeLabel: '_acme-verify' });
    const { verification } = await domains.addDomain(acme.id, 'app.acme.com');
    expect(verification.name).toBe('_acme-verify.app.acme.com');
  });

  it.each(['localhost', '10.0.0.1', '[::1]', 'app.acme.123', 'acme..com', 'my_app.acme.com', 'acme.com/evil', 'a'.repeat(64) + '.com', ''])(
    'refuses the host name %j with DOMAIN_INVALID',
    async (hostname) => {
      const { domains, acme, emitted } = await setup();
      await expect(domains.addDomain(acme.id, hostname)).rejects.toMatchObject({ code: 'DOMAIN_INVALID', status: 400 });
      await expect(domains.listDomains(acme.id)).resolves.toEqual([]);
      expect(emitted).toEqual([]);
    },
  );

  it.each(['saas.example', 'acme.saas.example', 'A.B.SAAS.EXAMPLE.', 'xn--bcher-kva.platform.test', 'shop.bücher.platform.test'])(
    'refuses the platform domain or subdomain %j with DOMAIN_INVALID',
    async (hostname) => {
      const { domains, acme } = await setup({ platformDomains: ['saas.example', 'Bücher.Platform.Test'] });
      await expect(domains.addDomain(acme.id, hostname)).rejects.toMatchObject({ code: 'DOMAIN_INVALID' });
    },
  );

  it.each(['badsaas.example', 'saas.example.evil.io', 'platform.test', 'xn--bcher-kva.test'])(
    'accepts %j, which only looks like a platform domain',
    async (hostname) => {
      const { domains, acme } = await setup({ platformDomains: ['saas.example', 'bücher.platform.test'] });
      await expect(domains.addDomain(acme.id, hostname)).resolves.toMatchObject({ domain: { hostname } });
    },
  );

  it('refuses a host name another tenant holds with DOMAIN_TAKEN, whatever its spelling', async () => {
    const { domains, acme, globex } = await setup();
    const { domain } = await domains.addDomain(acme.id, 'app.acme.com');
    await expect(domains.addDomain(globex.id, 'APP.acme.com.')).rejects.toMatchObject({ code: 'DOMAIN_TAKEN', status: 409 });
    await expect(domains.addDomain(acme.id, 'app.acme.com')).rejects.toMatchObject({ code: 'DOMAIN_TAKEN' });
    await expect(domains.listDomains(acme.id)).resolves.toEqual([domain]);
    await expect(domains.listDomains(globex.id)).resolves.toEqual([]);
  });

  it('lets another tenant take over an unverified claim only after pendingClaimTtlMs (no squatting)', async () => {
    const { domains, acme, globex, clock, registry } = await setup({ pendingClaimTtlMs: 3_600_000 });
    await domains.addDomain(acme.id, 'shop.globex.com');
    clock.advance(3_599_999);
    await expect(domains.addDomain(globex.id, 'shop.globex.com')).rejects.toMatchObject({ code: 'DOMAIN_TAKEN' });
    clock.advance(1);
    const { domain } = await domains.addDomain(globex.id, 'shop.globex.com');
    expect(domain).toMatchObject({ tenantId: globex.id, status: 'pending' });
    await expect(domains.listDomains(acme.id)).resolves.toEqual([]);
    await expect(registry.getTenantByVerifiedDomain('shop.globex.com')).resolves.toBeNull();
  });

  it('never releases a verified domain to another tenant, however old', async () => {
    const { domains, acme, globex, clock, dns } = await setup({ pendingClaimTtlMs: 3_600_000 });
    const { verification } = await domains.addDomain(acme.id, 'app.acme.com');
    dns.answers.set(verification.name, [[verification.value]]);
    await domains.verifyDomain(acme.id, 'app.acme.com');
    clock.advance(365 * 24 * 3_600_000);
    await expect(domains.addDomain(globex.id, 'app.acme.com')).rejects.toMatchObject({ code: 'DOMAIN_TAKEN' });
    await expect(domains.listDomains(acme.id)).resolves.toMatchObject([{ hostname: 'app.acme.com', status: 'verified' }]);
  });

  it('refuses a pendingClaimTtlMs under one minute with CONFIGURATION_INVALID', async () => {
    await expect(setup({ pendingClaimTtlMs: 1000 })).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
  });

  it('enforces maxDomainsPerTenant per tenant with VALIDATION_FAILED', async () => {
    const { domains, acme, globex } = await setup({ maxDomainsPerTenant: 2 });
    await domains.addDomain(acme.id, 'one.acme.com');
    await domains.addDomain(acme.id, 'two.acme.com');
    await expect(domains.addDomain(acme.id, 'three.acme.com')).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: { maxDomainsPerTenant: 2 },
    });
    await expect(domains.addDomain(globex.id, 'one.globex.com')).resolves.toBeDefined();
    await domains.removeDomain(acme.id, 'one.acme.com');
    await expect(domains.addDomain(acme.id, 'three.acme.com')).resolves.toBeDefined();
  });

  it('answers TENANT_NOT_FOUND for a missing or deleted tenant and TENANT_IDENTIFIER_INVALID for a bad id', async () => {
    const { domains, registry, acme } = await setup();
    await expect(domains.addDomain('tnt_missing', 'app.acme.com')).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
    await registry.deleteTenant(acme.id, 'closed');
    await expect(domains.addDomain(acme.id, 'app.acme.com')).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
    await expect(domains.addDomain('../x', 'app.acme.com')).rejects.toMatchObject({ code: 'TENANT_IDENTIFIER_INVALID' });
  });
});

describe('verifyDomain', () => {
  it('verifies a domain whose TXT record matches, after which it resolves to the tenant', async () => {
    const { domains, dns, registry, clock, acme, emitted } = await setup();
    const { domain, verification } = await domains.addDomain(acme.id, 'app.acme.com');
    await expect(registry.getTenantByVerifiedDomain('app.acme.com')).resolves.toBeNull();

    dns.answers.set(verification.name, [['v=spf1 -all'], [verification.value]]);
    clock.advance(30_000);
    const verified = await domains.verifyDomain(acme.id, 'APP.acme.com');
    expect(verified).toEqual({ ...domain, status: 'verified', verifiedAt: START + 30_000 });
    expect(dns.queries).toEqual(['_tenantkit-challenge.app.acme.com']);
    expect(emitted.at(-1)).toEqual({ name: 'domain.verified', payload: { domain: verified } });
    await expect(domains.listDomains(acme.id)).resolves.toEqual([verified]);
    await expect(registry.getTenantByVerifiedDomain('app.acme.com')).resolves.toEqual(acme);
    await expect(registry.getTenantByVerifiedDomain('App.Acme.com.')).resolves.toEqual(acme);
  });

  it('accepts a value split across several character strings of one record', async () => {
    const { domains, dns, acme } = await setup();
    const { verification } = await domains.addDomain(acme.id, 'app.acme.com');
    const value = verification.value;
    dns.answers.set(verification.name, [[value.slice(0, 10), value.slice(10, 25), value.slice(25)]]);
    await expect(domains.verifyDomain(acme.id, 'app.acme.com')).resolves.toMatchObject({ status: 'verified' });
  });

  it('does not look DNS up again, nor announce again, for a verified domain', async () => {
    const { domains, dns, acme, emitted } = await setup();
    const { verification } = await domains.addDomain(acme.id, 'app.acme.com');
    dns.answers.set(verification.name, [[verification.value]]);
    const verified = await domains.verifyDomain(acme.id, 'app.acme.com');
    dns.answers.delete(verification.name);
    await expect(domains.verifyDomain(acme.id, 'app.acme.com')).resolves.toEqual(verified);
    expect(dns.queries).toHaveLength(1);
    expect(emitted.filter((event) => event.name === 'domain.verified')).toHaveLength(1);
  });

  it('fails with DOMAIN_VERIFICATION_FAILED, keeping the cause, when the DNS lookup fails', async () => {
    const { domains, registry, acme } = await setup();
    await domains.addDomain(acme.id, 'app.acme.com');
    const error = await domains.verifyDomain(acme.id, 'app.acme.com').catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: 'DOMAIN_VERIFICATION_FAILED',
      status: 422,
      details: { recordName: '_tenantkit-challenge.app.acme.com' },
      cause: expect.objectContaining({ code: 'ENOTFOUND' }),
    });
    await expect(domains.listDomains(acme.id)).resolves.toMatchObject([{ status: 'pending', verifiedAt: null }]);
    await expect(registry.getTenantByVerifiedDomain('app.acme.com')).resolves.toBeNull();
  });

  it('passes a resolver failure such as SERVFAIL through as the cause', async () => {
    const { domains, dns, acme } = await setup();
    const { verification } = await domains.addDomain(acme.id, 'app.acme.com');
    const servfail = Object.assign(new Error('queryTxt ESERVFAIL'), { code: 'ESERVFAIL' });
    dns.answers.set(verification.name, servfail);
    await expect(domains.verifyDomain(acme.id, 'app.acme.com')).rejects.toMatchObject({
      code: 'DOMAIN_VERIFICATION_FAILED',
      cause: servfail,
    });
  });

  it.each([
    ['no record at all', () => []],
    ['a different value', () => [['tenantkit-verification=not-the-token']]],
    ['the value with a prefix', (value: string) => [[`x${value}`]]],
    ['the value with a suffix', (value: string) => [[`${value} `]]],
    ['the value split across two records', (value: string) => [[value.slice(0, 12)], [value.slice(12)]]],
    ['only the bare token', (value: string) => [[value.replace('tenantkit-verification=', '')]]],
  ])('fails with DOMAIN_VERIFICATION_FAILED for %s', async (_label, answer) => {
    const { domains, dns, registry, acme, emitted } = await setup();
    const { verification } = await domains.addDomain(acme.id, 'app.acme.com');
    dns.answers.set(verification.name, answer(verification.value));
    await expect(domains.verifyDomain(acme.id, 'app.acme.com')).rejects.toMatchObject({
      code: 'DOMAIN_VERIFICATION_FAILED',
      details: { recordName: verification.name },
    });
    await expect(registry.getTenantByVerifiedDomain('app.acme.com')).resolves.toBeNull();
    expect(emitted.map((event) => event.name)).toEqual(['domain.added']);
  });

  it("refuses another tenant's token for this domain", async () => {
    const { domains, dns, acme, globex } = await setup();
    const mine = await domains.addDomain(acme.id, 'app.acme.com');
    const theirs = await domains.addDomain(globex.id, 'app.globex.com');
    dns.answers.set(mine.verification.name, [[theirs.verification.value]]);
    await expect(domains.verifyDomain(acme.id, 'app.acme.com')).rejects.toMatchObject({ code: 'DOMAIN_VERIFICATION_FAILED' });
  });

  it.each([
    ['null', null],
    ['a string', 'tenantkit-verification=x'],
    ['records that are not arrays', ['tenantkit-verification=x']],
  ])('fails with DOMAIN_VERIFICATION_FAILED, not a TypeError, when the resolver answers %s', async (_label, answer) => {
    const { domains, acme } = await setup({ dns: { resolveTxt: async () => answer as never } });
    await domains.addDomain(acme.id, 'app.acme.com');
    await expect(domains.verifyDomain(acme.id, 'app.acme.com')).rejects.toMatchObject({ code: 'DOMAIN_VERIFICATION_FAILED' });
  });

  it("answers DOMAIN_NOT_FOUND for another tenant's domain, exactly as for a missing one, without a DNS lookup", async () => {
    const { domains, dns, acme, globex } = await setup();
    const { verification } = await domains.addDomain(acme.id, 'app.acme.com');
    dns.answers.set(verification.name, [[verification.value]]);
    const foreign = await domains.verifyDomain(globex.id, 'app.acme.com').catch((error: unknown) => error);
    const missing = await domains.verifyDomain(globex.id, 'nothing.acme.com').catch((error: unknown) => error);
    expect(foreign).toMatchObject({ code: 'DOMAIN_NOT_FOUND', status: 404 });
    expect({ ...(foreign as object), message: (foreign as Error).message }).toEqual({
      ...(missing as object),
      message: (missing as Error).message,
    });
    expect(dns.queries).toEqual([]);
    await expect(domains.getVerificationRecord(globex.id, 'app.acme.com')).rejects.toMatchObject({ code: 'DOMAIN_NOT_FOUND' });
    await expect(domains.listDomains(acme.id)).resolves.toMatchObject([{ status: 'pending' }]);
  });

  it('refuses a malformed host name with DOMAIN_INVALID and a malformed tenant id with TENANT_IDENTIFIER_INVALID', async () => {
    const { domains, acme } = await setup();
    await expect(domains.verifyDomain(acme.id, 'not a host')).rejects.toMatchObject({ code: 'DOMAIN_INVALID' });
    await expect(domains.verifyDomain('bad/id', 'app.acme.com')).rejects.toMatchObject({ code: 'TENANT_IDENTIFIER_INVALID' });
  });
});

describe('getVerificationRecord', () => {
  it('answers the record addDomain gave, for any spelling of the host', async () => {
    const { domains, acme } = await setup();
    const { verification } = await domains.addDomain(acme.id, 'app.acme.com');
    await expect(domains.getVerificationRecord(acme.id, 'APP.ACME.COM.')).resolves.toEqual(verification);
    await expect(domains.getVerificationRecord(acme.id, 'other.acme.com')).rejects.toMatchObject({ code: 'DOMAIN_NOT_FOUND' });
  });
});

describe('removeDomain', () => {
  it('removes a verified domain, announces it, and the host no longer resolves and may be claimed again', async () => {
    const { domains, dns, registry, acme, globex, emitted } = await setup();
    const { verification } = await domains.addDomain(acme.id, 'app.acme.com');
    dns.answers.set(verification.name, [[verification.value]]);
    const verified = await domains.verifyDomain(acme.id, 'app.acme.com');

    await expect(domains.removeDomain(acme.id, 'App.Acme.com')).resolves.toBe(true);
    expect(emitted.at(-1)).toEqual({ name: 'domain.removed', payload: { domain: verified } });
    await expect(registry.getTenantByVerifiedDomain('app.acme.com')).resolves.toBeNull();
    await expect(domains.listDomains(acme.id)).resolves.toEqual([]);
    await expect(domains.addDomain(globex.id, 'app.acme.com')).resolves.toMatchObject({
      domain: { tenantId: globex.id, status: 'pending' },
    });
  });

  it("answers false for a missing domain and for another tenant's, which stays", async () => {
    const { domains, acme, globex, emitted } = await setup();
    const { domain } = await domains.addDomain(acme.id, 'app.acme.com');
    await expect(domains.removeDomain(globex.id, 'app.acme.com')).resolves.toBe(false);
    await expect(domains.removeDomain(acme.id, 'nothing.acme.com')).resolves.toBe(false);
    await expect(domains.listDomains(acme.id)).resolves.toEqual([domain]);
    expect(emitted.map((event) => event.name)).toEqual(['domain.added']);
  });

  it('refuses a malformed host name with DOMAIN_INVALID', async () => {
    const { domains, acme } = await setup();
    await expect(domains.removeDomain(acme.id, '*.acme.com')).rejects.toMatchObject({ code: 'DOMAIN_INVALID' });
  });
});

describe('listDomains', () => {
  it("lists one tenant's domains by host name, and refuses a malformed tenant id", async () => {
    const { domains, acme, globex } = await setup();
    await domains.addDomain(acme.id, 'zeta.acme.com');
    await domains.addDomain(acme.id, 'alpha.acme.com');
    await domains.addDomain(globex.id, 'beta.globex.com');
    const listed = await domains.listDomains(acme.id);
    expect(listed.map((domain) => domain.hostname)).toEqual(['alpha.acme.com', 'zeta.acme.com']);
    await expect(domains.listDomains('a b')).rejects.toMatchObject({ code: 'TENANT_IDENTIFIER_INVALID' });
  });
});
