import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTenantEventBus, type TenantEventName } from '../src/events.js';

const payload = { tenantId: 'tnt_1' };

/** Lets queued promise callbacks (such as a rejected listener's `.catch`) run. */
async function flushPromises(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('createTenantEventBus', () => {
  it('delivers an event to its listeners synchronously, in registration order', () => {
    const bus = createTenantEventBus();
    const calls: string[] = [];
    bus.on('tenant.purged', ({ tenantId }) => void calls.push(`first:${tenantId}`));
    bus.on('tenant.purged', ({ tenantId }) => void calls.push(`second:${tenantId}`));
    bus.on('tenant.purged', ({ tenantId }) => void calls.push(`third:${tenantId}`));
    bus.emit('tenant.purged', payload);
    expect(calls).toEqual(['first:tnt_1', 'second:tnt_1', 'third:tnt_1']);
  });

  it('delivers only to listeners of the emitted event', () => {
    const bus = createTenantEventBus();
    const purged = vi.fn();
    const created = vi.fn();
    bus.on('tenant.purged', purged);
    bus.on('tenant.created', created);
    bus.emit('tenant.purged', payload);
    expect(purged).toHaveBeenCalledWith(payload);
    expect(created).not.toHaveBeenCalled();
  });

  it('does nothing when an event has no listener', () => {
    const bus = createTenantEventBus();
    expect(() => bus.emit('tenant.purged', payload)).not.toThrow();
  });

  it('stops delivering to an unsubscribed listener and keeps the others', () => {
    const bus = createTenantEventBus();
    const kept = vi.fn();
    const removed = vi.fn();
    bus.on('tenant.purged', kept);
    const off = bus.on('tenant.purged', removed);
    bus.emit('tenant.purged', payload);
    off();
    off(); // a second call is harmless
    bus.emit('tenant.purged', payload);
    expect(kept).toHaveBeenCalledTimes(2);
    expect(removed).toHaveBeenCalledTimes(1);
  });

  it('finishes the current delivery when a listener unsubscribes another one mid-emit', () => {
    const bus = createTenantEventBus();
    const calls: string[] = [];
    let offSecond = (): void => undefined;
    bus.on('tenant.purged', () => {
      calls.push('first');
      offSecond();
    });
    offSecond = bus.on('tenant.purged', () => void calls.push('second'));
    bus.emit('tenant.purged', payload);
    bus.emit('tenant.purged', payload);
    expect(calls).toEqual(['first', 'second', 'first']);
  });

  it('isolates a throwing listener: later listeners still run, emit does not throw, the error is reported', () => {
    const reported: Array<{ error: unknown; name: TenantEventName }> = [];
    const bus = createTenantEventBus({ onListenerError: (error, name) => void reported.push({ error, name }) });
    const failure = new Error('listener broke');
    const after = vi.fn();
    bus.on('tenant.purged', () => {
      throw failure;
    });
    bus.on('tenant.purged', after);
    expect(() => bus.emit('tenant.purged', payload)).not.toThrow();
    expect(after).toHaveBeenCalledTimes(1);
    expect(reported).toEqual([{ error: failure, name: 'tenant.purged' }]);
  });

  it('reports a rejecting async listener without an unhandled rejection', async () => {
    const reported: Array<{ error: unknown; name: TenantEventName }> = [];
    const bus = createTenantEventBus({ onListenerError: (error, name) => void reported.push({ error, name }) });
    const failure = new Error('async listener broke');
    const after = vi.fn();
    bus.on('tenant.created', async () => {
      throw failure;
    });
    bus.on('tenant.created', after);
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      bus.emit('tenant.created', { tenant: {} as never });
      expect(after).toHaveBeenCalledTimes(1);
      await flushPromises();
      expect(reported).toEqual([{ error: failure, name: 'tenant.created' }]);
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it('reports to console.error by default', () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const bus = createTenantEventBus();
    const failure = new Error('boom');
    bus.on('domain.removed', () => {
      throw failure;
    });
    bus.emit('domain.removed', { domain: {} as never });
    expect(consoleError).toHaveBeenCalledTimes(1);
    expect(consoleError.mock.calls[0]?.[0]).toContain('domain.removed');
    expect(consoleError.mock.calls[0]?.[1]).toBe(failure);
  });

  it('keeps the listeners of two buses apart', () => {
    const first = createTenantEventBus();
    const second = createTenantEventBus();
    const listener = vi.fn();
    first.on('tenant.purged', listener);
    second.emit('tenant.purged', payload);
    expect(listener).not.toHaveBeenCalled();
  });
});

describe('createTenantEventBus error reporter', () => {
  it('an error reporter that throws never reaches the emitter', async () => {
    const bus = createTenantEventBus({
      onListenerError: () => {
        throw new Error('reporter broke');
      },
    });
    bus.on('tenant.purged', () => {
      throw new Error('listener broke');
    });
    bus.on('tenant.purged', async () => {
      throw new Error('async listener broke');
    });
    expect(() => bus.emit('tenant.purged', { tenantId: 't1' })).not.toThrow();
    await new Promise((resolve) => setImmediate(resolve));
  });
});
