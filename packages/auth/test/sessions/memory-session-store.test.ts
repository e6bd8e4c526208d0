import { createManualClock } from '@tenantkit/core';
import { describe, expect, it } from 'vitest';
import { memorySessionStore, type SessionRecord } from '../../src/index.js';

const START = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

function session(overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: 'ses_1',
    tokenHash: 'hash_1',
    userId: 'usr_1',
    tenantId: null,
    amr: ['pwd'],
    device: { userAgent: null, ip: null, label: null },
    createdAt: START,
    lastSeenAt: START,
    expiresAt: START + HOUR,
    absoluteExpiresAt: START + 4 * HOUR,
    ...overrides,
  };
}

describe('memorySessionStore', () => {
  it('copies records in and out', async () => {
    const store = memorySessionStore();
    const record = session();
    await store.create(record);
    (record.amr as string[]).push('mutated');
    const found = await store.findById('ses_1', START);
    expect(found?.amr).toEqual(['pwd']);
    (found!.device as { label: string | null }).label = 'mutated';
    expect((await store.findByTokenHash('hash_1', START))?.device.label).toBeNull();
  });

  it('refuses a taken id or token hash with id-taken and writes nothing', async () => {
    const store = memorySessionStore();
    expect(await store.create(session())).toBe('created');
    expect(await store.create(session({ tokenHash: 'hash_2' }))).toBe('id-taken');
    expect(await store.create(session({ id: 'ses_2' }))).toBe('id-taken');
    expect(await store.findById('ses_2', START)).toBeNull();
  });

  it('treats a session past its idle or absolute end as absent for reads at that time', async () => {
    const store = memorySessionStore();
    await store.create(session());
    await store.create(session({ id: 'ses_2', tokenHash: 'hash_2', expiresAt: START + 8 * HOUR }));
    expect(await store.findById('ses_1', START + HOUR - 1)).not.toBeNull();
    expect(await store.findById('ses_1', START + HOUR)).toBeNull();
    // An idle expiry beyond the absolute end does not keep a session alive.
    expect(await store.findByTokenHash('hash_2', START + 4 * HOUR)).toBeNull();
    expect(await store.listByUser('usr_1', START + 4 * HOUR)).toEqual([]);
    expect(await store.touch('ses_2', { now: START + 4 * HOUR, expiresAt: START + 5 * HOUR })).toBeNull();
  });

  it('touch slides forward only and never past the absolute end', async () => {
    const store = memorySessionStore();
    await store.create(session());
    expect(await store.touch('ses_1', { now: START + 10, expiresAt: START + 2 * HOUR })).toMatchObject({
      lastSeenAt: START + 10,
      expiresAt: START + 2 * HOUR,
    });
    expect(await store.touch('ses_1', { now: START + 20, expiresAt: START + HOUR })).toMatchObject({ expiresAt: START + 2 * HOUR });
    expect(await store.touch('ses_1', { now: START + 30, expiresAt: START + 9 * HOUR })).toMatchObject({ expiresAt: START + 4 * HOUR });
    expect(await store.touch('ses_unknown', { now: START, expiresAt: START + HOUR })).toBeNull();
  });

  it('rotate replaces the session atomically, or writes nothing', async () => {
    const store = memorySessionStore();
    await store.create(session());
    await store.create(session({ id: 'ses_other', tokenHash: 'hash_other' }));
    const next = session({ id: 'ses_2', tokenHash: 'hash_2', tenantId: 'tnt_acme' });

    expect(await store.rotate('ses_1', { ...next, id: 'ses_other' }, START)).toBe('id-taken');
    expect(await store.rotate('ses_1', { ...next, tokenHash: 'hash_other' }, START)).toBe('id-taken');
    expect(await store.rotate('ses_missing', next, START)).toBe('not-found');
    expect(await store.findById('ses_1', START)).not.toBeNull();
    expect(await store.findByTokenHash('hash_2', START)).toBeNull();

    expect(await store.rotate('ses_1', next, START)).toBe('rotated');
    expect(await store.findById('ses_1', START)).toBeNull();
    expect(await store.findByTokenHash('hash_1', START)).toBeNull();
    expect(await store.findByTokenHash('hash_2', START)).toMatchObject({ id: 'ses_2', tenantId: 'tnt_acme' });
    expect(await store.rotate('ses_1', { ...next, id: 'ses_3', tokenHash: 'hash_3' }, START)).toBe('not-found');
    // Expired at `now`: nothing to replace.
    expect(await store.rotate('ses_2', { ...next, id: 'ses_3', tokenHash: 'hash_3' }, START + HOUR)).toBe('not-found');
    expect(await store.findByTokenHash('hash_3', START)).toBeNull();
  });

  it('lists newest first and deletes by user except one', async () => {
    const store = memorySessionStore();
    await store.create(session({ id: 'ses_a', tokenHash: 'a', createdAt: START }));
    await store.create(session({ id: 'ses_b', tokenHash: 'b', createdAt: START + 2 }));
    await store.create(session({ id: 'ses_c', tokenHash: 'c', createdAt: START + 1 }));
    await store.create(session({ id: 'ses_x', tokenHash: 'x', userId: 'usr_2' }));
    expect((await store.listByUser('usr_1', START)).map((s) => s.id)).toEqual(['ses_b', 'ses_c', 'ses_a']);
    expect([...(await store.deleteByUser('usr_1', { exceptId: 'ses_c' }))].sort()).toEqual(['ses_a', 'ses_b']);
    expect((await store.listByUser('usr_1', START)).map((s) => s.id)).toEqual(['ses_c']);
    expect(await store.delete('ses_c')).toBe(true);
    expect(await store.delete('ses_c')).toBe(false);
    expect(await store.listByUser('usr_2', START)).toHaveLength(1);
  });

  it('with a clock, drops sessions expired by it when a session is created', async () => {
    const clock = createManualClock(START);
    const store = memorySessionStore({ clock });
    await store.create(session());
    await store.create(session({ id: 'ses_short', tokenHash: 'hash_short', expiresAt: START + 1 }));
    clock.advance(HOUR);
    await store.create(session({ id: 'ses_2', tokenHash: 'hash_2', expiresAt: START + 2 * HOUR }));
    // Gone for good: even a read at an earlier time does not find them any more.
    expect(await store.findById('ses_1', START)).toBeNull();
    expect(await store.findById('ses_short', START)).toBeNull();
    expect(await store.findById('ses_2', START)).not.toBeNull();

    // At most one pass a minute: an expiry within the minute waits for the next pass.
    clock.advance(30_000);
    await store.create(session({ id: 'ses_3', tokenHash: 'hash_3', expiresAt: clock.now() + 1 }));
    clock.advance(1);
    await store.create(session({ id: 'ses_4', tokenHash: 'hash_4', expiresAt: START + 2 * HOUR }));
    expect(await store.findById('ses_3', clock.now() - 1)).not.toBeNull();
    clock.advance(60_000);
    await store.create(session({ id: 'ses_5', tokenHash: 'hash_5', expiresAt: START + 2 * HOUR }));
    expect(await store.findById('ses_3', clock.now() - 70_000)).toBeNull();
  });

  it('without a clock, keeps an expired session until a later read meets it', async () => {
    const store = memorySessionStore();
    await store.create(session());
    await store.create(session({ id: 'ses_2', tokenHash: 'hash_2' }));
    expect(await store.findById('ses_1', START)).not.toBeNull();
    expect(() => memorySessionStore({ clock: {} as never })).toThrow(expect.objectContaining({ code: 'CONFIGURATION_INVALID' }));
  });
});
