import { describe, expect, it } from 'vitest';
import { checkPasswordHistory, createScryptHasher, memoryAccountStore, type AccountRecord } from '@tenantkit/auth';

const hasher = createScryptHasher({ cost: 2 ** 10 });

function account(id = 'usr_1'): AccountRecord {
  return {
    id, email: `${id}@example.com`, passwordHash: null, passwordHistory: [], passwordChangedAt: null,
    emailVerifiedAt: null, disabledAt: null, createdAt: 0, updatedAt: 0,
  };
}

describe('checkPasswordHistory: the last N passwords, the current one included', () => {
  const passwords = ['first pass 1', 'second pass 2', 'third pass 3', 'fourth pass 4', 'fifth pass 5', 'sixth pass 6'];

  it('compares the current hash and the newest history entries, historySize hashes in all', async () => {
    const [p1, p2, p3, p4, p5, p6] = await Promise.all(passwords.map((password) => hasher.hash(password)));
    // Newest first: sixth is current, fifth..first are the history.
    const holder = { passwordHash: p6!, passwordHistory: [p5!, p4!, p3!, p2!, p1!] };
    const reused = async (password: string, size: number) => checkPasswordHistory(hasher, password, holder, size);

    for (const password of passwords.slice(1)) expect(await reused(password, 5)).toBe(true);
    expect(await reused('first pass 1', 5)).toBe(false); // the sixth most recent
    expect(await reused('first pass 1', 6)).toBe(true);
    expect(await reused('sixth pass 6', 1)).toBe(true);
    expect(await reused('fifth pass 5', 1)).toBe(false);
    expect(await reused('sixth pass 6', 0)).toBe(false); // 0 = no history rule
    expect(await reused('never used 7', 24)).toBe(false);
  });

  it('without a current hash (an invited account) compares the newest history entries', async () => {
    const old = await hasher.hash('old password 1');
    expect(await checkPasswordHistory(hasher, 'old password 1', { passwordHash: null, passwordHistory: [old] }, 1)).toBe(true);
  });

  it('refuses a historySize that is not a whole number from 0 to 24 with VALIDATION_FAILED', async () => {
    for (const size of [-1, 1.5, 25, Number.NaN]) {
      await expect(checkPasswordHistory(hasher, 'x', { passwordHash: null, passwordHistory: [] }, size)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    }
  });

  it('with setPassword(historyLimit: historySize - 1) the store keeps exactly the last historySize passwords', async () => {
    const accounts = memoryAccountStore();
    await accounts.create(account());
    const historySize = 5;
    for (const [index, password] of passwords.entries()) {
      const result = await accounts.setPassword('usr_1', { passwordHash: await hasher.hash(password), historyLimit: historySize - 1, now: index });
      expect(result).toMatchObject({ passwordChangedAt: index });
    }
    const stored = (await accounts.findById('usr_1'))!;
    expect(stored.passwordHistory).toHaveLength(4);
    for (const password of passwords.slice(1)) expect(await checkPasswordHistory(hasher, password, stored, historySize)).toBe(true);
    expect(await checkPasswordHistory(hasher, 'first pass 1', stored, historySize)).toBe(false);
  });
});
