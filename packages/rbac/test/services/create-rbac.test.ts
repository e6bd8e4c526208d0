import { describe, expect, it } from 'vitest';
import { memoryRbacStore } from '../../src/adapters/memory.js';
import { createLruCache } from '../../src/authorizer/lru-cache.js';
import { createRbac } from '../../src/create-rbac.js';
import { RbacError } from '../../src/errors.js';
import { createRbacEventBus } from '../../src/events/rbac-events.js';
import { createInProcessInvalidationChannel } from '../../src/invalidation/in-process-invalidation-channel.js';
import type { InvalidationChannel } from '../../src/invalidation/invalidation-channel.js';
import { bootstrapTenant, grant, role, setup, T1 } from './rbac-fixture.js';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return (error as RbacError).code;
  }
  return undefined;
}

describe('createRbac', () => {
  it('validates its options when called', () => {
    expect(codeOf(() => createRbac({} as never))).toBe('CONFIGURATION_INVALID');
    expect(codeOf(() => createRbac({ store: { getRole: () => null } as never }))).toBe('CONFIGURATION_INVALID');
    const store = memoryRbacStore();
    expect(codeOf(() => createRbac({ store, cache: { maxEntries: 0 } }))).toBe('CONFIGURATION_INVALID');
    expect(codeOf(() => createRbac({ store, cache: { maxStalenessMs: -1 } }))).toBe('CONFIGURATION_INVALID');
    expect(codeOf(() => createRbac({ store, cache: { ttl: 1 } as never }))).toBe('CONFIGURATION_INVALID');
    expect(codeOf(() => createRbac({ store, invalidation: {} as never }))).toBe('CONFIGURATION_INVALID');
    expect(codeOf(() => createRbac({ store, planRules: 'free' as never }))).toBe('CONFIGURATION_INVALID');
    expect(codeOf(() => createRbac({ store }))).toBeUndefined();
  });

  it('publishes its changes on the channel and stops listening on close', async () => {
    const invalidation = createInProcessInvalidationChannel();
    const heard: Array<string | null> = [];
    await invalidation.subscribe((tenantId) => void heard.push(tenantId));
    const fixture = setup({ invalidation });
    await role(fixture, T1, { key: 'reader', permissions: ['docs:read'] });
    expect(heard).toEqual([T1]);
    await fixture.rbac.roles.createAsSystem({ reason: 'policy' }, { key: 'auditor', permissions: [] }, { tenantId: null });
    expect(heard).toEqual([T1, null]);

    const other = createRbac({ store: fixture.store, clock: fixture.clock, invalidation });
    await grant(fixture, T1, 'usr_1', 'reader');
    expect(await other.can({ id: 'usr_1' }, 'docs:read', undefined, { tenantId: T1 })).toBe(true);
    await other.close();
    expect(await other.can({ id: 'usr_1' }, 'docs:read', undefined, { tenantId: T1 })).toBe(true);
    await fixture.rbac.roles.updateAsSystem({ reason: 'policy' }, 'reader', { permissions: ['docs:list'] }, { tenantId: T1 });
    // Closed: no longer hears it, so the cache answers until the staleness bound.
    expect(await other.can({ id: 'usr_1' }, 'docs:read', undefined, { tenantId: T1 })).toBe(true);
    fixture.clock.advance(5_000);
    expect(await other.can({ id: 'usr_1' }, 'docs:read', undefined, { tenantId: T1 })).toBe(false);
  });

  it('reports a failing channel instead of failing the change', async () => {
    const errors: string[] = [];
    const broken: InvalidationChannel = {
      publish: async () => {
        throw new Error('redis down');
      },
      subscribe: async () => {
        throw new Error('no subscribe');
      },
      close: async () => {},
    };
    const fixture = setup({ invalidation: broken, onError: (_error, context) => void errors.push(context.operation) });
    await bootstrapTenant(fixture, T1);
    expect(await fixture.rbac.can({ id: 'usr_admin' }, 'x:read', undefined, { tenantId: T1 })).toBe(true);
    expect(errors[0]).toBe('invalidation.subscribe');
    expect(errors).toContain('invalidation.publish');
    await fixture.rbac.close();
  });
});

describe('building blocks', () => {
  it('the event bus isolates a failing listener', () => {
    const failures: string[] = [];
    const events = createRbacEventBus({ onListenerError: (_error, name) => void failures.push(name) });
    const seen: string[] = [];
    events.on('tenant_data.deleted', () => {
      throw new Error('boom');
    });
    const off = events.on('tenant_data.deleted', ({ tenantId }) => void seen.push(tenantId));
    events.emit('tenant_data.deleted', { tenantId: T1 });
    off();
    events.emit('tenant_data.deleted', { tenantId: 'tnt_2' });
    expect(seen).toEqual([T1]);
    expect(failures).toEqual(['tenant_data.deleted', 'tenant_data.deleted']);
  });

  it('the LRU evicts the least recently used entry', () => {
    const cache = createLruCache<string, number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(1);
    expect(cache.size).toBe(2);
    expect(() => createLruCache(0)).toThrow(RangeError);
  });

  it('the in-process channel delivers to every subscriber despite a throwing one, until unsubscribed', async () => {
    const channel = createInProcessInvalidationChannel();
    const heard: Array<string | null> = [];
    await channel.subscribe(() => {
      throw new Error('boom');
    });
    const unsubscribe = await channel.subscribe((tenantId) => void heard.push(tenantId));
    await channel.publish(T1);
    await unsubscribe();
    await channel.publish('tnt_2');
    expect(heard).toEqual([T1]);
  });
});
