import { describe, expect, it } from 'vitest';
import { memoryAccountStore, type AccountRecord } from '@tenantkit/auth';

function account(id: string, email = `${id}@example.com`): AccountRecord {
  return {
    id, email, passwordHash: null, passwordHistory: [], passwordChangedAt: null,
    emailVerifiedAt: null, disabledAt: null, createdAt: 1, updatedAt: 1,
  };
}

describe('memoryAccountStore', () => {
  it('keeps emails unique: of concurrent creates with one email exactly one succeeds', async () => {
    const accounts = memoryAccountStore();
    const outcomes = await Promise.all(Array.from({ length: 10 }, (_, index) => accounts.create(account(`usr_${index}`, 'alice@example.com'))));
    expect(outcomes.filter((outcome) => outcome === 'created')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === 'email-taken')).toHaveLength(9);
    expect(await accounts.create(account('usr_0', 'other@example.com'))).toBe('id-taken');
    expect(await accounts.findByEmail('other@example.com')).toBeNull();
  });

  it('returns copies: changing a record it returned or was given changes nothing stored', async () => {
    const accounts = memoryAccountStore();
    const record = { ...account('usr_1'), passwordHistory: ['$scrypt$old'] };
    await accounts.create(record);
    (record.passwordHistory as string[]).push('$scrypt$mutated');
    const found = (await accounts.findById('usr_1'))!;
    (found.passwordHistory as string[]).push('$scrypt$mutated');
    expect((await accounts.findByEmail('usr_1@example.com'))!.passwordHistory).toEqual(['$scrypt$old']);
  });

  it('setPassword pushes the previous hash to the front of the history and cuts it to historyLimit', async () => {
    const accounts = memoryAccountStore();
    await accounts.create(account('usr_1'));
    expect(await accounts.setPassword('usr_1', { passwordHash: 'h1', historyLimit: 2, now: 10 })).toMatchObject({
      passwordHash: 'h1', passwordHistory: [], passwordChangedAt: 10, updatedAt: 10,
    });
    await accounts.setPassword('usr_1', { passwordHash: 'h2', historyLimit: 2, now: 11 });
    await accounts.setPassword('usr_1', { passwordHash: 'h3', historyLimit: 2, now: 12 });
    expect(await accounts.setPassword('usr_1', { passwordHash: 'h4', historyLimit: 2, now: 13 })).toMatchObject({ passwordHash: 'h4', passwordHistory: ['h3', 'h2'] });
    expect(await accounts.setPassword('usr_1', { passwordHash: 'h5', historyLimit: 0, now: 14 })).toMatchObject({ passwordHistory: [] });
    expect(await accounts.setPassword('usr_x', { passwordHash: 'h', historyLimit: 0, now: 14 })).toBe('not-found');
  });

  it('setPassword with expectedPasswordHash is a compare-and-set: a concurrent change wins', async () => {
    const accounts = memoryAccountStore();
    await accounts.create(account('usr_1'));
    const racing = await Promise.all([
      accounts.setPassword('usr_1', { passwordHash: 'a', historyLimit: 4, now: 2, expectedPasswordHash: null }),
      accounts.setPassword('usr_1', { passwordHash: 'b', historyLimit: 4, now: 2, expectedPasswordHash: null }),
    ]);
    expect(racing.filter((outcome) => outcome === 'conflict')).toHaveLength(1);
    const current = (await accounts.findById('usr_1'))!.passwordHash!;
    expect(await accounts.setPassword('usr_1', { passwordHash: 'c', historyLimit: 4, now: 3, expectedPasswordHash: 'stale' })).toBe('conflict');
    expect(await accounts.setPassword('usr_1', { passwordHash: 'c', historyLimit: 4, now: 3, expectedPasswordHash: current })).toMatchObject({ passwordHash: 'c', passwordHistory: [current] });
  });

  it('rehashPassword replaces only the expected hash and leaves history and passwordChangedAt alone', async () => {
    const accounts = memoryAccountStore();
    await accounts.create(account('usr_1'));
    await accounts.setPassword('usr_1', { passwordHash: 'old-params', historyLimit: 4, now: 5 });
    expect(await accounts.rehashPassword('usr_1', 'something-else', 'new-params', 6)).toBe(false);
    expect(await accounts.rehashPassword('usr_1', 'old-params', 'new-params', 6)).toBe(true);
    expect(await accounts.rehashPassword('usr_1', 'old-params', 'newer-params', 7)).toBe(false);
    expect(await accounts.rehashPassword('usr_x', 'old-params', 'new-params', 6)).toBe(false);
    expect(await accounts.findById('usr_1')).toMatchObject({ passwordHash: 'new-params', passwordHistory: [], passwordChangedAt: 5, updatedAt: 6 });
  });

  it('update sets or clears the flags given; delete frees the email', async () => {
    const accounts = memoryAccountStore();
    await accounts.create(account('usr_1'));
    expect(await accounts.update('usr_1', { emailVerifiedAt: 20 }, 20)).toMatchObject({ emailVerifiedAt: 20, disabledAt: null, updatedAt: 20 });
    expect(await accounts.update('usr_1', { disabledAt: 21 }, 21)).toMatchObject({ emailVerifiedAt: 20, disabledAt: 21 });
    expect(await accounts.update('usr_1', { disabledAt: null }, 22)).toMatchObject({ disabledAt: null, updatedAt: 22 });
    expect(await accounts.update('usr_x', { disabledAt: null }, 22)).toBeNull();
    expect(await accounts.delete('usr_1')).toBe(true);
    expect(await accounts.delete('usr_1')).toBe(false);
    expect(await accounts.findByEmail('usr_1@example.com')).toBeNull();
    expect(await accounts.create(account('usr_2', 'usr_1@example.com'))).toBe('created');
  });

  it('refuses non-string ids with VALIDATION_FAILED (no match-anything lookups)', async () => {
    const accounts = memoryAccountStore();
    await expect(accounts.findById({ $ne: null } as unknown as string)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(accounts.findByEmail(undefined as unknown as string)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
