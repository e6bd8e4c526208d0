import { describe, expect, it } from 'vitest';
import { memoryRefreshTokenStore, type RefreshFamilyRecord, type RefreshTokenRecord } from '../../src/index.js';

const START = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;
const GRACE = 10_000;

const family: RefreshFamilyRecord = {
  id: 'rtf_1', userId: 'usr_1', tenantId: null, sessionId: 'ses_1', createdAt: START,
  expiresAt: START + 30 * DAY, revokedAt: null, revokedReason: null,
};

function token(generation: number, overrides: Partial<RefreshTokenRecord> = {}): RefreshTokenRecord {
  return {
    tokenHash: `hash_${generation}`, familyId: 'rtf_1', generation, issuedAt: START, expiresAt: START + 14 * DAY,
    rotatedAt: null, successorSealed: null, ...overrides,
  };
}

async function storeWithFamily() {
  const store = memoryRefreshTokenStore();
  expect(await store.createFamily(family, token(0))).toBe('created');
  return store;
}

describe('memoryRefreshTokenStore', () => {
  it('refuses a taken family id or token hash, and a first token of another family', async () => {
    const store = await storeWithFamily();
    expect(await store.createFamily(family, token(0, { tokenHash: 'other' }))).toBe('id-taken');
    expect(await store.createFamily({ ...family, id: 'rtf_2' }, token(0, { familyId: 'rtf_2' }))).toBe('id-taken');
    await expect(store.createFamily({ ...family, id: 'rtf_3' }, token(0, { tokenHash: 'x' }))).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });

  it('rotates a current token once; a second presentation is grace, then reuse, which revokes the family', async () => {
    const store = await storeWithFamily();
    const input = { presentedHash: 'hash_0', next: token(1), successorSealed: 'sealed-1', now: START, graceMs: GRACE };
    expect(await store.rotate(input)).toEqual({ outcome: 'rotated', family });
    expect(await store.rotate({ ...input, next: token(1, { tokenHash: 'hash_1b' }), now: START + GRACE - 1 })).toEqual({
      outcome: 'grace', family, successorSealed: 'sealed-1',
    });
    const reused = await store.rotate({ ...input, next: token(1, { tokenHash: 'hash_1c' }), now: START + GRACE });
    expect(reused).toEqual({ outcome: 'reused', family: { ...family, revokedAt: START + GRACE, revokedReason: 'reuse' } });
    // Nothing else was inserted, and the successor dies with the family.
    expect(await store.rotate({ ...input, presentedHash: 'hash_1b', next: token(2), now: START + GRACE })).toEqual({ outcome: 'invalid' });
    expect(await store.rotate({ ...input, presentedHash: 'hash_1', next: token(2), now: START + GRACE })).toEqual({ outcome: 'invalid' });
  });

  it('answers invalid for an unknown or expired token and for a revoked or ended family', async () => {
    const store = await storeWithFamily();
    const input = { presentedHash: 'hash_0', next: token(1), successorSealed: 's', now: START, graceMs: GRACE };
    expect(await store.rotate({ ...input, presentedHash: 'nope' })).toEqual({ outcome: 'invalid' });
    expect(await store.rotate({ ...input, now: START + 14 * DAY })).toEqual({ outcome: 'invalid' });
    expect(await store.revokeFamily('rtf_1', 'logout', START)).toBe(true);
    expect(await store.rotate(input)).toEqual({ outcome: 'invalid' });

    const ended = memoryRefreshTokenStore();
    await ended.createFamily({ ...family, expiresAt: START + DAY }, token(0));
    expect(await ended.rotate({ ...input, now: START + DAY })).toEqual({ outcome: 'invalid' });
    expect(await ended.revokeFamily('rtf_1', 'logout', START + DAY)).toBe(false);
  });

  it('refuses a successor of another family or generation as a caller bug', async () => {
    const store = await storeWithFamily();
    const input = { presentedHash: 'hash_0', successorSealed: 's', now: START, graceMs: GRACE };
    await expect(store.rotate({ ...input, next: token(2) })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(store.rotate({ ...input, next: token(1, { familyId: 'rtf_2' }) })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await store.rotate({ ...input, next: token(1) })).outcome).toBe('rotated');
  });

  it('of concurrent rotations with one token exactly one gets rotated', async () => {
    const store = await storeWithFamily();
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, (_, index) =>
        store.rotate({ presentedHash: 'hash_0', next: token(1, { tokenHash: `next_${index}` }), successorSealed: 's', now: START, graceMs: GRACE }),
      ),
    );
    expect(outcomes.map((outcome) => outcome.outcome).sort()).toEqual(['grace', 'grace', 'grace', 'grace', 'rotated']);
  });

  it('keeps the first revocation reason and revokes by user, optionally by session', async () => {
    const store = await storeWithFamily();
    await store.createFamily({ ...family, id: 'rtf_2', sessionId: 'ses_2' }, token(0, { tokenHash: 'b', familyId: 'rtf_2' }));
    await store.createFamily({ ...family, id: 'rtf_3', userId: 'usr_2' }, token(0, { tokenHash: 'c', familyId: 'rtf_3' }));
    expect(await store.revokeByUser('usr_1', 'session-ended', START, { sessionId: 'ses_2' })).toEqual(['rtf_2']);
    expect(await store.revokeByUser('usr_1', 'password-reset', START + 1)).toEqual(['rtf_1']);
    expect(await store.revokeFamily('rtf_2', 'admin', START + 2)).toBe(false);
    expect(await store.findFamily('rtf_2')).toMatchObject({ revokedAt: START, revokedReason: 'session-ended' });
    expect(await store.findFamily('rtf_3')).toMatchObject({ revokedAt: null });
  });

  it('copies records in and out', async () => {
    const store = memoryRefreshTokenStore();
    const record = { ...family };
    await store.createFamily(record, token(0));
    (record as { userId: string }).userId = 'usr_mutated';
    const found = await store.findFamily('rtf_1');
    expect(found?.userId).toBe('usr_1');
    (found as { revokedAt: number | null }).revokedAt = 1;
    expect((await store.findFamily('rtf_1'))?.revokedAt).toBeNull();
  });
});
