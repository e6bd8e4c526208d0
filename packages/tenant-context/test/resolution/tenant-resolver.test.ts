import { createManualClock, type ManualClock } from '@tenantkit/core';
import { describe, expect, it } from 'vitest';
import { memoryTenantStore } from '../../src/adapters/memory.js';
import { createCustomDomains } from '../../src/domains/custom-domains.js';
import { createTenantEventBus } from '../../src/events.js';
import { createTenantRegistry, type TenantRegistry } from '../../src/registry/tenant-registry.js';
import { fromCustomDomain } from '../../src/resolution/custom-domain-source.js';
import { fromHeader } from '../../src/resolution/header-source.js';
import { fromPathPrefix } from '../../src/resolution/path-prefix-source.js';
import type { TenantRequest } from '../../src/resolution/request-info.js';
import { fromSubdomain } from '../../src/resolution/subdomain-source.js';
import { createTenantResolver, type TenantResolverOptions } from '../../src/resolution/tenant-resolver.js';
import type { TenantSource } from '../../src/resolution/tenant-source.js';
import { fromTokenClaim } from '../../src/resolution/token-claim-source.js';
import { createTrustedProxies } from '../../src/resolution/trusted-proxies.js';
import type { TenantStore } from '../../src/store.js';
import type { Tenant } from '../../src/tenant.js';

/** A memory store whose lookups are counted, and whose next lookup can be held until released. */
function countingStore() {
  const inner = memoryTenantStore();
  const reads = { byId: 0, bySlug: 0, domain: 0 };
  let gate: Promise<void> | undefined;
  /** Only the first lookup after hold() waits; later ones (the registry's own writes) run freely. */
  function takeGate(): Promise<void> | undefined {
    const taken = gate;
    gate = undefined;
    return taken;
  }
  const store: TenantStore = {
    ...inner,
    async getTenantById(id) {
      reads.byId += 1;
      const held = takeGate();
      // Read first, then wait: the caller gets the record as it was when the read happened.
      const tenant = await inner.getTenantById(id);
      if (held !== undefined) await held;
      return tenant;
    },
    async getTenantBySlug(slug) {
      reads.bySlug += 1;
      const held = takeGate();
      const tenant = await inner.getTenantBySlug(slug);
      if (held !== undefined) await held;
      return tenant;
    },
    async getDomain(hostname) {
      reads.domain += 1;
      return inner.getDomain(hostname);
    },
  };
  return {
    store,
    inner,
    reads,
    /** Holds the next lookup (after it read) until the returned function is called. */
    holdNextRead(): () => void {
      let release!: () => void;
      gate = new Promise((resolve) => {
        release = resolve;
      });
      return release;
    },
  };
}

function setup(options: Partial<TenantResolverOptions> = {}) {
  const clock: ManualClock = createManualClock();
  const events = createTenantEventBus({
    onListenerError: (error) => {
      throw error;
    },
  });
  const counting = countingStore();
  const registry = createTenantRegistry({ store: counting.store, events, clock });
  const resolver = createTenantResolver({
    registry,
    sources: [fromHeader(), fromSubdomain({ baseDomain: 'example.com' }), fromCustomDomain()],
    clock,
    ...options,
  });
  return { clock, events, registry, resolver, ...counting };
}

function request(headers: TenantRequest['headers'], url = '/', remoteAddress = '203.0.113.5'): TenantRequest {
  return { headers, url, remoteAddress };
}

const byId = (id: string) => request({ 'x-tenant-id': id, host: 'app.example.net' });
const bySubdomain = (slug: string) => request({ host: `${slug}.example.com` });

async function createActive(registry: TenantRegistry, id: string, slug: string): Promise<Tenant> {
  return registry.createTenant({ id, slug, name: slug });
}

describe('createTenantResolver options', () => {
  const { registry } = setup();
  it.each([
    ['no registry', { sources: [fromHeader()] }],
    ['no sources', { registry, sources: [] }],
    ['a non-source', { registry, sources: [{ name: 'x' }] }],
    ['duplicate source names', { registry, sources: [fromHeader(), fromHeader({ header: 'x-other' })] }],
    ['a negative TTL', { registry, sources: [fromHeader()], cache: { ttlMs: -1 } }],
    ['a TTL over an hour', { registry, sources: [fromHeader()], cache: { ttlMs: 3_600_001 } }],
    ['zero max entries', { registry, sources: [fromHeader()], cache: { maxEntries: 0 } }],
    ['cache: true', { registry, sources: [fromHeader()], cache: true }],
    ['trustedProxies as a list', { registry, sources: [fromHeader()], trustedProxies: ['10.0.0.0/8'] }],
    ['an unknown option', { registry, sources: [fromHeader()], sorces: [] }],
    ['an unknown notIdentifiedCode', { registry, sources: [fromHeader()], notIdentifiedCode: 'TENANT_NOT_FOUND' }],
  ])('refuses %s with CONFIGURATION_INVALID', (_label, options) => {
    expect(() => createTenantResolver(options as never)).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
  });
});

describe('resolve: sources and priority', () => {
  it('resolves by header id, subdomain slug and verified custom domain', async () => {
    const { registry, resolver, inner } = setup();
    const acme = await createActive(registry, 'tnt_acme', 'acme');
    await inner.insertDomain({
      hostname: 'app.acme.io',
      tenantId: 'tnt_acme',
      status: 'verified',
      verificationToken: 't',
      createdAt: 0,
      verifiedAt: 0,
    });
    await expect(resolver.resolve(byId('tnt_acme'))).resolves.toEqual(acme);
    await expect(resolver.resolve(bySubdomain('acme'))).resolves.toEqual(acme);
    await expect(resolver.resolve(request({ host: 'App.Acme.io:443' }))).resolves.toEqual(acme);
  });

  it('lets the first source that finds an identifier win', async () => {
    const { registry, resolver } = setup();
    await createActive(registry, 'tnt_acme', 'acme');
    await createActive(registry, 'tnt_globex', 'globex');
    const both = request({ 'x-tenant-id': 'tnt_globex', host: 'acme.example.com' });
    await expect(resolver.resolve(both)).resolves.toMatchObject({ id: 'tnt_globex' });
    const reversed = createTenantResolver({
      registry,
      sources: [fromSubdomain({ baseDomain: 'example.com' }), fromHeader()],
    });
    await expect(reversed.resolve(both)).resolves.toMatchObject({ id: 'tnt_acme' });
  });

  it('does not fall through to a later source when an earlier one finds a malformed identifier', async () => {
    const { registry, resolver } = setup();
    await createActive(registry, 'tnt_acme', 'acme');
    const bad = request({ 'x-tenant-id': '../acme', host: 'acme.example.com' });
    await expect(resolver.resolve(bad)).rejects.toMatchObject({ code: 'TENANT_IDENTIFIER_INVALID', status: 400 });
  });

  it('moves past an asynchronous source that finds nothing', async () => {
    const { registry } = setup();
    await createActive(registry, 'tnt_acme', 'acme');
    const resolver = createTenantResolver({
      registry,
      sources: [fromTokenClaim({ getTenantId: async () => undefined }), fromPathPrefix()],
    });
    await expect(resolver.resolve(request({}, '/t/acme/x'))).resolves.toMatchObject({ id: 'tnt_acme' });
  });

  it('never looks up hosts under a platform domain as custom domains', async () => {
    const { resolver, reads } = setup();
    for (const host of ['example.com', 'www.example.com']) {
      await expect(resolver.resolve(request({ host }))).rejects.toMatchObject({ code: 'TENANT_NOT_IDENTIFIED' });
    }
    expect(reads.domain).toBe(0);
  });

  it('uses X-Forwarded-Host only from trusted proxies', async () => {
    const { registry } = setup();
    await createActive(registry, 'tnt_acme', 'acme');
    await createActive(registry, 'tnt_victim', 'victim');
    const resolver = createTenantResolver({
      registry,
      sources: [fromSubdomain({ baseDomain: 'example.com' })],
      trustedProxies: createTrustedProxies(['10.0.0.0/8']),
    });
    const headers = { host: 'acme.example.com', 'x-forwarded-host': 'victim.example.com' };
    await expect(resolver.resolve(request(headers, '/', '203.0.113.5'))).resolves.toMatchObject({ id: 'tnt_acme' });
    await expect(resolver.resolve(request(headers, '/', '10.1.1.1'))).resolves.toMatchObject({ id: 'tnt_victim' });
  });

  it('tells which identifier a request carries without a lookup', async () => {
    const { resolver, reads } = setup();
    await expect(resolver.identify(bySubdomain('acme'))).resolves.toEqual({ by: 'slug', value: 'acme', source: 'subdomain' });
    await expect(resolver.identify(request({ host: 'example.com' }))).resolves.toBeUndefined();
    await expect(resolver.identify(request({ 'x-tenant-id': '' }))).rejects.toMatchObject({ code: 'TENANT_IDENTIFIER_INVALID' });
    expect(reads).toEqual({ byId: 0, bySlug: 0, domain: 0 });
  });
});

describe('resolve: refusals', () => {
  it('answers TENANT_NOT_IDENTIFIED (400) when nothing names a tenant', async () => {
    const { resolver } = setup();
    await expect(resolver.resolve(request({ host: 'example.com' }))).rejects.toMatchObject({
      code: 'TENANT_NOT_IDENTIFIED',
      status: 400,
    });
  });

  it('answers TENANT_UNAUTHENTICATED (401) when only token-claim sources are configured', async () => {
    const { registry } = setup();
    const resolver = createTenantResolver({ registry, sources: [fromTokenClaim({ getTenantId: () => undefined })] });
    await expect(resolver.resolve(request({}))).rejects.toMatchObject({ code: 'TENANT_UNAUTHENTICATED', status: 401 });
    const overridden = createTenantResolver({
      registry,
      sources: [fromHeader()],
      notIdentifiedCode: 'TENANT_UNAUTHENTICATED',
    });
    await expect(overridden.resolve(request({}))).rejects.toMatchObject({ code: 'TENANT_UNAUTHENTICATED' });
  });

  it('returns undefined for an unnamed tenant when not required, globally or per call', async () => {
    const { registry, resolver } = setup();
    await expect(resolver.resolve(request({}), { required: false })).resolves.toBeUndefined();
    const optional = createTenantResolver({ registry, sources: [fromHeader()], requireTenant: false });
    await expect(optional.resolve(request({}))).resolves.toBeUndefined();
    await expect(optional.resolve(request({}), { required: true })).rejects.toMatchObject({ code: 'TENANT_NOT_IDENTIFIED' });
  });

  it('still refuses a named but unknown tenant when not required', async () => {
    const { resolver } = setup();
    await expect(resolver.resolve(byId('tnt_nobody'), { required: false })).rejects.toMatchObject({
      code: 'TENANT_NOT_FOUND',
    });
  });

  it('answers TENANT_NOT_FOUND (404) for unknown ids, slugs and domains', async () => {
    const { resolver } = setup();
    for (const req of [byId('tnt_nobody'), bySubdomain('nobody'), request({ host: 'nobody.io' })]) {
      await expect(resolver.resolve(req)).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND', status: 404 });
    }
  });

  it('answers TENANT_NOT_FOUND for a domain that is only pending', async () => {
    const { registry, resolver, inner } = setup();
    await createActive(registry, 'tnt_acme', 'acme');
    await inner.insertDomain({
      hostname: 'app.acme.io',
      tenantId: 'tnt_acme',
      status: 'pending',
      verificationToken: 't',
      createdAt: 0,
      verifiedAt: null,
    });
    await expect(resolver.resolve(request({ host: 'app.acme.io' }))).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
  });

  it('answers TENANT_NOT_FOUND for a deleted tenant', async () => {
    const { registry, resolver } = setup();
    await createActive(registry, 'tnt_acme', 'acme');
    await registry.deleteTenant('tnt_acme', 'closed');
    await expect(resolver.resolve(byId('tnt_acme'))).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND', status: 404 });
  });

  it('answers TENANT_SUSPENDED (403) for suspended and offboarding tenants', async () => {
    const { registry, resolver } = setup();
    await createActive(registry, 'tnt_a', 'a');
    await createActive(registry, 'tnt_b', 'b');
    await registry.suspendTenant('tnt_a', 'payment overdue');
    await registry.setTenantStatus('tnt_b', 'offboarding', 'leaving');
    for (const id of ['tnt_a', 'tnt_b']) {
      await expect(resolver.resolve(byId(id))).rejects.toMatchObject({ code: 'TENANT_SUSPENDED', status: 403 });
    }
  });

  it('does not reveal the suspension reason', async () => {
    const { registry, resolver } = setup();
    await createActive(registry, 'tnt_a', 'a');
    await registry.suspendTenant('tnt_a', 'fraud investigation #4411');
    const error = await resolver.resolve(byId('tnt_a')).catch((thrown: unknown) => thrown);
    expect(JSON.stringify(error)).not.toContain('fraud');
    expect((error as Error).message).not.toContain('fraud');
  });

  it('answers TENANT_NOT_READY (503) while provisioning', async () => {
    const { registry, resolver } = setup();
    await registry.createTenant({ id: 'tnt_new', slug: 'new', name: 'New', status: 'provisioning' });
    await expect(resolver.resolve(bySubdomain('new'))).rejects.toMatchObject({ code: 'TENANT_NOT_READY', status: 503 });
  });

  it('passes store failures through without caching them', async () => {
    const { registry } = setup();
    let fail = true;
    const base = memoryTenantStore();
    const flaky: TenantStore = {
      ...base,
      async getTenantById(id) {
        if (fail) throw new Error('connection reset');
        return base.getTenantById(id);
      },
    };
    const flakyRegistry = createTenantRegistry({ store: flaky });
    await flakyRegistry.createTenant({ id: 'tnt_a', slug: 'a', name: 'A' });
    const resolver = createTenantResolver({ registry: flakyRegistry, sources: [fromHeader()] });
    await expect(resolver.resolve(byId('tnt_a'))).rejects.toThrow('connection reset');
    fail = false;
    await expect(resolver.resolve(byId('tnt_a'))).resolves.toMatchObject({ id: 'tnt_a' });
    expect(registry).toBeDefined();
  });

  it('never rejects with a non-Error, even when a custom source throws one', async () => {
    const { registry } = setup();
    const throwsString: TenantSource = {
      name: 'odd',
      kind: 'custom',
      readsHost: false,
      identify() {
        throw 'boom';
      },
    };
    const rejectsString: TenantSource = { ...throwsString, name: 'odd-async', identify: () => Promise.reject('boom') };
    for (const source of [throwsString, rejectsString]) {
      const resolver = createTenantResolver({ registry, sources: [source] });
      const error = await resolver.resolve(request({})).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(Error);
      expect(error).toMatchObject({ code: 'CONFIGURATION_INVALID', cause: 'boom' });
    }
  });
});

describe('resolve: cache', () => {
  it('serves hits from memory, synchronously through resolveMaybeSync', async () => {
    const { registry, resolver, reads } = setup();
    await createActive(registry, 'tnt_acme', 'acme');
    await resolver.resolve(byId('tnt_acme'));
    expect(reads.byId).toBe(1);
    for (let index = 0; index < 10; index += 1) await resolver.resolve(byId('tnt_acme'));
    const sync = resolver.resolveMaybeSync(byId('tnt_acme'));
    expect(sync).not.toBeInstanceOf(Promise);
    expect(sync).toMatchObject({ id: 'tnt_acme' });
    expect(reads.byId).toBe(1);
  });

  it('keys by identifier kind: the same text as id and slug are separate entries', async () => {
    const { registry, reads } = setup();
    await createActive(registry, 'acme', 'globex');
    await createActive(registry, 'tnt_globex', 'acme');
    const resolver = createTenantResolver({
      registry,
      sources: [fromHeader(), fromHeader({ header: 'x-tenant-slug', by: 'slug', name: 'slug-header' })],
    });
    await expect(resolver.resolve(request({ 'x-tenant-id': 'acme' }))).resolves.toMatchObject({ id: 'acme' });
    await expect(resolver.resolve(request({ 'x-tenant-slug': 'acme' }))).resolves.toMatchObject({ id: 'tnt_globex' });
    expect(reads.byId + reads.bySlug).toBe(2);
  });

  it('expires active tenants after ttlMs (default 30 s)', async () => {
    const { registry, resolver, reads, clock } = setup();
    await createActive(registry, 'tnt_acme', 'acme');
    await resolver.resolve(byId('tnt_acme'));
    clock.advance(29_999);
    await resolver.resolve(byId('tnt_acme'));
    expect(reads.byId).toBe(1);
    clock.advance(1);
    await resolver.resolve(byId('tnt_acme'));
    expect(reads.byId).toBe(2);
  });

  it('remembers unknown identifiers for negativeTtlMs (default 5 s)', async () => {
    const { resolver, reads, clock } = setup();
    await expect(resolver.resolve(bySubdomain('ghost'))).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
    clock.advance(4_999);
    await expect(resolver.resolve(bySubdomain('ghost'))).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
    expect(reads.bySlug).toBe(1);
    clock.advance(1);
    await expect(resolver.resolve(bySubdomain('ghost'))).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
    expect(reads.bySlug).toBe(2);
  });

  it('keeps tenants that are not active only for negativeTtlMs', async () => {
    const { registry, resolver, reads, clock } = setup();
    await registry.createTenant({ id: 'tnt_new', slug: 'new', name: 'New', status: 'provisioning' });
    await expect(resolver.resolve(byId('tnt_new'))).rejects.toMatchObject({ code: 'TENANT_NOT_READY' });
    clock.advance(5_000);
    await expect(resolver.resolve(byId('tnt_new'))).rejects.toMatchObject({ code: 'TENANT_NOT_READY' });
    expect(reads.byId).toBe(2);
  });

  it('honours custom TTLs and cache: false', async () => {
    const { registry, reads, clock } = setup();
    await createActive(registry, 'tnt_acme', 'acme');
    const short = createTenantResolver({ registry, sources: [fromHeader()], clock, cache: { ttlMs: 1_000 } });
    await short.resolve(byId('tnt_acme'));
    clock.advance(1_000);
    await short.resolve(byId('tnt_acme'));
    expect(reads.byId).toBe(2);
    const uncached = createTenantResolver({ registry, sources: [fromHeader()], clock, cache: false });
    for (let index = 0; index < 3; index += 1) await uncached.resolve(byId('tnt_acme'));
    expect(reads.byId).toBe(5);
  });

  it('stays within maxEntries, evicting the least recently used', async () => {
    const { registry, reads, clock } = setup();
    for (const id of ['tnt_a', 'tnt_b', 'tnt_c']) await createActive(registry, id, id.slice(4));
    const resolver = createTenantResolver({ registry, sources: [fromHeader()], clock, cache: { maxEntries: 2 } });
    await resolver.resolve(byId('tnt_a'));
    await resolver.resolve(byId('tnt_b'));
    await resolver.resolve(byId('tnt_c')); // evicts tnt_a
    expect(reads.byId).toBe(3);
    await resolver.resolve(byId('tnt_c'));
    await resolver.resolve(byId('tnt_b'));
    expect(reads.byId).toBe(3);
    await resolver.resolve(byId('tnt_a'));
    expect(reads.byId).toBe(4);
  });

  it('shares one registry read among concurrent misses', async () => {
    const { registry, resolver, reads, holdNextRead } = setup();
    await createActive(registry, 'tnt_acme', 'acme');
    const release = holdNextRead();
    const pending = Array.from({ length: 50 }, () => resolver.resolve(byId('tnt_acme')));
    release();
    const tenants = await Promise.all(pending);
    expect(new Set(tenants.map((tenant) => tenant?.id))).toEqual(new Set(['tnt_acme']));
    expect(reads.byId).toBe(1);
  });
});

describe('resolve: invalidation', () => {
  it('refuses a tenant immediately after suspendTenant, and serves it again after reactivation', async () => {
    const { registry, resolver } = setup();
    await createActive(registry, 'tnt_acme', 'acme');
    await resolver.resolve(byId('tnt_acme'));
    await resolver.resolve(bySubdomain('acme'));
    await registry.suspendTenant('tnt_acme', 'payment overdue');
    // No clock movement: the event dropped the cached entries.
    await expect(resolver.resolve(byId('tnt_acme'))).rejects.toMatchObject({ code: 'TENANT_SUSPENDED' });
    await expect(resolver.resolve(bySubdomain('acme'))).rejects.toMatchObject({ code: 'TENANT_SUSPENDED' });
    await registry.reactivateTenant('tnt_acme');
    await expect(resolver.resolve(byId('tnt_acme'))).resolves.toMatchObject({ status: 'active' });
  });

  it('refuses a deleted tenant immediately', async () => {
    const { registry, resolver } = setup();
    await createActive(registry, 'tnt_acme', 'acme');
    await resolver.resolve(bySubdomain('acme'));
    await registry.deleteTenant('tnt_acme', 'closed');
    await expect(resolver.resolve(bySubdomain('acme'))).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
  });

  it('follows a rename: the old slug stops resolving, the new one resolves at once', async () => {
    const { registry, resolver } = setup();
    await createActive(registry, 'tnt_acme', 'acme');
    await resolver.resolve(bySubdomain('acme'));
    await expect(resolver.resolve(bySubdomain('acme-corp'))).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
    await registry.updateTenant('tnt_acme', { slug: 'acme-corp', plan: 'pro' });
    await expect(resolver.resolve(bySubdomain('acme'))).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
    await expect(resolver.resolve(bySubdomain('acme-corp'))).resolves.toMatchObject({ id: 'tnt_acme', plan: 'pro' });
  });

  it('serves the updated record after updateTenant', async () => {
    const { registry, resolver } = setup();
    await createActive(registry, 'tnt_acme', 'acme');
    await resolver.resolve(byId('tnt_acme'));
    await registry.updateTenant('tnt_acme', { features: { beta: true } });
    await expect(resolver.resolve(byId('tnt_acme'))).resolves.toMatchObject({ features: { beta: true } });
  });

  it('forgets an unknown slug as soon as a tenant takes it', async () => {
    const { registry, resolver } = setup();
    await expect(resolver.resolve(bySubdomain('late'))).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
    await expect(resolver.resolve(byId('tnt_late'))).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
    await createActive(registry, 'tnt_late', 'late');
    await expect(resolver.resolve(bySubdomain('late'))).resolves.toMatchObject({ id: 'tnt_late' });
    await expect(resolver.resolve(byId('tnt_late'))).resolves.toMatchObject({ id: 'tnt_late' });
  });

  it('forgets a purged provisioning tenant', async () => {
    const { registry, resolver } = setup();
    await registry.createTenant({ id: 'tnt_new', slug: 'new', name: 'New', status: 'provisioning' });
    await expect(resolver.resolve(byId('tnt_new'))).rejects.toMatchObject({ code: 'TENANT_NOT_READY' });
    await registry.purgeProvisioningTenant('tnt_new');
    await expect(resolver.resolve(byId('tnt_new'))).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
  });

  it('serves a tenant as soon as provisioning completes', async () => {
    const { registry, resolver } = setup();
    await registry.createTenant({ id: 'tnt_new', slug: 'new', name: 'New', status: 'provisioning' });
    await expect(resolver.resolve(byId('tnt_new'))).rejects.toMatchObject({ code: 'TENANT_NOT_READY' });
    await registry.setTenantStatus('tnt_new', 'active');
    await expect(resolver.resolve(byId('tnt_new'))).resolves.toMatchObject({ id: 'tnt_new' });
  });

  it('follows domain verification and removal', async () => {
    const { registry, resolver, clock, events } = setup();
    await createActive(registry, 'tnt_acme', 'acme');
    const txt = new Map<string, string>();
    const domains = createCustomDomains({
      registry,
      events,
      clock,
      platformDomains: ['example.com'],
      dns: { resolveTxt: async (name) => (txt.has(name) ? [[txt.get(name) as string]] : []) },
    });
    const { verification } = await domains.addDomain('tnt_acme', 'app.acme.io');
    const host = request({ host: 'app.acme.io' });
    await expect(resolver.resolve(host)).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
    txt.set(verification.name, verification.value);
    await domains.verifyDomain('tnt_acme', 'app.acme.io');
    await expect(resolver.resolve(host)).resolves.toMatchObject({ id: 'tnt_acme' });
    await domains.removeDomain('tnt_acme', 'app.acme.io');
    await expect(resolver.resolve(host)).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
  });

  it('bounds staleness of changes made elsewhere by ttlMs, and invalidate() ends it early', async () => {
    const { registry, resolver, inner, clock } = setup();
    const acme = await createActive(registry, 'tnt_acme', 'acme');
    await resolver.resolve(byId('tnt_acme'));
    // Another process suspends the tenant: this process's bus hears nothing.
    await inner.updateTenant({ ...acme, status: 'suspended', version: 2 }, 1);
    await expect(resolver.resolve(byId('tnt_acme'))).resolves.toMatchObject({ status: 'active' });
    clock.advance(30_000);
    await expect(resolver.resolve(byId('tnt_acme'))).rejects.toMatchObject({ code: 'TENANT_SUSPENDED' });

    await inner.updateTenant({ ...acme, status: 'active', version: 3 }, 2);
    resolver.invalidate('tnt_acme');
    await expect(resolver.resolve(byId('tnt_acme'))).resolves.toMatchObject({ status: 'active' });
    await inner.updateTenant({ ...acme, status: 'suspended', version: 4 }, 3);
    resolver.invalidate();
    await expect(resolver.resolve(byId('tnt_acme'))).rejects.toMatchObject({ code: 'TENANT_SUSPENDED' });
  });

  it('does not let a read that started before a suspension fill the cache', async () => {
    const { registry, resolver, holdNextRead } = setup();
    await createActive(registry, 'tnt_acme', 'acme');
    const release = holdNextRead();
    const early = resolver.resolve(byId('tnt_acme')); // reads the active record, then waits
    await registry.suspendTenant('tnt_acme', 'abuse');
    release();
    // The early request began before the suspension and may still see the old record...
    await expect(early).resolves.toMatchObject({ status: 'active' });
    // ...but nothing after it may.
    await expect(resolver.resolve(byId('tnt_acme'))).rejects.toMatchObject({ code: 'TENANT_SUSPENDED' });
  });

  it('does not let a request after a suspension join a read that started before it', async () => {
    const { registry, resolver, holdNextRead } = setup();
    await createActive(registry, 'tnt_acme', 'acme');
    const release = holdNextRead();
    const early = resolver.resolve(byId('tnt_acme'));
    await registry.suspendTenant('tnt_acme', 'abuse');
    const late = resolver.resolve(byId('tnt_acme'));
    release();
    await expect(early).resolves.toMatchObject({ status: 'active' });
    await expect(late).rejects.toMatchObject({ code: 'TENANT_SUSPENDED' });
  });

  it('unsubscribes on dispose and refuses to resolve afterwards', async () => {
    const { registry, resolver } = setup();
    await createActive(registry, 'tnt_acme', 'acme');
    await resolver.resolve(byId('tnt_acme'));
    resolver.dispose();
    resolver.dispose();
    await expect(resolver.resolve(byId('tnt_acme'))).rejects.toMatchObject({ code: 'CONFIGURATION_INVALID' });
    expect(() => resolver.resolveMaybeSync(byId('tnt_acme'))).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
    // Events after dispose reach no listener of the resolver (the bus rethrows listener errors here).
    await expect(registry.suspendTenant('tnt_acme', 'x')).resolves.toMatchObject({ status: 'suspended' });
  });
});

describe('invalidation with a separate domain bus', () => {
  it('still hears the registry: a suspension applies at once even when `events` names another bus', async () => {
    const domainBus = createTenantEventBus();
    const { registry, resolver } = setup({ events: domainBus });
    const tenant = await createActive(registry, 'tnt_split', 'split');
    await expect(resolver.resolve(byId(tenant.id))).resolves.toMatchObject({ id: tenant.id });
    await registry.suspendTenant(tenant.id, 'chargeback');
    await expect(resolver.resolve(byId(tenant.id))).rejects.toMatchObject({ code: 'TENANT_SUSPENDED' });
  });

  it('hears domain events on the extra bus too', async () => {
    const domainBus = createTenantEventBus();
    const { registry, resolver, clock } = setup({ events: domainBus });
    const tenant = await createActive(registry, 'tnt_dom', 'dom');
    const txt = new Map<string, string[][]>();
    const domains = createCustomDomains({ registry, events: domainBus, clock, dns: { resolveTxt: async (name) => txt.get(name) ?? [] } });
    const { verification } = await domains.addDomain(tenant.id, 'app.dom.example');
    const viaDomain = request({ host: 'app.dom.example' });
    await expect(resolver.resolve(viaDomain)).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' }); // cached as unknown
    txt.set(verification.name, [[verification.value]]);
    await domains.verifyDomain(tenant.id, 'app.dom.example');
    await expect(resolver.resolve(viaDomain)).resolves.toMatchObject({ id: tenant.id });
  });
});
