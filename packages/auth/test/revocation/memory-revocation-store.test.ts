import { createManualClock } from '@tenantkit/core';
import { describe, expect, it } from 'vitest';
import { memoryRevocationStore } from '../../src/adapters/memory/memory-revocation-store.js';
import type { RevocationQuery } from '../../src/store.js';

const NOW = Date.UTC(2026, 0, 1);
const query = (overrides: Partial<RevocationQuery> = {}): RevocationQuery => ({
  jti: 'jti_1',
  sessionId: 'ses_1',
  userId: 'usr_1',
  tenantId: 'tnt_a',
  ...overrides,
});
const CLEAR = { jtiRevoked: false, sessionRevoked: false, userEpoch: 0, tenantEpoch: 0 };

describe('memoryRevocationStore', () => {
  it('answers "nothing revoked" with zero epochs for an unknown subject', async () => {
    const store = memoryRevocationStore();
    await expect(store.check(query(), NOW)).resolves.toEqual(CLEAR);
  });

  it('a revoked jti is revoked until its until, then not', async () => {
    const store = memoryRevocationStore();
    await store.revokeToken('jti_1', NOW + 1000);
    await expect(store.check(query(), NOW + 999)).resolves.toMatchObject({ jtiRevoked: true, sessionRevoked: false });
    await expect(store.check(query(), NOW + 1000)).resolves.toMatchObject({ jtiRevoked: false });
    await expect(store.check(query({ jti: 'jti_2' }), NOW)).resolves.toMatchObject({ jtiRevoked: false });
  });

  it('a later until extends an entry; an earlier one never shortens it', async () => {
    const store = memoryRevocationStore();
    await store.revokeSession('ses_1', NOW + 1000);
    await store.revokeSession('ses_1', NOW + 500);
    await expect(store.check(query(), NOW + 900)).resolves.toMatchObject({ sessionRevoked: true });
    await store.revokeSession('ses_1', NOW + 2000);
    await expect(store.check(query(), NOW + 1500)).resolves.toMatchObject({ sessionRevoked: true });
    await expect(store.check(query({ sessionId: null }), NOW)).resolves.toMatchObject({ sessionRevoked: false });
  });

  it('epochs only move forward and raiseEpoch returns the stored epoch', async () => {
    const store = memoryRevocationStore();
    await expect(store.raiseEpoch('user', 'usr_1', NOW)).resolves.toBe(NOW);
    await expect(store.raiseEpoch('user', 'usr_1', NOW - 10)).resolves.toBe(NOW);
    await expect(store.raiseEpoch('tenant', 'tnt_a', NOW + 5)).resolves.toBe(NOW + 5);
    await expect(store.check(query(), NOW)).resolves.toEqual({ ...CLEAR, userEpoch: NOW, tenantEpoch: NOW + 5 });
    await expect(store.check(query({ tenantId: null }), NOW)).resolves.toMatchObject({ tenantEpoch: 0 });
    // User and tenant epochs live in separate namespaces.
    await expect(store.check(query({ userId: 'tnt_a', tenantId: 'usr_1' }), NOW)).resolves.toMatchObject({ userEpoch: 0, tenantEpoch: 0 });
  });

  it('returns a fresh object per answer', async () => {
    const store = memoryRevocationStore();
    const first = await store.check(query(), NOW);
    (first as { jtiRevoked: boolean }).jtiRevoked = true;
    await expect(store.check(query(), NOW)).resolves.toEqual(CLEAR);
  });

  it('sweeps entries past their until so the lists stay bounded', async () => {
    const clock = createManualClock(NOW);
    const store = memoryRevocationStore({ clock });
    for (let index = 0; index < 200; index += 1) await store.revokeToken(`jti_${index}`, NOW + 1000);
    clock.advance(1000);
    for (let index = 0; index < 400; index += 1) await store.revokeToken(`later_${index}`, NOW + 10_000);
    // The early entries are gone (no longer revoked at any time before their until either).
    await expect(store.check(query({ jti: 'jti_0' }), NOW)).resolves.toMatchObject({ jtiRevoked: false });
    await expect(store.check(query({ jti: 'later_0' }), NOW + 5000)).resolves.toMatchObject({ jtiRevoked: true });
  });

  it('refuses malformed input with VALIDATION_FAILED', async () => {
    const store = memoryRevocationStore();
    await expect(store.revokeToken('', NOW)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(store.revokeToken('jti_1', Number.NaN)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(store.revokeSession(42 as never, NOW)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(store.raiseEpoch('group' as never, 'x', NOW)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(store.check(null as never, NOW)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(store.check(query(), 'now' as never)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
