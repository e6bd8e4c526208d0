import { buildTenant } from '@tenantkit/test-utils';
import { createManualClock } from '@tenantkit/core';
import { describe, expect, it } from 'vitest';
import { createTenantLookupCache } from '../../src/resolution/tenant-lookup-cache.js';

function setup(overrides: { ttlMs?: number; negativeTtlMs?: number; maxEntries?: number } = {}) {
  const clock = createManualClock();
  const cache = createTenantLookupCache({ ttlMs: 30_000, negativeTtlMs: 5_000, maxEntries: 100, clock, ...overrides });
  return { clock, cache };
}

describe('createTenantLookupCache', () => {
  it('returns what was stored, null included, and undefined on a miss', () => {
    const { cache } = setup();
    const acme = buildTenant({ id: 'tnt_acme', slug: 'acme' });
    cache.set('slug', 'acme', acme);
    cache.set('slug', 'ghost', null);
    expect(cache.get('slug', 'acme')).toBe(acme);
    expect(cache.get('slug', 'ghost')).toBeNull();
    expect(cache.get('slug', 'other')).toBeUndefined();
    expect(cache.get('id', 'acme')).toBeUndefined();
    expect(cache.size).toBe(2);
  });

  it('expires active tenants after ttlMs and everything else after negativeTtlMs', () => {
    const { cache, clock } = setup();
    cache.set('id', 'tnt_a', buildTenant({ id: 'tnt_a' }));
    cache.set('id', 'tnt_s', buildTenant({ id: 'tnt_s', status: 'suspended' }));
    cache.set('id', 'tnt_x', null);
    clock.advance(4_999);
    expect(cache.get('id', 'tnt_s')).toBeDefined();
    expect(cache.get('id', 'tnt_x')).toBeNull();
    clock.advance(1);
    expect(cache.get('id', 'tnt_s')).toBeUndefined();
    expect(cache.get('id', 'tnt_x')).toBeUndefined();
    expect(cache.get('id', 'tnt_a')).toBeDefined();
    clock.advance(25_000);
    expect(cache.get('id', 'tnt_a')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('stores nothing when the applicable TTL is zero', () => {
    const { cache } = setup({ negativeTtlMs: 0 });
    cache.set('slug', 'ghost', null);
    expect(cache.get('slug', 'ghost')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('evicts the oldest entry across identifier kinds', () => {
    const { cache } = setup({ maxEntries: 3 });
    cache.set('id', 'a', null);
    cache.set('slug', 'b', null);
    cache.set('hostname', 'c.example.com', null);
    cache.set('slug', 'd', null);
    expect(cache.size).toBe(3);
    expect(cache.get('id', 'a')).toBeUndefined();
    expect(cache.get('slug', 'b')).toBeNull();
    expect(cache.get('hostname', 'c.example.com')).toBeNull();
  });

  it('keeps entries in use: a hit that has fallen a quarter of the capacity behind is renewed', () => {
    const { cache } = setup({ maxEntries: 8 });
    cache.set('id', 'hot', null);
    for (let index = 0; index < 20; index += 1) {
      cache.set('id', `cold-${index}`, null);
      expect(cache.get('id', 'hot'), `after ${index + 1} insertions`).toBeNull();
    }
    expect(cache.size).toBe(8);
  });

  it('replacing a key does not count twice', () => {
    const { cache } = setup();
    cache.set('id', 'a', null);
    cache.set('id', 'a', buildTenant({ id: 'a' }));
    expect(cache.size).toBe(1);
  });

  it('deletes by key, by tenant and entirely', () => {
    const { cache } = setup();
    const acme = buildTenant({ id: 'tnt_acme', slug: 'acme' });
    cache.set('id', 'tnt_acme', acme);
    cache.set('slug', 'acme', acme);
    cache.set('hostname', 'app.acme.io', acme);
    cache.set('slug', 'globex', buildTenant({ id: 'tnt_globex', slug: 'globex' }));
    cache.deleteTenant('tnt_acme');
    expect(cache.get('id', 'tnt_acme')).toBeUndefined();
    expect(cache.get('slug', 'acme')).toBeUndefined();
    expect(cache.get('hostname', 'app.acme.io')).toBeUndefined();
    expect(cache.get('slug', 'globex')).toBeDefined();
    expect(cache.size).toBe(1);
    cache.delete('slug', 'globex');
    expect(cache.size).toBe(0);
    cache.set('id', 'x', null);
    cache.clear();
    expect(cache.get('id', 'x')).toBeUndefined();
    expect(cache.size).toBe(0);
  });
});
