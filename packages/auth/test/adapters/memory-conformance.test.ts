// The shared auth store conformance suite on the in-memory reference stores.
import { createManualClock } from '@tenantkit/core';
import { describeAuthStoreConformance } from '@tenantkit/test-utils';
import { describe, expect, it } from 'vitest';
import { memoryAuthStores } from '../../src/adapters/memory/memory-auth-stores.js';

describeAuthStoreConformance('memory (manual clock)', async () => {
  const clock = createManualClock();
  return { stores: memoryAuthStores({ clock }), now: () => clock.now() };
});

// The two stores that sweep by a clock, on their default one (and the `only` path of the suite).
describeAuthStoreConformance('memory (default clock)', async () => ({ stores: memoryAuthStores() }), {
  only: ['sessions', 'revocations'],
});

describe('memoryAuthStores', () => {
  it('returns all six stores, new and empty on every call', async () => {
    const first = memoryAuthStores();
    const second = memoryAuthStores();
    expect(Object.keys(first).sort()).toEqual(['accounts', 'apiKeys', 'oneTimeTokens', 'refreshTokens', 'revocations', 'sessions']);
    const account = {
      id: 'usr_1', email: 'alice@example.com', passwordHash: null, passwordHistory: [], passwordChangedAt: null,
      emailVerifiedAt: null, disabledAt: null, createdAt: 0, updatedAt: 0,
    };
    expect(await first.accounts.create(account)).toBe('created');
    expect(await second.accounts.findById('usr_1')).toBeNull();
    expect(await memoryAuthStores().accounts.create(account)).toBe('created');
  });

  it('hands the given clock, not the system clock, to the stores that sweep', async () => {
    const clock = createManualClock(Date.UTC(2020, 0, 1));
    const stores = memoryAuthStores({ clock });
    const createdAt = clock.now();
    const session = {
      id: 'ses_1', tokenHash: 'hash-1', userId: 'usr_1', tenantId: null, amr: ['pwd'],
      device: { userAgent: null, ip: null, label: null }, createdAt, lastSeenAt: createdAt,
      expiresAt: createdAt + 3_600_000, absoluteExpiresAt: createdAt + 86_400_000,
    };
    expect(await stores.sessions.create(session)).toBe('created');
    // Long past by the system clock, live by the manual one: a create sweeps nothing.
    expect(await stores.sessions.create({ ...session, id: 'ses_2', tokenHash: 'hash-2' })).toBe('created');
    expect(await stores.sessions.findById('ses_1', createdAt)).toEqual(session);
  });
});
