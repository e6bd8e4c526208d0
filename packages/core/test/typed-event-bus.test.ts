import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTypedEventBus } from '@tenantkit/core';

interface ExampleEvents {
  'user.created': { id: string };
  'user.deleted': { id: string; reason: string };
}

describe('createTypedEventBus', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('delivers a payload to the listeners of its event only, synchronously and in registration order', () => {
    const events = createTypedEventBus<ExampleEvents>();
    const calls: string[] = [];
    events.on('user.created', ({ id }) => void calls.push(`first:${id}`));
    events.on('user.created', ({ id }) => void calls.push(`second:${id}`));
    events.on('user.deleted', ({ id }) => void calls.push(`deleted:${id}`));

    events.emit('user.created', { id: 'usr_1' });

    expect(calls).toEqual(['first:usr_1', 'second:usr_1']);
  });

  it('emitting an event nobody listens to does nothing', () => {
    const onListenerError = vi.fn();
    const events = createTypedEventBus<ExampleEvents>({ onListenerError });
    expect(() => events.emit('user.deleted', { id: 'usr_1', reason: 'gdpr' })).not.toThrow();
    expect(onListenerError).not.toHaveBeenCalled();
  });

  it('stops delivering to a listener once it unsubscribes, leaving the others', () => {
    const events = createTypedEventBus<ExampleEvents>();
    const kept = vi.fn();
    const removed = vi.fn();
    events.on('user.created', kept);
    const off = events.on('user.created', removed);

    off();
    off(); // idempotent
    events.emit('user.created', { id: 'usr_1' });

    expect(removed).not.toHaveBeenCalled();
    expect(kept).toHaveBeenCalledWith({ id: 'usr_1' });
  });

  it('delivers a round to the listeners registered when it started, even if one unsubscribes another', () => {
    const events = createTypedEventBus<ExampleEvents>();
    const second = vi.fn();
    let offSecond = () => {};
    events.on('user.created', () => offSecond());
    offSecond = events.on('user.created', second);

    events.emit('user.created', { id: 'usr_1' });
    events.emit('user.created', { id: 'usr_2' });

    expect(second).toHaveBeenCalledTimes(1);
    expect(second).toHaveBeenCalledWith({ id: 'usr_1' });
  });

  it('isolates a throwing listener: the rest still run, emit does not throw, the error is reported with the event name', () => {
    const onListenerError = vi.fn();
    const events = createTypedEventBus<ExampleEvents>({ onListenerError });
    const failure = new Error('listener broke');
    const after = vi.fn();
    events.on('user.created', () => {
      throw failure;
    });
    events.on('user.created', after);

    expect(() => events.emit('user.created', { id: 'usr_1' })).not.toThrow();

    expect(after).toHaveBeenCalledOnce();
    expect(onListenerError).toHaveBeenCalledExactlyOnceWith(failure, 'user.created');
  });

  it('reports a rejecting listener without failing emit', async () => {
    const onListenerError = vi.fn();
    const events = createTypedEventBus<ExampleEvents>({ onListenerError });
    const failure = new Error('async listener broke');
    events.on('user.deleted', async () => {
      throw failure;
    });

    events.emit('user.deleted', { id: 'usr_1', reason: 'gdpr' });
    await vi.waitFor(() => expect(onListenerError).toHaveBeenCalledExactlyOnceWith(failure, 'user.deleted'));
  });

  it('swallows an error reporter that throws, for sync and async listener failures', async () => {
    const onListenerError = vi.fn(() => {
      throw new Error('reporter broke');
    });
    const events = createTypedEventBus<ExampleEvents>({ onListenerError });
    const after = vi.fn();
    events.on('user.created', () => {
      throw new Error('sync');
    });
    events.on('user.created', () => Promise.reject(new Error('async')));
    events.on('user.created', after);

    expect(() => events.emit('user.created', { id: 'usr_1' })).not.toThrow();
    expect(after).toHaveBeenCalledOnce();
    await vi.waitFor(() => expect(onListenerError).toHaveBeenCalledTimes(2));
  });

  it('by default logs a listener failure with console.error, prefixed with the label', () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    const failure = new Error('listener broke');

    const defaults = createTypedEventBus<ExampleEvents>();
    defaults.on('user.created', () => {
      throw failure;
    });
    defaults.emit('user.created', { id: 'usr_1' });

    const labelled = createTypedEventBus<ExampleEvents>({ label: 'my-app' });
    labelled.on('user.deleted', () => {
      throw failure;
    });
    labelled.emit('user.deleted', { id: 'usr_1', reason: 'gdpr' });

    expect(consoleError.mock.calls).toEqual([
      ['[tenantkit] listener of "user.created" failed', failure],
      ['[my-app] listener of "user.deleted" failed', failure],
    ]);
  });

  it('keeps buses independent of each other', () => {
    const first = createTypedEventBus<ExampleEvents>();
    const second = createTypedEventBus<ExampleEvents>();
    const listener = vi.fn();
    first.on('user.created', listener);

    second.emit('user.created', { id: 'usr_1' });

    expect(listener).not.toHaveBeenCalled();
  });
});
