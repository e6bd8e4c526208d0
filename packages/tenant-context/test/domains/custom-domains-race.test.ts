import { createManualClock } from '@tenantkit/core';
import { describe, expect, it } from 'vitest';
import { memoryTenantStore } from '../../src/adapters/memory.js';
import { createCustomDomains, type TxtResolver } from '../../src/domains/custom-domains.js';
import { createTenantEventBus, type TenantEventMap } from '../../src/events.js';
import { createTenantRegistry } from '../../src/registry/tenant-registry.js';
import type { TenantStore } from '../../src/store.js';

const START = Date.UTC(2026, 0, 1);
const TTL = 3_600_000;

/** A memory store whose deleteDomain runs `between` first: after the claim was read, before it is deleted. */
function storePausingBeforeDelete() {
  const inner = memoryTenantStore();
  let between: (() => Promise<void>) | undefined;
  const store: TenantStore = {
    ...inner,
    async deleteDomain(tenantId, hostname, expected) {
      const action = between;
      between = undefined;
      if (action !== undefined) await action();
      return inner.deleteDomain(tenantId, hostname, expected);
    },
  };
  return {
    store,
    onPause(action: () => Promise<void>) {
      between = action;
    },
  };
}

async function setup() {
  const clock = createManualClock(START);
  const events = createTenantEventBus({
    onListenerError: (error) => {
      throw error;
    },
  });
  const paused = storePausingBeforeDelete();
  const registry = createTenantRegistry({ store: paused.store, events, clock });
  const txt = new Map<string, string[][]>();
  const dns: TxtResolver = {
    async resolveTxt(name) {
      const answer = txt.get(name);
      if (answer === undefined) throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
      return answer;
    },
  };
  const domains = createCustomDomains({ registry, clock, dns, pendingClaimTtlMs: TTL });
  const removed: Array<TenantEventMap['domain.removed']> = [];
  events.on('domain.removed', (payload) => void removed.push(payload));
  const acme = await registry.createTenant({ id: 'tnt_acme', slug: 'acme', name: 'Acme' });
  const globex = await registry.createTenant({ id: 'tnt_globex', slug: 'globex', name: 'Globex' });
  return { ...paused, clock, txt, domains, registry, removed, acme, globex };
}

describe('releasing a stale claim racing its verification', () => {
  it('keeps a claim its owner verified between the stale check and the delete', async () => {
    const { domains, registry, clock, txt, removed, onPause, acme, globex } = await setup();
    const { verification } = await domains.addDomain(acme.id, 'shop.acme.com');
    txt.set(verification.name, [[verification.value]]);
    clock.advance(TTL);
    onPause(async () => {
      await domains.verifyDomain(acme.id, 'shop.acme.com');
    });
    await expect(domains.addDomain(globex.id, 'shop.acme.com')).rejects.toMatchObject({ code: 'DOMAIN_TAKEN' });
    await expect(domains.listDomains(acme.id)).resolves.toMatchObject([{ hostname: 'shop.acme.com', status: 'verified' }]);
    await expect(domains.listDomains(globex.id)).resolves.toEqual([]);
    await expect(registry.getTenantByVerifiedDomain('shop.acme.com')).resolves.toMatchObject({ id: acme.id });
    expect(removed).toEqual([]);
  });

  it('still releases a stale claim that nobody touched in between', async () => {
    const { domains, clock, removed, onPause, acme, globex } = await setup();
    await domains.addDomain(acme.id, 'shop.acme.com');
    clock.advance(TTL);
    let paused = false;
    onPause(async () => {
      paused = true;
    });
    await expect(domains.addDomain(globex.id, 'shop.acme.com')).resolves.toMatchObject({
      domain: { tenantId: globex.id, status: 'pending' },
    });
    expect(paused).toBe(true);
    expect(removed.map(({ domain }) => domain.tenantId)).toEqual([acme.id]);
  });
});
